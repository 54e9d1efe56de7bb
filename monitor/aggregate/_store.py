"""The database side of aggregation: read scored comments, replace touched windows, keep the watermark."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from monitor.aggregate._compute import _intervals, compute, touched_windows
from monitor.aggregate._frame import _schema, empty_frame
from monitor.aggregate.metrics import frame_inputs, polars_type

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

    from monitor.config import Config

__all__ = ["AggregateStats", "STATE_COINAGES", "STATE_WATERMARK", "load_frame", "run"]

STATE_WATERMARK = "aggregate.watermark"
WATERMARK_OVERLAP = timedelta(minutes=15)
STATE_COINAGES = "aggregate.coinages"

# How SQLAlchemy stores a UTC timestamp on SQLite ("2026-03-01 12:00:00.000000"), in polars'
# format for writing it and for reading it back.
_SQLITE_STAMP_OUT = "%Y-%m-%d %H:%M:%S.%6f"
_SQLITE_STAMP_IN = "%Y-%m-%d %H:%M:%S%.f"


@dataclass
class AggregateStats:
    """What one aggregation run did."""

    comments_read: int = 0
    windows_recomputed: int = 0
    rows_written: int = 0
    full: bool = False
    elapsed_s: float = 0.0


def _comment_time() -> Any:
    from sqlalchemy import func

    from monitor.store.schema import comments

    return func.coalesce(comments.c.published_at, comments.c.first_seen_at)


def load_frame(conn: Connection, targets: Sequence[str],
               spans: Sequence[tuple[datetime, datetime]] | None = None) -> pl.DataFrame:
    """Scored comments (latest score each) whose time falls in `spans` (all when None).

    Only the columns aggregation needs are read, in batches; the JSON columns come as text and
    polars decodes them, which is several times faster than building Python objects per row."""
    import polars as pl
    from sqlalchemy import String, Text, and_, cast, exists, func, or_, select, type_coerce

    from monitor.store.schema import comments, scores, sources

    if spans is not None and not spans:
        return empty_frame(targets)
    inputs = frame_inputs()  # the columns metrics read beyond the built-in ones
    # The latest score of each comment: the one no other score of it is newer than (an anti-join on
    # the (comment_id, …) index; faster than numbering every comment's scores).
    newer = scores.alias("newer")
    is_latest = ~exists().where(newer.c.comment_id == scores.c.comment_id, or_(
        newer.c.scored_at > scores.c.scored_at,
        and_(newer.c.scored_at == scores.c.scored_at, newer.c.id > scores.c.id)))
    ts = _comment_time()
    # Time as the driver gives it (SQLite: text in SQLAlchemy's format, parsed below by polars; PostgreSQL:
    # aware datetimes): no per-row conversion in Python.
    # Stance labels are read by the database's JSON functions; slur lists, empty for most comments,
    # come as text for polars to decode, and as NULL when empty.
    query = (select(comments.c.id, type_coerce(ts, String()).label("ts"), sources.c.name, comments.c.article_id,
                    comments.c.author_pseudonym, scores.c.toxicity, scores.c.toxic,
                    func.nullif(cast(scores.c.slurs, Text), "[]"),
                    *(scores.c.stance[(target, "label")].as_string() for target in targets),
                    *(extra.select() for extra in inputs.values()))
             .select_from(comments.join(sources, sources.c.id == comments.c.source_id)
                          .join(scores, scores.c.comment_id == comments.c.id))
             .where(is_latest))
    if spans is not None:
        query = query.where(or_(*(and_(ts >= start, ts < end) for start, end in spans)))
    utc = pl.Datetime("us", "UTC")
    raw = {"comment_id": pl.Int64, "ts": utc, "source": pl.Utf8, "article": pl.Int64, "author": pl.Utf8,
           "toxicity": pl.Float64, "toxic": pl.Boolean, "slurs": pl.Utf8,
           **{f"stance_{target}": pl.Utf8 for target in targets},
           **{name: polars_type(extra.kind) for name, extra in inputs.items()}}
    batches = []
    for rows in conn.execute(query.order_by(comments.c.id)).partitions(100_000):
        columns = dict(zip(raw, zip(*rows)))
        stamps = columns.pop("ts")
        batch = pl.DataFrame(columns, schema={k: v for k, v in raw.items() if k != "ts"})
        batches.append(batch.with_columns(ts=(
            pl.Series(stamps, dtype=pl.Utf8).str.to_datetime(_SQLITE_STAMP_IN, time_unit="us", time_zone="UTC")
            if isinstance(stamps[0], str) else pl.Series(stamps, dtype=utc))))
    frame = pl.concat(batches) if batches else pl.DataFrame(schema=raw)
    slur_type = pl.List(pl.Struct({"normalized": pl.Utf8, "kind": pl.Utf8}))
    kind = pl.element().struct.field("kind").fill_null("")
    normalized = pl.element().struct.field("normalized")
    slurs = pl.col("slurs").str.json_decode(slur_type).fill_null(pl.lit([], dtype=slur_type))
    return frame.select(
        "comment_id", "ts", "source", pl.col("article").cast(pl.Utf8), "author", "toxicity",
        pl.col("toxic").fill_null(False),
        lexicon_terms=slurs.list.eval(normalized.filter(kind != "coined")),
        coined_terms=slurs.list.eval(normalized.filter(kind == "coined")),
        *(f"stance_{target}" for target in targets), *inputs,
    ).cast(_schema(targets))  # type: ignore[arg-type]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _write(conn: Connection, result: pl.DataFrame, touched: Mapping[int, set[datetime]] | None,
           now: datetime) -> int:
    """Replace the touched windows (all windows when None) by the computed rows."""
    import polars as pl
    from sqlalchemy import JSON, Text, bindparam, cast, delete, insert

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
    # polars writes the metrics JSON, far faster than json.dumps per row.
    metrics = pl.struct(c for c in result.columns if c not in keys).struct.json_encode()
    if conn.dialect.name == "sqlite":
        # Straight to the driver, in the text forms SQLAlchemy stores on SQLite (JSON as text, UTC
        # timestamps as _SQLITE_STAMP_OUT): per-row parameter processing was most of a full rewrite.
        names = (*keys, "comment_count", "metrics", "computed_at")
        rows = result.select(
            "window_s", pl.col("window_start").dt.convert_time_zone("UTC").dt.strftime(_SQLITE_STAMP_OUT),
            "scope", "scope_key", "source", "comment_count", metrics.alias("metrics"),
            pl.lit(now).dt.convert_time_zone("UTC").dt.strftime(_SQLITE_STAMP_OUT).alias("computed_at")).rows()
        conn.exec_driver_sql(f"INSERT INTO aggregates ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                             rows)  # type: ignore[arg-type]
        return len(rows)
    dicts = result.select(*keys, "comment_count", pl.lit(now).alias("computed_at"),
                          metrics_json=metrics).to_dicts()
    statement = insert(aggregates).values(metrics=cast(bindparam("metrics_json", type_=Text), JSON))
    for i in range(0, len(dicts), 1000):
        conn.execute(statement, dicts[i:i + 1000])
    return len(dicts)


def run(engine: Engine, config: Config, now: datetime | None = None, full: bool = False,
        progress: Callable[[str], None] | None = None) -> AggregateStats:
    """Recompute the windows touched since the last run (every window with `full`) and store them;
    `progress` hears what it is doing, step by step (a full run over millions takes minutes)."""
    from sqlalchemy import func, or_, select

    from monitor.store.repo import get_state, put_state
    from monitor.store.schema import comments, scores

    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    settings = config.aggregate
    targets = sorted(config.targets)
    stats = AggregateStats(full=full)
    say = progress or (lambda step: None)
    with engine.connect() as conn:
        # The new watermark is read first: whatever commits meanwhile is seen again next run.
        new_mark = {"scored_at": _iso(conn.execute(select(func.max(scores.c.scored_at))).scalar()),
                    "updated_at": _iso(conn.execute(select(func.max(comments.c.updated_at))).scalar()),
                    "read_at": _iso(now)}
        mark = {} if full else (get_state(conn, STATE_WATERMARK) or {})
        known = {} if full else {k: _parse(v) for k, v in (get_state(conn, STATE_COINAGES) or {}).items()}
        touched: dict[int, set[datetime]] | None = None
        if full:
            say("reading every scored comment")
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
            say(f"reading the comments of {sum(len(v) for v in touched.values())} touched windows")
            frame = load_frame(conn, targets, _intervals(touched))
        conn.rollback()

    say(f"computing the windows of {frame.height:,} comments")
    result = compute(frame, settings.windows, targets=targets, top_authors=settings.top_authors,
                     top_slurs=settings.top_slurs, first_seen=known, only=touched)
    coinages = _first_coinages(frame, known)
    say(f"writing {result.height:,} rows")
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
