"""How long `monitor review` takes to build its queue from a stored, scored database (SQLite).

Default size is small (CI); MONITOR_BENCH_FULL=1 stores 100,000 comments in 10 sources.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from monitor.review.queue import build_queue
from monitor.store.db import engine_for_url, upgrade
from monitor.store.schema import articles, comments, scores, slur_occurrences, sources

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
COMMENTS = 100_000 if FULL else 5_000
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Engine:
    path: Path = tmp_path_factory.mktemp("review") / "bench.db"
    engine = engine_for_url(f"sqlite:///{path}")
    upgrade(engine)
    rng = random.Random(0)
    with engine.begin() as conn:
        conn.execute(insert(sources), [dict(id=s + 1, name=f"s{s}", platform="wordpress",
                                            url="https://x.example", created_at=T0, state={})
                                       for s in range(10)])
        conn.execute(insert(articles), [dict(id=a + 1, source_id=a // 100 + 1, external_id=f"a{a}",
                                             url=f"https://x.example/{a}", discovered_at=T0,
                                             comment_count=0, state={}) for a in range(1000)])
        for start in range(0, COMMENTS, 20_000):
            ids = range(start, min(COMMENTS, start + 20_000))
            conn.execute(insert(comments), [dict(
                id=i + 1, source_id=i % 10 + 1, article_id=(i % 10) * 100 + (i // 10) % 100 + 1,
                external_id=f"c{i}", text=f"comment {i}", content_hash=f"h{i}",
                published_at=T0 + timedelta(seconds=i), first_seen_at=T0, updated_at=T0,
                edit_count=0, needs_scoring=False) for i in ids])
            toxicity = [rng.random() ** 2 for _ in ids]
            conn.execute(insert(scores), [dict(
                comment_id=i + 1, model_version="m", content_hash=f"h{i}", lang="de", toxicity=t,
                toxic=t >= 0.5, attributes={}, slurs=[], scored_at=T0,
                stance={"nato": {"label": rng.choice(["favor", "against", "none"]), "score": 0.9},
                        "russia": {"label": "none", "score": 0.5}}) for i, t in zip(ids, toxicity)])
            conn.execute(insert(slur_occurrences), [dict(
                comment_id=i + 1, term="Natoschwein", normalized="natoschwein", target="nato",
                kind="coined", start=0, end=11, seen_at=T0) for i in ids if i % 100 == 0])
    yield engine
    engine.dispose()


def test_build_queue(benchmark, stored):
    queue = benchmark.pedantic(build_queue, args=(stored,),
                               kwargs={"threshold": 0.5, "targets": ["nato", "russia"], "limit": 200},
                               rounds=3, iterations=1)
    assert len(queue) == 200 and queue[0].reasons[0] == "slur_vs_stance"
