"""Durations as operators write them ('90s', '15m', '1h', '90d', '2w'): parsing and the shortest spelling."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

__all__ = ["format_duration", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '1h', '90d', '2w' (or a number of seconds) → timedelta; never negative,
    and a value too large for a timedelta is a ValueError, not an OverflowError."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"expected a duration of zero or more, like '30s', '15m', '1h' or "
                             f"'90d', got {value!r}")
        amount, unit = seconds, "seconds"
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            raise ValueError(f"expected a duration like '30s', '15m', '1h', '90d' or '2w', "
                             f"got {value!r}")
        amount, unit = float(match.group(1)), _UNITS[match.group(2)]
    try:
        return timedelta(**{unit: amount})
    except OverflowError:
        raise ValueError(f"expected a duration of at most ten years, got {value!r}") from None


def format_duration(value: timedelta) -> str:
    """1h, 90m, 7d … the shortest exact spelling."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
