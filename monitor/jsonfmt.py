"""One JSON spelling for what scripts read: `--json` output, export files and JSON logs."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import PurePath
from typing import Any

__all__ = ["TIMESTAMP_FORMAT", "dumps", "timestamp"]

# RFC 3339 in UTC, whole seconds: the same in `--json`, CSV and JSON Lines exports and JSON logs.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# JSON escapes C0 controls itself; DEL, C1 controls and bidi overrides are escaped here too, so
# site text in the output is safe on a terminal and still decodes to the exact text.
_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def timestamp(value: datetime) -> str:
    """An aware datetime in TIMESTAMP_FORMAT (a naive one is taken as UTC, as the store keeps them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text with timestamps, durations (seconds) and paths spelled one way; non-ASCII kept,
    terminal controls escaped."""
    text = json.dumps(value, default=_default, ensure_ascii=False, indent=indent)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
