"""The terminal dashboard: data.py reads a snapshot, widgets.py draws it, layout.py arranges it,
live.py refreshes it."""
