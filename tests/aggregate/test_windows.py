"""Windowed metrics: what the aggregates table holds after `aggregate.run` and `compute`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
from sqlalchemy import Engine, select, update

from monitor import aggregate
from monitor.store.schema import aggregates, comments, scores

HOUR = 3600
DAY = 86400


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def rows(engine: Engine, scope: str, key: str, window_s: int) -> dict[datetime, dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(select(aggregates).where(
            aggregates.c.scope == scope, aggregates.c.scope_key == key, aggregates.c.window_s == window_s))
        return {r.window_start: {**r.metrics, "_computed_at": r.computed_at} for r in found}


def test_hourly_source_metrics_match_the_comments(engine, config, add_comment):
    at = utc(2026, 3, 1, 10, 5)
    add_comment(at=at, toxicity=0.9, author="p1", stance={"nato": "against"}, slurs=[("natoknecht", "coined")])
    add_comment(at=at + timedelta(minutes=10), toxicity=0.2, author="p1", stance={"nato": "favor"},
                slurs=[("schwurbler", "lexicon"), ("schwurbler", "lexicon")])
    add_comment(at=at + timedelta(minutes=20), toxicity=0.6, author="p2")
    add_comment(at=at + timedelta(minutes=30), toxicity=0.1, author=None)
    add_comment(source="other", at=at, toxicity=0.0)

    stats = aggregate.run(engine, config, now=utc(2026, 3, 1, 11))

    assert stats.comments_read == 5
    hour = rows(engine, "source", "daily", HOUR)[utc(2026, 3, 1, 10)]
    assert hour["comment_count"] == 4
    assert hour["distinct_authors"] == 2
    assert hour["toxic_share"] == 0.5
    assert abs(hour["toxicity_mean"] - 0.45) < 1e-9
    assert hour["slur_count"] == 3 and hour["slur_lexicon_count"] == 2 and hour["slur_coined_count"] == 1
    assert hour["top_slurs"][0] == "schwurbler"
    assert hour["new_coinages"] == 1
    assert hour["stance_nato_against"] == 0.25 and hour["stance_nato_favor"] == 0.25
    assert hour["stance_nato_none"] == 0.5
    assert hour["comments_per_hour"] == 4
    overall_day = rows(engine, "overall", "", DAY)[utc(2026, 3, 1)]
    assert overall_day["comment_count"] == 5
    assert overall_day["comments_per_hour"] == 5 / 24


def test_top_author_share_flags_one_author_writing_most_comments(config):
    start = utc(2026, 3, 1, 10)
    n = 20
    frame = pl.DataFrame({
        "comment_id": range(n), "ts": [start + timedelta(minutes=i) for i in range(n)],
        "source": ["s"] * n, "article": ["1"] * n,
        "author": ["brigade"] * 15 + [f"reader{i}" for i in range(5)],
        "toxicity": [0.1] * n, "toxic": [False] * n,
        "lexicon_terms": [[] for _ in range(n)], "coined_terms": [[] for _ in range(n)],
    }, schema=aggregate.empty_frame().schema)
    out = aggregate.compute(frame, [timedelta(hours=1)], top_authors=1)
    article = out.filter(pl.col("scope") == "article").row(0, named=True)
    assert article["top_author_share"] == 0.75
    assert article["distinct_authors"] == 6
    assert article["toxicity_p90"] == 0.1


def test_late_comment_recomputes_only_its_own_windows(engine, config, add_comment):
    add_comment(at=utc(2026, 3, 1, 10, 5), toxicity=0.1)
    add_comment(at=utc(2026, 3, 2, 9, 0), toxicity=0.1)
    aggregate.run(engine, config, now=utc(2026, 3, 2, 10))
    before = rows(engine, "source", "daily", HOUR)

    # A comment published on March 1st but collected and scored a day later.
    add_comment(at=utc(2026, 3, 1, 10, 40), toxicity=0.95, scored_at=utc(2026, 3, 2, 10))
    stats = aggregate.run(engine, config, now=utc(2026, 3, 2, 10, 1))

    assert stats.windows_recomputed == 2  # its hour and its day
    after = rows(engine, "source", "daily", HOUR)
    assert after[utc(2026, 3, 1, 10)]["comment_count"] == 2
    assert after[utc(2026, 3, 1, 10)]["toxic_share"] == 0.5
    assert after[utc(2026, 3, 2, 9)]["_computed_at"] == before[utc(2026, 3, 2, 9)]["_computed_at"]


def test_rescored_comment_counts_with_its_latest_score(engine, config, add_comment):
    cid = add_comment(at=utc(2026, 3, 1, 10, 5), toxicity=0.1)
    aggregate.run(engine, config, now=utc(2026, 3, 1, 11))
    with engine.begin() as conn:
        row = conn.execute(select(scores).where(scores.c.comment_id == cid)).one()
        conn.execute(scores.insert().values(
            comment_id=cid, model_version="test-2", content_hash=row.content_hash, lang="en", toxicity=0.8,
            toxic=True, attributes={}, stance={}, slurs=[], scored_at=utc(2026, 3, 1, 12)))
    aggregate.run(engine, config, now=utc(2026, 3, 1, 12, 1))
    assert rows(engine, "source", "daily", HOUR)[utc(2026, 3, 1, 10)]["toxic_share"] == 1.0


def test_edited_comment_rescored_in_place_updates_its_window(engine, config, add_comment):
    cid = add_comment(article="a9", at=utc(2026, 3, 1, 10, 5), toxicity=0.1)
    aggregate.run(engine, config, now=utc(2026, 3, 1, 11))
    with engine.begin() as conn:
        conn.execute(update(comments).where(comments.c.id == cid).values(updated_at=utc(2026, 3, 1, 12, 30)))
        conn.execute(update(scores).where(scores.c.comment_id == cid).values(
            toxicity=0.7, toxic=True, scored_at=utc(2026, 3, 1, 12, 31)))
    aggregate.run(engine, config, now=utc(2026, 3, 1, 13))
    assert rows(engine, "article", "1", HOUR)[utc(2026, 3, 1, 10)]["toxic_share"] == 1.0


def test_incremental_runs_end_where_a_full_recompute_ends(engine, config, add_comment):
    for i in range(30):
        add_comment(source=f"s{i % 3}", article=f"a{i % 5}", at=utc(2026, 3, 1) + timedelta(hours=i * 1.7),
                    toxicity=(i * 37 % 100) / 100, author=f"p{i % 7}", slurs=[("x", "coined")] if i % 4 == 0 else [])
        if i % 10 == 9:
            aggregate.run(engine, config, now=utc(2026, 3, 5))
    incremental = {k: v for k, v in rows(engine, "source", "s1", HOUR).items()}
    stats = aggregate.run(engine, config, now=utc(2026, 3, 5), full=True)
    full = rows(engine, "source", "s1", HOUR)
    assert stats.full and stats.comments_read == 30
    strip = lambda d: {k: {m: v for m, v in x.items() if m != "_computed_at"} for k, x in d.items()}  # noqa: E731
    assert strip(incremental) == strip(full)


def test_nothing_new_recomputes_nothing(engine, config, add_comment):
    add_comment(at=utc(2026, 3, 1, 10, 5))
    aggregate.run(engine, config, now=utc(2026, 3, 1, 11))
    stats = aggregate.run(engine, config, now=utc(2026, 3, 1, 11, 1))
    assert stats.windows_recomputed == 0 and stats.rows_written == 0
