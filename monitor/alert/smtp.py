"""Email delivery over SMTP (plain, STARTTLS or TLS, optional login) and building safe messages.

Every header value passes through `monitor.text.header_safe` and is set through
`email.message.EmailMessage`, so comment text can never add or split a header.

`SmtpTarget.send` reports what happened to each recipient: the ones the server refused come back
with its answer, the others have the message. A connection lost after the message itself was sent
(and before the server's reply) counts as `uncertain`: the server may have taken it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol, Sequence

from monitor.alert.receiver import DeliveryError
from monitor.errors import NotConfigured
from monitor.text import header_safe

__all__ = ["DeliveryError", "SmtpTarget", "Transport", "build_message"]


class Transport(Protocol):
    """Something that delivers a built message (SMTP here; tests may pass their own).

    Returns the recipients the server refused, {address: (code, answer)}; None or {} when all
    took it."""

    def send(self, message: EmailMessage,
             recipients: Sequence[str] | None = None) -> dict[str, tuple[int, str]] | None: ...


class _Tracking:
    """Remembers whether the message itself went out (after the server's 354), i.e. whether a lost
    connection may have left it with the server."""

    message_sent = False
    _in_data = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def send(self, s: str | bytes) -> None:
        if self._in_data and isinstance(s, bytes):  # commands go out as str, the message as bytes
            self.message_sent = True
        super().send(s)  # type: ignore[misc]


class _Client(_Tracking, smtplib.SMTP):
    pass


class _TlsClient(_Tracking, smtplib.SMTP_SSL):
    pass


def build_message(*, sender: str, recipients: Sequence[str], subject: str, text: str, html: str,
                  message_id: str, date: datetime) -> EmailMessage:
    """A multipart/alternative message with a plain-text and an HTML part."""
    msg = EmailMessage()
    msg["From"] = header_safe(sender, 320)
    msg["To"] = ", ".join(header_safe(r, 320) for r in recipients)
    msg["Subject"] = header_safe(subject, 200)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = header_safe(message_id, 250)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


@dataclass
class SmtpTarget:
    """The configured SMTP server; `send` opens one connection per message batch."""

    host: str
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = ""
    timeout_s: float = 20.0
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def from_config(cls, settings: Any) -> SmtpTarget:
        if not settings.host:
            raise NotConfigured("email", "smtp.host is empty; set it in monitor.toml to send alert emails")
        return cls(settings.host, settings.port, settings.security, settings.username, settings.password,
                   settings.timeout_s)

    def _connect(self) -> _Client | _TlsClient:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "tls":
            client: _Client | _TlsClient = _TlsClient(self.host, self.port, timeout=self.timeout_s,
                                                      context=context)
        else:
            client = _Client(self.host, self.port, timeout=self.timeout_s)
        client.ehlo()
        if self.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if self.username:
            client.login(self.username, self.password)
        return client

    def send(self, message: EmailMessage,
             recipients: Sequence[str] | None = None) -> dict[str, tuple[int, str]]:
        """Deliver one message to `recipients` (default: its To header); returns the refused
        recipients with the server's answer. Raises DeliveryError when no recipient got it
        (permanent for 5xx and refused logins, uncertain when the connection broke during DATA)."""
        try:
            client = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login as {self.username!r} refused ({exc.smtp_code}); check "
                                "smtp.username and MONITOR_SMTP_PASSWORD", permanent=True) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{self.host}:{self.port}: {exc}; check smtp.security "
                                "(none | starttls | tls)", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"cannot reach SMTP server {self.host}:{self.port}: {exc}") from None
        try:
            refused = client.send_message(message, to_addrs=list(recipients) if recipients else None)
        except smtplib.SMTPRecipientsRefused as exc:
            answers = {addr: (code, _text(reply)) for addr, (code, reply) in exc.recipients.items()}
            shown = "; ".join(f"{addr}: {code} {reply}" for addr, (code, reply) in answers.items())
            raise DeliveryError(f"all recipients refused: {shown}",
                                permanent=all(500 <= code < 600 for code, _ in answers.values())) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP server said {exc.smtp_code} {_text(exc.smtp_error)!r}",
                                permanent=500 <= exc.smtp_code < 600) from None
        except (OSError, smtplib.SMTPException) as exc:
            if client.message_sent:
                raise DeliveryError(f"connection to {self.host}:{self.port} lost after the message was "
                                    f"sent, before the server confirmed it: {exc}", uncertain=True) from None
            raise DeliveryError(f"sending to {self.host}:{self.port} failed: {exc}") from None
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return {addr: (code, _text(reply)) for addr, (code, reply) in refused.items()}


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
