"""Aggregation against a stored history (SQLite): a tick with nothing new, and `--full`'s read
compared with a plain Arrow read of the same columns (issue 14: ≤ 50 ms at 1M comments; ≤ 1.5×).

Default size is small (CI); MONITOR_BENCH_FULL=1 stores the issue's 1,000,000 comments."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor import aggregate
from monitor.config import load_config
from monitor.store.db import engine_for_url, upgrade

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


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database holding ROWS scored comments (written straight through sqlite3)."""
    path = tmp_path_factory.mktemp("aggregate") / "history.db"
    upgrade(engine_for_url(f"sqlite:///{path}"))
    frame = aggregate.synthetic_frame(ROWS, sources=50, days=30, start=START, targets=TARGETS)
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO sources (id, name, platform, url, created_at, consecutive_failures, state) "
                   "VALUES (?, ?, 'wordpress', 'https://x', '2026-03-01 00:00:00.000000', 0, '{}')",
                   [(i + 1, f"src{i}") for i in range(50)])
    pairs = frame.select("article", "source").unique(subset="article").iter_rows()
    db.executemany("INSERT INTO articles (id, source_id, external_id, url, discovered_at, comment_count, state) "
                   "VALUES (?, ?, ?, 'u', '2026-03-01 00:00:00.000000', 0, '{}')",
                   [(int(a) + 1, int(s[3:]) + 1, a) for a, s in pairs])
    articles = dict(frame.select("article", "source").unique(subset="article").iter_rows())
    rows = frame.select("comment_id", "ts", "source", "article", "author", "toxicity", "toxic",
                        "lexicon_terms", *(f"stance_{t}" for t in TARGETS)).iter_rows()
    comment_rows, score_rows = [], []
    for cid, ts, source, article, author, tox, toxic, terms, *stance in rows:
        stamp = _stamp(ts)
        comment_rows.append((cid + 1, int(articles[article][3:]) + 1, int(article) + 1, str(cid), author,
                             stamp, stamp, stamp))
        slurs = json.dumps([{"term": t, "normalized": t, "target": "nato", "kind": "lexicon", "start": 0,
                             "end": 1} for t in terms])
        score_rows.append((cid + 1, tox, toxic, json.dumps({t: {"label": s, "score": 0.9}
                                                            for t, s in zip(TARGETS, stance)}), slurs, stamp))
    db.executemany("INSERT INTO comments (id, source_id, article_id, external_id, author_pseudonym, text, "
                   "content_hash, published_at, first_seen_at, updated_at, edit_count, needs_scoring, change_seq) "
                   "VALUES (?, ?, ?, ?, ?, 'x', 'h', ?, ?, ?, 0, 0, 1)", comment_rows)
    db.executemany("INSERT INTO scores (comment_id, model_version, content_hash, lang, toxicity, toxic, "
                   "attributes, stance, slurs, scored_at) VALUES (?, 'm', 'h', 'en', ?, ?, '{}', ?, ?, ?)",
                   score_rows)
    db.commit()
    db.close()
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
    ours = benchmark.stats.stats.median
    benchmark.extra_info.update(plain_read_s=round(plain_read, 3), plain_with_process_s=round(plain_with_start, 3),
                                ratio=round(ours / plain_with_start, 2))
    print(f"\nfull read of {ROWS:,}: load_frame {ours:.3f} s; plain Arrow read {plain_read:.3f} s "
          f"({plain_with_start:.3f} s with its process start): {ours / plain_with_start:.2f}×")
