"""The alert state machine and rule evaluation over aggregates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from monitor.alert import evaluate
from monitor.alert.rules import load_rules
from monitor.errors import RuleError
from monitor.store.schema import aggregates, alert_states

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def rules_from(tmp_path: Path, body: str):
    path = tmp_path / "r.toml"
    path.write_text("[[groups]]\nname = \"g\"\n\n[[groups.rules]]\n" + body)
    return load_rules([path])


def hourly(source: str, values: list[float], metric: str = "toxic_share", count: int = 50):
    return [{"window_s": 3600, "window_start": START + timedelta(hours=i), "scope": "source",
             "scope_key": source, "source": source, "comment_count": count,
             "metrics": {metric: v, "comment_count": count}} for i, v in enumerate(values)]


def test_pending_then_firing_after_for_then_resolved_after_keep_firing_for(tmp_path):
    rules = rules_from(tmp_path, 'alert = "Hot"\nexpr = "toxic_share > 0.4"\nfor = "10m"\n'
                                 'keep_firing_for = "20m"\n')
    # Hour 0 toxic, hour 1 calm.
    frame = evaluate.metrics_frame(hourly("s", [0.6, 0.1]))
    states: dict = {}
    seen = {}
    for minute in range(0, 100, 5):
        now = START + timedelta(minutes=minute)
        states = evaluate.step(states, rules, frame, now)
        [state] = states.values()
        seen[minute] = state.state
    assert seen[0] == "pending" and seen[5] == "pending" and seen[10] == "firing"
    assert seen[70] == "firing"  # last true at 55m; held by keep_firing_for (20m)
    assert seen[75] == "resolved"
    assert len(states) == 1  # one alert per rule and label set, however often evaluated


def test_pending_alert_that_stops_matching_goes_back_to_inactive(tmp_path):
    rules = rules_from(tmp_path, 'alert = "Hot"\nexpr = "toxic_share > 0.4"\nfor = "2h"\n')
    frame = evaluate.metrics_frame(hourly("s", [0.6, 0.1]))
    states = evaluate.step({}, rules, frame, START)
    states = evaluate.step(states, rules, frame, START + timedelta(hours=1))
    assert [s.state for s in states.values()] == ["inactive"]


def test_relative_rule_fires_only_for_the_source_above_its_own_median(tmp_path):
    rules = rules_from(tmp_path, 'alert = "Spike"\n'
                                 'expr = "toxic_share > 2 * median_over_time(toxic_share, \\"7d\\")"\n')
    week = 24 * 7
    frame = evaluate.metrics_frame(hourly("calm", [0.1] * week + [0.3])
                                   + hourly("rough", [0.25] * week + [0.3]))
    [sample] = evaluate.evaluate_rule(rules[0], frame, START + timedelta(hours=week, minutes=5))
    assert sample.labels["source"] == "calm"
    assert sample.value == pytest.approx(0.3) and sample.threshold == pytest.approx(0.2)


def test_min_comments_and_source_filter_keep_quiet_windows_out(tmp_path):
    rules = rules_from(tmp_path, 'alert = "Hot"\nexpr = "toxic_share > 0.4"\nmin_comments = 20\n'
                                 'sources = ["big"]\n')
    frame = evaluate.metrics_frame(hourly("small", [0.9], count=5) + hourly("big", [0.9], count=50)
                                   + hourly("other", [0.9], count=50))
    samples = evaluate.evaluate_rule(rules[0], frame, START + timedelta(minutes=1))
    assert [s.labels["source"] for s in samples] == ["big"]


def test_velocity_far_above_normal_uses_mean_plus_stddev(tmp_path):
    rules = rules_from(tmp_path, 'alert = "Burst"\nexpr = "comments_per_hour > avg_over_time(comments_per_hour, '
                                 '\\"1d\\") + 3 * stddev_over_time(comments_per_hour, \\"1d\\")"\n')
    normal = [10.0, 14.0] * 12
    frame = evaluate.metrics_frame(hourly("s", normal + [16.0], metric="comments_per_hour")
                                   + hourly("t", normal + [60.0], metric="comments_per_hour"))
    samples = evaluate.evaluate_rule(rules[0], frame, START + timedelta(hours=24, minutes=30))
    assert [s.labels["source"] for s in samples] == ["t"]


def test_run_stores_one_row_per_alert_and_reports_counts(engine, config, rules_dir):
    (rules_dir / "r.toml").write_text('[[groups]]\nname = "g"\n\n[[groups.rules]]\nalert = "Hot"\n'
                                      'expr = "toxic_share > 0.4"\nfor = "5m"\n')
    with engine.begin() as conn:
        conn.execute(insert(aggregates), [{**row, "computed_at": START} for row in
                                          hourly("a", [0.9]) + hourly("b", [0.9]) + hourly("c", [0.1])])
    first = evaluate.run(engine, config, now=START + timedelta(minutes=1))
    second = evaluate.run(engine, config, now=START + timedelta(minutes=7))
    assert (first.pending, first.firing) == (2, 0)
    assert (second.pending, second.firing) == (0, 2)
    with engine.connect() as conn:
        rows = conn.execute(select(alert_states.c.state, alert_states.c.labels)).all()
    assert sorted(r.labels["source"] for r in rows) == ["a", "b"]
    assert {r.state for r in rows} == {"firing"}


def test_run_with_a_broken_rule_file_names_file_and_line(engine, config, rules_dir):
    (rules_dir / "r.toml").write_text('[[groups]]\nname = "g"\n\n[[groups.rules]]\nalert = "Hot"\n'
                                      'expr = "toxic_share >"\n')
    with pytest.raises(RuleError) as err:
        evaluate.run(engine, config, now=START)
    assert f"{rules_dir / 'r.toml'}:6: group 'g': rule 'Hot': field 'expr'" in str(err.value)
