"""The daemon's scoring in worker processes: every pending comment scored exactly once, with
several batches in flight, on SQLite as on PostgreSQL."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from monitor.config import SourceConfig
from monitor.score_pool import ScoringPool
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, upsert_article,
                                upsert_comments)
from monitor.store.schema import comments, scores
from monitor.worker import score_pending

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_two_processes_score_each_pending_comment_once(engine, config):
    with engine.begin() as conn:
        source_id = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
        article_id = upsert_article(conn, source_id, ArticleRecord("p", "https://blog.example/p"))
        upsert_comments(conn, source_id, article_id, [
            CommentRecord(f"c{i}", f"Kommentar {i}: die NATO ist schuld" if i % 3 else f"Thanks for report {i}",
                          f"r{i % 11}", published_at=T0) for i in range(300)], privacy=Privacy(b"k"))
    pool = ScoringPool(config, 2)
    try:
        memory = pool.memory()
        batches: list[list[int]] = []
        stats = score_pending(engine, pool, batch_size=25, on_batch=batches.append)
    finally:
        pool.close()
    with engine.connect() as conn:
        n_scores = conn.execute(select(func.count()).select_from(scores)).scalar_one()
        pending = conn.execute(select(func.count()).where(comments.c.needs_scoring.is_(True))).scalar_one()
    ids = [i for batch in batches for i in batch]
    assert stats.scored == 300 and stats.batches == 12
    assert sorted(ids) == ids and len(set(ids)) == 300  # in order, none twice
    assert n_scores == 300 and pending == 0
    assert len(memory) == 2 and all(mib and mib > 10 for mib in memory.values())


def test_a_process_that_cannot_build_the_pipeline_reports_its_own_error(config):
    """Not "a process in the pool was terminated abruptly": the worker's exception itself."""
    broken = config.model_copy(update={"targets": None})  # no target list: the stance scorer fails
    with pytest.raises(Exception) as raised:
        ScoringPool(broken, 2)
    assert not isinstance(raised.value, BrokenProcessPool)
    assert "NoneType" in str(raised.value) or isinstance(raised.value, (AttributeError, TypeError))
