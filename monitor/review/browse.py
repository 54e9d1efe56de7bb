"""The drill-down's data: sources, then a source's articles, each with comment counts and toxicity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, cast, func, select

from monitor.review.queue import latest_scores
from monitor.store.schema import articles, comments, sources

__all__ = ["ArticleSummary", "SourceSummary", "article_summaries", "source_summaries"]


@dataclass(frozen=True)
class SourceSummary:
    id: int
    name: str
    url: str
    articles: int
    comments: int
    toxic: int
    mean_toxicity: float | None


@dataclass(frozen=True)
class ArticleSummary:
    id: int
    title: str | None
    url: str
    comments: int
    toxic: int
    mean_toxicity: float | None


def _per(group_column: Any) -> Any:
    """Comment count, toxic count and mean toxicity grouped by a comments column."""
    latest = latest_scores()
    return (select(group_column.label("key"), func.count().label("n"),
                   func.coalesce(func.sum(cast(case((latest.c.toxic.is_(True), 1), else_=0), Integer)), 0)
                   .label("toxic"),
                   func.avg(latest.c.toxicity).label("mean"))
            .select_from(comments.outerjoin(latest, latest.c.comment_id == comments.c.id))
            .group_by(group_column).subquery())


def source_summaries(conn: Any) -> list[SourceSummary]:
    """Every source, the one with the most toxic comments first."""
    stats = _per(comments.c.source_id)
    n_articles = (select(articles.c.source_id, func.count().label("n"))
                  .group_by(articles.c.source_id).subquery())
    query = (select(sources.c.id, sources.c.name, sources.c.url,
                    func.coalesce(n_articles.c.n, 0), func.coalesce(stats.c.n, 0),
                    func.coalesce(stats.c.toxic, 0), stats.c.mean)
             .select_from(sources.outerjoin(stats, stats.c.key == sources.c.id)
                          .outerjoin(n_articles, n_articles.c.source_id == sources.c.id))
             .order_by(func.coalesce(stats.c.toxic, 0).desc(), sources.c.name))
    return [SourceSummary(*row) for row in conn.execute(query)]


def article_summaries(conn: Any, source_id: int, limit: int = 200) -> list[ArticleSummary]:
    """A source's articles with comments, the one with the most toxic comments first."""
    stats = _per(comments.c.article_id)
    query = (select(articles.c.id, articles.c.title, articles.c.url, stats.c.n, stats.c.toxic,
                    stats.c.mean)
             .select_from(articles.join(stats, stats.c.key == articles.c.id))
             .where(articles.c.source_id == source_id)
             .order_by(stats.c.toxic.desc(), stats.c.n.desc(), articles.c.id).limit(limit))
    return [ArticleSummary(*row) for row in conn.execute(query)]
