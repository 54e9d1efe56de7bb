"""What an alert email says: links to the comment, article titles, examples that fit the rule, a
trend over earlier windows, a silence command that works, templates an operator can replace."""

from __future__ import annotations

import shlex
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from monitor import aggregate
from monitor.alert import evaluate, notify
from monitor.cli import cli
from monitor.errors import ConfigError
from monitor.store.db import engine_for_url, upgrade
from monitor.store.schema import articles, comments, silences

T0 = datetime(2026, 3, 1, 10, 5, tzinfo=timezone.utc)
HOUR = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rule(expr: str, scope: str = "source", window: str = "1h", summary: str = "{{ value }}") -> str:
    return f"""
[[groups]]
name = "test"

[[groups.rules]]
alert = "Probe"
expr = "{expr}"
scope = "{scope}"
window = "{window}"
for = "5m"
annotations.summary = "{summary}"
"""


@pytest.fixture
def engine(database_url: str):
    """A database built by the migrations (SQLite, and PostgreSQL when configured), so the CLI can
    open it too."""
    engine = engine_for_url(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def config(config, database_url: str):
    config.database.url = database_url
    return config


def place(engine, comment_id: int, title: str = "Debate on the budget", url: str | None = None) -> str:
    """Give a stored comment its link on the page and its article a title; returns the link."""
    link = url if url is not None else f"https://daily.example/a1#comment-{comment_id}"
    with engine.begin() as conn:
        conn.execute(update(comments).where(comments.c.id == comment_id).values(url=link))
        conn.execute(update(articles).values(title=title))
    return link


def fire_and_mail(engine, config, rules_dir, text_rule: str, smtp_server):
    (rules_dir / "test.toml").write_text(text_rule)
    for now in (at(0), at(5)):
        aggregate.run(engine, config, now=now)
        evaluate.run(engine, config, now=now)
    notify.run(engine, config, now=at(6))
    [mail] = smtp_server.inbox.messages
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in mail.walk()
             if not p.is_multipart()}
    return mail, parts["text/plain"], parts["text/html"]


def test_examples_link_to_the_comment_and_name_source_and_article(engine, config, rules_dir, add_comment,
                                                                   smtp_server):
    links = [place(engine, add_comment(at=at(-4 + i), toxicity=0.9 - i / 10, text=f"nasty {i}")) for i in range(3)]
    _, text, html = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.4"), smtp_server)
    assert "examples (most toxic):" in text
    assert '- [toxicity 0.90] p1 on daily, "Debate on the budget":' in text
    assert f"      nasty 0\n      {links[0]}\n" in text.replace("\r\n", "\n")
    assert f'<a href="{links[0]}">read in context</a>' in html


def test_stance_alert_shows_comments_with_that_stance(engine, config, rules_dir, add_comment, smtp_server):
    for i in range(3):
        add_comment(at=at(-4 + i), toxicity=0.1, text=f"against nato {i}", stance={"nato": "against"})
    add_comment(at=at(-1), toxicity=0.99, text="very toxic but neutral", stance={"nato": "neutral"})
    _, text, _ = fire_and_mail(engine, config, rules_dir, rule("stance_nato_against > 0.5"), smtp_server)
    assert "examples (comments against nato, most certain first):" in text
    assert "[against nato 0.90]" in text and "against nato 0" in text
    assert "very toxic but neutral" not in text


def test_volume_alert_shows_the_newest_comments(engine, config, rules_dir, add_comment, smtp_server):
    for i in range(5):
        add_comment(at=at(-5 + i), toxicity=0.9 if i == 0 else 0.1, text=f"burst {i}")
    _, text, _ = fire_and_mail(engine, config, rules_dir, rule("comments_per_hour > 3"), smtp_server)
    assert "examples (newest):" in text
    shown = [line.strip() for line in text.splitlines() if line.strip().startswith("burst")]
    assert shown == ["burst 4", "burst 3", "burst 2"]


def test_brigading_alert_shows_the_most_active_authors(engine, config, rules_dir, add_comment, smtp_server):
    config.aggregate.top_authors = 1
    for i in range(4):
        add_comment(at=at(-5 + i), author="brigade1", text=f"pushed line {i}")
    add_comment(at=at(-0.5), author="loner", text="a single voice", toxicity=0.95)
    _, text, _ = fire_and_mail(engine, config, rules_dir, rule("top_author_share > 0.5", scope="article"),
                               smtp_server)
    assert "examples (newest by the 1 most active authors):" in text
    assert "pushed line 3" in text and "a single voice" not in text


def test_article_alert_names_the_article_by_title_and_url(engine, config, rules_dir, add_comment, smtp_server):
    for i in range(3):
        place(engine, add_comment(at=at(-4 + i), toxicity=0.9), title="Wahl\x1b[2J in Berlin\r\nBcc: x@y")
    _, text, html = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.4", scope="article"),
                                  smtp_server)
    shown = "Wahl\ufffd[2J in Berlin\ufffd Bcc: x@y"  # on one line, controls made visible
    assert f"  article: {shown} <https://daily.example/a1>" in text
    assert f'<a href="https://daily.example/a1">{shown}</a>' in html


def test_hostile_links_are_not_linked(engine, config, rules_dir, add_comment, smtp_server):
    for i in range(3):
        place(engine, add_comment(at=at(-4 + i), toxicity=0.9, text="<img src=x onerror=alert(1)>"),
              url="javascript:alert(1)")
    _, text, html = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.4"), smtp_server)
    assert "javascript:" not in text and "javascript:" not in html
    assert "https://daily.example/a1" in html  # falls back to the article's own link
    assert "<img" not in html and "&lt;img src=x" in html


def test_trend_covers_the_previous_windows(engine, config, rules_dir, add_comment, smtp_server):
    # Hourly windows: one toxic comment in 4 three hours ago, none two hours ago, 3 of 4 now.
    for i in range(4):
        add_comment(at=HOUR - timedelta(hours=3) + timedelta(minutes=i), toxicity=0.9 if i == 0 else 0.1)
    for i in range(4):
        add_comment(at=at(-4 + i), toxicity=0.9 if i < 3 else 0.1)
    _, text, html = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.5"), smtp_server)
    lines = text.replace("\r\n", "\n")
    assert "trend over the last 4 windows (oldest first):" in lines
    assert "03-01 07:00 0.25 | 03-01 08:00 – | 03-01 09:00 – | 03-01 10:00 0.75" in lines
    assert "0.25 → 0.75" in lines and html.count("<th>") == 4


def test_footer_silence_command_silences_the_alert(engine, config, rules_dir, add_comment, smtp_server, tmp_path):
    for i in range(3):
        add_comment(at=at(-4 + i), toxicity=0.9)
    _, text, _ = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.4"), smtp_server)
    footer = text.replace("\r\n", "\n").split("\n-- \n")[1]
    command = footer.splitlines()[1].strip()
    assert command == "monitor alerts silence --match alertname=Probe --for 2h"

    config_file = tmp_path / "monitor.toml"
    config_file.write_text(f'[database]\nurl = "{config.database.url}"\n[paths]\ndata_dir = "{tmp_path}"\n'
                           f'targets = "{config.paths.targets}"\nsources = "{tmp_path / "none.toml"}"\n')
    out = CliRunner().invoke(cli, ["--config", str(config_file), *shlex.split(command)[1:]])
    assert out.exit_code == 0, out.output
    with engine.connect() as conn:
        assert conn.execute(select(silences.c.matchers)).scalar_one() == {"alertname": "Probe"}


def test_operator_template_replaces_the_built_in_one(engine, config, rules_dir, add_comment, smtp_server,
                                                      tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "email_subject.j2").write_text("Moderation: {{ names|join('+') }} on {{ sources|join('+') }}")
    config.alerts.templates_dir = folder
    for i in range(3):
        add_comment(at=at(-4 + i), toxicity=0.9)
    mail, text, _ = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.4"), smtp_server)
    assert mail["Subject"] == "Moderation: Probe on daily"
    assert "examples (most toxic):" in text  # the other templates are still the built-in ones


def test_broken_template_is_a_config_error_with_file_and_line(config, tmp_path):
    from monitor.alert.receivers import build_receivers

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "email.txt.j2").write_text("line one\n{% for a in group.alerts %}\nno end\n")
    config.alerts.templates_dir = folder
    with pytest.raises(ConfigError) as err:
        build_receivers(config)
    assert f"{folder / 'email.txt.j2'}:" in str(err.value) and "endfor" in str(err.value)


def test_comment_text_in_an_operator_subject_cannot_add_headers(engine, config, rules_dir, add_comment,
                                                                 smtp_server, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "email_subject.j2").write_text("Worst: {{ group.alerts[0].examples[0].text }}")
    config.alerts.templates_dir = folder
    add_comment(at=at(-4), toxicity=0.99, text="hi\r\nBcc: victim@example.net\r\n\r\nfake body")
    for i in range(2):
        add_comment(at=at(-3 + i), toxicity=0.9)
    mail, _, _ = fire_and_mail(engine, config, rules_dir, rule("toxic_share > 0.4"), smtp_server)
    assert mail["Bcc"] is None and mail["Subject"] == "Worst: hi Bcc: victim@example.net fake body"
    assert smtp_server.inbox.envelopes[0].rcpt_tos == ["ops@example.org"]


def test_config_check_reports_a_broken_template_even_while_email_is_off(tmp_path, capsys):
    from tests.helpers import run_cli

    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "email.html.j2").write_text("<p>\n{% if %}\n")
    config_file = tmp_path / "monitor.toml"
    repo_config = Path(__file__).resolve().parents[2] / "config"
    config_file.write_text(f'[paths]\ndata_dir = "{tmp_path}"\nsources = "{tmp_path / "none.toml"}"\n'
                           f'targets = "{repo_config / "targets.toml"}"\nlexicon_dir = "{repo_config / "lexicon"}"\n'
                           '[alerts]\ntemplates_dir = "tpl"\n')
    code, _, err = run_cli(capsys, "--config", str(config_file), "config", "check")
    assert code == 2 and f"{folder / 'email.html.j2'}:2: template error" in err
