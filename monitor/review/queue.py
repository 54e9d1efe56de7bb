"""Which comments a person should look at first, and why: one bounded query per reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import (Engine, Select, and_, exists, false, func, literal, not_, or_, select)

from monitor.store.schema import (articles, comments, scores, slur_candidates, slur_occurrences,
                                  sources, verdicts)

__all__ = ["REASONS", "QueueItem", "build_queue", "comment_items", "default_threshold",
           "latest_scores"]

# In the order they are shown: contradictions first (a model is surely wrong about one of the two
# signals), then what nobody has judged yet, then the borderline, then each source's worst.
REASONS: dict[str, str] = {
    "slur_vs_stance": "a slur against a target the comment is scored as favouring",
    "toxic_favor": "toxic, yet scored as favouring a target",
    "slur_not_toxic": "contains a slur but scored well below the toxicity threshold",
    "new_coinage": "uses a coined term nobody has judged yet",
    "near_threshold": "toxicity close to the threshold",
    "source_most_toxic": "among its source's most toxic comments",
}


@dataclass(frozen=True)
class QueueItem:
    """A comment with its newest score and where it appeared, ready to show."""

    comment_id: int
    source: str
    article_id: int
    article_title: str | None
    article_url: str
    url: str | None  # the comment's own link (#comment-N), when the platform has one
    text: str
    published_at: datetime | None
    lang: str | None
    toxicity: float | None
    toxic: bool | None
    stance: dict[str, str] = field(default_factory=dict)  # target -> favor | against | none
    # (term as written, normalised form, target, lexicon | coined)
    slurs: tuple[tuple[str, str, str, str], ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def link(self) -> str:
        return self.url or self.article_url


def default_threshold(config: Any) -> float:
    """The toxicity threshold in use: scoring.toxic_threshold, else the built-in model's cut."""
    if config.scoring.toxic_threshold is not None:
        return float(config.scoring.toxic_threshold)
    from monitor.score.toxicity import MODEL_DIR, MODEL_STEM

    try:
        meta = json.loads((MODEL_DIR / f"{MODEL_STEM}.json").read_text(encoding="utf-8"))
        return float(meta["threshold"])
    except (OSError, ValueError, KeyError):
        return 0.5


def latest_scores() -> Any:
    """Each comment's newest score (by scoring time, then id): an anti-join, no window function."""
    newer = scores.alias("newer")
    return select(scores).where(~exists().where(
        newer.c.comment_id == scores.c.comment_id,
        or_(newer.c.scored_at > scores.c.scored_at,
            and_(newer.c.scored_at == scores.c.scored_at, newer.c.id > scores.c.id)))).subquery("latest")


def _favours(latest: Any, target: str) -> Any:
    return latest.c.stance[(target, "label")].as_string() == "favor"


def _reason_queries(latest: Any, keep: Sequence[Any], *, threshold: float, margin: float,
                    targets: Sequence[str], per_source: int) -> dict[str, Select[Any]]:
    """Per reason, a query of the ids of comments passing `keep`, in that reason's own order."""
    base = (select(comments.c.id).select_from(comments.join(latest, latest.c.comment_id == comments.c.id))
            .where(*keep))
    # Slur conditions start from the (small) occurrence table: IN, not a per-comment EXISTS.
    slurred = select(slur_occurrences.c.comment_id)
    has_slur = comments.c.id.in_(slurred)
    slur_vs_stance = or_(false(), *(and_(_favours(latest, t), comments.c.id.in_(
        slurred.where(slur_occurrences.c.target == t))) for t in targets))
    toxic_favor = and_(latest.c.toxic.is_(True), or_(false(), *(_favours(latest, t) for t in targets)))
    # A term is decided once accepted or rejected as a candidate, or given a slur verdict.
    decided = select(slur_candidates.c.normalized).where(slur_candidates.c.status != "pending")
    judged_term = exists().where(verdicts.c.kind == literal("slur:") + slur_occurrences.c.normalized)
    new_coinage = comments.c.id.in_(slurred.where(slur_occurrences.c.kind == "coined",
                                                  slur_occurrences.c.normalized.not_in(decided),
                                                  not_(judged_term)))
    distance = func.abs(latest.c.toxicity - threshold)
    ranked = (select(comments.c.id, func.row_number().over(
        partition_by=comments.c.source_id,
        order_by=(latest.c.toxicity.desc(), comments.c.id)).label("n"))
        .select_from(comments.join(latest, latest.c.comment_id == comments.c.id))
        .where(latest.c.toxic.is_(True), *keep).subquery())
    worst = select(ranked.c.id).where(ranked.c.n <= per_source)
    newest_first = func.coalesce(comments.c.published_at, comments.c.first_seen_at).desc()
    return {
        "slur_vs_stance": base.where(slur_vs_stance).order_by(latest.c.toxicity.desc(), comments.c.id),
        "toxic_favor": base.where(toxic_favor).order_by(latest.c.toxicity.desc(), comments.c.id),
        "slur_not_toxic": base.where(has_slur, latest.c.toxicity < threshold - margin)
        .order_by(latest.c.toxicity, comments.c.id),
        "new_coinage": base.where(new_coinage).order_by(newest_first, comments.c.id),
        "near_threshold": base.where(distance <= margin).order_by(distance, comments.c.id),
        "source_most_toxic": base.where(comments.c.id.in_(worst))
        .order_by(latest.c.toxicity.desc(), comments.c.id),
    }


def build_queue(engine: Engine, *, threshold: float, targets: Sequence[str], margin: float = 0.1,
                limit: int = 100, per_source: int = 3, source: str | None = None) -> list[QueueItem]:
    """Up to `limit` unjudged comments worth a human look, each once, with all its reasons, ordered
    by its most urgent reason (`REASONS` order) and its place within that reason's list.

    A comment leaves the queue once it has any verdict on its current text; an edit brings it back.
    """
    latest = latest_scores()
    judged = exists().where(verdicts.c.comment_id == comments.c.id,
                            verdicts.c.content_hash == comments.c.content_hash)
    keep = [comments.c.text.is_not(None), not_(judged)]
    if source is not None:
        keep.append(comments.c.source_id.in_(select(sources.c.id).where(sources.c.name == source)))
    order: dict[int, tuple[int, int]] = {}
    reasons: dict[int, list[str]] = {}
    with engine.connect() as conn:
        queries = _reason_queries(latest, keep, threshold=threshold, margin=margin, targets=targets,
                                  per_source=per_source)
        for priority, (reason, query) in enumerate(queries.items()):
            for place, comment_id in enumerate(conn.execute(query.limit(limit)).scalars()):
                order.setdefault(comment_id, (priority, place))
                reasons.setdefault(comment_id, []).append(reason)
        chosen = sorted(order, key=order.__getitem__)[:limit]
        items = {item.comment_id: item for item in comment_items(conn, chosen, latest=latest)}
    return [_with_reasons(items[i], reasons[i]) for i in chosen if i in items]


def _with_reasons(item: QueueItem, reasons: list[str]) -> QueueItem:
    return QueueItem(**{**item.__dict__, "reasons": tuple(reasons)})


def comment_items(conn: Any, ids: Sequence[int] | None = None, *, article_id: int | None = None,
                  latest: Any = None, limit: int = 500) -> list[QueueItem]:
    """Comments (by id, or an article's, most toxic first) with their newest score and place."""
    latest = latest if latest is not None else latest_scores()
    query = (select(comments.c.id, sources.c.name, comments.c.article_id, articles.c.title,
                    articles.c.url.label("article_url"), comments.c.url, comments.c.text,
                    comments.c.published_at, latest.c.lang, latest.c.toxicity, latest.c.toxic,
                    latest.c.stance, latest.c.slurs)
             .select_from(comments.join(sources, sources.c.id == comments.c.source_id)
                          .join(articles, articles.c.id == comments.c.article_id)
                          .outerjoin(latest, latest.c.comment_id == comments.c.id))
             .where(comments.c.text.is_not(None)))
    if ids is not None:
        if not ids:
            return []
        query = query.where(comments.c.id.in_(list(ids)))
    if article_id is not None:
        query = query.where(comments.c.article_id == article_id).order_by(
            func.coalesce(latest.c.toxicity, literal(-1.0)).desc(), comments.c.id).limit(limit)
    return [QueueItem(
        comment_id=r.id, source=r.name, article_id=r.article_id, article_title=r.title,
        article_url=r.article_url, url=r.url, text=r.text, published_at=r.published_at,
        lang=r.lang, toxicity=r.toxicity, toxic=r.toxic,
        stance={t: str(s.get("label", "")) for t, s in (r.stance or {}).items() if isinstance(s, dict)},
        slurs=tuple((str(s.get("term", "")), str(s.get("normalized") or s.get("term", "")),
                     str(s.get("target", "")), str(s.get("kind", "")))
                    for s in (r.slurs or []) if isinstance(s, dict)))
        for r in conn.execute(query)]
