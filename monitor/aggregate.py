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


def touched_windows(times: Iterable[datetime], windows: Sequence[timedelta]) -> dict[int, set[datetime]]:
    """Window starts (per window length in seconds) that contain any of `times`."""
    # Distinct seconds first: a tick passes thousands of times that fall in a handful of windows.
    seconds = {int((ts - _EPOCH).total_seconds()) for ts in times}
    return {size: {_EPOCH + timedelta(seconds=index * size) for index in {s // size for s in seconds}}
            for size in (int(w.total_seconds()) for w in windows)}


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

    How: rows get integer codes; counts and sums are taken once per (window, article) and added up
    to sources, to the whole site and to longer windows; distinct authors and their top shares come
    from (group, author) tallies added up the same way; the 90th percentile, which does not add up,
    is read per level from one Int64 sort of (group, toxicity rank).
    """
    import polars as pl

    sizes = list(dict.fromkeys(int(w.total_seconds()) for w in windows))
    if not sizes:
        return pl.DataFrame()
    enc = _Encoded(frame, targets)
    slur_rows, coined = _term_rows(frame, enc.rows, first_seen)
    if only is not None:
        keep = pl.lit(False)
        for size in sizes:
            keep = keep | (pl.col("_t") // size).is_in(_indexes(only, size).implode())
        enc.rows = enc.rows.filter(keep)
    if enc.rows.height == 0:
        return pl.DataFrame(schema=_result_schema(targets))
    enc.rank_toxicity()
    levels, sums, authors = _partials(enc, sizes, top_authors)
    parts: dict[tuple[int, str], pl.DataFrame] = {}
    for (size, scope), level in levels.items():
        main = sums[size, scope].sort("_k")
        main = main.with_columns(_p90=_p90(enc, level, main))
        if only is not None:
            main = main.filter((pl.col("_k") // level.n_code + level.w_lo).is_in(_indexes(only, size).implode()))
        key = level.row_key()
        # Sorted once by (key, count descending, term): each key's first rows are its top slurs.
        slurs = (slur_rows.lazy().group_by(key.alias("_k"), "term").agg(n=pl.len())
                 .sort("_k", "n", "term", descending=[False, True, False])
                 .group_by("_k", maintain_order=True).agg(top_slurs=pl.col("term").head(top_slurs)))
        coinages = (coined.lazy().filter(pl.col("_t") // size == pl.col("_first") // size)
                    .group_by(key.alias("_k")).agg(new_coinages=pl.col("term").n_unique().cast(pl.Int64)))
        # Both sides are sorted by _k; flagged so, polars merges them instead of hashing millions of keys.
        stats = authors[size, scope]
        if stats["_k"].is_sorted():
            stats = stats.with_columns(pl.col("_k").set_sorted())
        main = main.with_columns(pl.col("_k").set_sorted())
        parts[size, scope] = _metrics(enc, level, main.lazy().join(stats.lazy(), on="_k", how="left")
                                      .join(slurs, on="_k", how="left").join(coinages, on="_k", how="left"))
    return pl.concat([parts[size, scope] for size in sizes for scope in ("overall", "source", "article")],
                     how="vertical_relaxed")


_KEY_LIMIT = 2 ** 62  # packed Int64 keys stay below this
_PACK = 2 ** 32  # two counts share an Int64: one in the low 32 bits, one in the high


def _indexes(only: Mapping[int, set[datetime]], size: int) -> pl.Series:
    """The touched windows of one length as window numbers (seconds since the epoch // length)."""
    import polars as pl

    return pl.Series([int((start - _EPOCH).total_seconds()) // size for start in only.get(size, ())],
                     dtype=pl.Int64)


class _Encoded:
    """The scored comments as integer columns, with what it takes to name them again."""

    def __init__(self, frame: pl.DataFrame, targets: Sequence[str]) -> None:
        import polars as pl

        self.targets = list(targets)
        # Dense Int64 codes (first-appearance order): integer keys group, sort and join far faster
        # than strings, and dense codes pack several of them into one Int64 key.
        self.names: dict[str, pl.Series] = {}
        codes: dict[str, pl.Series] = {}
        for col in ("source", "article", "author"):
            self.names[col], codes[col] = _codes(frame[col])
        # Each article belongs to one source (articles.source_id): its first row says which, and all its
        # rows count for that source, so that article partials add up to exactly the source's figures.
        self.art_src = codes["source"].filter(codes["article"].is_first_distinct()
                                              & codes["article"].is_not_null())
        terms = {"_lex": pl.col("lexicon_terms").list.len(), "_coin": pl.col("coined_terms").list.len()}
        flags = {"_toxic": pl.col("toxic"), **{f"_{label}_{t}": pl.col(f"stance_{t}") == label
                                               for t in targets for label in ("favor", "against")}}
        # Counts travel two to an Int64 when every total fits in 31 bits: half the sums per grouping.
        totals = frame.select(expr.sum() for expr in terms.values()).row(0) if frame.height else (0, 0)
        counts = {**terms, **flags}
        names = list(counts)
        self.packs = ([names[i:i + 2] for i in range(0, len(names), 2)]
                      if frame.height < 2 ** 31 and max(totals) < 2 ** 31 else [[c] for c in names])
        self.rows = frame.select(
            _t=pl.col("ts").dt.epoch("s"), _src=self.art_src.gather(codes["article"]), _art=codes["article"],
            _auth=codes["author"], _tox=pl.col("toxicity"), _toxic=pl.col("toxic"),
            _slurs=terms["_lex"] + terms["_coin"],
            *[sum((counts[c].fill_null(False).cast(pl.Int64) * _PACK ** j for j, c in enumerate(cols)),
                  start=pl.lit(0, dtype=pl.Int64)).alias(f"_pack{i}") for i, cols in enumerate(self.packs)])
        # Non-null counts are summed only for columns that have nulls; elsewhere they are the group size.
        self.nullable = {c: self.rows[c].null_count() > 0 for c in ("_tox", "_toxic")}
        self.tox_sorted = pl.Series(dtype=pl.Float64)

    def sums_from_rows(self) -> list[pl.Expr]:
        import polars as pl

        return [pl.len().cast(pl.Int64).alias("_n"), pl.col("_tox").sum().alias("_tox_sum"),
                *[pl.col(f"_pack{i}").sum() for i in range(len(self.packs))],
                *[pl.col(c).count().cast(pl.Int64).alias(f"{c}_n") for c, has in self.nullable.items() if has]]

    def sum_columns(self) -> list[str]:
        return ["_n", "_tox_sum", *[f"_pack{i}" for i in range(len(self.packs))],
                *[f"{c}_n" for c, has in self.nullable.items() if has]]

    def unpacked(self) -> list[pl.Expr]:
        """The counts back from their packs, and non-null counts that equal the group size."""
        import polars as pl

        exprs = [(pl.col(f"_pack{i}") // _PACK ** j % _PACK).alias(c)
                 for i, cols in enumerate(self.packs) for j, c in enumerate(cols)]
        return exprs + [pl.col("_n").alias(f"{c}_n") for c, has in self.nullable.items() if not has]

    def rank_toxicity(self) -> None:
        """Give each row its place in toxicity order: all nulls rank 0 (first, as polars' quantile has
        them), values 1 and up; `tox_sorted[rank]` is the row's toxicity."""
        import numpy as np
        import polars as pl

        tox = self.rows["_tox"]
        values = tox.to_numpy()  # no copy when there are no nulls
        valid = np.flatnonzero(~tox.is_null().to_numpy()) if self.nullable["_tox"] else None
        if valid is not None:
            values = values[valid]
        by_tox = np.argsort(values)  # numpy's quicksort: about twice as fast here as polars' arg_sort
        in_order = values[by_tox]
        rank = np.zeros(len(tox), dtype=np.int64)
        rank[by_tox if valid is None else valid[by_tox]] = np.arange(1, len(values) + 1, dtype=np.int64)
        self.tox_sorted = pl.concat([pl.Series([None], dtype=pl.Float64), pl.Series(in_order, dtype=pl.Float64)])
        self.rows = self.rows.select("_t", "_src", "_art", "_auth", "_tox",
                                     *[f"_pack{i}" for i in range(len(self.packs))],
                                     *(["_toxic"] if self.nullable["_toxic"] else []), _rank=pl.Series(rank))


def _codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Distinct non-null values (first-appearance order) and each row's Int64 index into them."""
    import numpy as np
    import polars as pl

    if isinstance(values.dtype, (pl.Categorical, pl.Enum)):
        # Already hashed once: only the (small) distinct physical codes need renumbering densely.
        distinct = values.unique(maintain_order=True).drop_nulls()
        physical = distinct.to_physical().to_numpy()
        lookup = np.zeros(int(physical.max()) + 1 if len(physical) else 1, dtype=np.int64)
        lookup[physical] = np.arange(len(physical), dtype=np.int64)
        return distinct.cast(pl.Utf8), pl.Series(lookup).gather(values.to_physical())
    values = values.cast(pl.Utf8)
    names = values.unique(maintain_order=True).drop_nulls()
    return names, values.cast(pl.Enum(names)).to_physical().cast(pl.Int64)


def _term_rows(frame: pl.DataFrame, rows: pl.DataFrame,
               first_seen: Mapping[str, datetime] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per slur occurrence, and one per coined occurrence with the term's first sighting (_first)."""
    import polars as pl

    # First sighting of each coined term: the earlier of the whole frame and what was known before.
    coin_first = (frame.lazy().select("ts", term=pl.col("coined_terms")).explode("term").drop_nulls("term")
                  .group_by("term").agg(first=pl.col("ts").min()))
    if first_seen:
        known = pl.LazyFrame({"term": list(first_seen), "first": list(first_seen.values())},
                             schema={"term": pl.Utf8, "first": pl.Datetime("us", "UTC")})
        coin_first = pl.concat([coin_first, known]).group_by("term").agg(pl.col("first").min())
    coin_first = coin_first.select("term", _first=pl.col("first").dt.epoch("s"))
    with_slurs = (frame.lazy().with_columns(_t=rows["_t"], _src=rows["_src"], _art=rows["_art"])
                  .filter(rows["_slurs"] > 0))
    slur_rows, coined = pl.collect_all([
        with_slurs.select("_t", "_src", "_art", term=pl.concat_list("lexicon_terms", "coined_terms"))
        .explode("term"),
        with_slurs.select("_t", "_src", "_art", term="coined_terms").explode("term").join(coin_first, on="term")])
    return slur_rows, coined


def _partials(enc: _Encoded, sizes: Sequence[int], top_authors: int
              ) -> tuple[dict[tuple[int, str], _Level], dict[tuple[int, str], pl.DataFrame],
                         dict[tuple[int, str], pl.DataFrame]]:
    """Every level, its additive sums and its author statistics, all keyed by group number _k."""
    import polars as pl

    rows, art_src = enc.rows, enc.art_src
    n_auth = len(enc.names["author"])
    levels: dict[tuple[int, str], _Level] = {}
    sums: dict[tuple[int, str], pl.DataFrame] = {}
    authors: dict[tuple[int, str], pl.DataFrame] = {}
    tallies: dict[int, pl.DataFrame] = {}  # (article, author) comment counts per window length
    t_lo, t_hi = int(rows["_t"].min()), int(rows["_t"].max())  # type: ignore[arg-type]
    for size in sorted(sizes):
        w_lo, w_hi = t_lo // size, t_hi // size
        for scope, code, n_code in (("article", "_art", len(enc.names["article"])),
                                    ("source", "_src", len(enc.names["source"])), ("overall", None, 1)):
            levels[size, scope] = _Level(size, scope, w_lo, w_hi - w_lo + 1, n_code, code)
        article = levels[size, "article"]
        # Counts, sums and author tallies add up: a longer window that is a multiple of a shorter one
        # is summed from the shorter one's article partials instead of from the rows again.
        parent = max((d for d in tallies if size % d == 0), default=None)
        if parent is None:
            # The streaming engine groups a million keys about twice as fast as the in-memory one.
            sums[size, "article"] = (rows.lazy().group_by(article.row_key().alias("_k")).agg(*enc.sums_from_rows())
                                     .collect(engine="streaming"))
            authored = rows.lazy().filter(pl.col("_auth").is_not_null()).select(article.row_key(), "_auth").collect()
            tally = _tally(authored[:, 0], authored["_auth"], None, article.span, n_auth)
        else:
            finer = levels[parent, "article"]
            sums[size, "article"] = _rollup(sums[parent, "article"], finer, article, art_src, enc.sum_columns())
            table = tallies[parent]
            tally = _tally(table.select(_rekey(finer, article, art_src))[:, 0], table["_a"], table["_n"],
                           article.span, n_auth)
        tallies[size] = tally
        authors[size, "article"] = _top_counts(tally, article.span, top_authors)
        for finer_scope, scope in (("article", "source"), ("source", "overall")):
            finer, coarser = levels[size, finer_scope], levels[size, scope]
            sums[size, scope] = _rollup(sums[size, finer_scope], finer, coarser, art_src, enc.sum_columns())
            tally = _tally(tally.select(_rekey(finer, coarser, art_src))[:, 0], tally["_a"], tally["_n"],
                           coarser.span, n_auth)
            authors[size, scope] = _top_counts(tally, coarser.span, top_authors)
    return levels, sums, authors


def _metrics(enc: _Encoded, level: _Level, joined: pl.LazyFrame) -> pl.DataFrame:
    """The output rows of one level from its sums, 90th percentiles, author and slur statistics."""
    import polars as pl

    size, n = level.size, pl.col("_n")
    out = (joined.with_columns(*enc.unpacked(), _c=pl.col("_k") % level.n_code)
           .select(
               window_s=pl.lit(size, dtype=pl.Int64),
               window_start=pl.from_epoch((pl.col("_k") // level.n_code + level.w_lo) * size, time_unit="s")
               .dt.cast_time_unit("us").dt.replace_time_zone("UTC"),
               scope=pl.lit(level.scope), _c=pl.col("_c"),
               comment_count=n.cast(pl.Int64),
               distinct_authors=pl.col("_authors").fill_null(0).cast(pl.Int64),
               toxicity_mean=pl.when(pl.col("_tox_n") > 0).then(pl.col("_tox_sum") / pl.col("_tox_n")),
               toxicity_p90=pl.col("_p90"),
               toxic_share=pl.when(pl.col("_toxic_n") > 0).then(pl.col("_toxic").cast(pl.Float64) / pl.col("_toxic_n")),
               slur_count=(pl.col("_lex") + pl.col("_coin")).cast(pl.Int64),
               slur_lexicon_count=pl.col("_lex").cast(pl.Int64),
               slur_coined_count=pl.col("_coin").cast(pl.Int64),
               top_slurs=pl.col("top_slurs").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
               new_coinages=pl.col("new_coinages").fill_null(0),
               comments_per_hour=n / (size / 3600.0),
               top_author_share=pl.col("_top_n").fill_null(0) / n,
               **{f"stance_{t}_{label}": pl.col(f"_{label}_{t}") / n
                  for t in enc.targets for label in ("favor", "against")})
           .with_columns((1.0 - pl.col(f"stance_{t}_favor") - pl.col(f"stance_{t}_against"))
                         .alias(f"stance_{t}_none") for t in enc.targets)
           .collect())
    if level.scope == "overall":
        out = out.with_columns(scope_key=pl.lit(""), source=pl.lit(""))
    elif level.scope == "source":
        named = enc.names["source"].gather(out["_c"])
        out = out.with_columns(scope_key=named, source=named)
    else:
        out = out.with_columns(scope_key=enc.names["article"].gather(out["_c"]),
                               source=enc.names["source"].gather(enc.art_src.gather(out["_c"])))
    return out.select("window_s", "window_start", "scope", "scope_key", "source", *metric_names(enc.targets))


@dataclass
class _Level:
    """One (window length, scope): its groups are numbered (window - w_lo) * n_code + member code."""

    size: int
    scope: str
    w_lo: int
    n_windows: int
    n_code: int
    code: str | None

    @property
    def span(self) -> int:
        return self.n_windows * self.n_code

    def row_key(self) -> pl.Expr:
        """The group number of each row (columns _t, _art, _src)."""
        import polars as pl

        window = pl.col("_t") // self.size - self.w_lo
        return window * self.n_code + (pl.col(self.code) if self.code else 0)


def _rekey(finer: _Level, coarser: _Level, art_src: pl.Series) -> pl.Expr:
    """The coarser level's group number of each finer-level group (column _k)."""
    import polars as pl

    window = (pl.col("_k") // finer.n_code + finer.w_lo) * finer.size // coarser.size - coarser.w_lo
    code: Any = pl.col("_k") % finer.n_code
    if coarser.scope == "overall":
        code = 0
    elif coarser.scope == "source" and finer.scope == "article":
        code = pl.lit(art_src).gather(code)
    return (window * coarser.n_code + code).alias("_k")


def _rollup(table: pl.DataFrame, finer: _Level, coarser: _Level, art_src: pl.Series,
            sum_cols: Sequence[str]) -> pl.DataFrame:
    """Sum a finer level's partial sums (keyed _k) into a coarser level."""
    import polars as pl

    return (table.lazy().group_by(_rekey(finer, coarser, art_src)).agg(pl.col(c).sum() for c in sum_cols)
            .collect(engine="streaming"))


def _sorted(values: pl.Series) -> pl.Series:
    """An Int64 column sorted ascending (nulls first), flagged as sorted."""
    import numpy as np
    import polars as pl

    if values.null_count():
        return values.sort()
    # numpy's vectorised integer sort is two to three times faster here than polars' sort.
    return pl.Series(values.name, np.sort(values.to_numpy())).set_sorted()


def _runs(keys: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Distinct values, start offsets and lengths of the runs in a sorted key column."""
    import polars as pl

    runs = keys.rle().struct.unnest()
    length = runs["len"].cast(pl.Int64)
    return runs["value"], length.cum_sum() - length, length


def _tally(keys: pl.Series, authors: pl.Series, counts: pl.Series | None, span: int, n_auth: int) -> pl.DataFrame:
    """Comments per (key, author) as columns _k, _a, _n, sorted; `counts` weighs each input row (1 if None)."""
    import polars as pl

    most = 1 if counts is None else int(counts.max() or 0) + 1  # type: ignore[arg-type]
    if span * n_auth * most >= _KEY_LIMIT:
        pairs = pl.DataFrame({"_k": keys, "_a": authors, "_n": counts if counts is not None else 1})
        return pairs.group_by("_k", "_a").agg(pl.col("_n").sum().cast(pl.Int64)).sort("_k", "_a")
    # Sorting one packed Int64 (key, author, count) and reading its runs beats hashing two columns.
    packed = (keys * n_auth + authors) * most + (0 if counts is None else counts)
    packed = _sorted(packed)
    pair = packed // most
    value, start, length = _runs(pair)
    if counts is None:
        total = length
    else:
        cum = pl.concat([pl.Series([0], dtype=pl.Int64), (packed % most).cum_sum()])
        total = cum.gather(start + length) - cum.gather(start)
    return pl.DataFrame({"_k": value // n_auth, "_a": value % n_auth, "_n": total})


def _sort_pairs(keys: pl.Series, minor: pl.Series, span: int, n_minor: int) -> tuple[pl.Series, pl.Series]:
    """Sort by (keys, minor), both non-negative integers, returning both columns in that order."""
    import polars as pl

    if span * n_minor < _KEY_LIMIT:
        # One Int64 sort beats a two-column sort several times over.
        packed = _sorted(keys * n_minor + minor)
        return packed // n_minor, packed % n_minor
    both = pl.DataFrame({"k": keys, "m": minor}).sort("k", "m")
    return both["k"], both["m"]


def _p90(enc: _Encoded, level: _Level, main: pl.DataFrame) -> pl.Series:
    """Toxicity's 90th percentile for each group of `main` (sorted by _k), exactly as polars' 'linear' quantile."""
    import polars as pl

    rows, key = enc.rows, level.row_key()
    if rows.height >= 100 * main.height:
        # Few, large groups: polars' own per-group selection is linear, cheaper than sorting all rows.
        found = rows.group_by(key.alias("_k")).agg(_p90=pl.col("_tox").quantile(0.9, "linear"))
        return main.select("_k").join(found, on="_k", how="left", maintain_order="left")["_p90"]
    n_rank = rows.height + 1
    keys, rank = rows.select(key)[:, 0], rows["_rank"]
    if level.span * n_rank < _KEY_LIMIT:
        # One Int64 sort beats a two-column sort several times over; ranks are unpacked only where read.
        packed = _sorted(keys * n_rank + rank)
    else:
        packed = pl.DataFrame({"k": keys, "r": rank}).sort("k", "r")["r"]
    sizes = main["_n"]
    start = sizes.cum_sum() - sizes
    nulls: Any = sizes - main["_tox_n"] if enc.nullable["_tox"] else 0
    # polars: position (valid - 1) * q past the group's nulls (which sort first), interpolated linearly.
    pos = (sizes - nulls - 1).cast(pl.Float64) * 0.9 + nulls
    lo = pos.floor().cast(pl.Int64).clip(0)
    hi = pos.ceil().cast(pl.Int64).clip(0)
    found = pl.DataFrame({"pos": pos, "lo": lo, "valid": sizes - nulls,
                          "lower": enc.tox_sorted.gather(packed.gather(start + lo) % n_rank),
                          "upper": enc.tox_sorted.gather(packed.gather(start + hi) % n_rank)})
    lower, upper = pl.col("lower"), pl.col("upper")
    return found.select(pl.when(pl.col("valid") == 0).then(None).when(lower == upper).then(lower)
                        .otherwise((pl.col("pos") - pl.col("lo")) * (upper - lower) + lower))[:, 0]


def _top_counts(pairs: pl.DataFrame, span: int, top: int) -> pl.DataFrame:
    """Distinct authors per key and the comments of its `top` most active authors."""
    import polars as pl

    if pairs.height == 0:
        return pl.DataFrame(schema={"_k": pl.Int64, "_authors": pl.Int64, "_top_n": pl.Int64})
    most = int(pairs["_n"].max()) + 1  # type: ignore[arg-type]
    # Sorted by key, then count descending: each run's head holds its most active authors.
    keys, inverted = _sort_pairs(pairs["_k"], most - 1 - pairs["_n"].cast(pl.Int64), span, most)
    counts = most - 1 - inverted
    value, start, length = _runs(keys)
    cum = pl.concat([pl.Series([0], dtype=pl.Int64), counts.cum_sum()])
    return pl.DataFrame({"_k": value, "_authors": length,
                         "_top_n": cum.gather(start + length.clip(upper_bound=top)) - cum.gather(start)})


def _result_schema(targets: Sequence[str]) -> dict[str, Any]:
    import polars as pl

    schema: dict[str, Any] = {"window_s": pl.Int64, "window_start": pl.Datetime("us", "UTC"), "scope": pl.Utf8,
                              "scope_key": pl.Utf8, "source": pl.Utf8}
    for name in metric_names(targets):
        schema[name] = (pl.List(pl.Utf8) if name == "top_slurs" else pl.Float64
                        if name.startswith(("toxicity", "toxic_share", "stance", "comments_per", "top_author"))
                        else pl.Int64)
    return schema


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
    import polars as pl
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
    if result.height == 0:
        return 0
    # polars builds the row dicts (metrics as a nested struct) far faster than a Python loop over rows.
    rows = result.select(*keys, "comment_count", pl.lit(now).alias("computed_at"),
                         metrics=pl.struct(c for c in result.columns if c not in keys)).to_dicts()
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
    Article keys are unique across sources; source, article and author are Categorical."""
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
    # Categorical keys: `compute` reads their codes instead of hashing millions of strings again.
    return frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC") if frame.schema["ts"].time_zone is None
                              else pl.col("ts"), pl.col("source", "article", "author").cast(pl.Categorical))
