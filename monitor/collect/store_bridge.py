"""The collector's own reads and writes: collection runs, errors, per-source health, article
scheduling state. Comments need no conversion: collectors produce the store's own
`CommentRecord`, which monitor.store.repo upserts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from monitor.collect.base import ArticleState, ExtractedArticle
from monitor.store.repo import ArticleRecord
from monitor.store.schema import articles, collection_errors, collection_runs, comments, sources

__all__ = [
    "DueArticle",
    "article_record",
    "due_articles",
    "finish_run",
    "get_source_state",
    "live_external_ids",
    "record_error",
    "save_article_check",
    "save_article_meta",
    "set_source_state",
    "start_run",
]


@dataclass(frozen=True)
class DueArticle:
    id: int
    article: ExtractedArticle
    state: ArticleState
    published_at: datetime | None
    discovered_at: datetime


def article_record(article: ExtractedArticle) -> ArticleRecord:
    return ArticleRecord(external_id=article.external_id, url=article.url, title=article.title,
                         published_at=article.published_at)


def live_external_ids(conn: Connection, article_id: int) -> set[str]:
    """The article's comments that were listed last time and not marked deleted."""
    return set(conn.execute(select(comments.c.external_id).where(
        comments.c.article_id == article_id, comments.c.deleted_at.is_(None))).scalars())


def get_source_state(conn: Connection, source_id: int) -> dict[str, Any]:
    value = conn.execute(select(sources.c.state).where(sources.c.id == source_id)).scalar_one()
    return dict(value or {})


def set_source_state(conn: Connection, source_id: int, value: dict[str, Any]) -> None:
    conn.execute(update(sources).where(sources.c.id == source_id).values(state=value))


def save_article_meta(conn: Connection, article_id: int, article: ExtractedArticle) -> None:
    """Where the article's comments are read and how many the listing announced."""
    current = conn.execute(select(articles.c.state).where(articles.c.id == article_id)).scalar_one() or {}
    wanted = dict(current)
    wanted["comments_url"] = article.comments_url
    wanted["announced"] = article.comment_count
    if wanted != current:
        conn.execute(update(articles).where(articles.c.id == article_id).values(state=wanted))


def due_articles(conn: Connection, source_id: int, now: datetime, recheck_from: datetime,
                 limit: int) -> list[DueArticle]:
    """Articles never checked, and those whose next check is due and that are still young enough
    (published, else discovered, after `recheck_from`); oldest check first."""
    age_anchor = articles.c.published_at
    rows = conn.execute(
        select(articles).where(
            articles.c.source_id == source_id,
            or_(articles.c.last_checked_at.is_(None),
                (articles.c.next_check_at.is_not(None)) & (articles.c.next_check_at <= now)
                & or_(age_anchor >= recheck_from,
                      age_anchor.is_(None) & (articles.c.discovered_at >= recheck_from))))
        .order_by(articles.c.last_checked_at.is_not(None), articles.c.next_check_at, articles.c.id)
        .limit(limit)).all()
    due = []
    for row in rows:
        state = dict(row.state or {})
        article = ExtractedArticle(external_id=row.external_id, url=row.url, title=row.title,
                                   published_at=row.published_at, comments_url=state.get("comments_url"),
                                   comment_count=state.get("announced"))
        due.append(DueArticle(row.id, article, ArticleState(row.etag, row.last_modified,
                                                            dict(state.get("fetch") or {})),
                              row.published_at, row.discovered_at))
    return due


def save_article_check(conn: Connection, article_id: int, state: ArticleState, checked_at: datetime,
                       next_check_at: datetime | None) -> None:
    current = conn.execute(select(articles.c.state).where(articles.c.id == article_id)).scalar_one() or {}
    conn.execute(update(articles).where(articles.c.id == article_id).values(
        etag=state.etag, last_modified=state.last_modified, last_checked_at=checked_at,
        next_check_at=next_check_at, state={**current, "fetch": state.extra}))


def start_run(conn: Connection, source_id: int, now: datetime) -> int:
    conn.execute(update(sources).where(sources.c.id == source_id).values(last_attempt_at=now))
    return conn.execute(insert(collection_runs).values(
        source_id=source_id, started_at=now, status="running", articles_checked=0, comments_new=0,
        comments_updated=0, comments_deleted=0, requests=0)).inserted_primary_key[0]


def record_error(conn: Connection, run_id: int | None, source_id: int, url: str | None, error: str,
                 at: datetime) -> None:
    conn.execute(insert(collection_errors).values(run_id=run_id, source_id=source_id, url=url,
                                                  error=error[:4000], at=at))


def finish_run(conn: Connection, run_id: int, source_id: int, *, status: str, finished_at: datetime,
               articles_checked: int, new: int, updated: int, deleted: int, requests: int,
               error: str | None) -> None:
    """Close the run and update the source's health: success resets the failure count."""
    conn.execute(update(collection_runs).where(collection_runs.c.id == run_id).values(
        finished_at=finished_at, status=status, articles_checked=articles_checked, comments_new=new,
        comments_updated=updated, comments_deleted=deleted, requests=requests,
        error=error[:4000] if error else None))
    if status == "failed":
        conn.execute(update(sources).where(sources.c.id == source_id).values(
            consecutive_failures=sources.c.consecutive_failures + 1, last_error=(error or "")[:4000]))
    else:
        conn.execute(update(sources).where(sources.c.id == source_id).values(
            consecutive_failures=0, last_success_at=finished_at,
            last_error=error[:4000] if error else None))
