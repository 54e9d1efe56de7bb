"""Email delivery over SMTP (plain, STARTTLS or TLS, optional login) and building safe messages.

Every header value passes through `monitor.text.header_safe` and is set through
`email.message.EmailMessage`, so comment text can never add or split a header.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol, Sequence

from monitor.errors import NotConfigured
from monitor.text import header_safe

__all__ = ["DeliveryError", "SmtpTarget", "Transport", "build_message"]


class DeliveryError(Exception):
    """A message could not be handed to the SMTP server; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    """Something that delivers a built message (SMTP here; tests may pass their own)."""

    def send(self, message: EmailMessage) -> None: ...


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

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                                    context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        client.ehlo()
        if self.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if self.username:
            client.login(self.username, self.password)
        return client

    def send(self, message: EmailMessage) -> None:
        """Deliver one message; raises DeliveryError (permanent for 5xx and refused logins)."""
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
            client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"all recipients refused: {', '.join(exc.recipients)}",
                                permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP server said {exc.smtp_code} {exc.smtp_error!r}",
                                permanent=500 <= exc.smtp_code < 600) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"sending to {self.host}:{self.port} failed: {exc}") from None
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
