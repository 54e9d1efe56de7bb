"""The daemon's scoring job end to end on SQLite: claim, score, write, with the pipeline in this
process and with one worker process per core (issue 14: ≥ 1,500 comments/s wall on 2 cores).
Reports wall comments/s and the resident memory of each scoring process."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any

import pytest

from monitor.config import SourceConfig, load_config
from monitor.score_pool import make_scorer, rss_mib
from monitor.store.db import engine_for_url, upgrade
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, upsert_article,
                                upsert_comments)
from monitor.worker import score_pending
from tests.benchmarks.texts import comments

N = 10_000 if os.environ.get("MONITOR_BENCH_FULL") == "1" else 2_000
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _pending_database(path: Any) -> Any:
    engine = engine_for_url(f"sqlite:///{path}")
    upgrade(engine)
    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        source_id = ensure_source(conn, SourceConfig(name="bench", url="https://bench.example/"))
        texts = comments(N)
        for a in range(0, N, 100):
            article_id = upsert_article(conn, source_id, ArticleRecord(f"a{a}", f"https://bench.example/{a}"))
            upsert_comments(conn, source_id, article_id, [
                CommentRecord(f"c{i}", texts[i], f"r{i % 300}", published_at=t0) for i in range(a, min(a + 100, N))],
                privacy=Privacy(b"bench"))
    return engine


def _cpu_s(pids: Any) -> float:
    """CPU seconds (user + system) the processes have used so far (Linux /proc)."""
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@pytest.mark.parametrize("processes", [1, CORES])
def test_daemon_scoring_throughput(benchmark, tmp_path, processes):
    engine = _pending_database(tmp_path / "pending.db")
    config = load_config(None, environ={})
    started = time.perf_counter()
    scorer = make_scorer(config, processes)
    load_s = time.perf_counter() - started
    try:
        def run() -> float:
            began = time.perf_counter()
            stats = score_pending(engine, scorer, batch_size=config.scoring.batch_size)
            assert stats.scored == N
            return time.perf_counter() - began

        pids = list(scorer.memory())
        cpu_before = _cpu_s(pids)
        seconds = benchmark.pedantic(run, rounds=1, iterations=1)
        cpu = _cpu_s(pids) - cpu_before  # with one process: the database work too
        memory = scorer.memory()
    finally:
        scorer.close()
    rate = N / seconds
    benchmark.extra_info.update(comments_per_s=round(rate), load_s=round(load_s, 2),
                                comments_per_cpu_s=round(N / cpu) if cpu else None,
                                rss_mib={str(k): round(v or 0) for k, v in memory.items()},
                                parent_rss_mib=round(rss_mib() or 0))
    print(f"\n{processes} process(es): {N:,} comments in {seconds:.2f} s = {rate:,.0f}/s wall "
          f"(models loaded in {load_s:.1f} s); scoring processes used {cpu:.1f} CPU-s "
          f"({N / max(cpu, 1e-9):,.0f} comments per CPU-second); RSS per scoring process: "
          f"{', '.join(f'{v:.0f} MiB' for v in memory.values() if v)}; this process {rss_mib():.0f} MiB")
