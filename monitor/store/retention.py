"""Retention for stored notification bodies: comment excerpts and pseudonyms leave the outbox with
the comments they quote, whatever template rendered them."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, select, update

from monitor.store.schema import outbox
from monitor.text import one_line, truncate

__all__ = ["BODY_REMOVED", "EXCERPT_REMOVED", "scrub_outbox"]

BODY_REMOVED = "(body removed: it was written longer ago than retention.comments and quoted comments)"
EXCERPT_REMOVED = "[comment removed: past retention]"
PSEUDONYM_REMOVED = "[removed]"

# Excerpts are found by their start, so a template that cuts them shorter still loses them; below
# this length a text is too common to be told apart from the rest of the email.
_KEY_CHARS = 60
_MIN_CHARS = 12
# Emails show the first characters of a pseudonym (an HMAC in hex): enough to be unique.
_PSEUDONYM_CHARS = 8


def _forms(text: str) -> set[str]:
    """How an excerpt appears in a stored body: plain, HTML-escaped, JSON-escaped."""
    return {text, html.escape(text), html.escape(text, quote=False), json.dumps(text)[1:-1],
            json.dumps(text, ensure_ascii=False)[1:-1]}


def _cut(body: str, excerpt: str) -> str:
    """Replace every occurrence of `excerpt` (found by its first characters) in `body`: up to the
    excerpt's end when it is there whole, else to the end of the line."""
    key = excerpt[:_KEY_CHARS]
    out: list[str] = []
    pos = 0
    while (at := body.find(key, pos)) >= 0:
        out.append(body[pos:at])
        if body.startswith(excerpt, at):
            end = at + len(excerpt)
        else:
            line_end = body.find("\n", at)
            end = len(body) if line_end < 0 else line_end
        out.append(EXCERPT_REMOVED)
        pos = end
    out.append(body[pos:])
    return "".join(out)


# Payload keys that hold addressing, not content: kept when an old body is replaced.
_ADDRESSING = frozenset({"message_id", "date", "sender", "to", "rcpt", "subject", "url", "status"})


def _walk(value: Any, leaf: Callable[[str, str], str], key: str = "") -> Any:
    """`value` with every string inside it passed through `leaf(key, string)`."""
    if isinstance(value, str):
        return leaf(key, value)
    if isinstance(value, dict):
        return {k: _walk(v, leaf, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, leaf, key) for v in value]
    return value


def scrub_outbox(conn: Connection, cutoff: datetime, purged_texts: Iterable[str | None],
                 purged_pseudonyms: Iterable[str | None]) -> int:
    """Take personal data out of stored notification payloads; returns how many changed.

    A payload written before `cutoff` has its content replaced by a note (addressing kept): every
    comment it quotes was collected earlier still. In younger payloads the excerpts of the
    comments purged now (and of their earlier versions) and their authors' pseudonyms are cut out
    of every string, whatever the receiver (email text and HTML, webhook JSON)."""
    excerpts = {form for text in purged_texts if text
                for form in _forms(truncate(one_line(text), 200)) if len(form) >= _MIN_CHARS}
    shown_ids = {p[:_PSEUDONYM_CHARS] for p in purged_pseudonyms if p and len(p) >= _PSEUDONYM_CHARS}

    def young(_key: str, text: str) -> str:
        for excerpt in sorted(excerpts, key=len, reverse=True):
            text = _cut(text, excerpt)
        for shown in shown_ids:
            text = text.replace(shown, PSEUDONYM_REMOVED)
        return text

    def old(key: str, text: str) -> str:
        return text if key in _ADDRESSING else BODY_REMOVED

    changed = 0
    for row in conn.execute(select(outbox.c.id, outbox.c.created_at, outbox.c.payload)).all():
        payload = row.payload
        if isinstance(payload, str):
            payload = json.loads(payload)
        if _aware(row.created_at) < cutoff:
            scrubbed = _walk(payload, old)
        elif excerpts or shown_ids:
            scrubbed = _walk(payload, young)
        else:
            continue
        if scrubbed != payload:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(payload=scrubbed))
            changed += 1
    return changed


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
