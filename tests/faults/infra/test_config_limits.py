"""Config that cannot hurt: every bad value is one line naming the file, the key and what is
accepted, with exit status 2 and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, make_config_dir
from tests.helpers import run_cli


def _check(capsys, tmp_path: Path, extra: str = "", sources: str = "") -> tuple[int, str, str]:
    config_path = make_config_dir(tmp_path, extra=extra, sources=sources)
    return run_cli(capsys, "--config", str(config_path), "config", "check")


def _one_error_line(err: str, file: str, key: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: ") and file in lines[0] and key in lines[0], err
    return lines[0]


@pytest.mark.parametrize(("extra", "key"), [
    ('[retention]\ncomments = -1\n', "retention.comments"),
    ('[schedule]\nscore = -5\n', "schedule.score"),
    ('[schedule]\nscore = "0s"\n', "schedule.score"),
    ('[schedule]\nscore = "99999999999w"\n', "schedule.score"),
    ('[schedule]\npurge = 1e300\n', "schedule.purge"),
    ('[schedule]\naggregate = inf\n', "schedule.aggregate"),
    ('[retention]\ncomments = "50000d"\n', "retention.comments"),
    ('[aggregate]\nwindows = ["1h", "-1"]\n', "aggregate.windows"),
    ('[collect]\ntimeout_s = 1e308\n', "collect.timeout_s"),
    ('[collect]\nmin_delay_s = nan\n', "collect.min_delay_s"),
    ('[schedule]\nmisfire_grace_s = 1e400\n', "schedule.misfire_grace_s"),
    ('[aggregate]\ntop_authors = 99999999999999999999\n', "aggregate.top_authors"),
])
def test_durations_and_numbers_must_be_positive_and_bounded(capsys, tmp_path: Path, extra: str,
                                                            key: str) -> None:
    code, _, err = _check(capsys, tmp_path, extra=extra)
    assert code == 2
    line = _one_error_line(err, "monitor.toml", key)
    assert "expected" in line or "less than" in line or "greater than" in line  # what is accepted


@pytest.mark.parametrize(("extra", "key"), [
    ('[smtp]\nrecipients = "ops@example.org"\n', "smtp.recipients"),
    ('[smtp]\nrecipients = ["ops at example.org"]\n', "smtp.recipients"),
    ('[alerts]\nroutes = [{match = {severity = "critical"}, to = "oncall@example.org"}]\n', "alerts.routes"),
    ('[alerts]\nroutes = [{match = {severity = "critical"}, to = ["oncall"]}]\n', "alerts.routes"),
])
def test_recipients_are_lists_of_addresses(capsys, tmp_path: Path, extra: str, key: str) -> None:
    code, _, err = _check(capsys, tmp_path, extra=extra)
    assert code == 2
    _one_error_line(err, "monitor.toml", key)


CSS = '[[source]]\nname = "site"\nurl = "https://site.example/"\nplatform = "css"\n'


@pytest.mark.parametrize(("selectors", "said"), [
    ("", "comment"),
    ('selectors = { comment = "div[", text = ".body" }\n', "div["),
    ('selectors = { comment = "div.c", text = "p:nth-child(x)" }\n', "nth-child"),
    ('selectors = { comment = "div.c", txt = ".body" }\n', "txt"),
])
def test_css_selectors_are_compiled_at_check_time(capsys, tmp_path: Path, selectors: str, said: str) -> None:
    code, _, err = _check(capsys, tmp_path, sources=CSS + selectors)
    assert code == 2
    assert said in _one_error_line(err, "sources.toml", "source[0]")


def test_valid_css_selectors_pass(capsys, tmp_path: Path) -> None:
    code, out, err = _check(capsys, tmp_path,
                            sources=CSS + 'selectors = { comment = "div.c", text = ".b", author = "a@title" }\n')
    assert code == 0, err
    assert "config OK" in out


@pytest.mark.parametrize("name", ["monitor.toml", "sources.toml", "targets.toml"])
def test_undecodable_file_is_one_line(capsys, tmp_path: Path, name: str) -> None:
    config_path = make_config_dir(tmp_path)
    (config_path.parent / name).write_bytes(b"\xff\xfe[schedule]\nscore = \"1m\"\n")
    code, _, err = run_cli(capsys, "--config", str(config_path), "config", "check")
    assert code == 2
    assert "UTF-8" in _one_error_line(err, name, "")


def test_undecodable_lexicon_rule_and_layout_files_are_one_line(capsys, tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path)
    (config_path.parent / "lexicon" / "zz.toml").write_bytes(b"\xff\xfe")
    code, _, err = run_cli(capsys, "--config", str(config_path), "config", "check")
    assert code == 2 and "UTF-8" in _one_error_line(err, "zz.toml", "")

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.toml").write_bytes(b"\xff\xfe")
    config_path.write_text(config_path.read_text().replace(f'rules_dir = "{REPO / "rules"}"',
                                                           f'rules_dir = "{rules}"'), encoding="utf-8")
    (config_path.parent / "lexicon" / "zz.toml").unlink()
    code, _, err = run_cli(capsys, "--config", str(config_path), "config", "check")
    assert code == 2 and "UTF-8" in err and "bad.toml" in err and "Traceback" not in err


def test_unparsable_database_url_fails_the_check(capsys, tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path, database_url="postgresql://monitor:pa@ss@db:port/monitor")
    code, _, err = run_cli(capsys, "--config", str(config_path), "config", "check")
    assert code == 2
    line = _one_error_line(err, "monitor.toml", "database.url")
    assert "pa@ss" not in line and "%40" in line
