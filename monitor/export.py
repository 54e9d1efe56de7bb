"""Comments with their latest scores as one flat polars frame, for `monitor export`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable

import polars as pl
from sqlalchemy import Engine, func, select

from monitor.jsonfmt import TIMESTAMP_FORMAT
from monitor.store.repo import latest_scores_query, utcnow
from monitor.store.schema import comments, sources

__all__ = ["SLUR", "export_frame", "export_schema", "for_text", "known_sources"]

# Parquet keeps its native UTC timestamp type; text formats spell timestamps as `--json` does.
# A slur as exported: the normalised term and whom it targets.
SLUR = pl.Struct({"term": pl.String, "target": pl.String})

_SCHEMA = {
    "source": pl.String, "article_url": pl.String, "article_title": pl.String,
    "comment_id": pl.Int64, "external_id": pl.String, "parent_id": pl.String,
    "author": pl.String, "text": pl.String, "url": pl.String,
    "published_at": pl.Datetime("us", "UTC"), "first_seen_at": pl.Datetime("us", "UTC"),
    "edit_count": pl.Int64, "deleted": pl.Boolean, "lang": pl.String, "toxicity": pl.Float64,
    "toxic": pl.Boolean, "model": pl.String, "slurs": pl.List(SLUR),
}


def export_schema(targets: Iterable[str]) -> dict[str, Any]:
    """Every export column in order, present even in an empty export: the fixed columns, then
    stance_<target> and stance_<target>_score for each target."""
    schema: dict[str, Any] = dict(_SCHEMA)
    for t in targets:
        schema[f"stance_{t}"] = pl.String
        schema[f"stance_{t}_score"] = pl.Float64
    return schema


def known_sources(engine: Engine) -> list[str]:
    """Names of the sources stored in the database (configured ones may not be collected yet)."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(sources.c.name)).scalars())


def for_text(frame: pl.DataFrame, *, csv: bool) -> pl.DataFrame:
    """The frame as CSV and JSON Lines carry it: timestamps in TIMESTAMP_FORMAT; for CSV, which
    has no nested values, slurs become a JSON array (JSON Lines keep the list of objects)."""
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime(TIMESTAMP_FORMAT))
    if csv:
        objects = pl.col("slurs").list.eval(pl.element().struct.json_encode()).list.join(",")
        frame = frame.with_columns(pl.concat_str([pl.lit("["), objects.fill_null(""), pl.lit("]")])
                                   .alias("slurs"))
    return frame


def export_frame(engine: Engine, *, source: str | None = None, since: timedelta | None = None,
                 targets: Iterable[str] = ()) -> pl.DataFrame:
    """One row per comment; stance becomes stance_<target> and stance_<target>_score columns for
    every configured target (and any other found in the scores), slurs a list of {term, target}."""
    query = latest_scores_query()
    if source:
        query = query.where(sources.c.name == source)
    if since:
        query = query.where(func.coalesce(comments.c.published_at, comments.c.first_seen_at)
                            >= utcnow() - since)
    records: list[dict[str, Any]] = []
    targets = list(targets)
    with engine.connect().execution_options(readonly=True) as conn:
        for r in conn.execute(query):
            stance = r.stance or {}
            for t in stance:
                if t not in targets:
                    targets.append(t)
            record = {
                "source": r.source, "article_url": r.article_url, "article_title": r.article_title,
                "comment_id": r.id, "external_id": r.external_id, "parent_id": r.parent_external_id,
                "author": r.author_name or r.author_pseudonym, "text": r.text, "url": r.url,
                "published_at": r.published_at, "first_seen_at": r.first_seen_at,
                "edit_count": r.edit_count, "deleted": r.deleted_at is not None, "lang": r.lang,
                "toxicity": r.toxicity, "toxic": r.toxic, "model": r.model_version,
                "slurs": [{"term": s["normalized"], "target": s["target"]} for s in (r.slurs or [])],
            }
            for t, s in stance.items():
                record[f"stance_{t}"] = s["label"]
                record[f"stance_{t}_score"] = s["score"]
            records.append(record)
    return pl.DataFrame(records, schema=export_schema(targets))
