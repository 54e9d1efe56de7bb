"""monitor: collects reader comments and scores them for toxicity, stance and coined slurs."""

from __future__ import annotations

__all__ = ["__version__"]

# The one place the version is written; pyproject.toml reads it from here when building.
__version__ = "0.1.0"
