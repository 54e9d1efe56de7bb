"""`--json` on the commands that print tables: one parseable object, the same exit status."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from monitor.config import load_config
from monitor.store.db import open_engine
from monitor.store.schema import alert_states
from tests.conftest import make_config_dir
from tests.helpers import run_cli


@pytest.fixture
def config_path(tmp_path):
    return make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")


def _json(capsys, config_path, *args, code=0):
    got, out, err = run_cli(capsys, "--config", str(config_path), *args)
    assert got == code, err
    return json.loads(out)


def test_alerts_list_json_has_alerts_silences_and_outbox(capsys, config_path):
    assert _json(capsys, config_path, "alerts", "list", "--json") == {"alerts": [], "silences": [],
                                                                      "outbox": []}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    engine = open_engine(load_config(config_path, environ={}))
    with engine.begin() as conn:
        conn.execute(insert(alert_states).values(
            fingerprint="f1", rule="toxicity/HighToxicShare", state="firing", value=0.42,
            labels={"alertname": "HighToxicShare", "source": "daily", "severity": "warning"},
            annotations={"summary": "42 % toxic"}, active_since=now - timedelta(minutes=20),
            fired_at=now - timedelta(minutes=10), last_eval_at=now))
    run_cli(capsys, "--config", str(config_path), "alerts", "silence", "--match", "source=daily")
    listed = _json(capsys, config_path, "alerts", "list", "--json")
    [alert] = listed["alerts"]
    assert alert["state"] == "firing" and alert["alertname"] == "HighToxicShare"
    assert alert["labels"]["source"] == "daily" and alert["value"] == 0.42
    assert alert["fired_at"] == (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert alert["silenced_by"] == listed["silences"][0]["id"] == 1
    assert listed["silences"][0]["matchers"] == {"source": "daily"}


def test_models_info_json(capsys, config_path):
    info = _json(capsys, config_path, "models", "info", "--json")
    assert info["builtin"]["version"].startswith("builtin-toxicity-")
    assert 0 < info["builtin"]["threshold"] < 1
    assert set(info["detoxify"]["variants"]) >= {"original", "multilingual"}
    assert info["routing"]["de"] == "builtin"
    tier = info["second_tier"]
    assert tier["in_pipeline"] is False
    assert tier["checkpoints"]["stance"].startswith("second-tier-stance.npz, trained on ruw")


def test_rules_check_json_lists_rules_and_problems(capsys, config_path, tmp_path):
    good = _json(capsys, config_path, "rules", "check", "--json")
    assert good["ok"] is True and good["problems"] == [] and len(good["rules"]) > 3
    bad = tmp_path / "bad.toml"
    bad.write_text('[[groups]]\nname = "g"\n[[groups.rules]]\nalert = "A"\nexpr = "toxic_shar > 0.5"\n',
                   encoding="utf-8")
    report = _json(capsys, config_path, "rules", "check", str(bad), "--json", code=1)
    [problem] = report["problems"]
    assert report["ok"] is False and problem["field"] == "expr" and problem["line"] == 5
    assert "toxic_share" in problem["message"]


def test_rules_test_json(capsys, config_path):
    report = _json(capsys, config_path, "rules", "test", "--json")
    assert report["failed"] == 0 and report["passed"] == len(report["tests"]) > 0


def test_json_log_lines_are_one_object_each_and_terminal_safe(capsys):
    import logging

    from monitor.log import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging(log_format="json")
        logging.getLogger("monitor.test").error("fetch failed: %s", "bad\x1b[31m\nred\u202e\x9b")
        err = capsys.readouterr().err
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    [line] = err.splitlines()
    assert not any(c in line for c in "\x1b\u202e\x9b")
    event = json.loads(line)
    assert event["message"] == "fetch failed: bad\x1b[31m\nred\u202e\x9b"  # the exact text
    assert event["level"] == "error" and event["logger"] == "monitor.test" and event["time"].endswith("Z")
