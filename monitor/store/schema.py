"""The database tables (SQLAlchemy Core), shared by SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index,
                        Integer, MetaData, String, Table, Text, TypeDecorator, UniqueConstraint,
                        event)

__all__ = [
    "CHANGE_TRIGGERS",
    "UTCDateTime",
    "change_triggers",
    "next_change_seq",
    "aggregates",
    "alert_states",
    "articles",
    "collection_errors",
    "collection_runs",
    "comment_revisions",
    "comments",
    "metadata",
    "outbox",
    "scores",
    "silences",
    "slur_candidates",
    "slur_occurrences",
    "sources",
    "state",
    "verdicts",
]

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# SQLite has no 64-bit autoincrement type distinct from INTEGER; PostgreSQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware timestamps")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


sources = Table(
    "sources", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("platform", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("state", JSON, nullable=False, default=dict),  # platform cursors, detected platform …
)

articles = Table(
    "articles", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(512), nullable=False),  # platform post id, else the URL
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("published_at", UTCDateTime),
    Column("discovered_at", UTCDateTime, nullable=False),
    Column("last_checked_at", UTCDateTime),
    Column("next_check_at", UTCDateTime),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("comment_count", Integer, nullable=False, default=0),
    Column("state", JSON, nullable=False, default=dict),
    UniqueConstraint("source_id", "external_id"),
    Index("ix_articles_next_check", "source_id", "next_check_at"),
)

comments = Table(
    "comments", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(512), nullable=False),
    Column("parent_external_id", String(512)),
    Column("author_pseudonym", String(32)),  # keyed HMAC; None after retention purge
    Column("author_name", Text),  # only with privacy.store_author_names
    Column("text", Text),  # None after retention purge
    Column("content_hash", String(64), nullable=False),
    Column("url", Text),
    Column("published_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),  # last change of text or deletion state
    Column("edit_count", Integer, nullable=False, default=0),
    Column("deleted_at", UTCDateTime),  # set when the comment vanished from its page
    Column("purged_at", UTCDateTime),
    Column("needs_scoring", Boolean, nullable=False, default=True),
    # The latest score (any model), kept by a trigger on `scores`: readers join on it instead of
    # ranking every comment's scores.
    Column("score_id", Id),
    # Commit-ordered change stamp, kept by triggers (see CHANGE_TRIGGERS): aggregation's watermark.
    Column("change_seq", BigInteger),
    UniqueConstraint("source_id", "external_id"),
    Index("ix_comments_article", "article_id"),
    Index("ix_comments_published", "published_at"),
    Index("ix_comments_pending", "needs_scoring", "id"),
    Index("ix_comments_updated", "updated_at"),
    Index("ix_comments_change_seq", "change_seq"),
)

comment_revisions = Table(
    "comment_revisions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("comment_id", ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("text", Text),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("replaced_at", UTCDateTime, nullable=False),
    Index("ix_comment_revisions_comment", "comment_id"),
)

scores = Table(
    "scores", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("comment_id", ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("model_version", String(128), nullable=False),
    Column("content_hash", String(64), nullable=False),  # which text revision was scored
    Column("lang", String(8), nullable=False),
    Column("toxicity", Float, nullable=False),
    Column("toxic", Boolean, nullable=False),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("stance", JSON, nullable=False, default=dict),  # {"nato": {"label": …, "score": …}}
    Column("slurs", JSON, nullable=False, default=list),
    Column("scored_at", UTCDateTime, nullable=False),
    UniqueConstraint("comment_id", "model_version"),
    Index("ix_scores_scored_at", "scored_at"),
)

slur_occurrences = Table(
    "slur_occurrences", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("comment_id", ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("term", Text, nullable=False),  # as written
    Column("normalized", String(128), nullable=False),
    Column("target", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # lexicon | coined
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("comment_id", "start", "normalized"),
    Index("ix_slur_occurrences_normalized", "normalized"),
)

slur_candidates = Table(
    "slur_candidates", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("normalized", String(128), nullable=False, unique=True),
    Column("term", Text, nullable=False),  # most frequent spelling
    Column("target", String(64), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False, default=0),
    Column("distinct_authors", Integer, nullable=False, default=0),
    Column("articles", Integer, nullable=False, default=0),
    Column("toxic_count", Integer, nullable=False, default=0),
    Column("growth", Float, nullable=False, default=0.0),
    Column("score", Float, nullable=False, default=0.0),  # ranking for review
    Column("status", String(16), nullable=False, default="pending"),  # pending | accepted | rejected
    Column("examples", JSON, nullable=False, default=list),
    Column("updated_at", UTCDateTime, nullable=False),
)

aggregates = Table(
    "aggregates", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("window_s", Integer, nullable=False),  # window length in seconds
    Column("window_start", UTCDateTime, nullable=False),
    Column("scope", String(16), nullable=False),  # overall | source | article
    Column("scope_key", String(512), nullable=False),  # '' | source name | article id
    Column("source", String(64), nullable=False, default=""),
    Column("comment_count", Integer, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    UniqueConstraint("window_s", "window_start", "scope", "scope_key"),
    Index("ix_aggregates_lookup", "scope", "window_s", "window_start"),
)

alert_states = Table(
    "alert_states", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),  # hash of rule + labels
    Column("rule", String(256), nullable=False),  # group/name
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),  # inactive | pending | firing | resolved
    Column("value", Float),
    Column("active_since", UTCDateTime),
    Column("fired_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("last_true_at", UTCDateTime),
    Column("last_eval_at", UTCDateTime, nullable=False),
    Column("last_notified_at", UTCDateTime),
)

silences = Table(
    "silences", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("matchers", JSON, nullable=False),  # {"source": "x", …}
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("comment", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", String(255), nullable=False, unique=True),  # stable across retries
    Column("group_key", String(255), nullable=False),
    Column("receiver", String(64), nullable=False),  # alerts.receivers name, e.g. "email"
    Column("subject", Text, nullable=False),  # one line for `monitor alerts list`
    Column("payload", JSON, nullable=False),  # what the receiver sends; what is still to send
    Column("outcome", JSON),  # per target: delivered or the refusal; count of uncertain attempts
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

collection_runs = Table(
    "collection_runs", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False),  # running | ok | partial | failed
    Column("articles_checked", Integer, nullable=False, default=0),
    Column("comments_new", Integer, nullable=False, default=0),
    Column("comments_updated", Integer, nullable=False, default=0),
    Column("comments_deleted", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("error", Text),
    Index("ix_collection_runs_source", "source_id", "started_at"),
)

collection_errors = Table(
    "collection_errors", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("collection_runs.id", ondelete="CASCADE")),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text),
    Column("error", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Small key/value state: aggregation watermarks, daemon heartbeat, model versions in use.
state = Table(
    "state", metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A reviewer's verdict on one comment: appended, never updated; the newest per comment and kind
# counts. kind is "toxicity", "stance:<target>" or "slur:<term>"; content_hash says which text
# revision was judged, so an edited comment's old verdict is not applied to its new text.
verdicts = Table(
    "verdicts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("comment_id", ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("kind", String(192), nullable=False),
    Column("value", String(16), nullable=False),  # toxic|not, favor|against|none, yes|no
    Column("reviewer", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_verdicts_comment", "comment_id", "kind"),
    Index("ix_verdicts_created", "created_at"),
)

# --- triggers ------------------------------------------------------------------------------------
# Every writer (the repo, a test fixture, a hand-made import) keeps two columns of `comments` right:
# `change_seq`, which grows in commit order, so an aggregation tick reads exactly the comments
# changed since its last watermark, and `score_id`, the comment's latest score.
#
# SQLite has one writer at a time, so max(change_seq) + 1 taken inside the write transaction
# grows in commit order (comment rows are never deleted, which keeps the maximum from going back;
# deleting the newest ones by hand would call for `monitor aggregate --full`). PostgreSQL commits concurrent transactions in any order, so the stamp is
# the writing transaction's id; a reader keeps the oldest transaction still running when it read
# (pg_snapshot_xmin) and next time reads from there: late commits are caught, nothing else reread.
# On SQLite a bulk insert may give its rows the next stamp itself (`next_change_seq`), which spares
# a trigger update per row.
_CHANGED_COLUMNS = "text, content_hash, deleted_at, published_at, first_seen_at, author_pseudonym"
_NEWER_SCORE = ("EXISTS (SELECT 1 FROM scores s WHERE s.id = comments.score_id AND "
                "(s.scored_at > NEW.scored_at OR (s.scored_at = NEW.scored_at AND s.id > NEW.id)))")
_SQLITE_NEXT = "(SELECT coalesce(max(change_seq), 0) + 1 FROM comments)"

CHANGE_TRIGGERS: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS comments_stamp_insert AFTER INSERT ON comments "
        f"WHEN NEW.change_seq IS NULL BEGIN "
        f"UPDATE comments SET change_seq = {_SQLITE_NEXT} WHERE id = NEW.id; END",
        f"CREATE TRIGGER IF NOT EXISTS comments_stamp_update AFTER UPDATE OF {_CHANGED_COLUMNS} ON comments "
        f"BEGIN UPDATE comments SET change_seq = {_SQLITE_NEXT} WHERE id = NEW.id; END",
        *(f"CREATE TRIGGER IF NOT EXISTS scores_latest_{op.lower()} AFTER {op} ON scores BEGIN "
          f"UPDATE comments SET score_id = NEW.id, change_seq = {_SQLITE_NEXT} "
          f"WHERE id = NEW.comment_id AND (score_id IS NULL OR NOT {_NEWER_SCORE}); END"
          for op in ("INSERT", "UPDATE")),
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION monitor_comment_stamp() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.change_seq := pg_current_xact_id()::text::bigint; RETURN NEW; END $$",
        f"CREATE OR REPLACE TRIGGER comments_stamp BEFORE INSERT OR UPDATE OF {_CHANGED_COLUMNS}, score_id "
        "ON comments FOR EACH ROW EXECUTE FUNCTION monitor_comment_stamp()",
        "CREATE OR REPLACE FUNCTION monitor_score_latest() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN UPDATE comments SET score_id = NEW.id WHERE id = NEW.comment_id AND "
        f"(score_id IS NULL OR NOT {_NEWER_SCORE}); RETURN NULL; END $$",
        "CREATE OR REPLACE TRIGGER scores_latest AFTER INSERT OR UPDATE ON scores FOR EACH ROW "
        "EXECUTE FUNCTION monitor_score_latest()",
    ],
}


def next_change_seq(conn: Any) -> int | None:
    """On SQLite, the stamp for rows this write transaction inserts; None where triggers stamp."""
    if conn.dialect.name != "sqlite":
        return None
    return conn.exec_driver_sql(_SQLITE_NEXT[1:-1]).scalar_one()


def change_triggers(dialect: str) -> list[str]:
    """The trigger DDL for a dialect (used by the migration and by `metadata.create_all`)."""
    return CHANGE_TRIGGERS.get(dialect, [])


@event.listens_for(metadata, "after_create")
def _create_triggers(target: Any, connection: Any, **_: Any) -> None:
    if "scores" in target.tables and "comments" in target.tables:
        for ddl in change_triggers(connection.dialect.name):
            connection.exec_driver_sql(ddl)
