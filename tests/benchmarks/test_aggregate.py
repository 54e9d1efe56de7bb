"""Aggregation speed: full recompute of hourly and daily windows, and an incremental one-hour tick.

Default sizes are small (CI); MONITOR_BENCH_FULL=1 runs the issue's sizes (10 million comments).
"""

from __future__ import annotations

import os
from datetime import timedelta

import polars as pl
import pytest

from monitor import aggregate

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
ROWS = 10_000_000 if FULL else 20_000
SOURCES = 1000 if FULL else 20
DAYS = 30
WINDOWS = [timedelta(hours=1), timedelta(days=1)]
TARGETS = ["nato", "russia"]


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return aggregate.synthetic_frame(ROWS, sources=SOURCES, articles_per_source=20, days=DAYS, targets=TARGETS)


def test_full_recompute_hourly_and_daily(benchmark, history):
    result = benchmark.pedantic(aggregate.compute, args=(history, WINDOWS),
                                kwargs={"targets": TARGETS}, rounds=1 if FULL else 3, iterations=1)
    overall = result.filter((pl.col("scope") == "overall") & (pl.col("window_s") == 86400))
    assert overall["comment_count"].sum() == ROWS
    assert overall.height == DAYS


def test_incremental_tick_with_one_new_hour(benchmark, history):
    last = history["ts"].max()
    new_hour = aggregate.synthetic_frame(ROWS // (DAYS * 24), sources=SOURCES, articles_per_source=20,
                                         days=1 / 24, start=last + timedelta(seconds=1), targets=TARGETS, seed=1)
    frame = pl.concat([history, new_hour])

    def tick() -> pl.DataFrame:
        touched = aggregate.touched_windows(new_hour["ts"].to_list(), WINDOWS)
        return aggregate.compute(aggregate.select_windows(frame, touched), WINDOWS, targets=TARGETS,
                                 only=touched)

    result = benchmark.pedantic(tick, rounds=3, iterations=1)
    hours = result.filter((pl.col("window_s") == 3600) & (pl.col("scope") == "overall"))
    assert hours.height <= 3  # only the touched hour(s), not the whole history
    assert hours["comment_count"].sum() >= new_hour.height
