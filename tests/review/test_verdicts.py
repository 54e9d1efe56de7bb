"""Verdicts are stored with who and when, the newest counts, and training reads the judged text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from monitor.errors import InputError
from monitor.review.verdicts import (VERDICT_WEIGHT, LabelledText, load_verdicts, stance_labels,
                                     toxicity_labels)
from monitor.store.repo import purge_older_than
from monitor.store.schema import comment_revisions, comments, verdicts
from monitor.store.verdicts import Verdict, latest_verdicts, record_verdicts
from tests.review.conftest import T0


def test_many_verdicts_are_written_in_one_call_with_reviewer_and_time(engine, scored):
    with engine.begin() as conn:
        n = record_verdicts(conn, [Verdict(scored["near"], "toxicity", "not"),
                                   Verdict(scored["toxic_favor"], "stance:russia", "against"),
                                   Verdict(scored["slur_quiet"], "slur:kremlbot", "yes")],
                            "alice", at=T0)
    with engine.connect() as conn:
        stored = latest_verdicts(conn)
    assert n == 3
    assert [(v.comment_id, v.kind, v.value, v.reviewer, v.created_at) for v in stored] == sorted([
        (scored["near"], "toxicity", "not", "alice", T0),
        (scored["toxic_favor"], "stance:russia", "against", "alice", T0),
        (scored["slur_quiet"], "slur:kremlbot", "yes", "alice", T0)])


def test_the_newest_verdict_counts_and_the_history_stays(engine, scored):
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "toxic")], "alice", at=T0)
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "not")], "bob",
                        at=T0 + timedelta(minutes=5))
    with engine.connect() as conn:
        stored = latest_verdicts(conn, [scored["near"]])
        history = conn.execute(select(func.count()).select_from(verdicts)).scalar_one()
    assert [(v.value, v.reviewer) for v in stored] == [("not", "bob")]
    assert history == 2


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("toxicity", "maybe", "expected one of toxic, not"),
    ("stance:nato", "toxic", "expected one of favor, against, none"),
    ("stance", "favor", "stance:<target>"),
    ("slur:", "yes", "slur:<term>"),
    ("toxicity:x", "toxic", "unknown"),
    ("sentiment", "good", "unknown"),
])
def test_a_bad_kind_or_value_is_refused_and_nothing_is_written(engine, scored, kind, value, message):
    with pytest.raises(InputError, match=message), engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "not"),
                               Verdict(scored["near"], kind, value)], "alice")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(verdicts)).scalar_one() == 0


def test_a_verdict_on_an_unknown_comment_is_refused(engine, scored):
    with pytest.raises(InputError, match="no comment with id 999999"), engine.begin() as conn:
        record_verdicts(conn, [Verdict(999999, "toxicity", "not")], "alice")


def test_training_gets_the_judged_text_not_a_later_edit_and_skips_purged(engine, scored):
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "toxic"),
                               Verdict(scored["toxic_favor"], "stance:russia", "against"),
                               Verdict(scored["calm"], "toxicity", "not")], "alice", at=T0)
        # the "near" comment is edited after the verdict: its old text goes to the revisions
        old = conn.execute(select(comments.c.text, comments.c.content_hash)
                           .where(comments.c.id == scored["near"])).one()
        conn.execute(comment_revisions.insert().values(
            comment_id=scored["near"], content_hash=old.content_hash, text=old.text, seen_at=T0,
            replaced_at=T0))
        conn.execute(update(comments).where(comments.c.id == scored["near"])
                     .values(text="I take it back, sorry.", content_hash="edited"))
        # the "calm" comment passes retention (counted from collection): its text is gone
        conn.execute(update(comments).where(comments.c.id == scored["calm"])
                     .values(published_at=T0 - timedelta(days=400),
                             first_seen_at=T0 - timedelta(days=400)))
        purge_older_than(conn, timedelta(days=90), now=T0 + timedelta(days=1))
    labelled = load_verdicts(engine)
    assert sorted(labelled) == sorted([
        LabelledText("That is a rather stupid take.", "en", "toxicity", "toxic"),
        LabelledText("Russland führt einen brutalen Angriffskrieg, Putin gehört vor ein Gericht, "
                     "ihr Idioten", "en", "stance:russia", "against")])
    assert VERDICT_WEIGHT == 3.0


def test_verdicts_turn_into_the_trainers_labels(engine, scored):
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "not"),
                               Verdict(scored["toxic_favor"], "toxicity", "toxic"),
                               Verdict(scored["toxic_favor"], "stance:russia", "against"),
                               Verdict(scored["slur_quiet"], "slur:kremlbot", "yes")], "alice")
    rows = load_verdicts(engine)
    assert sorted(toxicity_labels(rows)) == sorted([
        ("That is a rather stupid take.", 0, "en"),
        ("Russland führt einen brutalen Angriffskrieg, Putin gehört vor ein Gericht, ihr Idioten", 1, "en")])
    assert stance_labels(rows) == {"russia": [(
        "Russland führt einen brutalen Angriffskrieg, Putin gehört vor ein Gericht, ihr Idioten",
        "against", "en")]}
