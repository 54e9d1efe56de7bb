"""The aggregation engine: windowed metrics from a scored-comments frame (numpy inside, polars at the edges)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from monitor.aggregate.metrics import Groups, count_exprs, metric_columns, polars_type

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from monitor.aggregate import groups, terms

__all__ = ["compute", "select_windows", "touched_windows"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


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

    Counts, sums, percentiles and author tallies come from `monitor.aggregate.groups`, top slurs and
    new coinages from `monitor.aggregate.terms` (both numpy); polars holds the frames in and out.
    """
    import numpy as np
    import polars as pl

    from monitor.aggregate import groups, terms

    sizes = list(dict.fromkeys(int(w.total_seconds()) for w in windows))
    if not sizes:
        return pl.DataFrame()
    rows = groups.encode(frame, count_exprs(frame, targets))
    found = terms.collect(frame, rows, first_seen)
    wanted = {size: _indexes(only, size) for size in sizes} if only is not None else None
    if wanted is not None:
        seconds = rows.ts // 1_000_000
        keep = np.zeros(rows.n, dtype=bool)
        for size in sizes:
            keep |= np.isin(seconds // size, wanted[size])
        rows = rows.take(keep)
    if rows.n == 0:
        return pl.DataFrame(schema=_result_schema(targets))
    computed = groups.levels(rows, sizes, top_authors, _finisher(targets))
    parts = []
    for size in sizes:
        for scope in ("overall", "source", "article"):
            level = computed[size, scope]
            if wanted is not None:
                level.restrict(np.isin(level.windows(), wanted[size]))
            parts.append(_level_frame(level, rows, targets, found, top_slurs))
    return pl.concat(parts, how="vertical_relaxed")


def _finisher(targets: Sequence[str]) -> groups.Finish:
    """The metrics of stage "sums" of a level, from what the engine added up for its groups."""
    import numpy as np

    def finish(level: groups.Level) -> dict[str, np.ndarray]:
        view = Groups(level.size, level.sums, p90=level.p90, authors=level.authors, top_n=level.top_n)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {name: np.asarray(metric.finish(view, target))
                    for name, metric, target in metric_columns(targets, "sums")}

    return finish


def _indexes(only: Mapping[int, set[datetime]], size: int) -> np.ndarray:
    """The touched windows of one length as window numbers (seconds since the epoch // length)."""
    import numpy as np

    return np.array([int((start - _EPOCH).total_seconds()) // size for start in only.get(size, ())],
                    dtype=np.int64)


def _level_frame(level: groups.Level, rows: groups.Rows, targets: Sequence[str], found: terms.Terms,
                 top_slurs: int) -> pl.DataFrame:
    """The output rows of one level."""
    import polars as pl

    size, n_groups = level.size, len(level.keys)
    codes = level.codes()
    if level.scope == "overall":
        scope_key = source = pl.repeat("", n_groups, eager=True)
    elif level.scope == "source":
        scope_key = source = rows.names["source"].gather(codes)
    else:
        scope_key = rows.names["article"].gather(codes)
        source = rows.names["source"].gather(rows.art_src[codes])
    extra = pl.DataFrame([
        pl.repeat(size, n_groups, dtype=pl.Int64, eager=True).alias("window_s"),
        pl.Series("window_start", level.windows() * (size * 1_000_000)).cast(pl.Datetime("us", "UTC")),
        pl.repeat(level.scope, n_groups, eager=True).alias("scope"),
        scope_key.alias("scope_key"),
        source.alias("source"),
    ])
    # Metrics of the "terms" stage (top slurs, new coinages) are finished here, on the whole level.
    groups = Groups(size, {}, level=level, terms=found, top_slurs=top_slurs)
    for name, metric, target in metric_columns(targets, "terms"):
        value = metric.finish(groups, target)
        extra = extra.with_columns(value.alias(name) if isinstance(value, pl.Series) else pl.Series(name, value))
    assert level.metrics is not None
    schema = _result_schema(targets)
    return extra.hstack(level.metrics).select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def _result_schema(targets: Sequence[str]) -> dict[str, Any]:
    import polars as pl

    schema: dict[str, Any] = {"window_s": pl.Int64, "window_start": pl.Datetime("us", "UTC"), "scope": pl.Utf8,
                              "scope_key": pl.Utf8, "source": pl.Utf8}
    for name, metric, _ in metric_columns(targets):
        schema[name] = polars_type(metric.kind)
    return schema
