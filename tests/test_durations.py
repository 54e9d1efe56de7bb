"""Durations: one parser for config files, rule files and command-line options."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.durations import format_duration, parse_duration
from tests.helpers import run_cli


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("15m", 900), ("1.5h", 5400), ("90d", 90 * 86400),
                                          ("2w", 14 * 86400), (30, 30)])
def test_durations_parse_and_spell_back(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


def test_a_bad_duration_option_fails_with_the_accepted_forms(capsys):
    code, _, err = run_cli(capsys, "export", "--since", "soon")
    assert code == 2
    assert "expected a duration like '30s', '15m', '1h', '90d' or '2w', got 'soon'" in err
