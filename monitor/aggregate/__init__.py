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

Incremental runs recompute only windows touched since the watermark kept in the `state` table:
comments whose `change_seq` (a commit-ordered stamp the database's triggers set on every insert,
edit, deletion and score) is past it, so late, edited, re-scored and deleted comments land in the
right windows, and a tick with nothing new reads nothing; each touched window is replaced as a
whole (idempotent).
A comment whose published_at itself changes is counted in its new window at once, but its old
window keeps the stale count until `monitor aggregate --full` (the old time is not kept).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

    from monitor.aggregate import groups, terms

__all__ = [
    "AggregateStats",
    "FRAME_COLUMNS",
    "METRICS",
    "STATE_COINAGES",
    "STATE_WATERMARK",
    "changed_times",
    "compute",
    "empty_frame",
    "frame_sql",
    "load_frame",
    "metric_names",
    "read_arrow",
    "read_watermark",
    "run",
    "select_windows",
    "synthetic_frame",
    "touched_windows",
]

STATE_WATERMARK = "aggregate.watermark"
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
# How SQLAlchemy stores a UTC timestamp on SQLite ("2026-03-01 12:00:00.000000"), in polars'
# format for writing it and for reading it back.
_SQLITE_STAMP_OUT = "%Y-%m-%d %H:%M:%S.%6f"
_SQLITE_STAMP_IN = "%Y-%m-%d %H:%M:%S%.f"


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

    Counts, sums, percentiles and author tallies come from `monitor.aggregate.groups`, top slurs and
    new coinages from `monitor.aggregate.terms` (both numpy); polars holds the frames in and out.
    """
    import numpy as np
    import polars as pl

    from monitor.aggregate import groups, terms

    sizes = list(dict.fromkeys(int(w.total_seconds()) for w in windows))
    if not sizes:
        return pl.DataFrame()
    rows = groups.encode(frame, targets)
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
    computed = groups.levels(rows, sizes, top_authors, targets)
    parts = []
    for size in sizes:
        for scope in ("overall", "source", "article"):
            level = computed[size, scope]
            if wanted is not None:
                level.restrict(np.isin(level.windows(), wanted[size]))
            parts.append(_level_frame(level, rows, targets, found, top_slurs))
    return pl.concat(parts, how="vertical_relaxed")


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
        terms.top_slurs(level, found, top_slurs),
        pl.Series("new_coinages", terms.new_coinages(level, found)),
    ])
    assert level.metrics is not None
    schema = _result_schema(targets)
    return extra.hstack(level.metrics).select(pl.col(name).cast(dtype) for name, dtype in schema.items())


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

def _quote(value: str) -> str:
    """An SQL string literal (targets and timestamps are spliced into the Arrow reader's SQL)."""
    return "'" + value.replace("'", "''") + "'"


def _stamp_literal(dialect: str, value: datetime) -> str:
    """A UTC timestamp in the form the column holds it (SQLite: SQLAlchemy's text form)."""
    value = value.astimezone(timezone.utc)
    if dialect == "sqlite":
        return _quote(value.strftime("%Y-%m-%d %H:%M:%S.%f"))
    return _quote(value.isoformat()) + "::timestamptz"


def frame_sql(dialect: str, targets: Sequence[str],
              spans: Sequence[tuple[datetime, datetime]] | None = None) -> str:
    """The query `load_frame` runs: each comment with its latest score through `comments.score_id`
    (no ranking of scores), stance labels extracted by the database's JSON functions.

    Text columns that may be empty come as '' rather than NULL: an Arrow reader infers a SQLite
    expression's type from its values and cannot from a NULL."""
    ts = "coalesce(c.published_at, c.first_seen_at)"
    if dialect == "sqlite":
        paths = ["$.\"" + t.replace('"', '\\"') + "\".label" for t in targets]
        stances = [f"coalesce(json_extract(s.stance, {_quote(path)}), '')" for path in paths]
        slurs = "CASE WHEN s.slurs = '[]' THEN '' ELSE s.slurs END"
    else:
        stances = [f"s.stance -> {_quote(t)} ->> 'label'" for t in targets]
        slurs = "CASE WHEN s.slurs::text = '[]' THEN '' ELSE s.slurs::text END"
    columns = ["c.id AS comment_id", f"{ts} AS ts", "src.name AS source", "c.article_id AS article",
               "c.author_pseudonym AS author", "s.toxicity AS toxicity", "s.toxic AS toxic",
               f"{slurs} AS slurs", *(f"{expr} AS stance_{i}" for i, expr in enumerate(stances))]
    sql = (f"SELECT {', '.join(columns)} FROM comments c JOIN sources src ON src.id = c.source_id "
           "JOIN scores s ON s.id = c.score_id")
    if spans is not None:
        sql += " WHERE " + " OR ".join(
            f"({ts} >= {_stamp_literal(dialect, start)} AND {ts} < {_stamp_literal(dialect, end)})"
            for start, end in spans)
    return sql


def _arrow_url(conn: Connection) -> str | None:
    """The database as connectorx names it, or None where it cannot read it (in-memory SQLite)."""
    url = conn.engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite://{url.database}" if url.database and url.database != ":memory:" else None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# Run in a child process for SQLite: connectorx carries its own copy of the SQLite library, and two
# copies in one process release each other's POSIX locks (SQLite's "how to corrupt" §2.2.1; tried:
# the process's own connections then fail with "disk I/O error").
_CHILD = """
import sys, connectorx, pyarrow as pa
table = connectorx.read_sql(sys.argv[1], sys.stdin.read(), return_type="arrow")
with pa.OSFile(sys.argv[2], "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
    out.write_table(table)
"""


def read_arrow(conn: Connection, sql: str, schema: Mapping[str, Any], *, bulk: bool = True) -> pl.DataFrame:
    """Run `sql` into a polars frame with the columns of `schema` (their types as read).

    With `bulk`, through connectorx straight into Arrow, no Python object per row (PostgreSQL in
    this process, SQLite in a child process); otherwise, or where connectorx is not installed or
    cannot reach the database (in-memory SQLite), through the connection's own cursor."""
    import polars as pl

    url = _arrow_url(conn) if bulk else None
    if url is not None:
        try:
            import connectorx
        except ImportError:
            url = None
    if url is not None and conn.dialect.name == "postgresql":
        table = connectorx.read_sql(url, sql, return_type="arrow")
        return pl.from_arrow(table).rename(dict(zip(table.column_names, schema)))  # type: ignore[union-attr]
    if url is not None:
        import subprocess
        import sys
        import tempfile

        with tempfile.TemporaryDirectory(prefix="monitor-read-") as folder:
            path = f"{folder}/frame.arrow"
            subprocess.run([sys.executable, "-c", _CHILD, url, path], input=sql, text=True, check=True,
                           capture_output=True)
            frame = pl.read_ipc(path)
        return frame.rename(dict(zip(frame.columns, schema)))
    rows = conn.exec_driver_sql(sql).all()
    if not rows:
        return pl.DataFrame(schema=dict(schema))
    types = {k: (pl.Utf8 if isinstance(value, str) else v) for (k, v), value in zip(schema.items(), rows[0])}
    return pl.DataFrame(rows, schema=types, orient="row")


def load_frame(conn: Connection, targets: Sequence[str],
               spans: Sequence[tuple[datetime, datetime]] | None = None) -> pl.DataFrame:
    """Scored comments (latest score each) whose time falls in `spans` (all when None).

    Read through Arrow (`read_arrow`); the JSON of the stance column is taken apart by the
    database, slur lists (empty for most comments) by polars."""
    import polars as pl

    if spans is not None and not spans:
        return empty_frame(targets)
    utc = pl.Datetime("us", "UTC")
    raw = {"comment_id": pl.Int64, "ts": utc, "source": pl.Utf8, "article": pl.Int64, "author": pl.Utf8,
           "toxicity": pl.Float64, "toxic": pl.Boolean, "slurs": pl.Utf8,
           **{f"stance_{target}": pl.Utf8 for target in targets}}
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
    return frame.select(
        pl.col("comment_id").cast(pl.Int64), ts.alias("ts"), "source", pl.col("article").cast(pl.Utf8),
        "author", pl.col("toxicity").cast(pl.Float64), pl.col("toxic").cast(pl.Boolean).fill_null(False),
        lexicon_terms=slurs.list.eval(normalized.filter(kind != "coined")),
        coined_terms=slurs.list.eval(normalized.filter(kind == "coined")),
        *(pl.when(pl.col(f"stance_{target}") != "").then(pl.col(f"stance_{target}")).alias(f"stance_{target}")
          for target in targets),
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


def run(engine: Engine, config: Any, now: datetime | None = None, full: bool = False,
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
