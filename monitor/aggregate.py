"""Windowed metrics over scored comments (polars), per window size and overall / source / article.

One row per (window_s, window_start, scope, scope_key) goes to the `aggregates` table; `metrics`
is a flat JSON object with these keys (the names rules and the dashboard use):

    comment_count           comments in the window (time = published_at, else first_seen_at)
    distinct_authors        distinct author pseudonyms (comments without one are not counted)
    toxicity_mean           mean toxicity of the latest score per comment
    toxicity_p90            90th percentile of toxicity (linear interpolation)
    toxic_share             share of comments flagged toxic
    stance_<target>_favor   share of comments with stance 'favor' toward <target> (e.g. nato)
    stance_<target>_against share with stance 'against'
    stance_<target>_none    share with 'none' or no stance result
    slur_count              slur occurrences (lexicon + coined)
    slur_lexicon_count      occurrences of lexicon slurs
    slur_coined_count       occurrences of coined (discovered) slurs
    top_slurs               list of the most frequent normalized slurs, most frequent first
    new_coinages            coined normalized terms first seen (anywhere) in this window
    comments_per_hour       comment_count / window length in hours (whole window, even in progress)
    top_author_share        share of comments written by the `top_authors` most active authors

Incremental runs recompute only windows touched since the watermark kept in the `state` table
(newer `scores.scored_at` or `comments.updated_at`), so late, edited, re-scored and deleted
comments land in the right windows; each touched window is replaced as a whole (idempotent).
A comment whose published_at itself changes is counted in its new window at once, but its old
window keeps the stale count until `monitor aggregate --full` (the old time is not kept).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

__all__ = [
    "AggregateStats",
    "FRAME_COLUMNS",
    "METRICS",
    "STATE_COINAGES",
    "STATE_WATERMARK",
    "compute",
    "empty_frame",
    "load_frame",
    "metric_names",
    "run",
    "select_windows",
    "synthetic_frame",
    "touched_windows",
]

STATE_WATERMARK = "aggregate.watermark"
WATERMARK_OVERLAP = timedelta(minutes=15)
STATE_COINAGES = "aggregate.coinages"

# Scalar metrics shared by every target set; stance metrics are added per target.
METRICS = (
    "comment_count", "distinct_authors", "toxicity_mean", "toxicity_p90", "toxic_share",
    "slur_count", "slur_lexicon_count", "slur_coined_count", "top_slurs", "new_coinages",
    "comments_per_hour", "top_author_share",
)
STANCE_LABELS = ("favor", "against", "none")

# The input of `compute`: one row per scored comment; `stance_<target>` columns are added per target.
FRAME_COLUMNS = ("comment_id", "ts", "source", "article", "author", "toxicity", "toxic",
                 "lexicon_terms", "coined_terms")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def metric_names(targets: Iterable[str]) -> list[str]:
    """Every metric name written for these stance targets."""
    names = list(METRICS)
    for target in targets:
        names += [f"stance_{target}_{label}" for label in STANCE_LABELS]
    return names


@dataclass
class AggregateStats:
    """What one aggregation run did."""

    comments_read: int = 0
    windows_recomputed: int = 0
    rows_written: int = 0
    full: bool = False
    elapsed_s: float = 0.0


def _schema(targets: Sequence[str]) -> dict[str, Any]:
    import polars as pl

    schema: dict[str, Any] = {
        "comment_id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "source": pl.Utf8,
        "article": pl.Utf8, "author": pl.Utf8, "toxicity": pl.Float64, "toxic": pl.Boolean,
        "lexicon_terms": pl.List(pl.Utf8), "coined_terms": pl.List(pl.Utf8),
    }
    for target in targets:
        schema[f"stance_{target}"] = pl.Utf8
    return schema


def empty_frame(targets: Sequence[str] = ()) -> pl.DataFrame:
    """A scored-comments frame with no rows and the columns `compute` expects."""
    import polars as pl

    return pl.DataFrame(schema=_schema(targets))


def _window_start(ts: datetime, window: timedelta) -> datetime:
    step = int(window.total_seconds())
    return _EPOCH + timedelta(seconds=(int((ts - _EPOCH).total_seconds()) // step) * step)


def touched_windows(times: Iterable[datetime], windows: Sequence[timedelta]) -> dict[int, set[datetime]]:
    """Window starts (per window length in seconds) that contain any of `times`."""
    touched: dict[int, set[datetime]] = {int(w.total_seconds()): set() for w in windows}
    for ts in times:
        for window in windows:
            touched[int(window.total_seconds())].add(_window_start(ts, window))
    return touched


def _intervals(touched: Mapping[int, set[datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of the touched windows as sorted, merged [start, end) intervals."""
    spans = sorted((start, start + timedelta(seconds=size))
                   for size, starts in touched.items() for start in starts)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def select_windows(frame: pl.DataFrame, touched: Mapping[int, set[datetime]]) -> pl.DataFrame:
    """The rows of `frame` that fall inside any touched window (what an incremental tick reads)."""
    import polars as pl

    spans = _intervals(touched)
    if not spans:
        return frame.clear()
    cond = pl.lit(False)
    for start, end in spans:
        cond = cond | ((pl.col("ts") >= start) & (pl.col("ts") < end))
    return frame.filter(cond)


def compute(frame: pl.DataFrame, windows: Sequence[timedelta], *, targets: Sequence[str] = (),
            top_authors: int = 5, top_slurs: int = 5,
            first_seen: Mapping[str, datetime] | None = None,
            only: Mapping[int, set[datetime]] | None = None) -> pl.DataFrame:
    """Metrics per window, scope and key from a scored-comments frame (see FRAME_COLUMNS).

    `first_seen` holds coined terms already seen before this frame (for `new_coinages`); `only`
    restricts the output to these window starts per window length (incremental runs).
    Returns columns window_s, window_start, scope, scope_key, source and one column per metric.
    """
    import polars as pl

    # Group on integer codes, not strings: hashing 10M strings per grouping dominates otherwise.
    names: dict[str, pl.DataFrame] = {}
    coded = frame
    for col in ("source", "article", "author"):
        cats = frame[col].cast(pl.Categorical)
        distinct = cats.unique().drop_nulls()
        names[col] = pl.DataFrame({col: distinct.to_physical(), f"_{col}_name": distinct.cast(pl.Utf8)})
        coded = coded.with_columns(cats.to_physical().alias(col))
    # Per-row numbers computed once, so each of the six groupings only sums and averages them.
    coded = coded.with_columns(
        pl.col("lexicon_terms").list.len().cast(pl.Int64).alias("_lexicon_n"),
        pl.col("coined_terms").list.len().cast(pl.Int64).alias("_coined_n"),
        *[(pl.col(f"stance_{t}") == label).fill_null(False).alias(f"_{label}_{t}")
          for t in targets for label in ("favor", "against")])
    lf = coded.lazy()
    # First sighting of each coined term: the earlier of this frame and what was known before.
    coin_first = (lf.select("ts", term=pl.col("coined_terms")).explode("term").drop_nulls("term")
                  .group_by("term").agg(first=pl.col("ts").min()))
    if first_seen:
        known = pl.LazyFrame({"term": list(first_seen), "first": list(first_seen.values())},
                             schema={"term": pl.Utf8, "first": pl.Datetime("us", "UTC")})
        coin_first = pl.concat([coin_first, known]).group_by("term").agg(pl.col("first").min())

    # One Int64 key per scope (window index × code) groups and joins much faster than 2-3 columns.
    # Categorical codes are not dense (categories are shared process-wide): size by the largest.
    n_source = int(names["source"]["source"].max() or 0) + 1
    n_article = int(names["article"]["article"].max() or 0) + 1
    epoch_s = pl.col("ts").dt.epoch("s")
    scope_keys = {"overall": "_ko", "source": "_ks", "article": "_ka"}
    columns = ["window_s", "window_start", "scope", "scope_key", "source", *metric_names(targets)]
    parts: list[pl.LazyFrame] = []
    for window in windows:
        size = int(window.total_seconds())
        base = lf.with_columns(_w=epoch_s // size).with_columns(
            _ko=pl.col("_w"), _ks=pl.col("_w") * n_source + pl.col("source").cast(pl.Int64),
            _ka=pl.col("_w") * n_article + pl.col("article").cast(pl.Int64))
        if only is not None:
            indexes = sorted(int((start - _EPOCH).total_seconds()) // size for start in only.get(size, ()))
            base = base.join(pl.LazyFrame({"_w": indexes}, schema={"_w": pl.Int64}), on="_w", how="semi")
        has_slur = (pl.col("_lexicon_n") + pl.col("_coined_n")) > 0
        # Shared by the three scopes: computed once per window, then reused from memory.
        authors, slur_rows, coined = (frame.lazy() for frame in pl.collect_all([
            base.filter(pl.col("author").is_not_null())
                .group_by("_ka", "_ks", "_ko", "author").agg(n=pl.len()),
            base.filter(has_slur).select("_ka", "_ks", "_ko", term=pl.concat_list("lexicon_terms", "coined_terms"))
                .explode("term"),
            base.filter(pl.col("_coined_n") > 0).select("_w", "_ka", "_ks", "_ko", term=pl.col("coined_terms"))
                .explode("term").join(coin_first, on="term")
                .filter(pl.col("first").dt.epoch("s") // size == pl.col("_w")),
        ]))
        for scope, key in scope_keys.items():
            extra = [pl.col("source").first()] if scope == "article" else []
            main = base.group_by(key).agg(*_metric_exprs(targets), *extra).with_columns(
                (1.0 - pl.col(f"stance_{t}_favor") - pl.col(f"stance_{t}_against")).alias(f"stance_{t}_none")
                for t in targets)
            per_author = authors if scope == "article" else authors.group_by(key, "author").agg(pl.col("n").sum())
            # Sorting once and taking each group's head is much faster than a per-group top_k.
            author_stats = (per_author.sort(key, "n", descending=[False, True])
                            .group_by(key, maintain_order=True)
                            .agg(distinct_authors=pl.len().cast(pl.Int64),
                                 _top_n=pl.col("n").head(top_authors).sum()))
            slurs = (slur_rows.group_by(key, "term").agg(n=pl.len())
                     .group_by(key).agg(top_slurs=pl.col("term").sort_by(
                         ["n", "term"], descending=[True, False]).head(top_slurs)))
            coinages = coined.group_by(key).agg(new_coinages=pl.col("term").n_unique().cast(pl.Int64))
            divisor = {"overall": 1, "source": n_source, "article": n_article}[scope]
            out = (main.join(author_stats, on=key, how="left")
                   .join(slurs, on=key, how="left").join(coinages, on=key, how="left")
                   .with_columns(
                       distinct_authors=pl.col("distinct_authors").fill_null(0),
                       top_author_share=(pl.col("_top_n").fill_null(0) / pl.col("comment_count")),
                       top_slurs=pl.col("top_slurs").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
                       new_coinages=pl.col("new_coinages").fill_null(0),
                       comments_per_hour=pl.col("comment_count") / (size / 3600.0),
                       window_s=pl.lit(size, dtype=pl.Int64), scope=pl.lit(scope),
                       window_start=pl.from_epoch(pl.col(key) // divisor * size, time_unit="s")
                       .dt.cast_time_unit("us").dt.replace_time_zone("UTC")))
            if scope == "overall":
                out = out.with_columns(scope_key=pl.lit(""), source=pl.lit(""))
            elif scope == "source":
                out = (out.with_columns(source=(pl.col(key) % divisor).cast(pl.UInt32))
                       .join(names["source"].lazy(), on="source", how="left")
                       .with_columns(source=pl.col("_source_name"), scope_key=pl.col("_source_name")))
            else:
                out = (out.with_columns(article=(pl.col(key) % divisor).cast(pl.UInt32))
                       .join(names["article"].lazy(), on="article", how="left")
                       .join(names["source"].lazy(), on="source", how="left")
                       .with_columns(source=pl.col("_source_name"), scope_key=pl.col("_article_name")))
            parts.append(out.select(columns))
    if not parts:
        return pl.DataFrame()
    frames = pl.collect_all(parts)
    return pl.concat(frames, how="vertical_relaxed")


def _metric_exprs(targets: Sequence[str]) -> list[Any]:
    import polars as pl

    lexicon, coined = pl.col("_lexicon_n"), pl.col("_coined_n")
    exprs = [
        pl.len().cast(pl.Int64).alias("comment_count"),
        pl.col("toxicity").mean().alias("toxicity_mean"),
        pl.col("toxicity").quantile(0.9, "linear").alias("toxicity_p90"),
        pl.col("toxic").mean().cast(pl.Float64).alias("toxic_share"),
        (lexicon + coined).sum().alias("slur_count"),
        lexicon.sum().alias("slur_lexicon_count"),
        coined.sum().alias("slur_coined_count"),
    ]
    for target in targets:
        # Comments without a stance result for a target count as 'none'.
        exprs += [pl.col(f"_favor_{target}").mean().alias(f"stance_{target}_favor"),
                  pl.col(f"_against_{target}").mean().alias(f"stance_{target}_against")]
    return exprs


# --- the database side ---------------------------------------------------------------------------

def _comment_time() -> Any:
    from sqlalchemy import func

    from monitor.store.schema import comments

    return func.coalesce(comments.c.published_at, comments.c.first_seen_at)


def load_frame(conn: Connection, targets: Sequence[str],
               spans: Sequence[tuple[datetime, datetime]] | None = None) -> pl.DataFrame:
    """Scored comments (latest score each) whose time falls in `spans` (all when None)."""
    import polars as pl
    from sqlalchemy import and_, or_

    from monitor.store.repo import latest_scores_query
    from monitor.store.schema import comments

    query = latest_scores_query().add_columns(comments.c.article_id)
    cols = query.selected_columns
    query = query.where(cols.scored_at.is_not(None))
    ts = _comment_time()
    if spans is not None:
        if not spans:
            return empty_frame(targets)
        query = query.where(or_(*(and_(ts >= start, ts < end) for start, end in spans)))
    data: dict[str, list[Any]] = {name: [] for name in _schema(targets)}
    for row in conn.execute(query):
        data["comment_id"].append(row.id)
        data["ts"].append(row.published_at or row.first_seen_at)
        data["source"].append(row.source)
        data["article"].append(str(row.article_id))
        data["author"].append(row.author_pseudonym)
        data["toxicity"].append(row.toxicity)
        data["toxic"].append(bool(row.toxic))
        slurs = row.slurs or []
        data["lexicon_terms"].append([s["normalized"] for s in slurs if s.get("kind") != "coined"])
        data["coined_terms"].append([s["normalized"] for s in slurs if s.get("kind") == "coined"])
        stance = row.stance or {}
        for target in targets:
            result = stance.get(target)
            data[f"stance_{target}"].append(result.get("label") if isinstance(result, dict) else None)
    return pl.DataFrame(data, schema=_schema(targets))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _write(conn: Connection, result: pl.DataFrame, touched: Mapping[int, set[datetime]] | None,
           now: datetime) -> int:
    """Replace the touched windows (all windows when None) by the computed rows."""
    from sqlalchemy import delete, insert

    from monitor.store.schema import aggregates

    if touched is None:
        conn.execute(delete(aggregates))
    else:
        for size, starts in touched.items():
            ordered = sorted(starts)
            for i in range(0, len(ordered), 500):
                conn.execute(delete(aggregates).where(aggregates.c.window_s == size,
                                                      aggregates.c.window_start.in_(ordered[i:i + 500])))
    keys = ("window_s", "window_start", "scope", "scope_key", "source")
    rows = []
    for rec in result.iter_rows(named=True):
        metrics = {k: v for k, v in rec.items() if k not in keys}
        rows.append({**{k: rec[k] for k in keys}, "comment_count": rec["comment_count"],
                     "metrics": metrics, "computed_at": now})
    for i in range(0, len(rows), 1000):
        conn.execute(insert(aggregates), rows[i:i + 1000])
    return len(rows)


def run(engine: Engine, config: Any, now: datetime | None = None, full: bool = False) -> AggregateStats:
    """Recompute the windows touched since the last run (every window with `full`) and store them."""
    from sqlalchemy import func, or_, select

    from monitor.store.repo import get_state, put_state
    from monitor.store.schema import comments, scores

    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    settings = config.aggregate
    targets = sorted(config.targets)
    stats = AggregateStats(full=full)
    with engine.connect() as conn:
        # The new watermark is read first: whatever commits meanwhile is seen again next run.
        new_mark = {"scored_at": _iso(conn.execute(select(func.max(scores.c.scored_at))).scalar()),
                    "updated_at": _iso(conn.execute(select(func.max(comments.c.updated_at))).scalar()),
                    "read_at": _iso(now)}
        mark = {} if full else (get_state(conn, STATE_WATERMARK) or {})
        known = {} if full else {k: _parse(v) for k, v in (get_state(conn, STATE_COINAGES) or {}).items()}
        touched: dict[int, set[datetime]] | None = None
        if full:
            frame = load_frame(conn, targets)
        else:
            ts = _comment_time().label("ts")
            query = select(ts).select_from(comments)
            scored_mark, updated_mark = _parse(mark.get("scored_at")), _parse(mark.get("updated_at"))
            # With no mark for a column, every row counts as new (the first run, or the first
            # scores after comments were already aggregated unscored).
            if scored_mark and updated_mark:
                # Timestamps are taken before their transactions commit, so a row stamped just
                # before the last run may have committed just after it (concurrent workers, a long
                # collection pass): rows stamped within WATERMARK_OVERLAP of that run are looked at
                # again. After a quiet spell this adds nothing.
                read_at = _parse(mark.get("read_at")) or min(scored_mark, updated_mark)
                lookback = read_at - WATERMARK_OVERLAP
                query = query.where(or_(
                    comments.c.id.in_(select(scores.c.comment_id).where(
                        scores.c.scored_at > min(scored_mark, lookback))),
                    comments.c.updated_at > min(updated_mark, lookback)))
            times = [t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t
                     for t in conn.execute(query).scalars() if t is not None]
            touched = touched_windows(times, settings.windows)
            frame = load_frame(conn, targets, _intervals(touched))
        conn.rollback()

    result = compute(frame, settings.windows, targets=targets, top_authors=settings.top_authors,
                     top_slurs=settings.top_slurs, first_seen=known, only=touched)
    coinages = _first_coinages(frame, known)
    with engine.begin() as conn:
        stats.rows_written = _write(conn, result, touched, now)
        put_state(conn, STATE_WATERMARK, new_mark)
        put_state(conn, STATE_COINAGES, {k: _iso(v) for k, v in coinages.items()})
    stats.comments_read = frame.height
    stats.windows_recomputed = (sum(len(v) for v in touched.values()) if touched is not None
                                else result.select("window_s", "window_start").unique().height)
    stats.elapsed_s = time.perf_counter() - started
    return stats


def _first_coinages(frame: pl.DataFrame, known: Mapping[str, datetime | None]) -> dict[str, datetime]:
    import polars as pl

    firsts = {k: v for k, v in known.items() if v is not None}
    seen = (frame.select("ts", term=pl.col("coined_terms")).explode("term").drop_nulls("term")
            .group_by("term").agg(pl.col("ts").min()))
    for term, ts in seen.iter_rows():
        if term not in firsts or ts < firsts[term]:
            firsts[term] = ts
    return firsts


def synthetic_frame(n: int, *, sources: int = 50, articles_per_day: int = 5, authors: int = 20_000,
                    days: float = 30.0, start: datetime | None = None, targets: Sequence[str] = ("nato", "russia"),
                    seed: int = 0) -> pl.DataFrame:
    """A reproducible scored-comments frame of `n` rows for benchmarks and demos.

    Like a news site: each source publishes `articles_per_day` articles a day, a comment goes to
    one of that day's articles (the first ones draw most), and authors are Zipf-distributed.
    Article keys are unique across sources."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    offsets = np.sort(rng.integers(0, int(days * 86_400 * 1e6), n))
    source_ids = rng.integers(0, sources, n)
    toxicity = rng.beta(1.2, 6.0, n)
    slur_mask = rng.random(n) < 0.02
    vocabulary = np.array([f"term{i}" for i in range(200)])
    terms = [[str(vocabulary[rng.integers(0, 200)])] if hit else [] for hit in slur_mask] if n <= 200_000 \
        else None
    data: dict[str, Any] = {
        "comment_id": np.arange(n, dtype=np.int64),
        "ts": pl.Series(offsets).cast(pl.Duration("us")) + start,
        "source": pl.Series([f"src{i}" for i in range(sources)])[source_ids],
        "article": pl.Series((source_ids * (int(days) + 1) + offsets // 86_400_000_000) * articles_per_day
                             + np.minimum(rng.zipf(2.0, n) - 1, articles_per_day - 1)).cast(pl.Utf8),
        "author": pl.Series(rng.zipf(1.6, n) % authors).cast(pl.Utf8),
        "toxicity": toxicity,
        "toxic": toxicity >= 0.5,
    }
    frame = pl.DataFrame(data)
    if terms is None:
        # Large frames: build the term lists column-wise, a Python loop over millions is too slow.
        picks = pl.Series(vocabulary[rng.integers(0, 200, n)])
        terms_col = pl.when(pl.Series(slur_mask)).then(pl.concat_list(picks)).otherwise(pl.lit([], pl.List(pl.Utf8)))
        frame = frame.with_columns(lexicon_terms=terms_col)
    else:
        frame = frame.with_columns(lexicon_terms=pl.Series(terms, dtype=pl.List(pl.Utf8)))
    coined_mask = pl.Series(rng.random(n) < 0.005)
    coined_pick = pl.Series([f"coin{i}" for i in range(1000)])[rng.integers(0, 1000, n)]
    frame = frame.with_columns(coined_terms=pl.when(coined_mask).then(pl.concat_list(coined_pick))
                               .otherwise(pl.lit([], pl.List(pl.Utf8))))
    labels = pl.Series(["favor", "against", "none"])
    for target in targets:
        frame = frame.with_columns(pl.Series(f"stance_{target}", labels[rng.choice(3, n, p=[0.1, 0.2, 0.7])]))
    return frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC") if frame.schema["ts"].time_zone is None
                              else pl.col("ts"))
