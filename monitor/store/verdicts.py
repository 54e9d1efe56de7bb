"""Reviewers' verdicts on comments: validated, appended in one statement, read back newest-first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, case, func, insert, select

from monitor.errors import InputError
from monitor.store.repo import utcnow
from monitor.store.schema import articles, comment_revisions, comments, scores, sources, verdicts

__all__ = [
    "KIND_VALUES",
    "StoredVerdict",
    "Verdict",
    "check_verdict",
    "latest_verdicts",
    "record_verdicts",
    "verdict_history",
]

# Allowed values per kind family; "stance:<target>" and "slur:<term>" share their family's values.
KIND_VALUES: dict[str, tuple[str, ...]] = {
    "toxicity": ("toxic", "not"),
    "stance": ("favor", "against", "none"),
    "slur": ("yes", "no"),
}
_MAX_KIND = 192
_MAX_REVIEWER = 128


@dataclass(frozen=True)
class Verdict:
    """One judgement to record: comment, kind (toxicity, stance:<target>, slur:<term>), value."""

    comment_id: int
    kind: str
    value: str


@dataclass(frozen=True)
class StoredVerdict:
    comment_id: int
    kind: str
    value: str
    reviewer: str
    created_at: datetime


def check_verdict(kind: str, value: str) -> None:
    """Raise InputError naming what would be accepted when kind or value is not a verdict."""
    family, sep, subject = kind.partition(":")
    if family not in KIND_VALUES or (family == "toxicity") == bool(sep) or (sep and not subject.strip()):
        raise InputError(f"verdict kind {kind!r} is unknown; expected toxicity, stance:<target> "
                         "or slur:<term>")
    if len(kind) > _MAX_KIND:
        raise InputError(f"verdict kind {kind[:40]!r}… is longer than {_MAX_KIND} characters")
    if value not in KIND_VALUES[family]:
        raise InputError(f"verdict value {value!r} does not fit {family}; expected one of "
                         f"{', '.join(KIND_VALUES[family])}")


def record_verdicts(conn: Connection, items: Sequence[Verdict], reviewer: str,
                    at: datetime | None = None) -> int:
    """Append verdicts by `reviewer`, each tied to the text revision the comment has now.
    All or nothing: an unknown comment or a bad kind/value raises before anything is written."""
    reviewer = reviewer.strip()
    if not reviewer or len(reviewer) > _MAX_REVIEWER:
        raise InputError(f"reviewer name must be 1 to {_MAX_REVIEWER} characters; pass --reviewer NAME")
    for item in items:
        check_verdict(item.kind, item.value)
    ids = sorted({item.comment_id for item in items})
    if not ids:
        return 0
    hashes = {row.id: row.content_hash for row in conn.execute(
        select(comments.c.id, comments.c.content_hash).where(comments.c.id.in_(ids)))}
    missing = [i for i in ids if i not in hashes]
    if missing:
        raise InputError(f"no comment with id {missing[0]} in the database")
    now = at or utcnow()
    conn.execute(insert(verdicts), [
        {"comment_id": item.comment_id, "content_hash": hashes[item.comment_id], "kind": item.kind,
         "value": item.value, "reviewer": reviewer, "created_at": now} for item in items])
    return len(items)


def _ranked() -> Any:
    """Verdicts numbered newest-first within each comment and kind (1 = the one that counts)."""
    return select(verdicts, func.row_number().over(
        partition_by=(verdicts.c.comment_id, verdicts.c.kind),
        order_by=(verdicts.c.created_at.desc(), verdicts.c.id.desc())).label("rank")).subquery()


def latest_verdicts(conn: Connection, comment_ids: Iterable[int] | None = None) -> list[StoredVerdict]:
    """The verdict that counts (the newest) per comment and kind, for the given comments or all."""
    ranked = _ranked()
    query = select(ranked.c.comment_id, ranked.c.kind, ranked.c.value, ranked.c.reviewer,
                   ranked.c.created_at).where(ranked.c.rank == 1)
    if comment_ids is not None:
        query = query.where(ranked.c.comment_id.in_(list(comment_ids)))
    query = query.order_by(ranked.c.comment_id, ranked.c.kind)
    return [StoredVerdict(*row) for row in conn.execute(query)]


def verdict_history(*, current_only: bool = False) -> Any:
    """A query over every verdict with its comment's source, URL, language and judged text;
    `current` is true for the verdict that counts. Texts are those of the judged revision (None
    once purged by retention)."""
    ranked = _ranked()
    newest_score = select(scores.c.lang).where(scores.c.comment_id == ranked.c.comment_id) \
        .order_by(scores.c.scored_at.desc(), scores.c.id.desc()).limit(1).scalar_subquery()
    old_text = select(comment_revisions.c.text).where(
        comment_revisions.c.comment_id == ranked.c.comment_id,
        comment_revisions.c.content_hash == ranked.c.content_hash).limit(1).scalar_subquery()
    judged_text = case((comments.c.content_hash == ranked.c.content_hash, comments.c.text),
                       else_=old_text)
    query = (select(ranked.c.id, ranked.c.comment_id, sources.c.name.label("source"),
                    articles.c.url.label("article_url"), comments.c.url.label("comment_url"),
                    ranked.c.kind, ranked.c.value, ranked.c.reviewer, ranked.c.created_at,
                    (ranked.c.rank == 1).label("current"), newest_score.label("lang"),
                    judged_text.label("text"))
             .select_from(ranked.join(comments, comments.c.id == ranked.c.comment_id)
                          .join(sources, sources.c.id == comments.c.source_id)
                          .join(articles, articles.c.id == comments.c.article_id))
             .order_by(ranked.c.id))
    if current_only:
        query = query.where(ranked.c.rank == 1)
    return query
