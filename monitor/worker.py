"""Scoring the queue of pending comments: used by the daemon's score job, `monitor worker` and
`monitor score`'s processes."""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Connection, Engine

from monitor.score.base import ScoreInput
from monitor.store.repo import PendingComment, claim_pending, write_scores

__all__ = ["ScoreStats", "score_pending"]

log = logging.getLogger(__name__)


@dataclass
class ScoreStats:
    scored: int = 0
    batches: int = 0


@dataclass
class _InFlight:
    batch: list[PendingComment]
    future: Any
    conn: Connection | None = None  # PostgreSQL: the transaction that holds the batch's row locks


def score_pending(engine: Engine, scorer: Any, *, batch_size: int = 256,
                  stop: threading.Event | None = None, max_batches: int | None = None,
                  on_batch: Callable[[list[int]], None] | None = None) -> ScoreStats:
    """Score pending comments batch by batch until none are left (or `stop` is set).

    `scorer` is a `monitor.score_pool` scorer (`submit(inputs) -> Future`, `width` batches at once)
    or a bare pipeline. With several processes, up to `width` batches are scored at once while this
    thread claims and writes.

    On PostgreSQL a batch is claimed with FOR UPDATE SKIP LOCKED in a transaction of its own that
    stays open until its scores are written, so any number of workers (and batches in flight) share
    the queue and each comment is scored once; a worker killed mid-batch leaves its rows unlocked
    and unscored for the next one. On SQLite (one writer) a batch is read first and written in a
    short transaction of its own, so the collector is not blocked while the model runs; a comment
    edited meanwhile stays queued.
    """
    if not hasattr(scorer, "submit"):
        from monitor.score_pool import InlineScorer

        scorer = InlineScorer(scorer)
    stats = ScoreStats()
    postgres = engine.dialect.name == "postgresql"
    inflight: deque[_InFlight] = deque()
    last_id = 0
    exhausted = False

    def claim() -> _InFlight | None:
        nonlocal last_id
        if postgres:
            conn = engine.connect()
            try:
                conn.begin()
                batch = claim_pending(conn, batch_size, after_id=last_id)
            except BaseException:
                conn.close()
                raise
            if not batch:
                conn.close()
                return None
        else:
            conn = None
            with engine.connect().execution_options(readonly=True) as reader:
                batch = claim_pending(reader, batch_size, after_id=last_id)
                reader.rollback()
            if not batch:
                return None
        last_id = batch[-1].id
        return _InFlight(batch, scorer.submit([ScoreInput(p.id, p.text) for p in batch]), conn)

    try:
        while True:
            while (not exhausted and len(inflight) < scorer.width
                   and not (stop and stop.is_set())
                   and (max_batches is None or stats.batches + len(inflight) < max_batches)):
                item = claim()
                if item is None:
                    exhausted = True
                else:
                    inflight.append(item)
            if not inflight:
                break
            item = inflight.popleft()
            results = item.future.result()
            if item.conn is not None:
                write_scores(item.conn, list(zip(item.batch, results)))
                item.conn.commit()
                item.conn.close()
            else:
                with engine.begin() as conn:
                    write_scores(conn, list(zip(item.batch, results)))
            stats.scored += len(item.batch)
            stats.batches += 1
            if on_batch:
                on_batch([p.id for p in item.batch])
    finally:
        for item in inflight:  # an error or a stop: unwritten batches stay queued
            if item.conn is not None:
                item.conn.close()
    return stats
