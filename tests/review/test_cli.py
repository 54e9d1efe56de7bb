"""`monitor review` and `monitor export --labels` through the real entry point."""

from __future__ import annotations

import csv
import io
import json

import pytest

from monitor.store.verdicts import Verdict, record_verdicts
from tests.conftest import make_config_dir
from tests.helpers import run_cli
from tests.review.conftest import T0


@pytest.fixture
def cli_config(tmp_path, database_url, engine, scored) -> str:
    """The scored database's config with the threshold the fixture's scores are built around."""
    return str(make_config_dir(tmp_path, database_url, extra="[scoring]\ntoxic_threshold = 0.5\n"))


def test_review_json_lists_the_queue_with_reasons_and_links(capsys, cli_config, scored):
    code, out, _ = run_cli(capsys, "--config", cli_config, "review", "--json", "--limit", "3")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["comment_id"] for r in rows] == [scored["slur_vs_stance"], scored["toxic_favor"],
                                               scored["slur_quiet"]]
    assert rows[0]["reasons"][0] == "slur_vs_stance"
    assert rows[0]["slurs"] == [{"term": "Natoschwein", "target": "nato", "kind": "coined"}]
    assert rows[1]["link"] == "https://daily.example/a1" and rows[1]["stance"] == {"russia": "favor"}


def test_review_of_an_unknown_source_exits_2(capsys, cli_config):
    code, _, err = run_cli(capsys, "--config", cli_config, "review", "--json", "--source", "nosuch")
    assert code == 2 and "no source named 'nosuch'" in err


def test_review_without_a_terminal_points_to_json(capsys, cli_config):
    code, _, err = run_cli(capsys, "--config", cli_config, "review")
    assert code == 2 and "needs a terminal" in err and "--json" in err


def _judge(engine, scored) -> None:
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "toxic")], "alice", at=T0)
        record_verdicts(conn, [Verdict(scored["near"], "toxicity", "not"),
                               Verdict(scored["toxic_favor"], "stance:russia", "against")], "bob",
                        at=T0.replace(hour=13))


def test_export_labels_as_jsonl_marks_the_verdict_that_counts(capsys, cli_config, engine, scored):
    _judge(engine, scored)
    code, out, _ = run_cli(capsys, "--config", cli_config, "export", "--labels", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["comment_id"], r["kind"], r["value"], r["reviewer"], r["current"]) for r in rows] == [
        (scored["near"], "toxicity", "toxic", "alice", False),
        (scored["near"], "toxicity", "not", "bob", True),
        (scored["toxic_favor"], "stance:russia", "against", "bob", True)]
    assert rows[0]["created_at"] == "2026-11-02T12:00:00+00:00"
    assert rows[0]["source"] == "daily" and rows[0]["text"] == "That is a rather stupid take."


def test_export_labels_as_csv_to_a_file_has_every_column(capsys, cli_config, engine, scored, tmp_path):
    _judge(engine, scored)
    target = tmp_path / "out" / "labels.csv"
    code, _, err = run_cli(capsys, "--config", cli_config, "export", "--labels", "-o", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert code == 0 and "exported 3 verdict(s)" in err
    assert list(rows[0]) == ["verdict_id", "comment_id", "source", "article_url", "comment_url",
                             "kind", "value", "reviewer", "created_at", "current", "lang", "text"]
    assert [r["value"] for r in rows] == ["toxic", "not", "against"]


def test_export_labels_with_no_verdicts_still_has_the_header(capsys, cli_config):
    code, out, _ = run_cli(capsys, "--config", cli_config, "export", "--labels")
    assert code == 0 and out.startswith("verdict_id,comment_id,") and len(out.splitlines()) == 1


def test_export_labels_refuses_parquet(capsys, cli_config, tmp_path):
    code, _, err = run_cli(capsys, "--config", cli_config, "export", "--labels", "--format",
                           "parquet", "-o", str(tmp_path / "x.parquet"))
    assert code == 2 and "--format csv" in err
