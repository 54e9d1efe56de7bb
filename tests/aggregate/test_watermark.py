"""The tick's watermark: a tick reads only comments changed since the last one, and a comment whose
transaction commits after a tick read (a slow collector, a worker's long batch) is still counted."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select

from monitor import aggregate
from monitor.store.schema import aggregates, comments, scores


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _hour_count(engine, start: datetime) -> int:
    with engine.connect() as conn:
        metrics = conn.execute(select(aggregates.c.metrics).where(
            aggregates.c.scope == "overall", aggregates.c.window_s == 3600,
            aggregates.c.window_start == start)).scalar_one()
    return metrics["comment_count"]


def test_a_tick_with_nothing_new_reads_nothing(engine, config, add_comment):
    for minute in range(0, 60, 5):
        add_comment(at=utc(2026, 3, 1, 10, minute))
    first = aggregate.run(engine, config, now=utc(2026, 3, 1, 11))
    quiet = aggregate.run(engine, config, now=utc(2026, 3, 1, 11, 1))
    assert first.comments_read == 12
    assert (quiet.comments_read, quiet.windows_recomputed) == (0, 0)


def test_an_edit_rereads_only_its_windows(engine, config, add_comment):
    add_comment(at=utc(2026, 3, 1, 10, 5))
    edited = add_comment(at=utc(2026, 3, 2, 10, 5))
    aggregate.run(engine, config, now=utc(2026, 3, 3))
    with engine.begin() as conn:
        conn.execute(comments.update().where(comments.c.id == edited).values(text="changed"))
    stats = aggregate.run(engine, config, now=utc(2026, 3, 3, 0, 1))
    assert (stats.comments_read, stats.windows_recomputed) == (1, 2)


def test_a_commit_that_lands_after_a_tick_is_counted_by_the_next(engine, config, add_comment, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: no tick can run while a write transaction is open")
    first = add_comment(at=utc(2026, 3, 1, 10, 5))
    with engine.connect() as writer:
        writer.begin()
        row = writer.execute(select(comments).where(comments.c.id == first)).one()
        late = writer.execute(insert(comments).values(
            source_id=row.source_id, article_id=row.article_id, external_id="late", text="late",
            content_hash="late", published_at=utc(2026, 3, 1, 10, 30), first_seen_at=utc(2026, 3, 1, 10, 30),
            updated_at=utc(2026, 3, 1, 10, 30), edit_count=0, needs_scoring=False)).inserted_primary_key[0]
        writer.execute(insert(scores).values(
            comment_id=late, model_version="m", content_hash="late", lang="en", toxicity=0.9, toxic=True,
            attributes={}, stance={}, slurs=[], scored_at=utc(2026, 3, 1, 10, 31)))
        # An unrelated transaction starts and commits after the late one: its stamp is higher.
        add_comment(at=utc(2026, 3, 1, 10, 40))
        aggregate.run(engine, config, now=utc(2026, 3, 1, 11))
        assert _hour_count(engine, utc(2026, 3, 1, 10)) == 2  # the late comment is not committed yet
        writer.commit()
    stats = aggregate.run(engine, config, now=utc(2026, 3, 1, 11, 1))
    assert _hour_count(engine, utc(2026, 3, 1, 10)) == 3
    assert stats.windows_recomputed == 2
