"""Per-group counts, sums, 90th percentiles and author tallies of the windowed metrics (numpy).

A *level* is one window length and one scope (article, source or overall). Its groups are numbered

    key = (window - w_lo) * n_code + code

(window = seconds since the epoch // length, code = the article or source number, 0 overall), so
that keys sort by window, then by member, and pack into one Int64 beside a second number.

No window crosses a multiple of the least common multiple of the window lengths (a day, for hours
and days), so the rows are cut there into pieces of a few hundred thousand comments, computed one
by one on two threads: the arrays of one piece stay in the CPU caches, and memory freed by one
piece is reused by the next, where whole-frame arrays would each be mapped and faulted in afresh.

Within a piece, counts, sums and (group, author) tallies add up: a level is summed from a finer
one where one divides it (article → source → overall, an hour → a day), and only the finest level
of each window length that no shorter one divides is read from the rows. The 90th percentile does
not add up: each level reads it from one sort of the rows by (key, toxicity rank). Integer sorts of
packed keys are used throughout: numpy sorts an Int64 array far faster than it sorts rows by two
columns, or than a hash table groups them.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    import polars as pl

__all__ = ["KEY_LIMIT", "Level", "Rows", "codes_of", "encode", "levels", "runs"]

KEY_LIMIT = 2 ** 62  # packed Int64 keys stay below this
PIECE_ROWS = 2 ** 18  # pieces are cut at the first window boundary after this many rows
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Rows:
    """The scored comments as compact arrays, one entry per comment."""

    ts: np.ndarray  # microseconds since the epoch
    art: np.ndarray  # article number
    auth: np.ndarray  # author number, -1 for none
    tox: np.ndarray  # toxicity, NaN for none
    counts: dict[str, np.ndarray]  # small per-comment counts that groups add up (see `encode`)
    art_src: np.ndarray  # the source number of each article
    names: dict[str, pl.Series] = field(default_factory=dict)  # article, source, author by number

    @property
    def n(self) -> int:
        return len(self.ts)

    @property
    def n_art(self) -> int:
        return len(self.art_src)

    @property
    def n_src(self) -> int:
        return len(self.names["source"])

    @property
    def n_auth(self) -> int:
        return len(self.names["author"])

    def take(self, which: np.ndarray | slice) -> Rows:
        """The rows that `which` (a mask, indexes or a slice) selects."""
        return Rows(self.ts[which], self.art[which], self.auth[which], self.tox[which],
                    {name: values[which] for name, values in self.counts.items()}, self.art_src, self.names)


def encode(frame: pl.DataFrame, counts: Mapping[str, pl.Expr]) -> Rows:
    """A scored-comments frame (see `monitor.aggregate.FRAME_COLUMNS`) as `Rows`.

    counts: lex and coin (slur occurrences), tox_n (non-null toxicity) where toxicity has gaps, and
    `counts`, the per-comment counts the metrics add up (`monitor.aggregate.metrics`)."""
    import polars as pl

    names: dict[str, pl.Series] = {}
    codes: dict[str, np.ndarray] = {}
    for col in ("source", "article", "author"):
        names[col], codes[col] = codes_of(frame[col])
        if col != "author" and (codes[col] < 0).any():
            # Every comment belongs to an article and a source; a missing one is named "".
            codes[col] = np.where(codes[col] < 0, len(names[col]), codes[col]).astype(np.int32)
            names[col] = names[col].append(pl.Series([""]))
    # Each article belongs to one source (articles.source_id): its first row says which, and all its
    # rows count for that source, so that article sums add up to exactly the source's figures.
    # Article numbers follow first appearance, so the first rows come in article order.
    first = pl.Series(codes["article"]).is_first_distinct().to_numpy()
    art_src = codes["source"][first].astype(np.int64)
    exprs = {"lex": pl.col("lexicon_terms").list.len(), "coin": pl.col("coined_terms").list.len(),
             **counts}
    # Where toxicity has gaps, its non-null count is summed too; elsewhere it is the group size.
    if frame["toxicity"].null_count():
        exprs["tox_n"] = pl.col("toxicity").is_not_null().cast(pl.UInt8)
    counted = frame.select(**exprs)
    tox = frame["toxicity"].cast(pl.Float64)
    ts = frame["ts"]
    if ts.dtype != pl.Datetime("us", ts.dtype.time_zone):  # type: ignore[union-attr]
        ts = ts.dt.cast_time_unit("us")
    return Rows(
        ts=ts.to_physical().to_numpy(),
        art=codes["article"],
        auth=codes["author"],
        tox=(tox.fill_null(float("nan")) if tox.null_count() else tox).to_numpy(),
        counts={name: counted[name].to_numpy() for name in counted.columns},
        art_src=art_src,
        names=names,
    )


def codes_of(values: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """Distinct non-null values (first-appearance order) and each row's Int32 index into them (-1: null)."""
    import polars as pl

    if isinstance(values.dtype, (pl.Categorical, pl.Enum)):
        # Already hashed once: only the (small) distinct physical codes need renumbering densely.
        distinct = values.unique(maintain_order=True).drop_nulls()
        physical = distinct.to_physical().to_numpy().astype(np.int64)
        lookup = np.full(int(physical.max()) + 2 if len(physical) else 1, -1, dtype=np.int32)
        lookup[physical] = np.arange(len(physical), dtype=np.int32)
        physical_rows = values.to_physical()
        if physical_rows.null_count():
            physical_rows = physical_rows.cast(pl.Int64).fill_null(len(lookup) - 1)
        return distinct.cast(pl.Utf8), lookup[physical_rows.to_numpy()]
    values = values.cast(pl.Utf8)
    distinct = values.unique(maintain_order=True).drop_nulls()
    return distinct, values.cast(pl.Enum(distinct)).to_physical().cast(pl.Int32).fill_null(-1).to_numpy()


@dataclass
class Level:
    """One window length and scope: its groups (sorted keys) and their statistics."""

    size: int
    scope: str
    w_lo: int
    n_windows: int
    n_code: int
    keys: np.ndarray = field(default_factory=lambda: _EMPTY)
    metrics: pl.DataFrame | None = None  # one row per group (see `monitor.aggregate`)
    # While a piece is computed: sums (n, tox_sum and the counts), percentiles, author statistics,
    # and comments per (group, author) sorted by key, then author (what coarser levels add up).
    sums: dict[str, np.ndarray] = field(default_factory=dict)
    p90: np.ndarray = field(default_factory=lambda: np.zeros(0))
    authors: np.ndarray = field(default_factory=lambda: _EMPTY)
    top_n: np.ndarray = field(default_factory=lambda: _EMPTY)
    pair_k: np.ndarray = field(default_factory=lambda: _EMPTY)
    pair_a: np.ndarray = field(default_factory=lambda: _EMPTY)
    pair_n: np.ndarray = field(default_factory=lambda: _EMPTY)

    @property
    def span(self) -> int:
        return self.n_windows * self.n_code

    def windows(self) -> np.ndarray:
        """The window number (seconds since the epoch // size) of each group."""
        return self.keys // self.n_code + self.w_lo

    def codes(self) -> np.ndarray:
        return self.keys % self.n_code

    def restrict(self, keep: np.ndarray) -> None:
        """Keep only the groups where `keep` is true."""
        import polars as pl

        self.keys = self.keys[keep]
        if self.metrics is not None:
            self.metrics = self.metrics.filter(pl.Series(keep))


# The metrics of a level from its sums, percentiles and author statistics, by name.
Finish = Callable[["Level"], Mapping[str, np.ndarray]]


def levels(rows: Rows, sizes: Sequence[int], top_authors: int, finish: Finish) -> dict[tuple[int, str], Level]:
    """Every (window length, scope) level of `rows` (at least one row), with its metrics."""
    sizes = sorted(set(sizes))
    period = math.lcm(*sizes) * 1_000_000
    ts = rows.ts
    order: np.ndarray | None = None
    if rows.n > 1 and not bool(np.all(ts[1:] >= ts[:-1])):
        # Not in time order (the database's order): group by period first (a stable radix sort);
        # each piece gathers its own rows, on its own thread.
        bucket = ts // period
        bucket -= bucket.min()
        order = np.argsort(bucket.astype(np.uint16) if bucket.max() < 2 ** 16 else bucket, kind="stable")
        bucket = bucket[order]
        cuts = np.searchsorted(bucket, bucket[PIECE_ROWS::PIECE_ROWS] + 1)
    else:
        cuts = np.searchsorted(ts, (ts[PIECE_ROWS::PIECE_ROWS] // period + 1) * period)
    # Each piece ends at the first period boundary after PIECE_ROWS rows.
    bounds = [0, *sorted({int(c) for c in cuts if 0 < c < rows.n}), rows.n]

    def compute(span: tuple[int, int]) -> dict[tuple[int, str], Level]:
        piece = rows.take(slice(*span) if order is None else order[span[0]:span[1]])
        return _piece_levels(piece, sizes, top_authors, finish)

    spans = list(zip(bounds, bounds[1:]))
    if len(spans) == 1:  # an incremental tick: no threads to start
        parts = [compute(spans[0])]
    else:
        with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
            parts = list(pool.map(compute, spans))
    t_lo, t_hi = int(rows.ts.min()) // 1_000_000, int(rows.ts.max()) // 1_000_000
    return {key: _joined([part[key] for part in parts], t_lo, t_hi) for key in parts[0]}


def _joined(parts: list[Level], t_lo: int, t_hi: int) -> Level:
    """One level from its pieces' levels (in time order), keyed from the earliest window on."""
    import polars as pl

    first = parts[0]
    size, n_code = first.size, first.n_code
    w_lo = t_lo // size
    # A piece's keys count windows from its own first window: shift them to count from w_lo.
    keys = np.concatenate([part.keys + (part.w_lo - w_lo) * n_code for part in parts])
    # The pieces' metric arrays become the chunks of one frame as they are: nothing is copied.
    metrics = pl.concat([part.metrics for part in parts], rechunk=False)
    return Level(size, first.scope, w_lo, t_hi // size - w_lo + 1, n_code, keys=keys, metrics=metrics)


@dataclass
class _Piece:
    """One piece's rows, ready for grouping."""

    t: np.ndarray  # seconds since the epoch
    art: np.ndarray
    src: np.ndarray
    auth: np.ndarray
    counts: dict[str, np.ndarray]
    art_src: np.ndarray
    n_art: int
    n_src: int
    n_auth: int

    def packed(self, most: int) -> tuple[list[np.ndarray], list[list[str]], int]:
        """The counts packed as many to an Int64 as a group's totals allow, when no comment has more
        than `most` of them in its group: fewer columns to reorder and add up. Returns the packs,
        the names in each and the bits per count."""
        names = list(self.counts)
        bits = max(1, (most * max((int(values.max()) for values in self.counts.values()), default=1)).bit_length())
        per_pack = max(1, 63 // bits)
        groups = [names[i:i + per_pack] for i in range(0, len(names), per_pack)]
        packs = []
        for group in groups:
            pack = self.counts[group[0]].astype(np.int64)
            for j, name in enumerate(group[1:], start=1):
                pack += self.counts[name].astype(np.int64) << (bits * j)
            packs.append(pack)
        return packs, groups, bits


def _prepare(rows: Rows) -> _Piece:
    art = rows.art.astype(np.int64)
    return _Piece(rows.ts // 1_000_000, art, rows.art_src[art], rows.auth, rows.counts,
                  rows.art_src, rows.n_art, rows.n_src, rows.n_auth)


def _piece_levels(rows: Rows, sizes: Sequence[int], top_authors: int, finish: Finish
                  ) -> dict[tuple[int, str], Level]:
    """The levels of rows that no window of any of `sizes` reaches beyond."""
    piece = _prepare(rows)
    ranked = _rank(rows.tox)
    t_lo, t_hi = int(piece.t.min()), int(piece.t.max())
    result: dict[tuple[int, str], Level] = {}
    for size in sizes:
        w_lo = t_lo // size
        n_windows = t_hi // size - w_lo + 1
        window = piece.t // size
        window -= w_lo
        article, source, overall = (Level(size, scope, w_lo, n_windows, n_code) for scope, n_code in
                                    (("article", piece.n_art), ("source", piece.n_src), ("overall", 1)))
        # The longest shorter window that divides this one, if any, is added up instead of the rows.
        parent = max((result[d, "article"] for d, scope in result if scope == "article" and size % d == 0),
                     key=lambda level: level.size, default=None)
        if parent is None:
            _from_rows(article, piece, ranked, window * piece.n_art + piece.art)
        else:
            _roll_up(parent, article, piece)
            _percentile(article, window * piece.n_art + piece.art, ranked)
        _roll_up(article, source, piece)
        _percentile(source, window * piece.n_src + piece.src, ranked)
        _roll_up(source, overall, piece)
        _percentile(overall, window, ranked)
        for level in (article, source, overall):
            _author_stats(level, top_authors)
        result.update({(size, "article"): article, (size, "source"): source, (size, "overall"): overall})
    for level in result.values():
        _finish(level, finish)
    return result


def _finish(level: Level, finish: Finish) -> None:
    """The level's metrics from its sums; the working columns are let go."""
    metrics = dict(finish(level))
    level.metrics = _frame(metrics)
    level.sums = {}
    level.p90 = level.authors = level.top_n = level.pair_k = level.pair_a = level.pair_n = _EMPTY


def _frame(columns: dict[str, np.ndarray]) -> pl.DataFrame:
    """The arrays as a polars frame without copying them; NaN becomes null."""
    import polars as pl

    series = []
    for name, values in columns.items():
        missing = np.isnan(values) if values.dtype.kind == "f" else None
        if missing is not None and missing.any():
            import pyarrow as pa

            series.append(pl.Series(name, pl.from_arrow(pa.array(values, mask=missing))))
        else:
            series.append(pl.Series(name, values))
    return pl.DataFrame(series)


@dataclass
class _Ranked:
    """Toxicity order: rows with no toxicity first (ranks 0 … n_null-1), then by value."""

    rank: np.ndarray  # each row's rank
    row: np.ndarray  # the row of each rank
    value: np.ndarray  # the toxicity of each rank (NaN for none)
    n_null: int


def _rank(tox: np.ndarray) -> _Ranked:
    missing = np.isnan(tox)
    n_null = int(missing.sum())
    if n_null:
        valid = np.flatnonzero(~missing)
        row = np.concatenate([np.flatnonzero(missing), valid[np.argsort(tox[valid])]])
    else:
        row = np.argsort(tox)
    rank = np.empty_like(row)
    rank[row] = np.arange(len(row), dtype=np.int64)
    return _Ranked(rank, row, tox[row], n_null)


def _sorted_by_rank(key: np.ndarray, ranked: _Ranked, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys and ranks of the rows sorted by (key, rank); `key` (a fresh array) is consumed."""
    n = len(key)
    if span * n < KEY_LIMIT:
        # One Int64 sort of key * n + rank beats a two-column sort several times over.
        packed = key
        packed *= n
        packed += ranked.rank
        packed.sort()
        keys = packed // n
        packed -= keys * n
        return keys, packed
    order = np.lexsort((ranked.rank, key))
    return key[order], ranked.rank[order]


def runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and lengths of the runs of equal values in a sorted array."""
    if len(sorted_keys) == 0:
        return _EMPTY, _EMPTY
    starts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1])
    starts += 1
    starts = np.concatenate([np.zeros(1, dtype=np.int64), starts])
    lengths = np.diff(starts, append=len(sorted_keys))
    return starts, lengths


def _percentile(level: Level, key: np.ndarray, ranked: _Ranked) -> None:
    """Sort the rows by this level's key (`key`, consumed) and read each group's 90th percentile;
    the level's groups and sums (n, and tox_n where toxicity has gaps) are known already."""
    keys, ranks = _sorted_by_rank(key, ranked, level.span)
    lengths = level.sums["n"]
    starts = np.cumsum(lengths) - lengths
    # The sums (added up) and the percentiles (sorted from the rows) must describe the same groups.
    if len(keys) != int(lengths.sum()) or not np.array_equal(keys[starts], level.keys):
        raise AssertionError(f"aggregate: groups disagree at {level.size} s / {level.scope}")
    level.p90 = _p90(starts, lengths, _nulls(level.sums), ranks, ranked)


def _nulls(sums: dict[str, np.ndarray]) -> np.ndarray:
    """Comments without toxicity per group (tox_n is only summed where toxicity has gaps)."""
    return sums["n"] - sums["tox_n"] if "tox_n" in sums else np.zeros_like(sums["n"])


def _p90(starts: np.ndarray, lengths: np.ndarray, nulls: np.ndarray, ranks: np.ndarray,
         ranked: _Ranked) -> np.ndarray:
    """Each group's 90th percentile, exactly as polars' 'linear' quantile: position (valid - 1) * 0.9
    past the group's nulls (which sort first), interpolated between the values either side."""
    valid = lengths - nulls
    pos = (valid - 1).astype(np.float64) * 0.9 + nulls
    last = lengths - 1
    lo = np.minimum(np.floor(pos).astype(np.int64).clip(0), last)
    hi = np.minimum(np.ceil(pos).astype(np.int64).clip(0), last)
    lower = ranked.value[ranks[starts + lo]]
    upper = ranked.value[ranks[starts + hi]]
    with np.errstate(invalid="ignore"):
        p90 = np.where(lower == upper, lower, (pos - lo) * (upper - lower) + lower)
    p90[valid == 0] = np.nan
    return p90


def _from_rows(level: Level, piece: _Piece, ranked: _Ranked, key: np.ndarray) -> None:
    """Sums, percentiles and author tallies of a level read straight from the rows."""
    keys, ranks = _sorted_by_rank(key, ranked, level.span)
    starts, lengths = runs(keys)
    level.keys = keys[starts]
    row = ranked.row[ranks]  # the rows in (key, toxicity) order
    tox = ranked.value[ranks]
    if ranked.n_null:
        tox = np.nan_to_num(tox, nan=0.0)
    sums = {"n": lengths, "tox_sum": np.add.reduceat(tox, starts)}
    packs, pack_names, bits = piece.packed(int(lengths.max()))
    for names, pack in zip(pack_names, packs):
        total = np.add.reduceat(pack[row], starts)
        for j, name in enumerate(names):
            sums[name] = (total >> (j * bits)) & ((1 << bits) - 1)
    level.sums = sums
    level.p90 = _p90(starts, lengths, _nulls(sums), ranks, ranked)
    group = np.repeat(np.arange(len(starts), dtype=np.int64), lengths)
    author = piece.auth[row]
    if (author < 0).any():
        authored = author >= 0
        group, author = group[authored], author[authored]
    pair = group * piece.n_auth + author
    pair.sort()
    first, count = runs(pair)
    pair = pair[first]
    level.pair_k = level.keys[pair // piece.n_auth]
    level.pair_a = pair % piece.n_auth
    level.pair_n = count


def _rekey(keys: np.ndarray, fine: Level, coarse: Level, art_src: np.ndarray) -> np.ndarray:
    """The coarse level's key of each fine-level key."""
    window = keys // fine.n_code
    code = keys - window * fine.n_code
    if fine.size != coarse.size:
        window = (window + fine.w_lo) * fine.size // coarse.size - coarse.w_lo
    if coarse.scope == "overall":
        return window
    if coarse.scope == "source" and fine.scope == "article":
        code = art_src[code]
    return window * coarse.n_code + code


def _roll_up(fine: Level, coarse: Level, piece: _Piece) -> None:
    """Add a finer level's sums and author tallies up into a coarser level."""
    target = _rekey(fine.keys, fine, coarse, piece.art_src)
    if coarse.span <= max(4 * len(target), 2 ** 16):
        index, n_out, keys = target, coarse.span, None
    else:
        keys, index = np.unique(target, return_inverse=True)
        n_out = len(keys)
    sums = {}
    for name, values in fine.sums.items():
        # bincount adds in float64: exact for counts (below 2 ** 53), and a sum for toxicity.
        total = np.bincount(index, weights=values, minlength=n_out)
        sums[name] = total if values.dtype.kind == "f" else np.rint(total).astype(np.int64)
    if keys is None:
        keys = np.flatnonzero(sums["n"])
        sums = {name: values[keys] for name, values in sums.items()}
    coarse.keys, coarse.sums = keys.astype(np.int64, copy=False), sums
    coarse.pair_k, coarse.pair_a, coarse.pair_n = _add_pairs(
        _rekey(fine.pair_k, fine, coarse, piece.art_src), fine.pair_a, fine.pair_n, coarse.span, piece.n_auth)


def _add_pairs(keys: np.ndarray, authors: np.ndarray, counts: np.ndarray, span: int, n_auth: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum `counts` per distinct (key, author), sorted by key, then author."""
    if len(keys) == 0:
        return _EMPTY, _EMPTY, _EMPTY
    most = int(counts.max()) + 1
    if span * n_auth * most < KEY_LIMIT:
        # (key, author, count) in one Int64: one sort orders the pairs and carries their counts.
        packed = keys * n_auth
        packed += authors
        packed *= most
        packed += counts
        packed.sort()
        pair = packed // most
        counts = packed - pair * most
        first, _ = runs(pair)
        pair = pair[first]
        return pair // n_auth, pair % n_auth, np.add.reduceat(counts, first)
    order = np.lexsort((authors, keys))
    keys, authors, counts = keys[order], authors[order], counts[order]
    first = np.flatnonzero(np.concatenate([[True], (keys[1:] != keys[:-1]) | (authors[1:] != authors[:-1])]))
    return keys[first], authors[first], np.add.reduceat(counts, first)


def _author_stats(level: Level, top: int) -> None:
    """Distinct authors per group and the comments of its `top` most active authors."""
    n_groups = len(level.keys)
    if len(level.pair_k) == 0:
        level.authors = level.top_n = np.zeros(n_groups, dtype=np.int64)
        return
    starts, distinct = runs(level.pair_k)
    tops = np.add.reduceat(level.pair_n, starts)  # all authored comments: the answer for small groups
    big = distinct > top
    if big.any():
        # Groups with more than `top` authors: sort their counts descending within the group and add
        # up the first `top` of each.
        sizes = distinct[big]
        counts = level.pair_n[np.repeat(big, distinct)]
        most = int(counts.max()) + 1
        order = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        order *= most
        order += most - 1 - counts
        order.sort()
        ranked = most - 1 - order % most
        cum = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(ranked)])
        first = np.cumsum(sizes) - sizes
        tops[big] = cum[first + top] - cum[first]
    if len(starts) == n_groups:  # every group has an author: the common case
        level.authors, level.top_n = distinct, tops
        return
    where = np.searchsorted(level.keys, level.pair_k[starts])
    level.authors = np.zeros(n_groups, dtype=np.int64)
    level.top_n = np.zeros(n_groups, dtype=np.int64)
    level.authors[where] = distinct
    level.top_n[where] = tops
