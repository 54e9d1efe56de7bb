"""Aggregation against a stored history (SQLite): a tick with nothing new, and `--full`'s read
compared with a plain Arrow read of the same columns (issue 14: ≤ 50 ms at 1M comments; ≤ 1.5×).

Default size is small (CI); MONITOR_BENCH_FULL=1 stores the issue's 1,000,000 comments."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor import aggregate
from monitor.config import load_config
from monitor.store.db import engine_for_url
from tests.benchmarks.stored_history import store_history

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
ROWS = 1_000_000 if FULL else 50_000
TARGETS = ["nato", "russia"]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)

PLAIN_READ = """
import sys, time, connectorx
started = time.perf_counter()
table = connectorx.read_sql(sys.argv[1], sys.stdin.read(), return_type="arrow")
print(time.perf_counter() - started, table.num_rows)
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aggregate") / "history.db"
    store_history(path, ROWS, TARGETS, START)
    return path


def _config(path: Path) -> Any:
    return load_config(None, environ={"MONITOR_DATABASE_URL": f"sqlite:///{path}"})


def test_tick_with_nothing_new(benchmark, stored):
    engine = engine_for_url(f"sqlite:///{stored}")
    config = _config(stored)
    aggregate.run(engine, config, now=START + timedelta(days=31))  # sets the watermark
    stats = benchmark.pedantic(lambda: aggregate.run(engine, config, now=START + timedelta(days=31)),
                               rounds=5, iterations=1)
    assert stats.comments_read == 0
    if benchmark.stats is None:  # --benchmark-disable: ran once as a test, nothing timed
        return
    print(f"\ntick with nothing new at {ROWS:,} comments: {benchmark.stats.stats.median * 1000:.1f} ms (median)")


def test_full_read_against_a_plain_arrow_read(benchmark, stored):
    engine = engine_for_url(f"sqlite:///{stored}")
    plain_sql = ("SELECT c.id, c.published_at, c.first_seen_at, src.name, c.article_id, c.author_pseudonym, "
                 "s.toxicity, s.toxic, s.slurs, s.stance FROM comments c JOIN sources src ON src.id = c.source_id "
                 "JOIN scores s ON s.id = c.score_id")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PLAIN_READ, f"sqlite://{stored}"], input=plain_sql, text=True,
                         capture_output=True, check=True).stdout.split()
    plain_with_start = time.perf_counter() - started
    plain_read = float(out[0])

    def full_read() -> Any:
        with engine.connect() as conn:
            return aggregate.load_frame(conn, TARGETS)

    frame = benchmark.pedantic(full_read, rounds=3, iterations=1)
    assert frame.height == ROWS and int(out[1]) == ROWS
    if benchmark.stats is None:  # --benchmark-disable: ran once as a test, nothing timed
        return
    ours = benchmark.stats.stats.median
    benchmark.extra_info.update(plain_read_s=round(plain_read, 3), plain_with_process_s=round(plain_with_start, 3),
                                ratio=round(ours / plain_with_start, 2))
    print(f"\nfull read of {ROWS:,}: load_frame {ours:.3f} s; plain Arrow read {plain_read:.3f} s "
          f"({plain_with_start:.3f} s with its process start): {ours / plain_with_start:.2f}×")
