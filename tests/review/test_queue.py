"""The queue shows contradictions first, then unjudged coinages, borderline scores and each
source's worst; judged comments leave it until their text changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, update

from monitor.review.queue import build_queue
from monitor.store.schema import comments, scores
from monitor.store.verdicts import Verdict, record_verdicts
from tests.review.conftest import T0, THRESHOLD, add_slur

TARGETS = ["eu", "nato", "russia", "ukraine", "usa"]


def _queue(engine, **kwargs):
    return build_queue(engine, threshold=THRESHOLD, targets=TARGETS, **kwargs)


def test_queue_order_follows_the_most_urgent_reason(engine, scored):
    queue = _queue(engine)
    names = {v: k for k, v in scored.items() if k != "add"}
    assert [names[item.comment_id] for item in queue] == [
        "slur_vs_stance",  # a slur against NATO in a comment scored as favouring NATO
        "toxic_favor",  # toxic yet favouring Russia
        "slur_quiet", "rejected_coinage",  # slurs scored far below the threshold, lowest first
        "nearer", "near",  # closest to the threshold first
        "worst_other",  # the other source's most toxic comment
    ]
    first = queue[0]
    assert first.reasons == ("slur_vs_stance", "toxic_favor", "new_coinage", "source_most_toxic")
    assert first.stance == {"nato": "favor"} and first.slurs[0][0] == "Natoschwein"
    assert first.link == "https://daily.example/a1" and first.source == "daily"


def test_a_rejected_coinage_is_not_new(engine, scored):
    coinage = {item.comment_id for item in _queue(engine) if "new_coinage" in item.reasons}
    assert coinage == {scored["slur_vs_stance"], scored["slur_quiet"]}


def test_a_judged_comment_leaves_the_queue_until_it_is_edited(engine, scored):
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["toxic_favor"], "stance:russia", "against")], "alice")
    assert scored["toxic_favor"] not in [item.comment_id for item in _queue(engine)]
    with engine.begin() as conn:
        conn.execute(update(comments).where(comments.c.id == scored["toxic_favor"])
                     .values(text="Edited: Putin gehört vor ein Gericht.", content_hash="new"))
    assert scored["toxic_favor"] in [item.comment_id for item in _queue(engine)]


def test_limit_and_source_narrow_the_queue(engine, scored):
    assert [item.comment_id for item in _queue(engine, limit=2)] == [scored["slur_vs_stance"],
                                                                     scored["toxic_favor"]]
    assert [item.comment_id for item in _queue(engine, source="weekly")] == [scored["worst_other"]]


def test_the_newest_score_decides(engine, scored):
    # scored again later by another model: now far from the threshold and not toxic
    with engine.begin() as conn:
        conn.execute(insert(scores).values(
            comment_id=scored["nearer"], model_version="test-2", content_hash="x", lang="en",
            toxicity=0.01, toxic=False, attributes={}, stance={}, slurs=[],
            scored_at=T0 + timedelta(hours=1)))
    assert scored["nearer"] not in [item.comment_id for item in _queue(engine)]


def test_once_a_sources_worst_are_judged_its_next_worst_comes_up(engine, scored):
    add = scored["add"]
    more = [add(source="weekly", article="w2", at=T0, toxicity=t, text=f"weekly {t}")
            for t in (0.95, 0.9, 0.85)]

    def weekly_worst():
        return [item.comment_id for item in _queue(engine, source="weekly")
                if "source_most_toxic" in item.reasons]

    assert weekly_worst() == [scored["worst_other"], more[0], more[1]]
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["worst_other"], "toxicity", "toxic")], "alice")
    assert weekly_worst() == [more[0], more[1], more[2]]


def test_a_term_given_a_slur_verdict_is_no_longer_new(engine, scored):
    add = scored["add"]
    again = add(at=T0, toxicity=0.3, slurs=[("Kremlbot", "coined")], text="Another Kremlbot.")
    add_slur(engine, again, "Kremlbot", "russia")
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["slur_quiet"], "slur:kremlbot", "yes")], "alice")
    coinage = {item.comment_id for item in _queue(engine) if "new_coinage" in item.reasons}
    assert coinage == {scored["slur_vs_stance"]}
