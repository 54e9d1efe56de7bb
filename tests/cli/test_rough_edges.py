"""The rough edges of issue 15, each as a user meets it on the command line."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from monitor.config import load_config
from monitor.store.db import open_engine
from monitor.store.schema import slur_candidates
from tests.conftest import REPO
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
