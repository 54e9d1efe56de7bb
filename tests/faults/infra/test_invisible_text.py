"""Invisible characters cannot hide a slur or a target, and stored strings cannot reorder,
hide or mark up what the terminal and email show."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from monitor.cli import cli
from monitor.config import load_config, load_targets
from monitor.score.lexicon import load_lexicon
from monitor.score.slurs import LexiconSlurDetector
from monitor.score.targets import TargetMatcher
from monitor.store.db import open_engine
from monitor.store.schema import outbox
from monitor.text import header_safe, one_line, terminal_safe

REPO = Path(__file__).resolve().parents[3]

# A slur split by a bidi isolate, a bidi override and a left-to-right mark.
HIDDEN = ["Pu\u2066tler", "Pu\u202etler", "Pu\u200etler", "Pu\u2069tler", "Pu\u061ctler"]


@pytest.fixture(scope="module")
def detector() -> LexiconSlurDetector:
    return LexiconSlurDetector(load_lexicon(REPO / "config" / "lexicon"))


@pytest.mark.parametrize("word", HIDDEN)
def test_slur_split_by_a_bidi_control_is_found(detector: LexiconSlurDetector, word: str) -> None:
    text = f"Der {word} lügt schon wieder"
    hits = detector.find(text, "de")
    assert [(h.normalized, h.target) for h in hits] == [("putler", "russia")]
    # The span still points into the original text and covers the whole word.
    assert text[hits[0].start:hits[0].end] == word


@pytest.mark.parametrize("word", HIDDEN)
def test_target_split_by_a_bidi_control_is_found(word: str) -> None:
    matcher = TargetMatcher(load_targets(REPO / "config" / "targets.toml"))
    text = f"{word} will keinen Frieden"
    found = matcher.find(text)
    assert [text[m.start:m.end] for m in found.get("russia", [])] == [word]


@pytest.mark.parametrize("hidden", ["\u200e", "\u200f", "\u061c", "\u2066", "\u202e", "\u2069"])
def test_terminal_and_header_output_carry_no_bidi_control(hidden: str) -> None:
    text = f"evil{hidden}gpj.exe"
    for shown in (terminal_safe(text), one_line(text), header_safe(text)):
        assert hidden not in shown and "evil" in shown


@pytest.mark.parametrize("hidden", ["\u200b", "\u200c", "\u2060", "\ufeff"])
def test_zero_width_characters_are_dropped_from_output(hidden: str) -> None:
    assert terminal_safe(f"Pu{hidden}tler") == "Putler"
    assert header_safe(f"Pu{hidden}tler") == "Putler"


def test_markup_in_a_stored_smtp_reply_is_shown_literally(tmp_path: Path) -> None:
    config_file = tmp_path / "monitor.toml"
    config_file.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n\n[paths]\ndata_dir = "{tmp_path}"\n'
        f'targets = "{REPO / "config" / "targets.toml"}"\nsources = "{tmp_path / "none.toml"}"\n'
        f'rules_dir = "{REPO / "rules"}"\n', encoding="utf-8")
    engine = open_engine(load_config(config_file, environ={}))
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(outbox).values(
            message_id="<m1@monitor>", group_key="g", receiver="email",
            payload={"to": ["ops@example.org"], "rcpt": ["ops@example.org"], "text": "t",
                     "html": "h", "subject": "[bold]alert[/bold] \u202eevil"},
            subject="[bold]alert[/bold] \u202eevil", created_at=when,
            status="failed", attempts=3, next_attempt_at=when,
            last_error="550 [/x] mailbox [red]unavailable"))
    engine.dispose()
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--config", str(config_file), "alerts", "list"])
    assert out.exit_code == 0, out.output
    assert "550 [/x] mailbox [red]unavailable" in out.output
    assert "[bold]alert[/bold]" in out.output and "\u202e" not in out.output
