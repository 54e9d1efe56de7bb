"""Test helpers shared across areas."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from monitor.cli import main

__all__ = ["comment_adder", "run_cli", "start_within_this_hour"]


def comment_adder(engine: Any) -> Callable[..., int]:
    """A function that stores one scored comment (creating its source and article on first use)
    and returns the comment's id."""
    from sqlalchemy import insert, select

    from monitor.store.schema import articles, comments, scores, sources

    counter = itertools.count(1)

    def add(*, source: str = "daily", article: str = "a1", at: datetime, toxicity: float = 0.1,
            author: str | None = "p1", text: str | None = None, stance: dict[str, str] | None = None,
            slurs: list[tuple[str, str]] = (), scored_at: datetime | None = None,
            attributes: dict[str, float] | None = None) -> int:
        n = next(counter)
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
                text=text if text is not None else f"comment number {n}", content_hash=f"h{n}",
                published_at=at, first_seen_at=at, updated_at=at, edit_count=0,
                needs_scoring=False)).inserted_primary_key[0]
            conn.execute(insert(scores).values(
                comment_id=comment_id, model_version="test-1", content_hash=f"h{n}", lang="en",
                toxicity=toxicity, toxic=toxicity >= 0.5, attributes=attributes or {},
                stance={t: {"label": label, "score": 0.9} for t, label in (stance or {}).items()},
                slurs=[{"term": term, "normalized": term, "target": "nato", "kind": kind, "start": 0,
                        "end": len(term)} for term, kind in slurs],
                scored_at=scored_at or at))
        return comment_id

    return add


def start_within_this_hour(lasting: float = 60.0) -> datetime:
    """A demo script start such that every scripted comment (-1 to +5 minutes around it) falls in
    the current clock hour, which the demo's 1h rule evaluates, and the hour has `lasting` seconds
    left for the test to run in; near the end of an hour, wait for the next one."""
    now = datetime.now(timezone.utc)
    hour = now.replace(minute=0, second=0, microsecond=0)
    left = (hour + timedelta(hours=1) - now).total_seconds()
    if left < lasting:
        time.sleep(left + 1)
        return start_within_this_hour(lasting)
    return max(hour + timedelta(seconds=60), now - timedelta(seconds=270))


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `monitor ARGS` in-process through the real entry point: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), out, err


def fill_two_comments(config: Any) -> None:
    """A source, an article and two comments, the first scored (toxic, against NATO)."""
    from monitor.config import SourceConfig
    from monitor.score.base import CommentScore, StanceResult
    from monitor.store.db import open_engine
    from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, claim_pending,
                                    ensure_source, upsert_article, upsert_comments, write_scores)


    engine = open_engine(config)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
        aid = upsert_article(conn, sid, ArticleRecord("1", "https://blog.example/1", "Post"))
        t = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)
        upsert_comments(conn, sid, aid, [
            CommentRecord("c1", "Der NATOD ist schuld", "Birgit", published_at=t),
            CommentRecord("c2", "Guter Artikel, danke", "Ulrike", published_at=t),
        ], privacy=Privacy(b"k"))
        pending = claim_pending(conn, 10)
        write_scores(conn, [(pending[0], CommentScore(None, "de", 0.91, True, "builtin-test",
                                                      stance={"nato": StanceResult("against", 0.8)}))])
    engine.dispose()


# The toxic-share rule the alert and delivery tests fire, and their clock.
TOXIC_RULE_PLAIN = """
[[groups]]
name = "test"

[[groups.rules]]
alert = "ToxicHigh"
expr = "toxic_share > 0.4"
scope = "source"
window = "1d"
min_comments = 3
for = "5m"
annotations.summary = "{{ source }}: toxic share {{ value }}"
"""
# The same rule with a severity label (what silences and routes match on).
TOXIC_RULE = TOXIC_RULE_PLAIN.replace('annotations.summary', 'labels = { severity = "warning" }\nannotations.summary')
ALERT_T0 = datetime(2026, 3, 1, 10, 5, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    """ALERT_T0 plus `minutes`."""
    return ALERT_T0 + timedelta(minutes=minutes)
