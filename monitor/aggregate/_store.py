"""The database side of aggregation: read scored comments, replace touched windows, keep the watermark."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from monitor.aggregate._arrow import read_arrow
from monitor.aggregate._compute import _intervals, compute, touched_windows
from monitor.aggregate._frame import _schema, empty_frame
from monitor.aggregate.metrics import frame_inputs, polars_type

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

    from monitor.aggregate.metrics import Input
    from monitor.config import Config

__all__ = ["AggregateStats", "STATE_COINAGES", "STATE_WATERMARK", "changed_times", "frame_sql", "load_frame",
           "read_watermark", "run"]

STATE_WATERMARK = "aggregate.watermark"
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


def _quote(value: str) -> str:
    """An SQL string literal (timestamps are spliced into the Arrow reader's SQL)."""
    return "'" + value.replace("'", "''") + "'"


def _stamp_literal(dialect: str, value: datetime) -> str:
    """A UTC timestamp in the form the column holds it (SQLite: SQLAlchemy's text form)."""
    value = value.astimezone(timezone.utc)
    if dialect == "sqlite":
        return _quote(value.strftime("%Y-%m-%d %H:%M:%S.%f"))
    return _quote(value.isoformat()) + "::timestamptz"


def _sql_type(kind: str) -> Any:
    from sqlalchemy import Boolean, Float, Integer, Text

    return {"int": Integer(), "float": Float(), "bool": Boolean(), "text": Text(), "list": Text()}[kind]


def _input_columns(dialect: str, inputs: Mapping[str, Input]) -> list[Any]:
    """The select columns of the metric table's extra inputs: each expression cast to its kind.

    On SQLite each comes as two columns, the value with NULL as the kind's zero and whether it was
    NULL: connectorx takes a SQLite expression's type from its first value and cannot from a NULL."""
    from sqlalchemy import JSON, cast, false, func, literal, type_coerce

    columns = []
    for name, extra in inputs.items():
        value = extra.select()
        if extra.kind == "list":  # a JSON array, as text for polars to decode
            value = cast(type_coerce(value, JSON()), _sql_type("text"))
        elif not isinstance(value.type, type(_sql_type(extra.kind))):
            value = cast(value, _sql_type(extra.kind))
        if dialect != "sqlite":
            columns.append(value.label(name))
            continue
        zero = {"int": literal(0), "float": literal(0.0), "bool": false(), "text": literal(""),
                "list": literal("[]")}[extra.kind]
        columns += [func.coalesce(value, zero).label(name), value.is_(None).label(f"{name}__null")]
    return columns


def frame_sql(dialect: str, targets: Sequence[str],
              spans: Sequence[tuple[datetime, datetime]] | None = None) -> str:
    """The query `load_frame` runs, as SQL for `dialect` ("sqlite" or "postgresql") with every
    value inline (connectorx takes no parameters): each comment with its latest score through
    `comments.score_id` (no ranking of scores), stance labels extracted by the database's JSON
    functions, and every extra input of the metric table (`metrics.Input`).

    Text columns that may be empty come as '' rather than NULL: an Arrow reader infers a SQLite
    expression's type from its values and cannot from a NULL."""
    from sqlalchemy import Text, and_, case, cast, func, literal_column, or_, select
    from sqlalchemy.dialects import registry

    from monitor.store.schema import comments, scores, sources

    ts = _comment_time()
    slurs = cast(scores.c.slurs, Text)
    query = (select(comments.c.id.label("comment_id"), ts.label("ts"), sources.c.name.label("source"),
                    comments.c.article_id.label("article"), comments.c.author_pseudonym.label("author"),
                    scores.c.toxicity, scores.c.toxic,
                    case((slurs == "[]", ""), else_=func.coalesce(slurs, "")).label("slurs"),
                    *(func.coalesce(scores.c.stance[(target, "label")].as_string(), "").label(f"stance_{i}")
                      for i, target in enumerate(targets)),
                    *_input_columns(dialect, frame_inputs()))
             .select_from(comments.join(sources, sources.c.id == comments.c.source_id)
                          .join(scores, scores.c.id == comments.c.score_id)))
    if spans is not None:
        query = query.where(or_(*(and_(ts >= literal_column(_stamp_literal(dialect, start)),
                                       ts < literal_column(_stamp_literal(dialect, end)))
                                  for start, end in spans)))
    # A "named" paramstyle: a pyformat dialect would double every % in the literals.
    compiler = registry.load(dialect)(paramstyle="named")
    return str(query.compile(dialect=compiler, compile_kwargs={"literal_binds": True}))


def load_frame(conn: Connection, targets: Sequence[str],
               spans: Sequence[tuple[datetime, datetime]] | None = None) -> pl.DataFrame:
    """Scored comments (latest score each) whose time falls in `spans` (all when None).

    Read through Arrow (`read_arrow`); the JSON of the stance column is taken apart by the
    database, slur lists (empty for most comments) by polars."""
    import polars as pl

    if spans is not None and not spans:
        return empty_frame(targets)
    inputs = frame_inputs()  # the columns metrics read beyond the built-in ones
    sqlite = conn.dialect.name == "sqlite"
    utc = pl.Datetime("us", "UTC")
    raw: dict[str, Any] = {
        "comment_id": pl.Int64, "ts": utc, "source": pl.Utf8, "article": pl.Int64, "author": pl.Utf8,
        "toxicity": pl.Float64, "toxic": pl.Boolean, "slurs": pl.Utf8,
        **{f"stance_{target}": pl.Utf8 for target in targets}}
    for name, extra in inputs.items():
        raw[name] = pl.Utf8 if extra.kind == "list" else polars_type(extra.kind)
        if sqlite:
            raw[f"{name}__null"] = pl.Int64
    # A whole-history read goes through connectorx; a tick's few windows through the connection.
    frame = read_arrow(conn, frame_sql(conn.dialect.name, targets, spans), raw, bulk=spans is None)
    if frame.height == 0:
        return empty_frame(targets)
    if frame.schema["ts"] == pl.Utf8:
        ts = pl.col("ts").str.to_datetime(_SQLITE_STAMP_IN, time_unit="us", time_zone="UTC")
    else:
        ts = pl.col("ts").cast(utc)
    slur_type = pl.List(pl.Struct({"normalized": pl.Utf8, "kind": pl.Utf8}))
    kind = pl.element().struct.field("kind").fill_null("")
    normalized = pl.element().struct.field("normalized")
    slurs = (pl.when(pl.col("slurs") != "").then(pl.col("slurs")).str.json_decode(slur_type)
             .fill_null(pl.lit([], dtype=slur_type)))
    extras = []
    for name, extra in inputs.items():
        value = pl.col(name)
        if extra.kind == "list":
            value = value.str.json_decode(pl.List(pl.Utf8))
        if sqlite:
            value = pl.when(pl.col(f"{name}__null").cast(pl.Boolean)).then(None).otherwise(value)
        extras.append(value.cast(polars_type(extra.kind)).alias(name))
    return frame.select(
        pl.col("comment_id").cast(pl.Int64), ts.alias("ts"), "source", pl.col("article").cast(pl.Utf8),
        "author", pl.col("toxicity").cast(pl.Float64), pl.col("toxic").cast(pl.Boolean).fill_null(False),
        lexicon_terms=slurs.list.eval(normalized.filter(kind != "coined")),
        coined_terms=slurs.list.eval(normalized.filter(kind == "coined")),
        *(pl.when(pl.col(f"stance_{target}") != "").then(pl.col(f"stance_{target}")).alias(f"stance_{target}")
          for target in targets),
        *extras,
    ).cast(_schema(targets))  # type: ignore[arg-type]


def read_watermark(conn: Connection) -> dict[str, Any]:
    """Where the next tick starts reading comments.change_seq, as {"seq": first stamp not yet seen,
    "running": stamps below it not yet committed}. SQLite: one stamp past the highest committed (one
    writer at a time, so stamps grow in commit order). PostgreSQL: this snapshot's xmax and the
    transactions it sees running; whatever those commit later is read next time, nothing else twice."""
    if conn.dialect.name == "postgresql":
        xmax, running = conn.exec_driver_sql(
            "SELECT pg_snapshot_xmax(snap)::text::bigint, "
            "ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(snap) AS x) "
            "FROM (SELECT pg_current_snapshot() AS snap) AS now").one()
        return {"seq": int(xmax), "running": sorted(int(x) for x in running)}
    seq = conn.exec_driver_sql("SELECT coalesce(max(change_seq), 0) + 1 FROM comments").scalar_one()
    return {"seq": int(seq), "running": []}


def changed_times(conn: Connection, mark: Mapping[str, Any] | None) -> list[datetime]:
    """The times of comments stamped since `mark` was read (all comments when None): new, edited,
    deleted, restored or (re)scored meanwhile."""
    query = "SELECT coalesce(published_at, first_seen_at) FROM comments"
    if mark is not None:
        query += f" WHERE change_seq >= {int(mark['seq'])}"
        running = [int(x) for x in mark.get("running", ())]
        if running:
            query += f" OR change_seq IN ({', '.join(map(str, running))})"
    times = []
    for (value,) in conn.exec_driver_sql(query):
        if isinstance(value, str):  # SQLite's text form
            value = datetime.fromisoformat(value)
        times.append(value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value)
    return times


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
    from monitor.store.repo import get_state, put_state

    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    settings = config.aggregate
    targets = sorted(config.targets)
    stats = AggregateStats(full=full)
    say = progress or (lambda step: None)
    with engine.connect().execution_options(readonly=True) as conn:
        # The new watermark is read before anything else: whatever commits meanwhile is read again
        # next run, and nothing committed before it is ever missed.
        new_mark = {**read_watermark(conn), "read_at": _iso(now)}
        mark = {} if full else (get_state(conn, STATE_WATERMARK) or {})
        known = {} if full else {k: _parse(v) for k, v in (get_state(conn, STATE_COINAGES) or {}).items()}
        touched: dict[int, set[datetime]] | None = None
        if full:
            say("reading every scored comment")
            frame = load_frame(conn, targets)
        else:
            # Without a stamp mark (the first run, or one from before stamps existed) every comment
            # counts as new.
            times = changed_times(conn, mark if "seq" in mark else None)
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
