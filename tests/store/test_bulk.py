"""Set-based writes: big pages in one call, the latest-score pointer and the change stamp, and the
migration that fills them for databases written before they existed."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import insert, select

from monitor.config import SourceConfig
from monitor.score.base import CommentScore
from monitor.store.db import _alembic_config, engine_for_url, upgrade
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, claim_pending, ensure_source,
                                mark_deleted, upsert_article, upsert_comments, write_scores)
from monitor.store.schema import articles, comments, scores, sources

PRIVACY = Privacy(secret=b"test-secret")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def _page(n: int, prefix: str = "text") -> list[CommentRecord]:
    return [CommentRecord(external_id=f"c{i}", text=f"{prefix} {i}", author=f"r{i % 50}", published_at=T0)
            for i in range(n)]


def _article(conn):
    source_id = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
    return source_id, upsert_article(conn, source_id, ArticleRecord("p1", "https://blog.example/p1", "T", T0))


def test_a_page_larger_than_one_statement_is_stored_and_tracked(engine):
    # 12,000 comments: more rows than one statement may carry parameters for on SQLite.
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        first = upsert_comments(conn, source_id, article_id, _page(12_000), privacy=PRIVACY)
        page = _page(12_000)
        page[7] = CommentRecord("c7", "edited seven", "r7", published_at=T0)
        again = upsert_comments(conn, source_id, article_id, page, privacy=PRIVACY)
        deleted = mark_deleted(conn, article_id, [c.external_id for c in page[:-100]])
        back = upsert_comments(conn, source_id, article_id, page, privacy=PRIVACY)
        count = conn.execute(select(articles.c.comment_count)).scalar_one()
    assert first.new == 12_000
    assert (again.new, again.updated, again.unchanged) == (0, 1, 11_999)
    assert deleted == 100 and back.restored == 100 and count == 12_000


def _score(model: str, toxicity: float) -> CommentScore:
    return CommentScore(None, "de", toxicity, toxicity >= 0.5, model, {}, {}, [])


def test_the_latest_score_pointer_follows_every_write(engine):
    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _page(3), privacy=PRIVACY)
        pending = claim_pending(conn, 10)
        write_scores(conn, [(p, _score("old-model", 0.1)) for p in pending])
        write_scores(conn, [(p, _score("new-model", 0.9)) for p in pending[:2]])
        latest = dict(conn.execute(
            select(comments.c.external_id, scores.c.model_version)
            .join(scores, scores.c.id == comments.c.score_id)).all())
    assert latest == {"c0": "new-model", "c1": "new-model", "c2": "old-model"}


def test_every_change_raises_the_change_stamp(engine):
    def stamps(conn) -> dict[str, int]:
        return dict(conn.execute(select(comments.c.external_id, comments.c.change_seq)).all())

    with engine.begin() as conn:
        source_id, article_id = _article(conn)
        upsert_comments(conn, source_id, article_id, _page(3), privacy=PRIVACY)
    with engine.begin() as conn:
        before = stamps(conn)
        upsert_comments(conn, source_id, article_id, _page(3), privacy=PRIVACY)  # unchanged
        assert stamps(conn) == before
    with engine.begin() as conn:
        page = _page(3)
        page[1] = CommentRecord("c1", "edited", "r1", published_at=T0)
        upsert_comments(conn, source_id, article_id, page, privacy=PRIVACY)
    with engine.begin() as conn:
        edited = stamps(conn)
        write_scores(conn, [(p, _score("m", 0.2)) for p in claim_pending(conn, 1)])
    with engine.begin() as conn:
        scored = stamps(conn)
    assert edited["c1"] > max(before.values()) and edited["c0"] == before["c0"]
    assert scored["c0"] > before["c0"] and scored["c2"] == before["c2"]


def test_upgrade_fills_the_pointer_for_existing_scores(tmp_path):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(_alembic_config(engine), "0001")
    with engine.begin() as conn:
        source_id = conn.execute(insert(sources).values(name="s", platform="wordpress", url="https://s",
                                                        created_at=T0, state={})).inserted_primary_key[0]
        article_id = conn.execute(insert(articles).values(
            source_id=source_id, external_id="a", url="https://s/a", discovered_at=T0, comment_count=0,
            state={})).inserted_primary_key[0]
        conn.exec_driver_sql(
            "INSERT INTO comments (source_id, article_id, external_id, text, content_hash, first_seen_at, "
            f"updated_at, edit_count, needs_scoring) VALUES ({source_id}, {article_id}, 'c', 't', 'h', "
            "'2026-11-01 12:00:00.000000', '2026-11-01 12:00:00.000000', 0, 0)")
        comment_id = conn.exec_driver_sql("SELECT id FROM comments").scalar_one()
        for model, stamp in (("newer", "2026-11-02 12:00:00.000000"), ("older", "2026-11-01 13:00:00.000000")):
            conn.exec_driver_sql(
                "INSERT INTO scores (comment_id, model_version, content_hash, lang, toxicity, toxic, "
                f"attributes, stance, slurs, scored_at) VALUES ({comment_id}, '{model}', 'h', 'de', 0.5, 0, "
                f"'{{}}', '{{}}', '[]', '{stamp}')")
    upgrade(engine)
    with engine.connect() as conn:
        latest = conn.execute(select(scores.c.model_version)
                              .join(comments, comments.c.score_id == scores.c.id)).scalar_one()
    assert latest == "newer"
