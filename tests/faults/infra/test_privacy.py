"""Privacy: retention counts from collection, the purge reaches the excerpts in stored emails,
and the database password never shows in an error."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from monitor import aggregate
from monitor.alert import evaluate, notify
from monitor.cli import cli
from monitor.config import SourceConfig, load_config
from monitor.store.db import engine_for_url, open_engine
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, purge_older_than,
                                upsert_article, upsert_comments)
from monitor.store.schema import comments, metadata, outbox
from tests.conftest import make_config_dir
from tests.helpers import TOXIC_RULE_PLAIN, at, comment_adder, run_cli

RULE = TOXIC_RULE_PLAIN


def test_an_old_article_watched_today_keeps_its_new_comments(tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path)
    config = load_config(config_path, environ={})
    engine = open_engine(config)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
        aid = upsert_article(conn, sid, ArticleRecord("2021", "https://blog.example/2021",
                                                      published_at=datetime(2021, 5, 1, tzinfo=timezone.utc)))
        # Published in 2021, collected today: kept for the full retention period from today.
        upsert_comments(conn, sid, aid, [CommentRecord("new", "written 2021, read today", "A",
                                                       published_at=datetime(2021, 5, 2, tzinfo=timezone.utc))],
                        privacy=Privacy(b"k"))
        # Collected 91 days ago: past the default 90 days.
        upsert_comments(conn, sid, aid, [CommentRecord("old", "collected long ago", "B",
                                                       published_at=datetime(2021, 5, 3, tzinfo=timezone.utc))],
                        seen_at=now - timedelta(days=91), privacy=Privacy(b"k"))
    out = CliRunner().invoke(cli, ["--config", str(config_path), "db", "purge"])
    assert out.exit_code == 0, out.output
    assert "purged 1 comment(s)" in out.output
    with engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(comments))}
    engine.dispose()
    assert rows["new"].text == "written 2021, read today" and rows["new"].author_pseudonym
    assert rows["old"].text is None and rows["old"].author_pseudonym is None


@pytest.fixture
def alert_setup(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "test.toml").write_text(RULE)
    config = load_config(None, environ={})
    config.paths.rules_dir = rules
    # Nothing listens there: the email stays in the outbox, as one does while SMTP is down.
    config.smtp.host, config.smtp.port, config.smtp.security = "127.0.0.1", 9, "none"
    config.smtp.recipients = ["ops@example.org"]
    config.alerts.group_wait = timedelta(0)
    engine = engine_for_url(f"sqlite:///{tmp_path / 'monitor.db'}")
    metadata.create_all(engine)
    add = comment_adder(engine)
    add(at=at(-4), toxicity=0.9, author="a1b2c3d4e5f6", text="You traitors should all leave the country")
    for i in range(3):
        add(at=at(-3 + i), toxicity=0.8 if i < 2 else 0.1, author=f"pseudo{i}xyz",
            text=f"Second-rate opinion number {i}")
    aggregate.run(engine, config, now=at(0))
    evaluate.run(engine, config, now=at(0))
    aggregate.run(engine, config, now=at(5))
    evaluate.run(engine, config, now=at(5))
    notify.run(engine, config, now=at(6))
    with engine.connect() as conn:
        [mail] = conn.execute(select(outbox)).all()
    assert "traitors" in mail.payload["text"] and "a1b2c3d4" in mail.payload["text"]
    assert "traitors" in mail.payload["html"]
    yield engine
    engine.dispose()


def test_purge_removes_excerpts_and_pseudonyms_from_emails_past_retention(alert_setup) -> None:
    engine = alert_setup
    with engine.begin() as conn:
        purge_older_than(conn, timedelta(days=90), now=at(6) + timedelta(days=91))
        [mail] = conn.execute(select(outbox)).all()
    for body in (mail.payload["text"], mail.payload["html"]):
        assert "traitors" not in body and "Second-rate" not in body
        assert "a1b2c3d4" not in body and "pseudo0x" not in body and "pseudo1x" not in body
        assert "removed" in body  # says what happened
    assert mail.subject.startswith("[FIRING:1] ToxicHigh")  # the email itself is still listed


def test_purge_removes_the_excerpt_of_a_purged_comment_from_a_younger_email(alert_setup) -> None:
    engine = alert_setup
    with engine.begin() as conn:
        # The quoted comment was collected long before the email was written.
        conn.execute(update(comments).where(comments.c.text.like("You traitors%"))
                     .values(first_seen_at=at(-60 * 24 * 30)))
        purge_older_than(conn, timedelta(days=90), now=at(-60 * 24 * 30) + timedelta(days=91))
        [mail] = conn.execute(select(outbox)).all()
    for body in (mail.payload["text"], mail.payload["html"]):
        assert "traitors" not in body and "a1b2c3d4" not in body
        assert "comment removed: past retention" in body
        assert "Second-rate opinion number 0" in body and "pseudo0x" in body  # within retention: kept
        assert "toxic share" in body


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://monitor@127.0.0.1:9/db?password=Sekr1tPass",
    "postgresql+psycopg://monitor:Sek@r1tPass@127.0.0.1:9/db",
    "postgresql+psycopg://monitor:Sekr1tPass@127.0.0.1:port/db",
    "postgresql+psycopg://monitor:Sekr1tPass@[::1/db",
    "not a url Sekr1tPass",
])
@pytest.mark.parametrize("command", [["status"], ["config", "check"], ["db", "upgrade"]])
def test_database_password_never_shows_in_errors(capsys, tmp_path: Path, url: str,
                                                 command: list[str]) -> None:
    config_path = make_config_dir(tmp_path, url)
    code, out, err = run_cli(capsys, "--config", str(config_path), *command)
    assert "Traceback" not in err
    if code:  # status and db upgrade cannot connect; config check may accept a well-formed URL
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    for secret in ("Sekr1tPass", "Sek@r1t", "r1tPass"):
        assert secret not in out + err, out + err
