"""A stored history of scored comments for benchmarks, written straight through sqlite3."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from monitor import aggregate
from monitor.store.db import engine_for_url, upgrade

__all__ = ["store_history"]


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def store_history(path: Path, rows: int, targets: Sequence[str], start: datetime, text: str = "x") -> None:
    """A migrated SQLite database at `path` holding `rows` scored comments over 30 days, each with
    `text` as its text."""
    upgrade(engine_for_url(f"sqlite:///{path}"))
    frame = aggregate.synthetic_frame(rows, sources=50, days=30, start=start, targets=list(targets))
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO sources (id, name, platform, url, created_at, consecutive_failures, state) "
                   "VALUES (?, ?, 'wordpress', 'https://x', '2026-03-01 00:00:00.000000', 0, '{}')",
                   [(i + 1, f"src{i}") for i in range(50)])
    pairs = frame.select("article", "source").unique(subset="article").iter_rows()
    db.executemany("INSERT INTO articles (id, source_id, external_id, url, discovered_at, comment_count, state) "
                   "VALUES (?, ?, ?, 'u', '2026-03-01 00:00:00.000000', 0, '{}')",
                   [(int(a) + 1, int(s[3:]) + 1, a) for a, s in pairs])
    articles = dict(frame.select("article", "source").unique(subset="article").iter_rows())
    columns = frame.select("comment_id", "ts", "source", "article", "author", "toxicity", "toxic",
                        "lexicon_terms", *(f"stance_{t}" for t in targets)).iter_rows()
    comment_rows, score_rows = [], []
    for cid, ts, source, article, author, tox, toxic, terms, *stance in columns:
        stamp = _stamp(ts)
        comment_rows.append((cid + 1, int(articles[article][3:]) + 1, int(article) + 1, str(cid), author,
                             text, stamp, stamp, stamp))
        slurs = json.dumps([{"term": t, "normalized": t, "target": "nato", "kind": "lexicon", "start": 0,
                             "end": 1} for t in terms])
        score_rows.append((cid + 1, tox, toxic, json.dumps({t: {"label": s, "score": 0.9}
                                                            for t, s in zip(targets, stance)}), slurs, stamp))
    db.executemany("INSERT INTO comments (id, source_id, article_id, external_id, author_pseudonym, text, "
                   "content_hash, published_at, first_seen_at, updated_at, edit_count, needs_scoring, change_seq) "
                   "VALUES (?, ?, ?, ?, ?, ?, 'h', ?, ?, ?, 0, 0, 1)", comment_rows)
    db.executemany("INSERT INTO scores (comment_id, model_version, content_hash, lang, toxicity, toxic, "
                   "attributes, stance, slurs, scored_at) VALUES (?, 'm', 'h', 'en', ?, ?, '{}', ?, ?, ?)",
                   score_rows)
    db.commit()
    db.close()
