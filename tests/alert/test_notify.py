"""Alert emails end to end: comments → aggregates → rules → outbox → a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from monitor import aggregate
from monitor.alert import evaluate, notify
from monitor.alert.smtp import SmtpTarget
from monitor.config import RouteSettings
from monitor.store.schema import alert_states, outbox, silences
from tests.helpers import TOXIC_RULE, at

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")

RULE = TOXIC_RULE


@pytest.fixture(autouse=True)
def rule_file(rules_dir):
    (rules_dir / "test.toml").write_text(RULE)


def tick(engine, config, now):
    aggregate.run(engine, config, now=now)
    evaluate.run(engine, config, now=now)


def make_toxic(add_comment, source="daily"):
    add_comment(source=source, at=at(-4), toxicity=0.9, author="a1b2c3d4e5f6",
                text="You \x1b[31mtraitors\x1b[0m <script>alert(1)</script> should leave")
    for i in range(3):
        add_comment(source=source, at=at(-3 + i), toxicity=0.8 if i < 2 else 0.1, author=f"p{i}")


def fire(engine, config, add_comment, sources=("daily",)):
    for source in sources:
        make_toxic(add_comment, source)
    tick(engine, config, at(0))
    tick(engine, config, at(5))  # `for` has passed: firing since at(5)


def test_firing_alert_is_emailed_once_with_value_threshold_window_and_examples(engine, config, add_comment,
                                                                               smtp_server):
    fire(engine, config, add_comment)
    assert notify.run(engine, config, now=at(5)).sent == 0  # group_wait (30 s) not over yet
    stats = notify.run(engine, config, now=at(6))
    assert stats.queued == 1 and stats.sent == 1

    [mail] = smtp_server.inbox.messages
    assert mail["Subject"] == "[FIRING:1] ToxicHigh (daily)"
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "daily: toxic share 0.75" in text
    assert "value 0.75 (toxic_share), threshold 0.4" in text
    assert "window 2026-03-01 00:00–2026-03-02 00:00 UTC; 4 comments" in text
    assert "[toxicity 0.90] a1b2c3d4 on daily" in text  # pseudonym shortened, score shown
    assert "\x1b" not in text and "\ufffd[31mtraitors" in text
    assert "&lt;script&gt;" in html and "<script>" not in html

    notify.run(engine, config, now=at(7))
    assert len(smtp_server.inbox.messages) == 1  # nothing changed: no second email


def test_alerts_firing_together_share_one_email(engine, config, add_comment, smtp_server):
    fire(engine, config, add_comment, sources=("daily", "weekly"))
    notify.run(engine, config, now=at(6))
    [mail] = smtp_server.inbox.messages
    assert mail["Subject"] == "[FIRING:2] ToxicHigh (daily, weekly)"


def test_still_firing_alert_is_repeated_after_repeat_interval(engine, config, add_comment, smtp_server):
    config.alerts.repeat_interval = timedelta(hours=1)
    fire(engine, config, add_comment)
    notify.run(engine, config, now=at(6))
    evaluate.run(engine, config, now=at(40))
    notify.run(engine, config, now=at(40))
    assert len(smtp_server.inbox.messages) == 1
    evaluate.run(engine, config, now=at(67))
    notify.run(engine, config, now=at(67))
    assert len(smtp_server.inbox.messages) == 2
    ids = {m["Message-ID"] for m in smtp_server.inbox.messages}
    assert len(ids) == 2  # a repeat is a new email, not a resend


@pytest.mark.parametrize("send_resolved", [True, False])
def test_resolved_notice_follows_the_setting(engine, config, add_comment, smtp_server, send_resolved):
    config.alerts.send_resolved = send_resolved
    fire(engine, config, add_comment)
    notify.run(engine, config, now=at(6))
    for i in range(10):
        add_comment(at=at(10), toxicity=0.05, author=f"calm{i}")
    tick(engine, config, at(12))
    notify.run(engine, config, now=at(12))
    subjects = [m["Subject"] for m in smtp_server.inbox.messages]
    assert subjects == (["[FIRING:1] ToxicHigh (daily)", "[RESOLVED:1] ToxicHigh (daily)"] if send_resolved
                        else ["[FIRING:1] ToxicHigh (daily)"])


def test_silenced_alert_sends_no_email_but_stays_firing(engine, config, add_comment, smtp_server):
    with engine.begin() as conn:
        conn.execute(insert(silences).values(matchers={"source": "daily"}, starts_at=at(-60),
                                             ends_at=at(60), created_at=at(-60)))
    fire(engine, config, add_comment)
    notify.run(engine, config, now=at(6))
    assert smtp_server.inbox.messages == []
    with engine.connect() as conn:
        assert conn.execute(select(alert_states.c.state)).scalars().all() == ["firing"]


def test_email_waits_in_outbox_while_server_is_down_then_goes_out_once(engine, config, add_comment,
                                                                      smtp_server):
    fire(engine, config, add_comment)
    smtp_server.stop()
    down = notify.run(engine, config, now=at(6))
    assert down.queued == 1 and down.sent == 0 and down.failed_attempts == 1 and down.waiting == 1
    assert notify.run(engine, config, now=at(6.2)).failed_attempts == 0  # backing off: no attempt yet
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert row.status == "pending" and row.attempts == 1 and "cannot reach" in row.last_error

    smtp_server.start()
    up = notify.run(engine, config, now=at(7))
    assert up.sent == 1 and up.waiting == 0
    notify.run(engine, config, now=at(8))
    assert len(smtp_server.inbox.messages) == 1
    assert smtp_server.inbox.messages[0]["Message-ID"] == row.message_id


def test_permanently_refused_email_is_kept_as_failed_until_retried(engine, config, add_comment, smtp_server,
                                                                    caplog):
    fire(engine, config, add_comment)
    smtp_server.inbox.refuse_recipients = True
    refused = notify.run(engine, config, now=at(6))
    assert refused.failed == 1 and refused.sent == 0 and refused.waiting == 0
    assert "refused for good" in caplog.text and "monitor alerts retry" in caplog.text
    # Not retried blindly: past the first backoff (30 s), no new attempt is made.
    later = notify.run(engine, config, now=at(10))
    assert later.queued == 0 and later.failed_attempts == 0
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert row.status == "failed" and row.attempts == 1 and "all recipients refused" in row.last_error

    smtp_server.inbox.refuse_recipients = False  # the operator fixed the recipient list
    with engine.begin() as conn:
        assert notify.retry_failed(conn, at(11)) == 1
    assert notify.run(engine, config, now=at(11)).sent == 1
    assert [m["Message-ID"] for m in smtp_server.inbox.messages] == [row.message_id]


class Crash(BaseException):
    """Stands for the process dying: not an error any code path handles."""


class SendThenCrash:
    """Delivers for real, checks the outbox row was written first, then 'crashes' before the mark."""

    def __init__(self, target, engine):
        self.target, self.engine = target, engine

    def send(self, message, recipients=None):
        with self.engine.connect() as conn:
            row = conn.execute(select(outbox).where(outbox.c.message_id == message["Message-ID"])).one()
        assert row.status == "sending"
        self.target.send(message, recipients)
        raise Crash()


def test_crash_between_send_and_mark_resends_with_the_same_message_id(engine, config, add_comment, smtp_server):
    fire(engine, config, add_comment)
    target = SmtpTarget.from_config(config.smtp)
    with pytest.raises(Crash):
        notify.run(engine, config, now=at(6), transport=SendThenCrash(target, engine))
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.status)).scalar_one() == "sending"

    notify.run(engine, config, now=at(7))
    notify.run(engine, config, now=at(8))
    ids = [m["Message-ID"] for m in smtp_server.inbox.messages]
    assert len(ids) == 2 and ids[0] == ids[1]  # one duplicate, recognisable by its Message-ID
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.status)).scalar_one() == "sent"


def test_login_is_used_when_the_server_requires_it(engine, config, add_comment, auth_smtp_server):
    config.smtp.port = auth_smtp_server.port
    config.smtp.username, config.smtp.password = auth_smtp_server.user, auth_smtp_server.password
    fire(engine, config, add_comment)
    assert notify.run(engine, config, now=at(6)).sent == 1
    assert len(auth_smtp_server.inbox.messages) == 1


def test_route_sends_critical_alerts_to_their_own_recipients(engine, config, add_comment, smtp_server):
    config.alerts.routes = [RouteSettings(match={"severity": "warning"}, to=["moderators@example.org"])]
    fire(engine, config, add_comment)
    notify.run(engine, config, now=at(6))
    assert smtp_server.inbox.envelopes[0].rcpt_tos == ["moderators@example.org"]


def test_without_smtp_host_nothing_is_queued(engine, config, add_comment, smtp_server):
    config.smtp.host = ""
    fire(engine, config, add_comment)
    stats = notify.run(engine, config, now=at(6))
    assert not stats.email_enabled and stats.queued == 0
    with engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []
