"""The comment record: what a platform's extractor produces and `repo.upsert_comments` writes.

It sits here, below both, with no imports of either, so that reading a saved page (`monitor
extract`) does not load the database layer and the store never imports the collectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["CommentRecord"]


@dataclass(frozen=True)
class CommentRecord:
    """One comment as found on a page or in an API response. The author is the raw name (it is
    pseudonymised on the way into the store); `parent_external_id` is the `external_id` of the
    comment it answers, on the same article."""

    external_id: str
    text: str
    author: str | None = None
    parent_external_id: str | None = None
    published_at: datetime | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `monitor extract` line: exactly these keys, dates as ISO 8601 with offset."""
        return {"external_id": self.external_id, "parent_id": self.parent_external_id,
                "author": self.author, "text": self.text,
                "published_at": None if self.published_at is None else self.published_at.isoformat(),
                "url": self.url}
