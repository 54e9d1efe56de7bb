"""Collection: platform collectors behind one protocol, the polite HTTP client, the runner."""
