"""Retention for stored email bodies: comment excerpts and pseudonyms leave the outbox with the comments."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from typing import Callable, Iterable

from sqlalchemy import Connection, select, update

from monitor.store.schema import outbox
from monitor.text import one_line, truncate

__all__ = ["REMOVED_NOTE", "excerpt_of", "scrub_outbox"]

REMOVED_NOTE = "(comment examples removed: past retention)"

# The example lines alert emails carry (monitor/alert/notify.py): in the text body
# "    [0.93] 1a2b3c4d: excerpt", in the HTML body "<li><b>0.93</b> <code>1a2b3c4d</code>: excerpt</li>".
_TEXT_EXAMPLE = re.compile(r"^[ \t]+\[[0-9.]+\] [^\n:]*: (?P<text>[^\n]*)$", re.MULTILINE)
_HTML_EXAMPLE = re.compile(r"<li><b>[0-9.]+</b> <code>[^<]*</code>: (?P<text>.*?)</li>", re.DOTALL)
_TEXT_HEADING = re.compile(r"^[ \t]+examples:[ \t]*$", re.MULTILINE)
_EMPTY_LIST = re.compile(r"<ul>\s*</ul>")


def excerpt_of(text: str) -> str:
    """The excerpt of `text` as an alert email shows it."""
    return truncate(one_line(text), 200)


def _scrub_text(body: str, drop: Callable[[str], bool]) -> str:
    removed = False

    def repl(match: re.Match[str]) -> str:
        nonlocal removed
        if drop(match.group("text")):
            removed = True
            return ""
        return match.group()

    out = _TEXT_EXAMPLE.sub(repl, body)
    if not removed:
        return body
    out = re.sub(r"\n(?:[ \t]*\n)+(?=[ \t]+\S)", "\n", out)  # the blank lines left by removed examples
    if not _TEXT_EXAMPLE.search(out):
        out = _TEXT_HEADING.sub(f"  {REMOVED_NOTE}", out)
    return out


def _scrub_html(body: str, drop: Callable[[str], bool]) -> str:
    out = _HTML_EXAMPLE.sub(lambda m: "" if drop(html.unescape(m.group("text"))) else m.group(), body)
    if out == body:
        return body
    return _EMPTY_LIST.sub(f"<p>{html.escape(REMOVED_NOTE)}</p>", out)


def scrub_outbox(conn: Connection, cutoff: datetime, purged_texts: Iterable[str]) -> int:
    """Remove comment examples from stored email bodies: all of them in emails written before
    `cutoff` (their comments were collected earlier still), and, in younger emails, those that
    quote a comment purged now. Returns how many emails changed."""
    excerpts = {excerpt_of(t) for t in purged_texts if t}
    changed = 0
    rows = conn.execute(select(outbox.c.id, outbox.c.created_at, outbox.c.body_text, outbox.c.body_html))
    for row in rows.all():
        old = _aware(row.created_at) < cutoff
        if not old and not excerpts:
            continue

        def drop(shown: str, old: bool = old) -> bool:
            return old or shown.strip() in excerpts

        text, body = _scrub_text(row.body_text, drop), _scrub_html(row.body_html, drop)
        if (text, body) != (row.body_text, row.body_html):
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(body_text=text, body_html=body))
            changed += 1
    return changed


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
