"""Fixtures for review tests: a scored database whose comments each stand for one queue reason."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from sqlalchemy import Engine, insert

from monitor.store.schema import slur_candidates, slur_occurrences
from tests.helpers import comment_adder

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
THRESHOLD = 0.5


def add_slur(engine: Engine, comment_id: int, term: str, target: str, kind: str = "coined") -> None:
    """A slur occurrence as the scorer records it (the span table the queue reads)."""
    with engine.begin() as conn:
        conn.execute(insert(slur_occurrences).values(
            comment_id=comment_id, term=term, normalized=term.lower(), target=target, kind=kind,
            start=0, end=len(term), seen_at=T0))


@pytest.fixture
def scored(engine: Engine) -> dict[str, Any]:
    """Comments named by what makes them worth a look; returns their ids (and `add`)."""
    add: Callable[..., int] = comment_adder(engine)
    at = T0
    ids: dict[str, Any] = {"add": add}
    ids["calm"] = add(at=at, toxicity=0.05, text="Thanks for the article.")
    ids["near"] = add(at=at, toxicity=0.52, text="That is a rather stupid take.")
    ids["nearer"] = add(at=at, toxicity=0.49, text="Borderline remark, hard to say.")
    ids["toxic_favor"] = add(at=at, toxicity=0.93, stance={"russia": "favor"},
                             text="Russland führt einen brutalen Angriffskrieg, Putin gehört vor ein Gericht, ihr Idioten")
    ids["slur_vs_stance"] = add(at=at, toxicity=0.8, stance={"nato": "favor"},
                                slurs=[("Natoschwein", "coined")], text="Natoschwein, but NATO is right.")
    add_slur(engine, ids["slur_vs_stance"], "Natoschwein", "nato")
    ids["slur_quiet"] = add(at=at + timedelta(minutes=1), toxicity=0.1,
                            slurs=[("Kremlbot", "coined")], text="Typical Kremlbot talking points.")
    add_slur(engine, ids["slur_quiet"], "Kremlbot", "russia")
    ids["worst_other"] = add(source="weekly", article="w1", at=at, toxicity=0.99,
                             text="You are all scum.")
    ids["mild_other"] = add(source="weekly", article="w1", at=at, toxicity=0.2, text="Fine piece.")
    ids["rejected_coinage"] = add(at=at, toxicity=0.2, slurs=[("Wortspiel", "coined")],
                                  text="A harmless Wortspiel.")
    add_slur(engine, ids["rejected_coinage"], "Wortspiel", "eu")
    with engine.begin() as conn:
        conn.execute(insert(slur_candidates).values(
            normalized="wortspiel", term="Wortspiel", target="eu", first_seen=at, last_seen=at,
            count=1, distinct_authors=1, articles=1, toxic_count=0, growth=0.0, score=0.0,
            status="rejected", examples=[], updated_at=at))
    return ids
