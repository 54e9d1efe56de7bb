"""Configuration errors name the file, the key and the fix; the CLI exits 2 on them."""

from __future__ import annotations


import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from tests.conftest import REPO, make_config_dir
from tests.helpers import run_cli



def test_shipped_config_is_valid_and_check_exits_zero(capsys, tmp_path):
    path = make_config_dir(tmp_path)
    code, out, _ = run_cli(capsys, "--config", str(path), "config", "check")
    assert code == 0
    assert "config OK" in out and "nato, russia" in out


def test_default_config_loads_with_embedded_defaults():
    config = load_config(environ={})
    assert config.database.url.endswith("data/monitor.db")
    assert {"nato", "russia"} <= set(config.targets)
    assert config.scoring.batch_size == 256


@pytest.mark.parametrize(("extra", "expected"), [
    ("[scoring]\ntoxic_threshold = 'high'\n", "scoring.toxic_threshold"),
    ("[scoring]\ntoxic_treshold = 0.5\n", "scoring.toxic_treshold: unknown key"),
    ("[schedule]\ncollect = 'soon'\n", "expected a duration"),
    ("[smtp]\nsecurity = 'ssl'\n", "smtp.security"),
    ("[scoring]\nrouting = { de = 'gpt' }\n", "unknown backend 'gpt'"),
])
def test_bad_values_fail_with_file_key_and_exit_2(capsys, tmp_path, extra, expected):
    path = make_config_dir(tmp_path, extra=extra)
    code, _, err = run_cli(capsys, "--config", str(path), "config", "check")
    assert code == 2
    assert str(path) in err and expected in err
    assert "Traceback" not in err


def test_malformed_toml_names_the_file_and_line(capsys, tmp_path):
    path = make_config_dir(tmp_path, extra="[scoring\n")
    code, _, err = run_cli(capsys, "--config", str(path), "config", "check")
    assert code == 2 and "not valid TOML" in err and "line" in err


def test_missing_config_file_says_how_to_fix(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--config", str(tmp_path / "nope.toml"), "config", "check")
    assert code == 2 and "not found" in err and "MONITOR_CONFIG" in err


def test_source_without_url_is_a_missing_required_value(tmp_path):
    path = make_config_dir(tmp_path, sources='[[source]]\nname = "a"\n')
    with pytest.raises(ConfigError, match=r"source\[0\]\.url: required value is missing"):
        load_config(path, environ={})


def test_duplicate_source_names_are_rejected(tmp_path):
    block = '[[source]]\nname = "a"\nurl = "https://a.example/"\n'
    path = make_config_dir(tmp_path, sources=block * 2)
    with pytest.raises(ConfigError, match="duplicate source name"):
        load_config(path, environ={})


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    path = make_config_dir(tmp_path)
    config = load_config(path, environ={})
    assert config.paths.targets == path.parent / "targets.toml"
    assert config.scoring.detoxify_dir == tmp_path / "data" / "models" / "detoxify"


def test_secrets_come_from_the_environment(tmp_path):
    path = make_config_dir(tmp_path)
    config = load_config(path, environ={"MONITOR_DATABASE_URL": "sqlite:////x/y.db",
                                        "MONITOR_SMTP_PASSWORD": "pw", "MONITOR_SECRET": "k"})
    assert config.database.url == "sqlite:////x/y.db"
    assert config.smtp.password == "pw" and config.privacy.secret == "k"
    assert "pw" not in repr(config.smtp)


def test_monitor_config_env_selects_the_file(capsys, tmp_path, monkeypatch):
    path = make_config_dir(tmp_path, extra="[scoring]\nbatch_size = 0\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(path))
    code, _, err = run_cli(capsys, "config", "check")
    assert code == 2 and "scoring.batch_size" in err


def test_defaults_listing_has_help_for_every_setting(capsys):
    code, out, _ = run_cli(capsys, "config", "check", "--defaults")
    assert code == 0
    assert "[scoring]" in out and "toxic_threshold" in out
    assert "— None" not in out


def test_check_covers_lexicon_rules_and_layouts(capsys, tmp_path):
    path = make_config_dir(tmp_path)
    code, out, _ = run_cli(capsys, "--config", str(path), "config", "check")
    assert code == 0
    assert "lexicon:" in out and "rules:" in out and "layouts:" in out and "overview" in out


def test_invalid_rule_file_fails_config_check_with_exit_2(capsys, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.toml").write_text('[[groups]]\nname = "g"\n[[groups.rules]]\nalert = "X"\n'
                                    'expr = "toxic_shar > 0.5"\nwindow = "1h"\n')
    path = make_config_dir(tmp_path)
    path.write_text(path.read_text().replace(str(REPO / "rules"), str(rules)))
    code, _, err = run_cli(capsys, "--config", str(path), "config", "check")
    assert code == 2 and "bad.toml" in err and "toxic_shar" in err
