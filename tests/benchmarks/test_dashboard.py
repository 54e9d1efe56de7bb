"""Dashboard speed: reading a frame's snapshot from a filled SQLite database, and rendering a frame
at 80×24 and 200×50. Small sizes unless MONITOR_BENCH_FULL=1."""

from __future__ import annotations

import os
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest
from rich.console import Console

from monitor.config import load_config
from monitor.dashboard.data import AlertRow, CoinageRow, ToxicComment, load_snapshot
from monitor.dashboard.layout import build_layout, load_layout
from monitor.store.db import engine_for_url, upgrade
from monitor.store.schema import aggregates, articles, comments, scores, slur_candidates, sources
from tests.conftest import REPO, make_config_dir
from tests.dashboard.frames import snapshot

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
SOURCES = 50 if FULL else 5
COMMENTS = 200_000 if FULL else 2_000
DAYS = 30 if FULL else 2
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def filled_db(tmp_path_factory):
    """SOURCES sources, COMMENTS scored comments over DAYS days, and their hourly aggregates."""
    tmp = tmp_path_factory.mktemp("dashboard-bench")
    config = load_config(make_config_dir(tmp, f"sqlite:///{tmp / 'data' / 'monitor.db'}"), environ={})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    rng = random.Random(7)
    start = NOW - timedelta(days=DAYS)
    with engine.begin() as conn:
        conn.execute(sources.insert(), [{"id": s + 1, "name": f"site{s}", "platform": "wordpress",
                                         "url": f"https://site{s}.example/", "created_at": start,
                                         "consecutive_failures": 0, "state": {}} for s in range(SOURCES)])
        conn.execute(articles.insert(), [{"id": s + 1, "source_id": s + 1, "external_id": "1",
                                          "url": f"https://site{s}.example/1", "discovered_at": start,
                                          "comment_count": 0, "state": {}} for s in range(SOURCES)])
        rows, score_rows = [], []
        for i in range(COMMENTS):
            s = rng.randrange(SOURCES) + 1
            at = start + timedelta(seconds=rng.uniform(0, DAYS * 86_400))
            tox = rng.random() ** 3
            rows.append({"id": i + 1, "source_id": s, "article_id": s, "external_id": str(i),
                         "author_pseudonym": f"a-{rng.randrange(5000):014x}",
                         "text": f"Kommentar {i} zur Lage, mit ein paar Worten mehr als nötig.",
                         "content_hash": f"{i:064x}", "published_at": at, "first_seen_at": at,
                         "updated_at": at, "edit_count": 0, "needs_scoring": False})
            score_rows.append({"comment_id": i + 1, "model_version": "bench", "content_hash": f"{i:064x}",
                               "lang": "de", "toxicity": tox, "toxic": tox >= 0.5, "attributes": {},
                               "stance": {}, "slurs": [], "scored_at": at})
        for chunk in range(0, COMMENTS, 5000):
            conn.execute(comments.insert(), rows[chunk:chunk + 5000])
            conn.execute(scores.insert(), score_rows[chunk:chunk + 5000])
        hours = DAYS * 24
        conn.execute(aggregates.insert(), [{
            "window_s": 3600, "window_start": start + timedelta(hours=h), "scope": "source",
            "scope_key": f"site{s}", "source": f"site{s}", "comment_count": 10, "computed_at": NOW,
            "metrics": {"toxic_share": rng.random() / 2, "stance_nato_favor": 0.2, "stance_nato_against": 0.3,
                        "stance_nato_none": 0.5, "stance_russia_favor": 0.1, "stance_russia_against": 0.4,
                        "stance_russia_none": 0.5, "slur_count": rng.randrange(4), "top_slurs": ["x", "y"]},
        } for s in range(SOURCES) for h in range(hours)])
        conn.execute(slur_candidates.insert(), [{
            "normalized": f"wort{i}", "term": f"Wort{i}", "target": "nato", "first_seen": start,
            "last_seen": NOW, "count": i, "distinct_authors": i // 2, "score": rng.random(),
            "status": "pending", "examples": [], "updated_at": NOW} for i in range(200)])
    yield engine, config
    engine.dispose()


def test_load_snapshot(benchmark, filled_db):
    engine, config = filled_db
    snap = benchmark(load_snapshot, engine, config, NOW)
    assert len(snap.sources) == SOURCES and snap.toxic_comments and len(snap.coinages) == 60


def busy_snapshot():
    """A frame's worth of data from a busy deployment: many sources, alerts, coinages, comments."""
    base = snapshot()
    row = base.sources[0]
    return replace(
        base,
        sources=tuple(replace(row, name=f"site{i}") for i in range(50)),
        alerts=tuple(AlertRow(f"community/Rule{i}", "firing" if i % 3 else "pending", {"source": f"site{i}"},
                              "A summary of what happened and what to look at", 0.5, base.now)
                     for i in range(20)),
        coinages=tuple(CoinageRow(f"Wort{i}", "nato", 60 - i, 10, base.now) for i in range(60)),
        toxic_comments=tuple(ToxicComment(f"site{i}", "a-600ccbee121754", 0.99 - i / 100,
                                          "Ein langer Kommentar " * 20, base.now) for i in range(60)),
    )


@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 50)])
def test_render_frame(benchmark, width, height):
    spec = load_layout("overview", REPO / "dashboards")
    snap = busy_snapshot()
    console = Console(file=StringIO(), width=width, height=height, force_terminal=True,
                      color_system="truecolor", legacy_windows=False, _environ={})

    def render() -> None:
        console.file = StringIO()
        console.print(build_layout(spec, snap, width, height))

    benchmark(render)
    assert console.file.getvalue().count("\n") == height
