"""The rough edges of issue 15, each as a user meets it on the command line."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from monitor.config import load_config
from monitor.store.db import open_engine
from monitor.store.schema import slur_candidates
from tests.conftest import REPO, make_config_dir
from tests.helpers import run_cli

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)


def _candidate(config, term: str, target: str = "nato", example: str = "") -> None:
    engine = open_engine(config)
    with engine.begin() as conn:
        conn.execute(insert(slur_candidates).values(
            normalized=term.lower(), term=term, target=target, first_seen=NOW, last_seen=NOW,
            count=5, distinct_authors=4, articles=3, toxic_count=4, growth=2.0, score=9.0,
            status="pending", examples=[example], updated_at=NOW))
    engine.dispose()


def test_config_defaults_are_printed_as_toml_that_loads(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "config", "check", "--defaults")
    assert code == 0
    parsed = tomllib.loads(out)
    assert parsed["collect"]["since"] == "30d" and parsed["paths"]["data_dir"] == "../data"
    assert "PosixPath" not in out and "timedelta" not in out
    # The printed defaults are a working monitor.toml.
    (tmp_path / "targets.toml").write_text((REPO / "config" / "targets.toml").read_text())
    (tmp_path / "monitor.toml").write_text(out)
    config = load_config(tmp_path / "monitor.toml", environ={})
    assert config.collect.since == timedelta(days=30)
    assert config.alerts.repeat_interval == timedelta(hours=4)


def test_slur_candidates_at_80_columns_keep_the_whole_term(capsys, monkeypatch, config):
    _candidate(config, "Selenskyjregime", example="Das " + "sehr lange Beispiel " * 10)
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli(capsys, "--config", str(config.source_file), "slurs", "candidates",
                           "--no-refresh")
    assert code == 0 and "Selenskyjregime" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_slurs_accept_writes_to_the_data_dir_with_the_candidates_target(capsys, config):
    _candidate(config, "Russlandversteherpack", target="russia")
    shipped = config.lexicon_dir / "accepted.toml"
    before = shipped.read_text() if shipped.exists() else None
    code, out, err = run_cli(capsys, "--config", str(config.source_file), "slurs", "accept",
                             "Russlandversteherpack")
    assert code == 0, err
    written = config.data_dir / "lexicon" / "accepted.toml"
    assert str(written) in out and "(russia)" in out
    assert (shipped.read_text() if shipped.exists() else None) == before
    entries = tomllib.loads(written.read_text())["entries"]
    assert entries[0]["term"] == "Russlandversteherpack" and entries[0]["target"] == "russia"
    # The accepted term is part of the lexicon the monitor scores with.
    code, out, _ = run_cli(capsys, "--config", str(config.source_file), "slurs", "check",
                           "Dieses Russlandversteherpack wieder", "--lang", "de")
    assert code == 0 and '"term": "Russlandversteherpack"' in out and '"kind": "lexicon"' in out


def test_slurs_accept_without_target_needs_one_for_an_unknown_term(capsys, config):
    code, _, err = run_cli(capsys, "--config", str(config.source_file), "slurs", "accept", "Natoflopp")
    assert code == 2 and "give --target" in err


def test_slurs_reject_of_an_unknown_term_is_an_error(capsys, config):
    _candidate(config, "Natoflopp")
    code, _, err = run_cli(capsys, "--config", str(config.source_file), "slurs", "reject", "Natofloop")
    assert code == 2 and "no candidate 'Natofloop'" in err
    code, out, _ = run_cli(capsys, "--config", str(config.source_file), "slurs", "reject", "Natoflopp")
    assert code == 0 and "Rejected" in out
    code, out, _ = run_cli(capsys, "--config", str(config.source_file), "slurs", "reject",
                           "Natofloop", "--unseen")
    assert code == 0 and "Rejected" in out


def test_alerts_silence_refuses_a_label_no_alert_has(capsys, tmp_path):
    config_path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    code, _, err = run_cli(capsys, "--config", str(config_path), "alerts", "silence",
                           "--match", "sorce=daily")
    assert code == 2 and "no alert has the label 'sorce'" in err and "did you mean 'source'" in err
    # Labels the rules declare are accepted (rules/ sets severity).
    code, out, err = run_cli(capsys, "--config", str(config_path), "alerts", "silence",
                             "--match", "severity=warning")
    assert code == 0 and out.startswith("silence #1: severity=warning"), err


def test_collect_runs_one_pass_without_once(capsys, tmp_path):
    config_path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    code, _, err = run_cli(capsys, "--config", str(config_path), "collect")
    assert code == 0 and "No enabled sources" in err
    code, _, err = run_cli(capsys, "--config", str(config_path), "collect", "--once")
    assert code == 0 and "No enabled sources" in err


def test_score_help_is_honest_and_progress_ends_with_a_count(capsys, tmp_path):
    config_path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    code, out, _ = run_cli(capsys, "score", "--help")
    assert code == 0 and "Each output line matches one input line" not in out
    assert "malformed line gives none" in " ".join(out.split())
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "Danke für den Artikel"}\nbroken\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "--config", str(config_path), "score", "--input", str(source),
                           "--output", str(tmp_path / "out.jsonl"), "--progress")
    assert code == 1
    assert "loading models" in err and "scored 1 comment(s)" in err and "1 line(s) skipped" in err


def test_db_purge_dry_run_changes_nothing_and_durations_read_like_the_config(capsys, tmp_path):
    from tests.helpers import fill_two_comments as _fill

    config_path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    _fill(load_config(config_path, environ={}))
    code, out, _ = run_cli(capsys, "--config", str(config_path), "db", "purge", "--older-than", "0d",
                           "--dry-run")
    assert code == 0 and out.strip() == "would purge 2 comment(s) older than 0s"
    code, out, _ = run_cli(capsys, "--config", str(config_path), "export", "--format", "jsonl")
    assert "Der NATOD ist schuld" in out
    code, out, _ = run_cli(capsys, "--config", str(config_path), "db", "purge")
    assert code == 0 and out.strip() == "purged 0 comment(s) older than 90d"


def test_models_train_says_where_the_labelled_sets_go(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("MONITOR_LABELLED_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "models", "train", "--help")
    assert code == 0 and "MONITOR_LABELLED_DATA" in out and "--stated-licence-only" in out
    missing = tmp_path / "nope"
    code, _, err = run_cli(capsys, "models", "train", "--only", "toxicity", "--data", str(missing),
                           "--out", str(tmp_path / "out"))
    assert code == 2 and str(missing) in err and "MONITOR_LABELLED_DATA" in err
    assert not (tmp_path / "out").exists()


def test_extract_says_so_when_a_page_has_no_comments(capsys, tmp_path):
    page = tmp_path / "quiet.html"
    page.write_text('<html><body><article>Text</article><ol class="comment-list"></ol></body></html>',
                    encoding="utf-8")
    code, out, err = run_cli(capsys, "extract", str(page), "--platform", "wordpress")
    assert code == 0 and out == ""
    assert "no comments found in" in err and "platform wordpress" in err
