"""Scoring the queue of pending comments: used by the daemon's score job and by `monitor worker`."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Engine

from monitor.score.base import ScoreInput
from monitor.store.repo import claim_pending, write_scores

__all__ = ["ScoreStats", "score_pending"]

log = logging.getLogger(__name__)


@dataclass
class ScoreStats:
    scored: int = 0
    batches: int = 0


def score_pending(engine: Engine, pipeline: Any, *, batch_size: int = 256,
                  stop: threading.Event | None = None, max_batches: int | None = None,
                  on_batch: Callable[[list[int]], None] | None = None) -> ScoreStats:
    """Score pending comments batch by batch until none are left (or `stop` is set).

    On PostgreSQL a batch is claimed with FOR UPDATE SKIP LOCKED and scored inside the same
    transaction, so any number of workers can share the queue and each comment is scored once;
    a worker killed mid-batch leaves its rows unlocked and unscored for the next one. On SQLite
    (one writer) the batch is read first and written in a short transaction of its own, so the
    collector is not blocked while the model runs; a comment edited meanwhile stays queued.
    """
    stats = ScoreStats()
    postgres = engine.dialect.name == "postgresql"
    while not (stop and stop.is_set()) and (max_batches is None or stats.batches < max_batches):
        if postgres:
            with engine.begin() as conn:
                batch = claim_pending(conn, batch_size)
                if not batch:
                    break
                results = pipeline.score_batch([ScoreInput(p.id, p.text) for p in batch])
                write_scores(conn, list(zip(batch, results)))
        else:
            with engine.connect().execution_options(readonly=True) as conn:
                batch = claim_pending(conn, batch_size)
                conn.rollback()
            if not batch:
                break
            results = pipeline.score_batch([ScoreInput(p.id, p.text) for p in batch])
            with engine.begin() as conn:
                write_scores(conn, list(zip(batch, results)))
        stats.scored += len(batch)
        stats.batches += 1
        if on_batch:
            on_batch([p.id for p in batch])
    return stats
