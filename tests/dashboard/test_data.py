"""load_snapshot: what a frame reads from the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from monitor.dashboard.data import load_snapshot
from monitor.store.repo import put_state
from monitor.store.schema import comments, scores


def test_sources_are_summarised_over_the_span_busiest_first(filled, config, now):
    snap = load_snapshot(filled, config, now)
    names = [s.name for s in snap.sources]
    assert names == ["tagesblick", "nordpost", "waldpost"]
    blick = snap.sources[0]
    assert blick.comments == 480 and blick.comments_per_hour == pytest.approx(20.0)
    assert blick.toxic_share == pytest.approx(0.3)  # the mean of a share rising from 0.1 to 0.5
    assert blick.toxic_trend[0] == pytest.approx(0.1) and blick.toxic_trend[-1] == pytest.approx(0.5)
    assert blick.stance["nato"] == pytest.approx((0.1, 0.6, 0.3))
    assert blick.slur_count == 6 and blick.top_slurs == ("panzerfreund",)
    wald = snap.sources[2]
    assert wald.comments == 0 and wald.toxic_share is None and wald.consecutive_failures == 3


def test_a_shorter_span_leaves_older_windows_out(filled, config, now):
    snap = load_snapshot(filled, config, now, span=timedelta(hours=2))
    blick = snap.sources[0]
    assert len(blick.toxic_trend) == 2 and blick.comments == 40
    assert [s.name for s in snap.sources if s.comments] == ["tagesblick", "nordpost"]


def test_only_firing_and_pending_alerts_firing_first(filled, config, now):
    snap = load_snapshot(filled, config, now)
    assert [(a.rule, a.state) for a in snap.alerts] == [
        ("community/ToxicShareHigh", "firing"), ("community/VolumeSpike", "pending")]
    assert snap.alerts[0].since == now - timedelta(minutes=12)


def test_coinages_awaiting_review_best_ranked_first(filled, config, now):
    snap = load_snapshot(filled, config, now)
    assert [(c.term, c.count) for c in snap.coinages] == [("Panzerfreund", 17),
                                                          ("[red]Kreml\x1b[2Jknecht", 11)]


def test_toxic_comments_use_the_latest_score_and_skip_deleted_ones(filled, config, now):
    snap = load_snapshot(filled, config, now)
    assert [round(c.toxicity, 2) for c in snap.toxic_comments] == [0.93, 0.88, 0.71]
    assert all(c.author and c.author.startswith("a-") for c in snap.toxic_comments)
    with filled.begin() as conn:
        first = conn.execute(comments.select().where(comments.c.external_id == "t1")).one()
        conn.execute(scores.insert().values(
            comment_id=first.id, model_version="newer-model", content_hash=first.content_hash,
            lang="de", toxicity=0.2, toxic=False, attributes={}, stance={}, slurs=[],
            scored_at=now + timedelta(seconds=5)))
        conn.execute(update(comments).where(comments.c.external_id == "n2")
                     .values(deleted_at=now))
    snap = load_snapshot(filled, config, now)
    assert [round(c.toxicity, 2) for c in snap.toxic_comments] == [0.88]


def test_a_source_view_narrows_sources_alerts_and_comments(filled, config, now):
    snap = load_snapshot(filled, config, now, source="nordpost")
    assert [s.name for s in snap.sources] == ["nordpost"] and snap.sources[0].comments == 4
    assert [a.rule for a in snap.alerts] == ["community/VolumeSpike"]
    assert [c.source for c in snap.toxic_comments] == ["nordpost"]
    assert len(snap.coinages) == 2  # coinages are not per source


def test_daemon_state_turns_stale_without_heartbeat(filled, config, now):
    assert load_snapshot(filled, config, now).daemon.state == "running"
    assert load_snapshot(filled, config, now + timedelta(hours=1)).daemon.state == "stale"
    with filled.begin() as conn:
        put_state(conn, "daemon", {"state": "stopped", "pid": 4242, "heartbeat": now.isoformat()})
    assert load_snapshot(filled, config, now).daemon.state == "stopped"


def test_an_empty_database_gives_an_empty_snapshot(engine, config, now):
    snap = load_snapshot(engine, config, now)
    assert snap.sources == () and snap.alerts == () and snap.toxic_comments == ()
    assert snap.daemon.state == "unknown" and snap.last_collection is None
