"""A metric is one entry in the metric table: a toy float metric registered there is loaded,
computed, stored and accepted by the rule checker as a float."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from monitor import aggregate
from monitor.aggregate import metrics
from monitor.alert.rules import check_files
from monitor.store.schema import aggregates

AT = datetime(2026, 3, 1, 10, 5, tzinfo=timezone.utc)


def _sarcastic(frame: pl.DataFrame, target: str) -> pl.Expr:
    return (pl.col("sarcasm") >= 0.5).fill_null(False).cast(pl.UInt8)


def _sarcasm_column():
    from monitor.store.schema import scores

    return scores.c.attributes["sarcasm"].as_float()


SARCASM = metrics.Metric(
    "sarcasm_share", "float", "share of comments a sarcasm scorer rates 0.5 or more",
    lambda g, target: g.sums["sarcastic"] / g.n, counts={"sarcastic": _sarcastic},
    inputs=(metrics.Input("sarcasm", "float", _sarcasm_column),))


@pytest.fixture
def with_sarcasm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "METRICS", (*metrics.METRICS, SARCASM))


def test_a_registered_float_metric_survives_compute_as_a_float(with_sarcasm):
    frame = aggregate.empty_frame(["nato"])
    assert frame.schema["sarcasm"] == pl.Float64
    rows = [{"comment_id": i, "ts": AT + timedelta(minutes=i), "source": "daily", "article": "a1",
             "author": f"p{i}", "toxicity": 0.1, "toxic": False, "lexicon_terms": [], "coined_terms": [],
             "stance_nato": None, "sarcasm": s} for i, s in enumerate([0.9, 0.1, 0.2])]
    frame = pl.DataFrame(rows, schema=frame.schema)

    out = aggregate.compute(frame, [timedelta(hours=1)], targets=["nato"])

    assert out.schema["sarcasm_share"] == pl.Float64
    assert out.filter(pl.col("scope") == "overall")["sarcasm_share"].to_list() == [pytest.approx(1 / 3)]
    assert out.columns[-1] == "stance_nato_none"  # metrics without a target first, then each target's


def test_a_registered_metric_is_read_from_the_database_and_stored(with_sarcasm, engine, config, add_comment):
    for sarcasm in (0.8, 0.1, None, 0.7):
        add_comment(at=AT, attributes={} if sarcasm is None else {"sarcasm": sarcasm})

    aggregate.run(engine, config, now=AT + timedelta(hours=1))

    with engine.connect() as conn:
        stored = conn.execute(select(aggregates.c.metrics).where(
            aggregates.c.scope == "overall", aggregates.c.window_s == 3600)).scalar_one()
    assert stored["sarcasm_share"] == 0.5
    assert stored["comment_count"] == 4


def test_a_full_run_reads_a_registered_metric_in_bulk_even_when_the_first_value_is_missing(
        with_sarcasm, engine, config, add_comment):
    # --full reads through connectorx, which types a SQLite expression by its first value.
    for sarcasm in (None, 0.8, 0.1, 0.7):
        add_comment(at=AT, attributes={} if sarcasm is None else {"sarcasm": sarcasm})

    with engine.connect() as conn:
        frame = aggregate.load_frame(conn, ["nato"])
    aggregate.run(engine, config, now=AT + timedelta(hours=1), full=True)

    assert frame.sort("comment_id")["sarcasm"].to_list() == [None, 0.8, 0.1, 0.7]
    with engine.connect() as conn:
        stored = conn.execute(select(aggregates.c.metrics).where(
            aggregates.c.scope == "overall", aggregates.c.window_s == 3600)).scalar_one()
    assert stored["sarcasm_share"] == 0.5


def test_the_rule_checker_knows_exactly_the_registered_metrics(tmp_path: Path, monkeypatch):
    path = tmp_path / "rules.toml"
    path.write_text('[[groups]]\nname = "g"\n\n[[groups.rules]]\nalert = "Irony"\n'
                    'expr = "sarcasm_share > 0.3"\nwindow = "1h"\n')
    _, problems = check_files([path])
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"{path}:6: group 'g': rule 'Irony': field 'expr': "
                                       "unknown metric 'sarcasm_share'")

    monkeypatch.setattr(metrics, "METRICS", (*metrics.METRICS, SARCASM))
    _, problems = check_files([path])
    assert problems == []


def test_list_metrics_are_not_numeric_and_every_metric_has_a_known_kind():
    names = metrics.numeric_metric_names(["nato"])
    assert "top_slurs" not in names and "stance_nato_none" in names and "comment_count" in names
    assert {m.kind for m in metrics.METRICS} <= {"int", "float", "list"}
