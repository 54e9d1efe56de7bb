"""The terminal app: keys record verdicts in the database; the drill-down reaches a comment's link."""

from __future__ import annotations

import asyncio

from rich.console import Console
from sqlalchemy import select

from monitor.review.app import ReviewApp, Selection, render_card
from monitor.review.queue import build_queue, comment_items
from monitor.store.schema import verdicts
from monitor.store.verdicts import Verdict, record_verdicts
from tests.helpers import comment_adder
from tests.review.conftest import T0, THRESHOLD

TARGETS = ["nato", "russia"]


def _app(engine, *, browse: bool = False, reviewer: str = "alice") -> ReviewApp:
    items = [] if browse else build_queue(engine, threshold=THRESHOLD, targets=TARGETS)
    return ReviewApp(engine, reviewer=reviewer, targets=TARGETS, threshold=THRESHOLD, items=items,
                     browse=browse)


def _stored(engine) -> list[tuple[int, str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(verdicts.c.comment_id, verdicts.c.kind, verdicts.c.value, verdicts.c.reviewer)
            .order_by(verdicts.c.id))]


def _press(app: ReviewApp, *keys: str, size: tuple[int, int] = (120, 40)) -> str:
    """Run the app headless, press the keys, return what the current screen's card shows."""
    async def go() -> str:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause()
            card = app.screen.query_one("#card")
            return str(card.render())
    return asyncio.run(go())


def test_one_key_per_verdict_lands_in_the_database(engine, scored):
    app = _app(engine, reviewer="moderator-7")
    # first comment: the NATO slur in a pro-NATO comment. Judge toxicity, stance toward russia
    # (target 2) and the slur; then the next comment is judged not toxic.
    card = _press(app, "t", "2", "o", "y", "j", "n")
    assert _stored(engine) == [
        (scored["slur_vs_stance"], "toxicity", "toxic", "moderator-7"),
        (scored["slur_vs_stance"], "stance:russia", "none", "moderator-7"),
        # the normalised form the scorer stored (the test helper stores the term as written)
        (scored["slur_vs_stance"], "slur:Natoschwein", "yes", "moderator-7"),
        (scored["toxic_favor"], "toxicity", "not", "moderator-7"),
    ]
    assert app.recorded == 4
    assert "2/7" in card and "✓ you: not" in card


def test_stance_keys_apply_to_the_chosen_target(engine, scored):
    app = _app(engine)
    _press(app, "j", "f", "2", "a", "x")  # toxic_favor comment: no slur, so x records nothing
    assert _stored(engine) == [(scored["toxic_favor"], "stance:nato", "favor", "alice"),
                               (scored["toxic_favor"], "stance:russia", "against", "alice")]


def test_going_back_shows_the_verdict_already_given(engine, scored):
    app = _app(engine)
    card = _press(app, "t", "j", "k")
    assert "1/7" in card and "✓ you: toxic" in card


def test_an_empty_queue_says_so(engine):
    app = ReviewApp(engine, reviewer="alice", targets=TARGETS, threshold=THRESHOLD, items=[])
    assert "nothing to review" in _press(app, "t")
    assert _stored(engine) == []


def test_browse_drills_from_source_to_comment_and_shows_its_link(engine, scored):
    app = _app(engine, browse=True)

    async def go() -> tuple[str, str]:
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            # sources are listed most-toxic-first: daily (3 toxic) before weekly (1)
            await pilot.press("down", "enter")  # open daily
            await pilot.pause()
            await pilot.press("down", "enter")  # open its article
            await pilot.pause()
            await pilot.press("down")  # the article's most toxic comment
            await pilot.pause()
            card = str(app.screen.query_one("#card").render())
            await pilot.press("r", "t")  # review it from here
            await pilot.pause()
            return card, str(app.screen.query_one("#card").render())

    browse_card, review_card = asyncio.run(go())
    assert "https://daily.example/a1" in browse_card and "0.93" in browse_card
    assert "comment 1/1" in review_card
    assert _stored(engine) == [(scored["toxic_favor"], "toxicity", "toxic", "alice")]


def test_hostile_comment_text_is_shown_literally(engine):
    hostile = "[bold red]fake[/] \x1b[2J\x1b]8;;http://evil\x07click\x1b]8;;\x07 \u202edesrever"
    comment_adder(engine)(at=T0, toxicity=0.5, text=hostile)
    app = _app(engine)

    async def go() -> str:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            return str(app.screen.query_one("#text").render())

    shown = asyncio.run(go())
    assert "[bold red]fake[/]" in shown
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown


def test_card_renders_without_markup_interpretation():
    from datetime import datetime, timezone

    from monitor.review.queue import QueueItem

    item = QueueItem(1, "[red]src", 1, "[link=x]t[/link]", "https://a.example/1", None,
                     "text", datetime(2026, 1, 1, tzinfo=timezone.utc), "de", 0.7, True,
                     {"nato": "favor"}, (("[b]x", "x", "nato", "coined"),), ("near_threshold",))
    console = Console(file=None, width=120, record=True, color_system=None)
    console.print(render_card(item, ["nato"], Selection(), threshold=0.5))
    text = console.export_text()
    assert "[red]src" in text and "[link=x]t[/link]" in text and "[b]x" in text


def test_another_reviewers_standing_verdict_is_shown_with_their_name(engine, scored):
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["slur_vs_stance"], "toxicity", "not")], "bob")
        item = comment_items(conn, [scored["slur_vs_stance"]])[0]
    # bob's verdict took the comment out of the queue; alice opens it from the drill-down
    assert scored["slur_vs_stance"] not in [i.comment_id for i in _app(engine).items]
    app = ReviewApp(engine, reviewer="alice", targets=TARGETS, threshold=THRESHOLD, items=[item])
    assert "✓ bob: not" in _press(app, "j")


def test_s_moves_the_slur_verdict_to_the_next_term(engine):
    add = comment_adder(engine)
    comment_id = add(at=T0, toxicity=0.45, slurs=[("Natoschwein", "coined"), ("Kremlbot", "coined")],
                     text="Natoschwein and Kremlbot alike.")
    app = ReviewApp(engine, reviewer="alice", targets=TARGETS, threshold=THRESHOLD,
                    items=build_queue(engine, threshold=THRESHOLD, targets=TARGETS))
    card = _press(app, "y", "s", "x")
    assert _stored(engine) == [(comment_id, "slur:Natoschwein", "yes", "alice"),
                               (comment_id, "slur:Kremlbot", "no", "alice")]
    assert "▸Kremlbot" in card


def test_escape_leaves_the_browser_for_the_queue(engine, scored):
    app = _app(engine)

    async def go() -> tuple[str, str]:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            await pilot.press("b")
            await pilot.pause()
            inside = type(app.screen).__name__
            await pilot.press("escape")
            await pilot.pause()
            return inside, type(app.screen).__name__

    assert asyncio.run(go()) == ("BrowseScreen", "ReviewScreen")
