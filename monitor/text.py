"""Neutralising untrusted text before it reaches a terminal, rich markup or an email header."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["header_safe", "one_line", "terminal_safe", "truncate"]

# C0/C1 controls (ESC, BEL, CSI …) except tab and newline, plus every bidi control (embeddings,
# overrides, isolates and the LRM/RLM/ALM marks) that can reorder what a reader sees.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Zero-width and invisible characters: they split a word so that two strings look alike; dropped.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060-\u2064\u206a-\u206f\ufeff]")
_WHITESPACE = re.compile(r"\s+")


def terminal_safe(text: str) -> str:
    """Replace control characters (escape sequences, bidi controls) with U+FFFD and drop
    zero-width characters; keep newlines."""
    return _CONTROL.sub("\ufffd", _INVISIBLE.sub("", text))


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
