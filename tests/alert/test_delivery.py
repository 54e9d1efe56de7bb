"""Email delivery outcomes per recipient, and bounded copies, against a real aiosmtpd server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor import aggregate
from monitor.alert import evaluate, notify
from monitor.alert.smtp import DeliveryError, SmtpTarget, build_message
from monitor.store.schema import outbox
from tests.helpers import ALERT_T0 as T0, TOXIC_RULE_PLAIN, at

RULE = TOXIC_RULE_PLAIN


@pytest.fixture(autouse=True)
def firing(engine, config, rules_dir, add_comment):
    """One ToxicHigh alert firing since at(5); its email is due from at(6)."""
    (rules_dir / "test.toml").write_text(RULE)
    for i in range(4):
        add_comment(at=at(-4 + i), toxicity=0.9, author=f"p{i}")
    for now in (at(0), at(5)):
        aggregate.run(engine, config, now=now)
        evaluate.run(engine, config, now=now)


def refuse(smtp_server, answers: dict[str, str]) -> None:
    """Make the server answer RCPT TO for these addresses with the given reply."""
    inbox = smtp_server.inbox

    async def handle_RCPT(server, session, envelope, address, options):  # noqa: N802 (aiosmtpd's name)
        if address in answers:
            return answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    inbox.handle_RCPT = handle_RCPT


def outbox_row(engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(outbox)).one()


def test_one_refused_recipient_is_reported_and_gets_the_email_after_retry(engine, config, smtp_server):
    config.smtp.recipients = ["ops@example.org", "gone@example.org"]
    refuse(smtp_server, {"gone@example.org": "550 5.1.1 mailbox unavailable"})

    stats = notify.run(engine, config, now=at(6))
    assert stats.sent == 0 and stats.partial == 1 and stats.failed == 1
    assert [e.rcpt_tos for e in smtp_server.inbox.envelopes] == [["ops@example.org"]]
    row = outbox_row(engine)
    assert row.status == "failed"  # not "sent" with no error
    assert "gone@example.org refused: 550 5.1.1 mailbox unavailable" in row.last_error
    assert "delivered to ops@example.org" in row.last_error
    assert row.outcome["targets"]["ops@example.org"]["outcome"] == "delivered"
    assert row.outcome["targets"]["gone@example.org"]["outcome"].startswith("refused: 550")

    # Not retried blindly; once the mailbox exists again, `alerts retry` sends to it only.
    assert notify.run(engine, config, now=at(20)).failed_attempts == 0
    refuse(smtp_server, {})
    with engine.begin() as conn:
        assert notify.retry_failed(conn, at(21)) == 1
    assert notify.run(engine, config, now=at(21)).sent == 1
    assert [e.rcpt_tos for e in smtp_server.inbox.envelopes] == [["ops@example.org"], ["gone@example.org"]]
    first, second = smtp_server.inbox.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert second["To"] == "ops@example.org, gone@example.org"  # the same email, not a new one
    assert outbox_row(engine).status == "sent"


def test_temporarily_refused_recipient_is_retried_alone_with_backoff(engine, config, smtp_server):
    config.smtp.recipients = ["ops@example.org", "full@example.org"]
    refuse(smtp_server, {"full@example.org": "452 4.2.2 mailbox full"})

    stats = notify.run(engine, config, now=at(6))
    assert stats.partial == 1 and stats.failed == 0 and stats.waiting == 1
    row = outbox_row(engine)
    assert row.status == "pending" and "full@example.org refused: 452" in row.last_error
    assert notify.run(engine, config, now=at(6.2)).sent == 0  # backing off

    refuse(smtp_server, {})
    assert notify.run(engine, config, now=at(8)).sent == 1
    assert [e.rcpt_tos for e in smtp_server.inbox.envelopes] == [["ops@example.org"], ["full@example.org"]]


class DropAfterData:
    """A server that takes the message, then closes the connection instead of answering 250."""

    def __init__(self, inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.inbox.messages.append(envelope.content)
        server.transport.close()
        return "250 OK"


def test_server_that_drops_the_connection_after_data_gets_a_bounded_number_of_copies(engine, config,
                                                                                       smtp_server):
    smtp_server.inbox.handle_DATA = DropAfterData(smtp_server.inbox).handle_DATA
    config.alerts.max_uncertain_copies = 3
    config.alerts.repeat_interval = timedelta(days=1)  # no new notification while this one retries

    with pytest.raises(DeliveryError) as err:
        SmtpTarget("127.0.0.1", smtp_server.port, security="none").send(build_message(
            sender="m@example.org", recipients=["ops@example.org"], subject="s", text="t", html="h",
            message_id="<probe@monitor.invalid>", date=T0))
    assert err.value.uncertain and not err.value.permanent
    smtp_server.inbox.messages.clear()

    for minute in range(6, 6 + 20 * 10, 20):  # ten runs, each past the backoff
        notify.run(engine, config, now=at(minute))
    assert len(smtp_server.inbox.messages) == 3  # at least once, at most max_uncertain_copies
    row = outbox_row(engine)
    assert row.status == "failed" and row.outcome["uncertain"] == 3
    assert "may have arrived up to 3 times" in row.last_error and "max_uncertain_copies" in row.last_error

    # The operator checked the server: one more round of attempts is allowed.
    with engine.begin() as conn:
        notify.retry_failed(conn, at(300))
    notify.run(engine, config, now=at(300))
    assert len(smtp_server.inbox.messages) == 4


def test_server_down_before_data_is_retried_without_limit(engine, config, smtp_server):
    config.alerts.max_uncertain_copies = 1
    config.alerts.repeat_interval = timedelta(days=1)
    smtp_server.stop()
    for minute in range(6, 6 + 60 * 5, 60):
        notify.run(engine, config, now=at(minute))
    row = outbox_row(engine)
    assert row.status == "pending" and row.attempts == 5 and not (row.outcome or {}).get("uncertain")
    smtp_server.start()
    assert notify.run(engine, config, now=at(400)).sent == 1
    assert len(smtp_server.inbox.messages) == 1


def test_connection_lost_before_the_message_went_out_is_not_uncertain():
    """A server that hangs up on the DATA command never had the message: plain retry, no cap."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 test ESMTP\r\n")
            for line in lines:
                if line.upper().startswith(b"DATA"):
                    return  # hang up instead of 354
                conn.sendall(b"250 OK\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(DeliveryError) as err:
            SmtpTarget("127.0.0.1", listener.getsockname()[1], security="none", timeout_s=5).send(build_message(
                sender="m@example.org", recipients=["ops@example.org"], subject="s", text="t", html="h",
                message_id="<probe@monitor.invalid>", date=T0))
    finally:
        thread.join(5)
        listener.close()
    assert not err.value.uncertain and not err.value.permanent
