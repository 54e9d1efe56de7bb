"""Prometheus scrape cost: one /metrics collection over a database with many sources and a long
aggregate history. Small sizes unless MONITOR_BENCH_FULL=1."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from prometheus_client import generate_latest

from monitor.config import SourceConfig, load_config
from monitor.daemon import Daemon
from monitor.metrics import DaemonMetrics
from monitor.store.db import engine_for_url, upgrade
from monitor.store.repo import utcnow
from monitor.store.schema import aggregates, sources
from tests.conftest import make_config_dir

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
SOURCES = 1000 if FULL else 50
DAYS = 90 if FULL else 7


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    """SOURCES configured sources with DAYS of hourly and daily source and overall aggregates."""
    tmp = tmp_path_factory.mktemp("metrics-bench")
    config = load_config(make_config_dir(tmp, f"sqlite:///{tmp / 'data' / 'monitor.db'}"), environ={})
    config.sources = [SourceConfig(name=f"site{s}", url=f"https://site{s}.example/") for s in range(SOURCES)]
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    values = {"comment_count": 12, "toxic_share": 0.25, "toxicity_p90": 0.7, "stance_nato_against": 0.1,
              "top_slurs": ["natod"], "comments_per_hour": 12.0}
    with engine.begin() as conn:
        conn.execute(sources.insert(), [{"name": f"site{s}", "platform": "wordpress", "created_at": now,
                                         "url": f"https://site{s}.example/", "consecutive_failures": 0,
                                         "state": {}} for s in range(SOURCES)])
        for window_s, count in ((3600, DAYS * 24), (86400, DAYS)):
            rows = [{"window_s": window_s, "window_start": now - timedelta(seconds=window_s * i),
                     "scope": "source", "scope_key": f"site{s}", "source": f"site{s}", "comment_count": 12,
                     "metrics": values, "computed_at": now} for s in range(SOURCES) for i in range(count)]
            for chunk in range(0, len(rows), 20_000):
                conn.execute(aggregates.insert(), rows[chunk:chunk + 20_000])
    daemon = Daemon(config, engine=engine)
    yield DaemonMetrics(daemon)
    engine.dispose()


def test_one_scrape(benchmark, metrics):
    text = benchmark(generate_latest, metrics.registry).decode()
    assert f'monitor_window_toxic_share{{scope="source",source="site{SOURCES - 1}",window="1h"}} 0.25' in text
