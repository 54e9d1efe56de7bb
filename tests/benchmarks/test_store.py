"""Storing speed on SQLite: comment upserts (new, then a re-run that finds them unchanged) and
score writes, 10,000 each (issue 14's target: ≥ 10,000 comments/s and ≥ 10,000 scores/s)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any


from monitor.config import SourceConfig
from monitor.score.base import CommentScore, SlurHit, StanceResult
from monitor.store.db import engine_for_url, upgrade
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, claim_pending, ensure_source,
                                upsert_article, upsert_comments, write_scores)

N = 100_000 if os.environ.get("MONITOR_BENCH_FULL") == "1" else 10_000
PER_ARTICLE = 100
PRIVACY = Privacy(secret=b"bench")
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _pages(round_: int) -> list[tuple[str, list[CommentRecord]]]:
    return [(f"r{round_}-a{a}", [CommentRecord(f"r{round_}-a{a}-c{i}", f"comment {a}/{i} with some words in it",
                                               f"author {i % 97}", published_at=T0)
                                 for i in range(PER_ARTICLE)])
            for a in range(N // PER_ARTICLE)]


def _store(engine: Any, pages: list[tuple[str, list[CommentRecord]]]) -> int:
    stored = 0
    with engine.begin() as conn:
        source_id = ensure_source(conn, SourceConfig(name="bench", url="https://bench.example/"))
        for key, page in pages:
            article_id = upsert_article(conn, source_id, ArticleRecord(key, f"https://bench.example/{key}"))
            stats = upsert_comments(conn, source_id, article_id, page, privacy=PRIVACY)
            stored += stats.new + stats.unchanged
    return stored


def _report(benchmark: Any, what: str, n: int, seconds: float) -> None:
    rate = n / seconds
    benchmark.extra_info[f"{what}_per_s"] = round(rate)
    print(f"\n{what}: {n:,} in {seconds:.3f} s = {rate:,.0f}/s")


def test_store_comments(benchmark, tmp_path):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    rounds = iter(range(100))

    def one() -> float:
        pages = _pages(next(rounds))
        started = time.perf_counter()
        assert _store(engine, pages) == N
        return time.perf_counter() - started

    seconds = benchmark.pedantic(one, rounds=3, iterations=1)
    _report(benchmark, "new comments", N, seconds)
    pages = _pages(0)
    started = time.perf_counter()
    assert _store(engine, pages) == N  # a re-run: every comment found unchanged
    _report(benchmark, "unchanged comments", N, time.perf_counter() - started)


def test_store_scores(benchmark, tmp_path):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'scores.db'}")
    upgrade(engine)
    _store(engine, _pages(0))
    hit = SlurHit("Putler", "putler", "russia", "lexicon", 0, 6)
    stance = {"nato": StanceResult("against", 0.8), "russia": StanceResult("none", 0.6)}

    def one() -> float:
        with engine.connect() as conn:
            pending = claim_pending(conn, N)
            conn.rollback()
        results = [(p, CommentScore(p.id, "de", 0.3, False, f"bench-{time.monotonic_ns()}", {}, stance,
                                    [hit] if p.id % 50 == 0 else []))
                   for p in pending]
        started = time.perf_counter()
        for i in range(0, len(results), 256):  # the daemon's batches
            with engine.begin() as conn:
                write_scores(conn, results[i:i + 256])
        return time.perf_counter() - started

    # Each round writes a new model version: 10,000 fresh scores (pending comments stay pending
    # only in the first round, so later rounds score the same ones again under a new model).
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE comments SET needs_scoring = 1")
    seconds = benchmark.pedantic(one, rounds=1, iterations=1)
    _report(benchmark, "scores", N, seconds)
