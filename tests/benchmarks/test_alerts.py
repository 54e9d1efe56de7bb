"""Rule evaluation speed: 100 rules over 1,000 sources with 7 days of hourly history.

Default sizes are small (CI); MONITOR_BENCH_FULL=1 runs the issue's sizes.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitor.alert import evaluate
from monitor.alert.rules import load_rules

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
SOURCES = 1000 if FULL else 30
RULES = 100 if FULL else 10
HOURS = 24 * 7 + 1
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
NOW = START + timedelta(hours=HOURS - 1, minutes=30)


@pytest.fixture(scope="module")
def frame() -> dict:
    rng = np.random.default_rng(0)
    n = SOURCES * HOURS
    data = pl.DataFrame({
        "window_s": np.full(n, 3600, dtype=np.int64),
        "window_start": pl.datetime_range(START, START + timedelta(hours=HOURS - 1), "1h", time_zone="UTC",
                                          eager=True).to_list() * SOURCES,
        "scope": ["source"] * n,
        "scope_key": np.repeat([f"src{i}" for i in range(SOURCES)], HOURS),
        "comment_count": rng.integers(0, 200, n),
        "toxic_share": rng.beta(2, 8, n),
        "toxicity_p90": rng.beta(4, 4, n),
        "comments_per_hour": rng.gamma(4, 10, n),
        "slur_count": rng.poisson(2, n),
        "stance_nato_against": rng.beta(2, 6, n),
        "stance_russia_favor": rng.beta(2, 6, n),
        "top_author_share": rng.beta(2, 5, n),
    }).with_columns(source=pl.col("scope_key"))
    return evaluate.partition(data)


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> list:
    metrics = ["toxic_share", "toxicity_p90", "comments_per_hour", "slur_count", "stance_nato_against",
               "stance_russia_favor", "top_author_share"]
    lines = ['[[groups]]\nname = "bench"\n']
    for i in range(RULES):
        m = metrics[i % len(metrics)]
        expr = (f"{m} > {0.5 + i / 1000}" if i % 2 == 0 else
                f"{m} > 2 * median_over_time({m}, \\\"7d\\\") and {m} > avg_over_time({m}, \\\"1d\\\")")
        lines.append(f'[[groups.rules]]\nalert = "R{i}"\nexpr = "{expr}"\nmin_comments = 20\nfor = "5m"\n'
                     'annotations.summary = "{{ source }} {{ value }} > {{ threshold }}"\n')
    path: Path = tmp_path_factory.mktemp("rules") / "bench.toml"
    path.write_text("\n".join(lines))
    return load_rules([path])


def test_evaluate_rules_over_sources(benchmark, frame, rules):
    states = benchmark.pedantic(evaluate.step, args=({}, rules, frame, NOW), rounds=3, iterations=1)
    assert len(rules) == RULES
    assert states  # random data: some rules match somewhere
    assert all(s.state in ("pending", "firing") for s in states.values())
