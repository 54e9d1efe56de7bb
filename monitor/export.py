"""Comments with their latest scores as one flat polars frame, for `monitor export`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
from sqlalchemy import Engine, func

from monitor.store.repo import latest_scores_query, utcnow
from monitor.store.schema import comments, sources

__all__ = ["export_frame"]

_SCHEMA = {
    "source": pl.String, "article_url": pl.String, "article_title": pl.String,
    "comment_id": pl.Int64, "external_id": pl.String, "parent_id": pl.String,
    "author": pl.String, "text": pl.String, "url": pl.String,
    "published_at": pl.Datetime("us", "UTC"), "first_seen_at": pl.Datetime("us", "UTC"),
    "edit_count": pl.Int64, "deleted": pl.Boolean, "lang": pl.String, "toxicity": pl.Float64,
    "toxic": pl.Boolean, "model": pl.String, "slurs": pl.String,
}


def export_frame(engine: Engine, *, source: str | None = None,
                 since: timedelta | None = None) -> pl.DataFrame:
    """One row per comment; stance becomes stance_<target> and stance_<target>_score columns,
    slurs a comma-separated list of normalised terms (CSV has no nested types)."""
    query = latest_scores_query()
    if source:
        query = query.where(sources.c.name == source)
    if since:
        query = query.where(func.coalesce(comments.c.published_at, comments.c.first_seen_at)
                            >= utcnow() - since)
    records: list[dict[str, Any]] = []
    targets: list[str] = []
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
                "slurs": ",".join(s["normalized"] for s in (r.slurs or [])) or None,
            }
            for t, s in stance.items():
                record[f"stance_{t}"] = s["label"]
                record[f"stance_{t}_score"] = s["score"]
            records.append(record)
    schema = dict(_SCHEMA)
    for t in targets:
        schema[f"stance_{t}"] = pl.String
        schema[f"stance_{t}_score"] = pl.Float64
    return pl.DataFrame(records, schema=schema, orient="row" if not records else None)
