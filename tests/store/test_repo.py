"""Storage behaviour on SQLite and PostgreSQL: idempotent upserts, edit history, deletions, privacy."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from monitor.config import SourceConfig
from monitor.score.base import CommentScore, SlurHit, StanceResult
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, claim_pending, ensure_source,
                                mark_deleted, pseudonymise, purge_older_than, source_status,
                                upsert_article, upsert_comments, write_scores)
from monitor.store.schema import comment_revisions, comments, scores, slur_occurrences

PRIVACY = Privacy(secret=b"test-secret")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def _article(conn):
    source_id = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
    article_id = upsert_article(conn, source_id, ArticleRecord("post-1", "https://blog.example/p1",
                                                               "Title", T0))
    return source_id, article_id


def _comments(*texts: str) -> list[CommentRecord]:
    return [CommentRecord(external_id=f"c{i}", text=t, author=f"Reader {i}", published_at=T0)
            for i, t in enumerate(texts)]


def test_rerun_writes_nothing_twice(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        first = upsert_comments(conn, source_id, article_id, _comments("eins", "zwei"), privacy=PRIVACY)
        again = upsert_comments(conn, source_id, article_id, _comments("eins", "zwei"), privacy=PRIVACY)
        # the same source and article again resolve to the same rows
        assert _article(conn) == (source_id, article_id)
        n = conn.execute(select(func.count()).select_from(comments)).scalar_one()
    assert (first.new, again.new, again.unchanged, again.updated) == (2, 0, 2, 0)
    assert n == 2


def test_edit_updates_text_and_keeps_the_old_revision(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("original words"), privacy=PRIVACY)
        stats = upsert_comments(conn, source_id, article_id, _comments("edited words"), privacy=PRIVACY)
        row = conn.execute(select(comments)).one()
        history = conn.execute(select(comment_revisions.c.text)).scalars().all()
    assert stats.updated == 1
    assert row.text == "edited words" and row.edit_count == 1 and row.needs_scoring
    assert history == ["original words"]


def test_whitespace_only_change_is_not_an_edit(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("a  b"), privacy=PRIVACY)
        stats = upsert_comments(conn, source_id, article_id, _comments(" a b\n"), privacy=PRIVACY)
    assert stats.unchanged == 1 and stats.updated == 0


def test_vanished_comment_is_marked_deleted_not_removed_and_can_return(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("stays", "goes"), privacy=PRIVACY)
        gone = mark_deleted(conn, article_id, ["c0"])
        deleted = conn.execute(select(comments.c.external_id).where(comments.c.deleted_at.is_not(None))).scalars().all()
        back = upsert_comments(conn, source_id, article_id, _comments("stays", "goes"), privacy=PRIVACY)
        still_deleted = conn.execute(select(func.count()).select_from(comments)
                                     .where(comments.c.deleted_at.is_not(None))).scalar_one()
    assert gone == 1 and deleted == ["c1"]
    assert back.restored == 1 and still_deleted == 0


def test_authors_are_pseudonymous_unless_names_are_enabled(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("x"), privacy=PRIVACY)
        row = conn.execute(select(comments.c.author_pseudonym, comments.c.author_name)).one()
    assert row.author_name is None
    assert row.author_pseudonym == pseudonymise(b"test-secret", "reader 0")
    assert "Reader" not in row.author_pseudonym
    assert pseudonymise(b"other-secret", "Reader 0") != row.author_pseudonym


def test_names_stored_when_privacy_allows(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("x"),
                        privacy=Privacy(b"k", store_author_names=True))
        assert conn.execute(select(comments.c.author_name)).scalar_one() == "Reader 0"


def _score(model: str = "builtin-1") -> CommentScore:
    return CommentScore(id=None, lang="de", toxicity=0.9, toxic=True, model=model,
                        stance={"nato": StanceResult("against", 0.8)},
                        slurs=[SlurHit("NATOD", "natod", "nato", "coined", 4, 9)])


def test_scores_are_written_once_per_comment_and_model_version(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("Der NATOD", "zwei"), privacy=PRIVACY)
        pending = claim_pending(conn, 10)
        write_scores(conn, [(p, _score()) for p in pending])
        write_scores(conn, [(p, _score()) for p in pending])  # a retry after a crash
        left = claim_pending(conn, 10)
        n_scores = conn.execute(select(func.count()).select_from(scores)).scalar_one()
        n_slurs = conn.execute(select(func.count()).select_from(slur_occurrences)).scalar_one()
        stance = conn.execute(select(scores.c.stance)).scalars().first()
    assert len(pending) == 2 and left == []
    assert n_scores == 2 and n_slurs == 2
    assert stance == {"nato": {"label": "against", "score": 0.8}}


def test_edited_comment_goes_back_to_the_scoring_queue(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("first"), privacy=PRIVACY)
        write_scores(conn, [(p, _score()) for p in claim_pending(conn, 10)])
        upsert_comments(conn, source_id, article_id, _comments("second"), privacy=PRIVACY)
        again = claim_pending(conn, 10)
    assert [p.text for p in again] == ["second"]


def test_purge_blanks_text_and_pseudonyms_but_keeps_scores(engine):
    now = T0 + timedelta(days=100)
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        old = CommentRecord("old", "old text", "A", published_at=T0)
        new = CommentRecord("new", "new text", "B", published_at=now - timedelta(days=1))
        # Retention counts from collection: "old" was collected 100 days ago, "new" yesterday.
        upsert_comments(conn, source_id, article_id, [old], seen_at=T0, privacy=PRIVACY)
        upsert_comments(conn, source_id, article_id, [new], seen_at=now - timedelta(days=1), privacy=PRIVACY)
        write_scores(conn, [(p, _score()) for p in claim_pending(conn, 10)])
        n = purge_older_than(conn, timedelta(days=90), now=now)
        rows = {r.external_id: r for r in conn.execute(select(comments))}
        n_scores = conn.execute(select(func.count()).select_from(scores)).scalar_one()
        # a purged comment seen again on its page does not get its text back
        upsert_comments(conn, source_id, article_id, [old], privacy=PRIVACY)
        assert conn.execute(select(comments.c.text).where(comments.c.external_id == "old")).scalar_one() is None
    assert n == 1
    assert rows["old"].text is None and rows["old"].author_pseudonym is None
    assert rows["new"].text == "new text"
    assert n_scores == 2


def test_status_counts_per_source(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _comments("a", "b", "c"), privacy=PRIVACY)
        mark_deleted(conn, article_id, ["c0", "c1"])
        (row,) = source_status(conn)
    assert (row["name"], row["comments"], row["deleted"], row["pending"], row["articles"]) == \
        ("blog", 3, 1, 3, 1)
