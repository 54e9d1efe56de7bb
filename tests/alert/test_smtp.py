"""SMTP delivery against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest

from monitor.alert.smtp import DeliveryError, SmtpTarget, build_message

SENT_AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def message(subject: str = "[FIRING:1] ToxicShareHigh", message_id: str = "<abc.1@monitor.invalid>"):
    return build_message(sender="monitor@example.org", recipients=["ops@example.org"], subject=subject,
                         text="plain body", html="<p>html body</p>", message_id=message_id, date=SENT_AT)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_message_arrives_with_plain_and_html_parts(smtp_server):
    SmtpTarget("127.0.0.1", smtp_server.port, security="none").send(message())

    [received] = smtp_server.inbox.messages
    assert received["Subject"] == "[FIRING:1] ToxicShareHigh"
    assert received["Message-ID"] == "<abc.1@monitor.invalid>"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in received.walk()
             if not p.is_multipart()}
    assert "plain body" in parts["text/plain"] and "html body" in parts["text/html"]
    assert smtp_server.inbox.envelopes[0].rcpt_tos == ["ops@example.org"]


def test_login_with_the_right_password_delivers(auth_smtp_server):
    SmtpTarget("127.0.0.1", auth_smtp_server.port, security="none", username=auth_smtp_server.user,
               password=auth_smtp_server.password).send(message())
    assert len(auth_smtp_server.inbox.messages) == 1


def test_wrong_password_is_a_permanent_error_that_names_the_setting(auth_smtp_server):
    target = SmtpTarget("127.0.0.1", auth_smtp_server.port, security="none", username="monitor",
                        password="wrong")
    with pytest.raises(DeliveryError) as err:
        target.send(message())
    assert err.value.permanent and "MONITOR_SMTP_PASSWORD" in str(err.value)
    assert auth_smtp_server.inbox.messages == []


def test_server_that_requires_login_refuses_anonymous_mail(auth_smtp_server):
    with pytest.raises(DeliveryError):
        SmtpTarget("127.0.0.1", auth_smtp_server.port, security="none").send(message())
    assert auth_smtp_server.inbox.messages == []


def test_server_down_is_a_temporary_error():
    with pytest.raises(DeliveryError) as err:
        SmtpTarget("127.0.0.1", unused_port(), security="none", timeout_s=2).send(message())
    assert not err.value.permanent


def test_comment_text_cannot_inject_headers(smtp_server):
    evil = "Nazi-Troll alert\r\nBcc: victim@example.net\r\n\r\nfake body"
    SmtpTarget("127.0.0.1", smtp_server.port, security="none").send(message(subject=evil))

    [received] = smtp_server.inbox.messages
    assert received["Bcc"] is None
    assert smtp_server.inbox.envelopes[0].rcpt_tos == ["ops@example.org"]
    assert "\n" not in received["Subject"] and received["Subject"].startswith("Nazi-Troll alert")


def test_starttls_to_a_server_without_it_says_to_check_the_security_setting(smtp_server):
    with pytest.raises(DeliveryError) as err:
        SmtpTarget("127.0.0.1", smtp_server.port, security="starttls").send(message())
    assert "smtp.security" in str(err.value)
