"""RSS/Atom vocabulary shared by article discovery and the comment-feed platform: namespaces and
RFC 822 dates. Below both, so neither imports the other."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from monitor.collect.markup import parse_iso

__all__ = ["NS", "parse_rfc822"]

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "thr": "http://purl.org/syndication/thread/1.0",
}


def parse_rfc822(value: str | None) -> datetime | None:
    """An RSS pubDate → aware datetime (None when unreadable)."""
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return parse_iso(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
