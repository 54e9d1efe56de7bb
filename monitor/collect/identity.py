"""Ids for comments whose platform gives none: from the article and the comment's content (author,
date, text), never from position alone, so they stay put when comments are added above and never
collide across the articles of one source."""

from __future__ import annotations

import hashlib
from datetime import datetime

__all__ = ["ContentIds"]


class ContentIds:
    """Hands out ids for one article's comments in document order; equal comments (same author,
    date and text) are told apart by their position among themselves only."""

    def __init__(self, article_key: str | None) -> None:
        self.article_key = (article_key or "").split("#")[0]
        self._seen: dict[str, int] = {}

    def __call__(self, author: str | None, published_at: datetime | None, text: str) -> str:
        digest = hashlib.sha256("\x1f".join((
            self.article_key, author or "", published_at.isoformat() if published_at else "",
            text)).encode("utf-8")).hexdigest()[:20]
        n = self._seen.get(digest, 0)
        self._seen[digest] = n + 1
        return f"h{digest}" if n == 0 else f"h{digest}-{n + 1}"
