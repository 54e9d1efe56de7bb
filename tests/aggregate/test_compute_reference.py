"""`compute` (pre-aggregated, vectorised) agrees with a plain per-window Python reference on random frames."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest

from monitor import aggregate

TARGETS = ["nato"]
# 1h, 6h and 1d roll up from the hour; 90 minutes divides none of them and is computed from the rows.
WINDOWS = [timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(minutes=90)]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Equal up to rounding: the mean's sum is added up in another order (partials, then roll-ups), and
# polars divides by a constant window length as a multiplication.
ROUNDED = {"toxicity_mean", "comments_per_hour"}


def random_frame(seed: int, n: int = 700) -> pl.DataFrame:
    rng = random.Random(seed)
    article_source = {f"{i}": f"site{i % 3}" for i in range(9)}
    rows = []
    for i in range(n):
        article = rng.choice(list(article_source))
        tox = rng.choice([None, round(rng.random(), 2), rng.random()]) if rng.random() < 0.1 else round(rng.random(), 3)
        rows.append({
            "comment_id": i, "ts": START + timedelta(seconds=rng.randrange(3 * 86400)),
            "source": article_source[article], "article": article,
            "author": None if rng.random() < 0.15 else f"p{int(rng.paretovariate(1.2)) % 12}",
            "toxicity": tox, "toxic": None if rng.random() < 0.03 else (tox or 0.0) >= 0.5,
            "lexicon_terms": rng.sample(["bot", "troll", "shill", "zombie"], rng.choice([0, 0, 0, 1, 2])),
            "coined_terms": rng.sample(["natoknecht", "putinbot", "neuwort"], rng.choice([0, 0, 0, 0, 1])),
            "stance_nato": rng.choice(["favor", "against", "none", None]),
        })
    return pl.DataFrame(rows, schema=aggregate.empty_frame(TARGETS).schema)


def window_start(ts: datetime, size: int) -> datetime:
    return EPOCH + timedelta(seconds=int((ts - EPOCH).total_seconds()) // size * size)


def reference(frame: pl.DataFrame, first_seen: dict[str, datetime], top_authors: int,
              top_slurs: int, windows: list[timedelta] = WINDOWS) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every metric computed group by group, straight from its definition in the module docstring."""
    records = frame.to_dicts()
    first = dict(first_seen)
    for rec in records:
        for term in rec["coined_terms"]:
            first[term] = min(first.get(term, rec["ts"]), rec["ts"])
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        for window in windows:
            size = int(window.total_seconds())
            start = window_start(rec["ts"], size)
            for scope, key in (("overall", ""), ("source", rec["source"]), ("article", rec["article"])):
                groups[size, start, scope, key].append(rec)
    result = {}
    for (size, start, scope, key), recs in groups.items():
        n = len(recs)
        tox = [r["toxicity"] for r in recs if r["toxicity"] is not None]
        toxic = [r["toxic"] for r in recs if r["toxic"] is not None]
        authors = Counter(r["author"] for r in recs if r["author"] is not None)
        slurs = Counter(t for r in recs for t in r["lexicon_terms"] + r["coined_terms"])
        lexicon = sum(len(r["lexicon_terms"]) for r in recs)
        coined = sum(len(r["coined_terms"]) for r in recs)
        favor = sum(r["stance_nato"] == "favor" for r in recs) / n
        against = sum(r["stance_nato"] == "against" for r in recs) / n
        result[size, start, scope, key] = {
            "source": {"overall": "", "source": key, "article": recs[0]["source"]}[scope],
            "comment_count": n,
            "distinct_authors": len(authors),
            "toxicity_mean": sum(tox) / len(tox) if tox else None,
            # polars' own quantile of the group's values (nulls included, as a group_by would see them).
            "toxicity_p90": pl.Series([r["toxicity"] for r in recs], dtype=pl.Float64).quantile(0.9, "linear"),
            "toxic_share": sum(toxic) / len(toxic) if toxic else None,
            "slur_count": lexicon + coined,
            "slur_lexicon_count": lexicon,
            "slur_coined_count": coined,
            "top_slurs": [t for t, _ in sorted(slurs.items(), key=lambda kv: (-kv[1], kv[0]))[:top_slurs]],
            "new_coinages": len({t for r in recs for t in r["coined_terms"] if window_start(first[t], size) == start}),
            "comments_per_hour": n / (size / 3600),
            "top_author_share": sum(sorted(authors.values(), reverse=True)[:top_authors]) / n,
            "stance_nato_favor": favor,
            "stance_nato_against": against,
            "stance_nato_none": 1.0 - favor - against,
        }
    return result


def computed(out: pl.DataFrame) -> dict[tuple[Any, ...], dict[str, Any]]:
    keys = ("window_s", "window_start", "scope", "scope_key")
    return {tuple(row[k] for k in keys): {k: v for k, v in row.items() if k not in keys}
            for row in out.to_dicts()}


def assert_same(got: dict[tuple[Any, ...], dict[str, Any]], want: dict[tuple[Any, ...], dict[str, Any]]) -> None:
    assert got.keys() == want.keys()
    for group, metrics in want.items():
        for name, value in metrics.items():
            if name in ROUNDED and value is not None:
                assert got[group][name] == pytest.approx(value, rel=1e-12, abs=1e-15), (group, name)
            else:
                assert got[group][name] == value, (group, name, got[group][name], value)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_full_compute_matches_the_reference(seed):
    frame = random_frame(seed)
    first_seen = {"putinbot": START + timedelta(days=1, hours=5)}
    out = aggregate.compute(frame, WINDOWS, targets=TARGETS, top_authors=2, top_slurs=2, first_seen=first_seen)
    assert out.columns == ["window_s", "window_start", "scope", "scope_key", "source",
                           *aggregate.metric_names(TARGETS)]
    assert_same(computed(out), reference(frame, first_seen, top_authors=2, top_slurs=2))


@pytest.mark.parametrize("order", ["time", "shuffled"])
def test_pieces_cut_at_day_boundaries_add_up_to_the_reference(monkeypatch, order):
    """Large frames are computed in pieces cut at window boundaries (here: after every 100 rows, at
    the next midnight), in time order or after grouping the rows by day first."""
    from monitor.aggregate import groups

    monkeypatch.setattr(groups, "PIECE_ROWS", 100)
    frame = random_frame(5, n=900).sort("ts")
    if order == "shuffled":
        frame = frame.sample(fraction=1.0, shuffle=True, seed=3)
    windows = [timedelta(hours=1), timedelta(hours=6), timedelta(days=1)]
    out = aggregate.compute(frame, windows, targets=TARGETS, top_authors=2, top_slurs=2)
    assert out.filter(pl.col("window_s") == 86400, pl.col("scope") == "overall").height == 3
    assert_same(computed(out), reference(frame, {}, top_authors=2, top_slurs=2, windows=windows))


def test_incremental_compute_matches_the_reference_for_the_touched_windows():
    frame = random_frame(7)
    touched = aggregate.touched_windows([START + timedelta(days=2, hours=3, minutes=10)], WINDOWS)
    # What `run` keeps in its state: the first sighting of each coined term in earlier runs.
    known = {term: min(ts for ts, terms in zip(frame["ts"], frame["coined_terms"]) if term in terms)
             for term in set(frame["coined_terms"].explode().drop_nulls())}
    out = aggregate.compute(aggregate.select_windows(frame, touched), WINDOWS, targets=TARGETS, only=touched,
                            first_seen=known)
    want = {group: metrics for group, metrics in reference(frame, {}, top_authors=5, top_slurs=5).items()
            if group[1] in touched[group[0]]}
    assert len({(g[0], g[1]) for g in want}) == len(WINDOWS)
    assert_same(computed(out), want)


def test_categorical_keys_give_the_same_metrics_as_text_keys():
    frame = random_frame(4)
    # Categorical codes follow a process-wide string pool, not this frame's first appearances:
    # interning the authors in reverse first makes their codes disagree with the frame's order.
    pl.Series(["zzz", *reversed(frame["author"].drop_nulls().to_list())]).cast(pl.Categorical)
    keyed = frame.with_columns(pl.col("source", "article", "author").cast(pl.Categorical))
    first_seen = {"putinbot": START + timedelta(days=1, hours=5)}
    got = aggregate.compute(keyed, WINDOWS, targets=TARGETS, top_authors=2, top_slurs=2, first_seen=first_seen)
    assert got.schema["scope_key"] == pl.Utf8 and got.schema["source"] == pl.Utf8
    assert_same(computed(got), reference(frame, first_seen, top_authors=2, top_slurs=2))
