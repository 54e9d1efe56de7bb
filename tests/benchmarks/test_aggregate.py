"""Aggregation speed: full recompute of hourly and daily windows, and an incremental one-hour tick.

Default sizes are small (CI); MONITOR_BENCH_FULL=1 runs the issue's sizes (10 million comments).
"""

from __future__ import annotations

import os
import resource
import time
from datetime import timedelta
from typing import Any, Callable

import polars as pl
import pytest

from monitor import aggregate

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
ROWS = 10_000_000 if FULL else 20_000
SOURCES = 1000 if FULL else 20
DAYS = 30
WINDOWS = [timedelta(hours=1), timedelta(days=1)]
TARGETS = ["nato", "russia"]


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux: /proc/self/clear_refs), so the next reading is
    this call's own peak rather than the whole process's; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_gib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) from /proc/self/status; the process peak elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 2 ** 20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def measured(benchmark: Any, fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn`, recording its wall and CPU seconds (the box is shared: CPU time says more), the peak
    RSS while it ran (the process's peak where the mark cannot be reset) and how far that peak
    rose above the RSS it started from (the input frame and what earlier rounds left are in both)."""

    def run() -> Any:
        own = _reset_peak_rss()
        start_rss = _rss_gib("VmRSS")
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = fn()
        after = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter() - started
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak = _rss_gib("VmHWM")
        rise = max(0.0, peak - start_rss)
        label = "peak RSS" if own else "process peak RSS"
        benchmark.extra_info.update(wall_s=round(wall, 3), cpu_s=round(cpu, 3), peak_rss_gb=round(peak, 2),
                                    peak_rise_gb=round(rise, 2))
        print(f"\n{benchmark.name}: wall {wall:.3f} s, cpu {cpu:.3f} s, {label} {peak:.2f} GiB "
              f"(+{rise:.2f} GiB over the {start_rss:.2f} GiB it started from)")
        return result

    return run


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return aggregate.synthetic_frame(ROWS, sources=SOURCES, days=DAYS, targets=TARGETS)


def test_full_recompute_hourly_and_daily(benchmark, history):
    full = measured(benchmark, lambda: aggregate.compute(history, WINDOWS, targets=TARGETS))
    result = benchmark.pedantic(full, rounds=3, iterations=1)
    overall = result.filter((pl.col("scope") == "overall") & (pl.col("window_s") == 86400))
    assert overall["comment_count"].sum() == ROWS
    assert overall.height == DAYS


def test_full_recompute_with_text_keys(benchmark, history):
    """The same recompute from Utf8 key columns (what `load_frame` yields): strings are coded first."""
    text = history.with_columns(pl.col("source", "article", "author").cast(pl.Utf8))
    full = measured(benchmark, lambda: aggregate.compute(text, WINDOWS, targets=TARGETS))
    result = benchmark.pedantic(full, rounds=1, iterations=1)
    assert result.filter((pl.col("scope") == "overall") & (pl.col("window_s") == 86400))["comment_count"].sum() == ROWS


def test_full_recompute_rows_out_of_time_order(benchmark, history):
    """The same recompute with the rows shuffled (a database returns them in its own order): they
    are grouped by day first."""
    shuffled = history.sample(fraction=1.0, shuffle=True, seed=1)
    full = measured(benchmark, lambda: aggregate.compute(shuffled, WINDOWS, targets=TARGETS))
    result = benchmark.pedantic(full, rounds=1, iterations=1)
    assert result.filter((pl.col("scope") == "overall") & (pl.col("window_s") == 86400))["comment_count"].sum() == ROWS


def test_incremental_tick_with_one_new_hour(benchmark, history):
    last = history["ts"].max()
    new_hour = aggregate.synthetic_frame(ROWS // (DAYS * 24), sources=SOURCES,
                                         days=1 / 24, start=last + timedelta(seconds=1), targets=TARGETS, seed=1)
    frame = pl.concat([history, new_hour])

    def tick() -> pl.DataFrame:
        touched = aggregate.touched_windows(new_hour["ts"].to_list(), WINDOWS)
        return aggregate.compute(aggregate.select_windows(frame, touched), WINDOWS, targets=TARGETS,
                                 only=touched)

    result = benchmark.pedantic(measured(benchmark, tick), rounds=3, iterations=1)
    hours = result.filter((pl.col("window_s") == 3600) & (pl.col("scope") == "overall"))
    assert hours.height <= 3  # only the touched hour(s), not the whole history
    assert hours["comment_count"].sum() >= new_hour.height


def test_incremental_tick_from_the_database(benchmark, tmp_path):
    """The daemon's real tick: read what changed from SQLite, recompute, write the touched windows."""
    from datetime import datetime, timezone

    from sqlalchemy import insert

    from monitor.config import load_config
    from monitor.store.db import engine_for_url
    from monitor.store.schema import articles, comments, metadata, scores, sources

    stored = 100_000 if FULL else 2_000
    engine = engine_for_url(f"sqlite:///{tmp_path / 'bench.db'}")
    metadata.create_all(engine)
    config = load_config(None, environ={})
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    frame = aggregate.synthetic_frame(stored + stored // (DAYS * 24), sources=20,
                                      days=DAYS + 1 / 24, start=start, targets=TARGETS)

    def store(rows: pl.DataFrame) -> None:
        with engine.begin() as conn:
            for i, row in enumerate(rows.iter_rows(named=True)):
                cid = row["comment_id"] + 1
                conn.execute(insert(comments).values(
                    id=cid, source_id=int(row["source"][3:]) + 1, article_id=int(row["article"]) + 1,
                    external_id=str(cid), author_pseudonym=row["author"], text="x", content_hash="h",
                    published_at=row["ts"], first_seen_at=row["ts"], updated_at=row["ts"], edit_count=0,
                    needs_scoring=False))
                conn.execute(insert(scores).values(
                    comment_id=cid, model_version="m", content_hash="h", lang="en", toxicity=row["toxicity"],
                    toxic=row["toxic"], attributes={}, slurs=[],
                    stance={t: {"label": row[f"stance_{t}"], "score": 1.0} for t in TARGETS},
                    scored_at=row["ts"]))

    with engine.begin() as conn:
        conn.execute(insert(sources), [{"id": i + 1, "name": f"src{i}", "platform": "wordpress", "url": "https://x",
                                        "created_at": start, "state": {}} for i in range(20)])
        pairs = frame.select("article", "source").unique().iter_rows()
        conn.execute(insert(articles), [{"id": int(article) + 1, "source_id": int(source[3:]) + 1,
                                         "external_id": article, "url": "u", "discovered_at": start,
                                         "comment_count": 0, "state": {}} for article, source in pairs])
    old, new = frame.head(stored), frame.tail(frame.height - stored)
    store(old)
    aggregate.run(engine, config, now=start + timedelta(days=DAYS))
    store(new)
    tick = measured(benchmark, lambda: aggregate.run(engine, config, now=start + timedelta(days=DAYS + 1)))
    stats = benchmark.pedantic(tick, rounds=1, iterations=1)
    assert stats.windows_recomputed <= 4 and stats.comments_read < stored / 10
