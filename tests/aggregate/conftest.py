"""Fixtures for aggregation tests: a real SQLite database and a helper that stores scored comments."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import Engine, insert, select

from monitor.config import load_config
from monitor.store.db import engine_for_url
from monitor.store.schema import articles, comments, metadata, scores, sources


@pytest.fixture
def config() -> Any:
    return load_config(None, environ={})


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'monitor.db'}")
    metadata.create_all(engine)
    return engine


@pytest.fixture
def add_comment(engine: Engine) -> Callable[..., int]:
    """Store one comment with a score; returns the comment id."""
    counter = itertools.count(1)

    def add(*, source: str = "daily", article: str = "a1", at: datetime, toxicity: float = 0.1,
            author: str | None = "p1", stance: dict[str, str] | None = None,
            slurs: list[tuple[str, str]] = (), scored_at: datetime | None = None) -> int:
        n = next(counter)
        now = scored_at or at
        with engine.begin() as conn:
            source_id = conn.execute(select(sources.c.id).where(sources.c.name == source)).scalar()
            if source_id is None:
                source_id = conn.execute(insert(sources).values(
                    name=source, platform="wordpress", url=f"https://{source}.example", created_at=at,
                    state={})).inserted_primary_key[0]
            article_id = conn.execute(select(articles.c.id).where(
                articles.c.source_id == source_id, articles.c.external_id == article)).scalar()
            if article_id is None:
                article_id = conn.execute(insert(articles).values(
                    source_id=source_id, external_id=article, url=f"https://{source}.example/{article}",
                    discovered_at=at, comment_count=0, state={})).inserted_primary_key[0]
            comment_id = conn.execute(insert(comments).values(
                source_id=source_id, article_id=article_id, external_id=f"c{n}", author_pseudonym=author,
                text=f"comment {n}", content_hash=f"h{n}", published_at=at, first_seen_at=at,
                updated_at=at, edit_count=0, needs_scoring=False)).inserted_primary_key[0]
            conn.execute(insert(scores).values(
                comment_id=comment_id, model_version="test-1", content_hash=f"h{n}", lang="en",
                toxicity=toxicity, toxic=toxicity >= 0.5, attributes={},
                stance={t: {"label": label, "score": 0.9} for t, label in (stance or {}).items()},
                slurs=[{"term": term, "normalized": term, "target": "nato", "kind": kind, "start": 0,
                        "end": len(term)} for term, kind in slurs],
                scored_at=now))
        return comment_id

    return add


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
