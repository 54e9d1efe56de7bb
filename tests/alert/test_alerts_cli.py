"""`monitor alerts silence / list / unsilence / retry` and `monitor aggregate` against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n\n[paths]\ndata_dir = "{tmp_path}"\n'
                    f'targets = "{REPO / "config" / "targets.toml"}"\nsources = "{tmp_path / "none.toml"}"\n'
                    f'rules_dir = "{REPO / "rules"}"\n')
    return path


def test_silence_is_listed_then_ended(config_file):
    runner = CliRunner()
    base = ["--config", str(config_file), "alerts"]
    added = runner.invoke(cli, [*base, "silence", "--match", "source=daily\x1b[2J", "--for", "2h",
                                "--comment", "planned debate"])
    assert added.exit_code == 0, added.output
    assert added.output.startswith("silence #1: source=daily\ufffd[2J until ")

    listed = runner.invoke(cli, [*base, "list"])
    assert "No alerts." in listed.output and "planned debate" in listed.output and "\x1b" not in listed.output

    assert runner.invoke(cli, [*base, "unsilence", "1"]).output == "silence #1 ended\n"
    assert "planned debate" not in runner.invoke(cli, [*base, "list"]).output


def test_silence_needs_label_equals_value(config_file):
    out = CliRunner().invoke(cli, ["--config", str(config_file), "alerts", "silence", "--match", "daily"])
    assert out.exit_code == 2 and "expected LABEL=VALUE" in out.output


def test_aggregate_command_reports_what_it_did(config_file):
    out = CliRunner().invoke(cli, ["--config", str(config_file), "aggregate", "--full"])
    assert out.exit_code == 0, out.output
    assert "0 comments read" in out.output and "(full recompute)" in out.output
    # Each step is reported as it starts (on stderr; a spinner on a terminal).
    assert "reading every scored comment …" in out.stderr and "writing 0 rows …" in out.stderr


def test_retry_queues_refused_emails_again(config_file):
    from datetime import datetime, timezone

    from sqlalchemy import insert, select

    from monitor.config import load_config
    from monitor.store.db import open_engine
    from monitor.store.schema import metadata, outbox

    engine = open_engine(load_config(config_file, environ={}))
    metadata.create_all(engine)
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        for i, status in enumerate(("failed", "sent")):
            conn.execute(insert(outbox).values(
                message_id=f"<m{i}@monitor>", group_key="g", receiver="email", subject=f"mail {i}",
                payload={"to": ["ops@example.org"], "rcpt": ["ops@example.org"], "text": "t", "html": "h"},
                created_at=when, status=status, attempts=1,
                next_attempt_at=when, last_error="all recipients refused: ops@example.org"))
    runner = CliRunner()
    base = ["--config", str(config_file), "alerts"]
    listed = runner.invoke(cli, [*base, "list"]).output
    assert "failed" in listed and "on retry" in listed

    out = runner.invoke(cli, [*base, "retry", "1", "2"])
    assert out.exit_code == 0, out.output
    assert "1 email queued to be sent again" in out.output
    assert "1 of the given emails are not in the 'failed' state" in out.output
    with engine.connect() as conn:
        assert dict(conn.execute(select(outbox.c.id, outbox.c.status)).all()) == {1: "pending", 2: "sent"}
