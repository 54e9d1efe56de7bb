"""Comments with their latest scores, streamed batch by batch to CSV, Parquet or JSON Lines for
`monitor export`, in memory that does not grow with the number of comments."""

from __future__ import annotations

import os
import stat
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

import polars as pl
from sqlalchemy import Engine, Float, String, func, literal_column, select

from monitor.errors import InputError, MonitorError
from monitor.jsonfmt import TIMESTAMP_FORMAT
from monitor.store.repo import utcnow
from monitor.store.schema import articles, comments, scores, sources

__all__ = ["SLUR", "ExportTargetError", "ExportWriteError", "export_batches", "export_schema",
           "for_text", "known_sources", "open_target", "stance_targets", "write_export"]

BATCH_ROWS = 20_000

# A slur as exported: the normalised term and whom it targets. Parquet keeps its native UTC
# timestamp type; text formats spell timestamps as `--json` does (TIMESTAMP_FORMAT).
SLUR = pl.Struct({"term": pl.String, "target": pl.String})

_SCHEMA = {
    "source": pl.String, "article_url": pl.String, "article_title": pl.String,
    "comment_id": pl.Int64, "external_id": pl.String, "parent_id": pl.String,
    "author": pl.String, "text": pl.String, "url": pl.String,
    "published_at": pl.Datetime("us", "UTC"), "first_seen_at": pl.Datetime("us", "UTC"),
    "edit_count": pl.Int64, "deleted": pl.Boolean, "lang": pl.String, "toxicity": pl.Float64,
    "toxic": pl.Boolean, "model": pl.String, "slurs": pl.List(SLUR),
}


class ExportTargetError(InputError):
    """The --output path cannot be used as given (not a regular file, missing folder); exit status 2."""

    exit_code = 2


class ExportWriteError(MonitorError):
    """The output could not be written (full disk, file size limit, closed pipe …); exit status 1."""


def export_schema(targets: Iterable[str]) -> dict[str, Any]:
    """Every export column in order, present even in an empty export: the fixed columns, then
    stance_<target> and stance_<target>_score for each target."""
    schema = dict(_SCHEMA)
    for t in targets:
        schema[f"stance_{t}"] = pl.String
        schema[f"stance_{t}_score"] = pl.Float64
    return schema


def stance_targets(engine: Engine) -> list[str]:
    """Every stance target any latest score mentions, sorted (the columns must be known before the
    first row is written)."""
    if engine.dialect.name == "postgresql":
        sql = ("SELECT DISTINCT k FROM comments c JOIN scores s ON s.id = c.score_id, "
               "json_object_keys(s.stance) AS k")
    else:
        sql = ("SELECT DISTINCT j.key FROM comments c JOIN scores s ON s.id = c.score_id, "
               "json_each(s.stance) AS j")
    with engine.connect().execution_options(readonly=True) as conn:
        return sorted(r[0] for r in conn.exec_driver_sql(sql))


def known_sources(engine: Engine) -> list[str]:
    """Names of the sources stored in the database (configured ones may not be collected yet)."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(sources.c.name)).scalars())


def _slur_list(dialect: str) -> Any:
    """The latest score's slurs as a JSON array of {term, target} (text), built by the database."""
    if dialect == "postgresql":
        return literal_column("(SELECT coalesce(json_agg(json_build_object('term', x ->> 'normalized', "
                              "'target', x ->> 'target')), '[]'::json)::text "
                              "FROM json_array_elements(scores.slurs) AS x)", String)
    return literal_column("(SELECT json_group_array(json_object('term', json_extract(value, "
                          "'$.normalized'), 'target', json_extract(value, '$.target'))) "
                          "FROM json_each(scores.slurs))", String)


def for_text(frame: pl.DataFrame, *, csv: bool) -> pl.DataFrame:
    """A batch as CSV and JSON Lines carry it: timestamps in TIMESTAMP_FORMAT; for CSV, which
    has no nested values, slurs become a JSON array (JSON Lines keep the list of objects)."""
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime(TIMESTAMP_FORMAT))
    if csv:
        objects = pl.col("slurs").list.eval(pl.element().struct.json_encode()).list.join(",")
        frame = frame.with_columns(pl.concat_str([pl.lit("["), objects.fill_null(""), pl.lit("]")])
                                   .alias("slurs"))
    return frame


def _query(dialect: str, targets: Sequence[str], source: str | None, since: timedelta | None) -> Any:
    stance = []
    for t in targets:
        stance += [scores.c.stance[(t, "label")].as_string().label(f"stance_{t}"),
                   func.cast(scores.c.stance[(t, "score")].as_float(), Float).label(f"stance_{t}_score")]
    query = (select(
        sources.c.name, articles.c.url, articles.c.title, comments.c.id, comments.c.external_id,
        comments.c.parent_external_id, func.coalesce(comments.c.author_name, comments.c.author_pseudonym),
        comments.c.text, comments.c.url, comments.c.published_at, comments.c.first_seen_at,
        comments.c.edit_count, comments.c.deleted_at.is_not(None), scores.c.lang, scores.c.toxicity,
        scores.c.toxic, scores.c.model_version, _slur_list(dialect), *stance)
        .select_from(comments.join(sources, sources.c.id == comments.c.source_id)
                     .join(articles, articles.c.id == comments.c.article_id)
                     .outerjoin(scores, scores.c.id == comments.c.score_id))
        .order_by(comments.c.id))
    if source:
        query = query.where(sources.c.name == source)
    if since:
        query = query.where(func.coalesce(comments.c.published_at, comments.c.first_seen_at)
                            >= utcnow() - since)
    return query


def export_batches(engine: Engine, *, source: str | None = None, since: timedelta | None = None,
                   targets: Sequence[str] | None = None, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """The export as frames of at most `batch_rows` rows, all with `export_schema(targets)`; the
    database streams the rows (a server-side cursor on PostgreSQL), so memory stays flat."""
    targets = stance_targets(engine) if targets is None else list(targets)
    schema = export_schema(targets)
    query = _query(engine.dialect.name, targets, source, since)
    with engine.connect().execution_options(readonly=True, stream_results=True,
                                            yield_per=batch_rows) as conn:
        raw = {**schema, "slurs": pl.String}
        for rows in conn.execute(query).partitions(batch_rows):
            frame = pl.DataFrame(rows, schema=raw, orient="row")
            yield frame.with_columns(pl.col("slurs").fill_null("[]")
                                     .str.json_decode(pl.List(SLUR)))


def write_export(batches: Iterator[pl.DataFrame], schema: dict[str, Any], fmt: str, sink: IO[bytes]) -> int:
    """Write the batches to a binary stream in `fmt`; returns the rows written. A write error
    (OSError) propagates for the caller to report."""
    import io

    total = 0
    if fmt == "parquet":
        import pyarrow.parquet as pq

        arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
        with pq.ParquetWriter(sink, arrow_schema) as writer:
            for batch in batches:
                writer.write_table(batch.to_arrow().cast(arrow_schema))
                total += batch.height
        return total
    csv = fmt == "csv"
    if csv:
        sink.write(for_text(pl.DataFrame(schema=schema), csv=True).write_csv().encode("utf-8"))
    for batch in batches:
        buffer = io.BytesIO()
        text = for_text(batch, csv=csv)
        if csv:
            text.write_csv(buffer, include_header=False)
        else:
            text.write_ndjson(buffer)
        sink.write(buffer.getbuffer())
        total += batch.height
    return total


def open_target(path: Path, *, parents: bool) -> tuple[IO[bytes], Path]:
    """A temporary file beside `path` to write into (renamed over it by the caller when complete).

    Refuses targets that are not regular files (a symlink, a device, a FIFO, a folder): renaming
    over them would replace them, writing through them could clobber what they point to. A missing
    folder is created only with `parents`."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = ("a symbolic link" if stat.S_ISLNK(info.st_mode) else "a folder" if stat.S_ISDIR(info.st_mode)
                else "a device or other special file")
        raise ExportTargetError(f"{path} is {kind}: export writes regular files only; give another --output, "
                         "or omit --output and redirect stdout")
    folder = path.parent
    if not folder.is_dir():
        if not parents:
            raise ExportTargetError(f"{folder} does not exist: create it, or pass --parents to have export create it")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportWriteError(f"cannot create {folder}: {exc.strerror}") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise ExportWriteError(f"cannot write in {folder}: {exc.strerror}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # as an ordinary new file would be, not mkstemp's 0600
    return os.fdopen(fd, "wb"), Path(tmp)
