"""Neutralising untrusted text before it reaches a terminal, rich markup or an email header."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["header_safe", "one_line", "terminal_safe", "truncate"]

# C0/C1 controls (ESC, BEL, CSI …) except tab and newline, plus bidi overrides that can reorder
# what a reader sees.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")


def terminal_safe(text: str) -> str:
    """Replace control characters (escape sequences included) with U+FFFD; keep newlines."""
    return _CONTROL.sub("\ufffd", text)


def one_line(text: str) -> str:
    """Collapse all whitespace to single spaces and drop controls: for tables and headers."""
    return _WHITESPACE.sub(" ", terminal_safe(text)).strip()


def header_safe(text: str, limit: int = 200) -> str:
    """A value safe for an email header: one line, no CR/LF, bounded length."""
    flat = one_line(unicodedata.normalize("NFC", text)).replace("\ufffd", "")
    return truncate(flat, limit)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"
