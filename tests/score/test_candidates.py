"""Candidate statistics over stored comments, and accepting or rejecting a coinage."""

from __future__ import annotations

import itertools
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import Engine, insert, select

from monitor.errors import InputError
from monitor.score.base import CommentScore
from monitor.score.candidates import accept, list_candidates, reject, update_candidates
from monitor.score.lexicon import load_lexicon
from monitor.score.slurs import LexiconSlurDetector
from monitor.store.db import engine_for_url
from monitor.store.repo import PendingComment, write_scores
from monitor.store.schema import articles, comments, metadata, slur_candidates, sources

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "lexicon"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def lexicon_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicon"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'monitor.db'}")
    metadata.create_all(engine)
    return engine


@pytest.fixture
def post(engine: Engine, lexicon_dir: Path) -> Callable[..., int]:
    """Store a comment, find its slurs with discovery only, and write its score like the worker."""
    detector = LexiconSlurDetector(load_lexicon(lexicon_dir), use_lexicon=False)
    counter = itertools.count(1)
    with engine.begin() as conn:
        source_id = conn.execute(insert(sources).values(
            name="blog", platform="wordpress", url="https://blog.example", created_at=NOW,
            state={})).inserted_primary_key[0]

    def add(text: str, *, author: str, article: str = "a1", at: datetime, toxic: bool = False) -> int:
        n = next(counter)
        with engine.begin() as conn:
            article_id = conn.execute(select(articles.c.id).where(
                articles.c.external_id == article)).scalar()
            if article_id is None:
                article_id = conn.execute(insert(articles).values(
                    source_id=source_id, external_id=article, url=f"https://blog.example/{article}",
                    discovered_at=at, comment_count=0, state={})).inserted_primary_key[0]
            comment_id = conn.execute(insert(comments).values(
                source_id=source_id, article_id=article_id, external_id=f"c{n}",
                author_pseudonym=author, text=text, content_hash=f"h{n}", published_at=at,
                first_seen_at=at, updated_at=at, edit_count=0, needs_scoring=True)
            ).inserted_primary_key[0]
            score = CommentScore(id=comment_id, lang="de", toxicity=0.9 if toxic else 0.1,
                                 toxic=toxic, model="test-1",
                                 slurs=detector.find(text, "de"))
            write_scores(conn, [(PendingComment(comment_id, text, f"h{n}"), score)])
        return comment_id

    return add


def test_spreading_coinage_rises_above_one_authors_repetition(engine, post) -> None:
    # "Natoflop" (never listed anywhere) is repeated by one author, long ago;
    # "NATOD" spreads today among many authors and articles.
    for i in range(6):
        post(f"Die Natoknechte schon wieder, Teil {i}", author="same", at=NOW - timedelta(days=5))
    for i in range(5):
        post(f"Die NATOD lügt {i}", author=f"p{i}", article=f"a{i % 3}", at=NOW - timedelta(hours=i),
             toxic=i % 2 == 0)
    assert update_candidates(engine, now=NOW) == 2
    top, second = list_candidates(engine, limit=10)
    assert (top["normalized"], top["term"], top["target"]) == ("natod", "NATOD", "nato")
    assert (top["count"], top["distinct_authors"], top["articles"], top["toxic_count"]) == (5, 5, 3, 3)
    assert top["growth"] > 1
    assert second["normalized"] == "natoknechte" and second["distinct_authors"] == 1
    assert any("NATOD" in example for example in top["examples"])
    assert top["first_seen"] == NOW - timedelta(hours=4)


def test_lexicon_hits_and_clean_comments_are_no_candidates(engine, post) -> None:
    post("Die Natostaaten beraten in Brüssel.", author="a", at=NOW)
    assert update_candidates(engine, now=NOW) == 0
    assert list_candidates(engine) == []


def test_since_limits_the_update_to_terms_scored_since(engine, post) -> None:
    post("Die NATOD!", author="a", at=NOW - timedelta(days=3))
    between = datetime.now(timezone.utc)
    post("Russenpack!", author="b", at=NOW)
    assert update_candidates(engine, since=between, now=NOW) == 1
    assert [r["normalized"] for r in list_candidates(engine)] == ["russenpack"]


def test_rejected_term_is_not_proposed_again(engine, post) -> None:
    post("Die NATOD!", author="a", at=NOW)
    update_candidates(engine, now=NOW)
    reject(engine, "NATOD")
    post("Die NATOD schon wieder!", author="b", at=NOW)
    update_candidates(engine, now=NOW)
    assert list_candidates(engine) == []
    [row] = list_candidates(engine, status="rejected")
    assert row["count"] == 2


def test_rejecting_an_unseen_term_keeps_it_out_later(engine, post) -> None:
    reject(engine, "Natostan")
    post("Willkommen in Natostan", author="a", at=NOW)
    update_candidates(engine, now=NOW)
    assert [r["normalized"] for r in list_candidates(engine)] == []


def test_accept_appends_to_the_lexicon_and_the_lexicon_then_finds_it(engine, post,
                                                                     lexicon_dir) -> None:
    post("So ein Natoflopp", author="a", at=NOW)  # not found by discovery: no morpheme
    entry = accept(engine, lexicon_dir, "Natoflopp", "nato", severity=1, note="seen in threads")
    assert entry.target == "nato"
    assert (lexicon_dir / "accepted.toml").is_file()
    detector = LexiconSlurDetector(load_lexicon(lexicon_dir))
    [hit] = detector.find("Wieder dieser Natoflopp", "de")
    assert (hit.term, hit.target, hit.kind) == ("Natoflopp", "nato", "lexicon")
    with engine.connect() as conn:
        status = conn.execute(select(slur_candidates.c.status).where(
            slur_candidates.c.normalized == "natoflopp")).scalar()
    assert status == "accepted"


def test_accept_refuses_unknown_targets_and_duplicates(engine, lexicon_dir) -> None:
    with pytest.raises(InputError, match="unknown target 'mars'.*nato"):
        accept(engine, lexicon_dir, "Natoflopp", "mars")
    with pytest.raises(InputError, match="already in the lexicon"):
        accept(engine, lexicon_dir, "NATOD", "nato")
    assert not (lexicon_dir / "accepted.toml").exists()


def test_coinages_on_productive_parts_are_proposed_with_the_target_they_hit(engine, post,
                                                                            lexicon_dir) -> None:
    # Neither word is in any lexicon file: the target comes from the part or from the head.
    for i in range(3):
        post(f"Die Volksverdummer vom Staatsfunker, Teil {i}", author=f"p{i}", at=NOW)
        post(f"Укробандиты опять {i}", author=f"r{i}", at=NOW)
    update_candidates(engine, now=NOW)
    proposed = {c["normalized"]: c["target"] for c in list_candidates(engine, limit=10)}
    assert proposed == {"volksverdummer": "government", "staatsfunker": "media",
                        "укробандиты": "ukraine"}
    entry = accept(engine, lexicon_dir, "Volksverdummer", proposed["volksverdummer"])
    assert entry.target == "government"
    found = LexiconSlurDetector(load_lexicon(lexicon_dir)).find("Diese Volksverdummer!", "de")
    assert [(h.term, h.target, h.kind) for h in found] == [("Volksverdummer", "government",
                                                              "lexicon")]
