"""Writes and reads the other stages share: idempotent upserts, the scoring queue, status, purge."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.store.records import CommentRecord
from monitor.store.schema import (articles, collection_runs, comment_revisions, comments,
                                  next_change_seq, scores, slur_occurrences, sources, state)

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = [
    "ArticleRecord",
    "CommentRecord",
    "PendingComment",
    "Privacy",
    "UpsertStats",
    "claim_pending",
    "content_hash",
    "ensure_source",
    "get_state",
    "insert_ignore",
    "latest_scores_query",
    "load_secret",
    "mark_deleted",
    "pseudonymise",
    "purge_older_than",
    "put_state",
    "source_status",
    "upsert_article",
    "upsert_comments",
    "utcnow",
    "write_scores",
]

_SPACES = re.compile(r"\s+")
# Ids per IN (…) list: well under SQLite's 32,766 bound parameters.
_IN_CHUNK = 5000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def content_hash(text: str) -> str:
    """Hash of the text as a reader sees it: NFC, whitespace collapsed."""
    canonical = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- privacy -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Privacy:
    """The pseudonymisation key and whether raw author names may be stored."""

    secret: bytes
    store_author_names: bool = False

    @classmethod
    def from_config(cls, config: Config) -> Privacy:
        return cls(load_secret(config), config.privacy.store_author_names)


def load_secret(config: Config) -> bytes:
    """The HMAC key: privacy.secret / MONITOR_SECRET, else a random key kept in the data dir."""
    if config.privacy.secret:
        return config.privacy.secret.encode("utf-8")
    path = Path(config.data_dir) / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    # O_EXCL: if two processes race, one creates the key and both read the same one.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def pseudonymise(secret: bytes, author: str | None) -> str | None:
    """A stable keyed pseudonym for an author name (same name → same pseudonym, across sources)."""
    if not author or not author.strip():
        return None
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", author)).strip().casefold()
    return "a-" + hmac.new(secret, name.encode("utf-8"), hashlib.sha256).hexdigest()[:14]


# --- dialect-neutral helpers ---------------------------------------------------------------------

def insert_ignore(conn: Connection, table: Any, rows: Sequence[dict[str, Any]],
                  index_elements: Sequence[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # executemany: the driver batches the rows (one prepared statement on SQLite, multi-row VALUES
    # on PostgreSQL), with no bound-parameter limit however many rows come.
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    conn.execute(stmt, list(rows))


def _upsert(conn: Connection, table: Any, row: dict[str, Any], keys: Sequence[str],
            update_cols: Iterable[str]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**row)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: stmt.excluded[c] for c in update_cols})
    conn.execute(stmt)


def get_state(conn: Connection, key: str, default: Any = None) -> Any:
    value = conn.execute(select(state.c.value).where(state.c.key == key)).scalar_one_or_none()
    return default if value is None else value


def put_state(conn: Connection, key: str, value: Any) -> None:
    _upsert(conn, state, {"key": key, "value": value, "updated_at": utcnow()}, ["key"],
            ["value", "updated_at"])


# --- sources and articles ------------------------------------------------------------------------

def ensure_source(conn: Connection, source: Any) -> int:
    """The id of the configured source's row, created or refreshed (platform, url)."""
    insert_ignore(conn, sources, [{"name": source.name, "platform": source.platform, "url": source.url,
                                   "created_at": utcnow(), "consecutive_failures": 0, "state": {}}],
                  ["name"])
    conn.execute(update(sources).where(sources.c.name == source.name)
                 .values(platform=source.platform, url=source.url))
    return conn.execute(select(sources.c.id).where(sources.c.name == source.name)).scalar_one()


@dataclass(frozen=True)
class ArticleRecord:
    external_id: str
    url: str
    title: str | None = None
    published_at: datetime | None = None


def upsert_article(conn: Connection, source_id: int, article: ArticleRecord) -> int:
    """The article's id; title and publication date are filled in when newly known."""
    insert_ignore(conn, articles, [{
        "source_id": source_id, "external_id": article.external_id, "url": article.url,
        "title": article.title, "published_at": article.published_at, "discovered_at": utcnow(),
        "comment_count": 0, "state": {},
    }], ["source_id", "external_id"])
    row = conn.execute(select(articles.c.id, articles.c.title, articles.c.published_at).where(
        articles.c.source_id == source_id, articles.c.external_id == article.external_id)).one()
    changes = {}
    if article.title and article.title != row.title:
        changes["title"] = article.title
    if article.published_at and row.published_at is None:
        changes["published_at"] = article.published_at
    if changes:
        conn.execute(update(articles).where(articles.c.id == row.id).values(**changes))
    return row.id


# --- comments ------------------------------------------------------------------------------------

@dataclass
class UpsertStats:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0

    def __iadd__(self, other: UpsertStats) -> UpsertStats:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.restored += other.restored
        return self


def upsert_comments(conn: Connection, source_id: int, article_id: int,
                    records: Sequence[CommentRecord], *, seen_at: datetime | None = None,
                    privacy: Privacy) -> UpsertStats:
    """Write new comments, record edits as revisions, restore reappeared ones; unchanged ones are
    not touched. Safe to repeat: a re-run changes nothing.

    Set-based: one read of the known rows, then one executemany per kind of write (new rows,
    revisions, edits, restorations), so a page of comments costs a handful of statements."""
    seen_at = seen_at or utcnow()
    stats = UpsertStats()
    by_id: dict[str, CommentRecord] = {}
    for record in records:  # the last occurrence of an id wins, as on the page
        by_id[record.external_id] = record
    if not by_id:
        return stats
    existing: dict[str, Any] = {}
    for chunk in _chunks(list(by_id), _IN_CHUNK):
        existing.update((row.external_id, row) for row in conn.execute(
            select(comments.c.id, comments.c.external_id, comments.c.content_hash, comments.c.text,
                   comments.c.deleted_at, comments.c.updated_at, comments.c.purged_at)
            .where(comments.c.source_id == source_id, comments.c.external_id.in_(chunk))))

    new_rows: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    edited: list[dict[str, Any]] = []
    restored: list[dict[str, Any]] = []
    for ext_id, record in by_id.items():
        digest = content_hash(record.text)
        row = existing.get(ext_id)
        if row is None:
            new_rows.append({
                "source_id": source_id, "article_id": article_id, "external_id": ext_id,
                "parent_external_id": record.parent_external_id,
                "author_pseudonym": pseudonymise(privacy.secret, record.author),
                "author_name": record.author if privacy.store_author_names else None,
                "text": record.text, "content_hash": digest, "url": record.url,
                "published_at": record.published_at, "first_seen_at": seen_at, "updated_at": seen_at,
                "edit_count": 0, "needs_scoring": True,
            })
            continue
        if row.purged_at is not None:  # past retention: never bring the text back
            stats.unchanged += 1
            continue
        if row.content_hash != digest:
            revisions.append({"comment_id": row.id, "content_hash": row.content_hash, "text": row.text,
                              "seen_at": row.updated_at, "replaced_at": seen_at})
            # An edited comment that had vanished is also back: deleted_at is cleared with the edit.
            edited.append({"b_id": row.id, "b_text": record.text, "b_hash": digest})
            stats.updated += 1
            if row.deleted_at is not None:
                stats.restored += 1
        elif row.deleted_at is not None:
            restored.append({"b_id": row.id})
            stats.restored += 1
        else:
            stats.unchanged += 1
    if revisions:
        conn.execute(comment_revisions.insert(), revisions)
    if edited:
        conn.execute(update(comments).where(comments.c.id == bindparam("b_id")).values(
            text=bindparam("b_text"), content_hash=bindparam("b_hash"), updated_at=seen_at,
            edit_count=comments.c.edit_count + 1, needs_scoring=True, deleted_at=None), edited)
    if restored:
        conn.execute(update(comments).where(comments.c.id == bindparam("b_id"))
                     .values(deleted_at=None, updated_at=seen_at), restored)
    if new_rows:
        seq = next_change_seq(conn)
        if seq is not None:
            for row in new_rows:
                row["change_seq"] = seq
        before = conn.execute(select(func.count()).select_from(comments)
                              .where(comments.c.article_id == article_id)).scalar_one()
        insert_ignore(conn, comments, new_rows, ["source_id", "external_id"])
        after = conn.execute(select(func.count()).select_from(comments)
                             .where(comments.c.article_id == article_id)).scalar_one()
        stats.new += after - before
    conn.execute(update(articles).where(articles.c.id == article_id).values(
        comment_count=select(func.count()).select_from(comments).where(
            comments.c.article_id == article_id, comments.c.deleted_at.is_(None)).scalar_subquery()))
    return stats


def mark_deleted(conn: Connection, article_id: int, present_external_ids: Iterable[str],
                 seen_at: datetime | None = None) -> int:
    """Mark the article's comments that are no longer listed as deleted (kept, never removed).
    Call only after the article's complete comment listing was fetched."""
    seen_at = seen_at or utcnow()
    present = set(present_external_ids)
    rows = conn.execute(select(comments.c.id, comments.c.external_id).where(
        comments.c.article_id == article_id, comments.c.deleted_at.is_(None))).all()
    gone = [r.id for r in rows if r.external_id not in present]
    for chunk in _chunks(gone, _IN_CHUNK):
        conn.execute(update(comments).where(comments.c.id.in_(chunk))
                     .values(deleted_at=seen_at, updated_at=seen_at))
    return len(gone)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- the scoring queue ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PendingComment:
    id: int
    text: str
    content_hash: str


def claim_pending(conn: Connection, limit: int, after_id: int = 0) -> list[PendingComment]:
    """Up to `limit` comments waiting for scores, with ids above `after_id` (a caller with batches
    still in flight passes the last id it took). On PostgreSQL the rows stay locked (SKIP LOCKED)
    until the caller's transaction ends, so concurrent workers never take the same comment."""
    query = (select(comments.c.id, comments.c.text, comments.c.content_hash)
             .where(comments.c.needs_scoring.is_(True), comments.c.text.is_not(None),
                    comments.c.id > after_id)
             .order_by(comments.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=comments)
    return [PendingComment(r.id, r.text, r.content_hash) for r in conn.execute(query)]


_SCORE_COLUMNS = ("comment_id", "model_version", "content_hash", "lang", "toxicity", "toxic",
                  "attributes", "stance", "slurs", "scored_at")


def _score_row(pending: PendingComment, score: Any, now: datetime) -> dict[str, Any]:
    return {
        "comment_id": pending.id, "model_version": score.model, "content_hash": pending.content_hash,
        "lang": score.lang, "toxicity": float(score.toxicity), "toxic": bool(score.toxic),
        "attributes": dict(score.attributes),
        "stance": {t: {"label": s.label, "score": float(s.score)} for t, s in score.stance.items()},
        "slurs": [{"term": h.term, "normalized": h.normalized, "target": h.target, "kind": h.kind,
                   "start": h.start, "end": h.end} for h in score.slurs],
        "scored_at": now,
    }


def write_scores(conn: Connection, results: Sequence[tuple[PendingComment, Any]]) -> int:
    """Store one CommentScore per claimed comment (upsert per comment and model version), record
    its slurs, and take the comment off the queue unless its text changed meanwhile.

    Set-based: the whole batch goes in a few statements (executemany on SQLite; COPY into a
    temporary table and one merge on PostgreSQL). The comment's latest-score pointer is kept by
    the database's triggers (monitor.store.schema)."""
    if not results:
        return 0
    now = utcnow()
    rows = [_score_row(pending, score, now) for pending, score in results]
    if conn.dialect.name == "postgresql":
        _merge_scores_postgres(conn, rows)
    else:
        stmt = sqlite.insert(scores)
        stmt = stmt.on_conflict_do_update(index_elements=["comment_id", "model_version"],
                                          set_={c: stmt.excluded[c] for c in _SCORE_COLUMNS[2:]})
        conn.execute(stmt, rows)
        conn.execute(update(comments).where(comments.c.id == bindparam("b_id"),
                                            comments.c.content_hash == bindparam("b_hash"))
                     .values(needs_scoring=False),
                     [{"b_id": r["comment_id"], "b_hash": r["content_hash"]} for r in rows])
    ids = [r["comment_id"] for r in rows]
    for chunk in _chunks(ids, _IN_CHUNK):
        conn.execute(slur_occurrences.delete().where(slur_occurrences.c.comment_id.in_(chunk)))
    insert_ignore(conn, slur_occurrences, [
        {"comment_id": pending.id, "term": h.term, "normalized": h.normalized, "target": h.target,
         "kind": h.kind, "start": h.start, "end": h.end, "seen_at": now}
        for pending, score in results for h in score.slurs], ["comment_id", "start", "normalized"])
    return len(results)


def _merge_scores_postgres(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """COPY the batch into a session-local temporary table, then merge it in two statements."""
    import json

    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS score_batch (comment_id bigint, model_version text, "
        "content_hash text, lang text, toxicity double precision, toxic boolean, attributes json, "
        "stance json, slurs json, scored_at timestamptz) ON COMMIT DELETE ROWS")
    conn.exec_driver_sql("TRUNCATE score_batch")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY score_batch ({', '.join(_SCORE_COLUMNS)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((r["comment_id"], r["model_version"], r["content_hash"], r["lang"],
                            r["toxicity"], r["toxic"], json.dumps(r["attributes"]),
                            json.dumps(r["stance"]), json.dumps(r["slurs"]), r["scored_at"]))
    # One row per (comment, model): a batch never holds a comment twice, but ON CONFLICT would
    # refuse to touch a row twice in one statement, so keep the last if it ever does.
    columns = ", ".join(_SCORE_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _SCORE_COLUMNS[2:])
    conn.exec_driver_sql(
        f"INSERT INTO scores ({columns}) SELECT DISTINCT ON (comment_id, model_version) {columns} "
        f"FROM score_batch ORDER BY comment_id, model_version, ctid DESC "
        f"ON CONFLICT (comment_id, model_version) DO UPDATE SET {updates}")
    conn.exec_driver_sql(
        "UPDATE comments SET needs_scoring = false FROM score_batch b "
        "WHERE comments.id = b.comment_id AND comments.content_hash = b.content_hash")


# --- status and retention ------------------------------------------------------------------------

def source_status(conn: Connection) -> list[dict[str, Any]]:
    """Per source: comment counts, last collection and last error, for `monitor status`."""
    counts = (select(comments.c.source_id,
                     func.count().label("comments"),
                     func.count(comments.c.deleted_at).label("deleted"),
                     func.sum(func.cast(comments.c.needs_scoring, sqlite.INTEGER()
                                        if conn.dialect.name == "sqlite" else postgresql.INTEGER()))
                     .label("pending"))
              .group_by(comments.c.source_id).subquery())
    n_articles = (select(articles.c.source_id, func.count().label("articles"))
                  .group_by(articles.c.source_id).subquery())
    last_run = (select(collection_runs.c.source_id, func.max(collection_runs.c.finished_at).label("last_run"))
                .group_by(collection_runs.c.source_id).subquery())
    query = (select(sources.c.name, sources.c.platform, sources.c.url, sources.c.last_success_at,
                    sources.c.last_attempt_at, sources.c.consecutive_failures, sources.c.last_error,
                    func.coalesce(counts.c.comments, 0).label("comments"),
                    func.coalesce(counts.c.deleted, 0).label("deleted"),
                    func.coalesce(counts.c.pending, 0).label("pending"),
                    func.coalesce(n_articles.c.articles, 0).label("articles"),
                    last_run.c.last_run)
             .select_from(sources.outerjoin(counts, counts.c.source_id == sources.c.id)
                          .outerjoin(n_articles, n_articles.c.source_id == sources.c.id)
                          .outerjoin(last_run, last_run.c.source_id == sources.c.id))
             .order_by(sources.c.name))
    return [dict(r._mapping) for r in conn.execute(query)]


def purge_older_than(conn: Connection, age: timedelta, now: datetime | None = None) -> int:
    """Blank text, names and pseudonyms of comments collected more than `age` ago, with their
    revisions, slur spans and the excerpts quoted in stored emails; scores and aggregates stay.
    Retention is how long *we* keep personal data, so it counts from collection, not publication."""
    from monitor.store.retention import scrub_outbox

    cutoff = (now or utcnow()) - age
    purged = conn.execute(select(comments.c.id, comments.c.text, comments.c.author_pseudonym).where(
        comments.c.first_seen_at < cutoff, comments.c.purged_at.is_(None))).all()
    ids = [r.id for r in purged]
    texts = [r.text for r in purged]
    for chunk in _chunks(ids, 500):  # earlier versions may be quoted too
        texts += conn.execute(select(comment_revisions.c.text).where(
            comment_revisions.c.comment_id.in_(chunk))).scalars().all()
    scrub_outbox(conn, cutoff, texts, [r.author_pseudonym for r in purged])
    for chunk in _chunks(ids, 500):
        conn.execute(update(comments).where(comments.c.id.in_(chunk)).values(
            text=None, author_name=None, author_pseudonym=None, purged_at=now or utcnow(),
            needs_scoring=False))
        conn.execute(comment_revisions.delete().where(comment_revisions.c.comment_id.in_(chunk)))
        conn.execute(slur_occurrences.update().where(slur_occurrences.c.comment_id.in_(chunk))
                     .values(term=slur_occurrences.c.normalized))
    return len(ids)


def latest_scores_query() -> Any:
    """Comments joined with their most recent score (any model), for export and aggregation."""
    ranked = select(scores, func.row_number().over(
        partition_by=scores.c.comment_id,
        order_by=(scores.c.scored_at.desc(), scores.c.id.desc())).label("rank")).subquery()
    latest = select(ranked).where(ranked.c.rank == 1).subquery()
    return (select(
        sources.c.name.label("source"), articles.c.url.label("article_url"),
        articles.c.title.label("article_title"), comments.c.id, comments.c.external_id,
        comments.c.parent_external_id, comments.c.author_pseudonym, comments.c.author_name,
        comments.c.text, comments.c.url, comments.c.published_at, comments.c.first_seen_at,
        comments.c.updated_at, comments.c.edit_count, comments.c.deleted_at,
        latest.c.lang, latest.c.toxicity, latest.c.toxic, latest.c.stance, latest.c.slurs,
        latest.c.model_version, latest.c.scored_at)
        .select_from(comments.join(sources, sources.c.id == comments.c.source_id)
                     .join(articles, articles.c.id == comments.c.article_id)
                     .outerjoin(latest, latest.c.comment_id == comments.c.id))
        .order_by(comments.c.id))
