"""Rule files: validation messages, `monitor rules check` and `monitor rules test`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.alert.rules import check_files
from monitor.alert.testing import run_files
from monitor.cli import cli

REPO = Path(__file__).resolve().parents[2]

GOOD = '''[[groups]]
name = "g"

[[groups.rules]]
alert = "Hot"
expr = "toxic_share > 0.4"
window = "1h"
labels = { severity = "warning" }
'''


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return [str(p) for p in check_files([path])[1]]


def test_error_names_file_line_group_rule_and_field_with_a_fix(tmp_path):
    text = GOOD + '\n[[groups.rules]]\nalert = "Cold"\nexpr = "toxic_shar < 0.1"\nfor = "soon"\n'
    found = problems_of(tmp_path, text)
    assert f"{tmp_path / 'rules.toml'}:12: group 'g': rule 'Cold': field 'expr': unknown metric " \
           "'toxic_shar'; did you mean 'toxic_share'?" in found
    assert any(":13: group 'g': rule 'Cold': field 'for': expected a duration" in p for p in found)
    assert len(found) == 2


@pytest.mark.parametrize("expr, message", [
    ("toxic_share", "is a number, not a condition"),
    ("__import__('os').system('x') > 1", "is not allowed"),
    ("median_over_time(toxic_share) > 1", "takes a metric and a quoted range"),
    ("top_slurs > 1", "unknown metric 'top_slurs'"),
    ("toxic_share >", "not a valid expression"),
])
def test_unsafe_or_malformed_expressions_are_rejected(tmp_path, expr, message):
    found = problems_of(tmp_path, GOOD.replace('"toxic_share > 0.4"', repr(expr).replace("'", '"')
                                               if "'" not in expr else f"'''{expr}'''"))
    assert len(found) == 1 and message in found[0]


def test_unknown_keys_and_duplicate_names_are_reported(tmp_path):
    found = problems_of(tmp_path, GOOD + 'colour = "red"\n')
    assert len(found) == 1 and ":9: group 'g': rule 'Hot': field 'colour': unknown rule key" in found[0]
    found = problems_of(tmp_path, GOOD + '\n[[groups.rules]]\nalert = "Hot"\nexpr = "slur_count > 1"\n')
    assert found == [f"{tmp_path / 'rules.toml'}:11: group 'g': rule 'Hot': field 'alert': duplicate alert "
                     "name in this group; rename one"]


def test_rules_check_exit_status(tmp_path):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace('window = "1h"', 'window = "5h"'))
    runner = CliRunner()
    ok = runner.invoke(cli, ["rules", "check", str(good)])
    assert ok.exit_code == 0 and "1 rule(s): OK" in ok.output
    failed = runner.invoke(cli, ["rules", "check", str(bad)])
    assert failed.exit_code == 1
    assert "field 'window': no aggregates are computed for 5h" in failed.output


def test_shipped_default_rules_are_valid_and_pass_their_tests():
    groups, problems = check_files(sorted((REPO / "rules").glob("*.toml")))
    assert problems == [] and sum(len(g.rules) for g in groups) >= 8
    results = run_files(sorted((REPO / "rules" / "tests").glob("*.toml")))
    assert [r.failures for r in results if not r.passed] == []
    assert len(results) >= 8


def test_rule_test_with_a_wrong_expectation_fails_and_says_why(tmp_path):
    (tmp_path / "r.toml").write_text(GOOD)
    test = tmp_path / "r_test.toml"
    test.write_text('rule_files = ["r.toml"]\n\n[[tests]]\nname = "calm hour"\n\n[[tests.series]]\n'
                    'source = "s"\ntoxic_share = "0.1"\n\n[[tests.alerts]]\neval_time = "5m"\n'
                    'alertname = "Hot"\nexp_alerts = [{ labels = { source = "s" } }]\n')
    [result] = run_files([test])
    assert not result.passed
    assert "Hot at 5m: expected firing {'labels': {'source': 's'}}, got no firing alert" in result.failures[0]
    out = CliRunner().invoke(cli, ["rules", "test", str(test)])
    assert out.exit_code == 1 and "FAIL" in out.output and "0 passed, 1 failed" in out.output


def test_a_misspelt_key_in_a_rule_test_is_an_error_not_a_silent_pass(tmp_path):
    (tmp_path / "r.toml").write_text(GOOD)
    test = tmp_path / "r_test.toml"
    test.write_text('rule_files = ["r.toml"]\n\n[[tests]]\nname = "calm hour"\n\n[[tests.series]]\n'
                    'source = "s"\ntoxic_share = "0.1"\n\n[[tests.alerts]]\neval_time = "5m"\n'
                    'alertname = "Hot"\nexp_alert = [{ labels = { source = "s" } }]\n')
    [result] = run_files([test])
    assert result.failures == ["bad test definition: alerts[0].exp_alert: unknown key "
                               "(accepted: alertname, eval_time, exp_alerts)"]
