"""SMTP delivery against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest

from monitor.alert.smtp import DeliveryError, SmtpTarget, build_message

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")

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


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_encrypted_delivery_with_login(certificate, security):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((session.authenticated, envelope.content))
            return "250 OK"

    port = unused_port()
    accept = lambda server, session, envelope, mechanism, data: AuthResult(success=data.password == b"pw")  # noqa: E731
    # aiosmtpd does not count implicit TLS as TLS for AUTH, so it must be told to offer AUTH anyway.
    kwargs = ({"tls_context": server_ctx, "require_starttls": True} if security == "starttls"
              else {"ssl_context": server_ctx, "auth_require_tls": False})
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=accept,
                            auth_required=True, **kwargs)
    controller.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        SmtpTarget("127.0.0.1", port, security=security, username="monitor", password="pw",
                   ssl_context=client_ctx).send(message())
    finally:
        controller.stop()
    assert len(received) == 1 and received[0][0] is True
