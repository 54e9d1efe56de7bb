"""The email receiver: one multipart message per group, rendered from the Jinja2 templates, sent over SMTP.

Per-recipient outcome: recipients the server refuses stay in the stored payload (`rcpt`) and are
retried (4xx) or reported as failed (5xx) with the server's answer; the ones that took the message
are not sent it again. Options: `to = [...]` (default `smtp.recipients`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError

from monitor.alert.content import fmt
from monitor.alert.receiver import Delivery, options_error
from monitor.alert.render import check_templates, render
from monitor.alert.smtp import SmtpTarget, Transport, build_message
from monitor.config import EmailAddress
from monitor.errors import NotConfigured
from monitor.text import header_safe

if TYPE_CHECKING:
    from monitor.alert.content import Group
    from monitor.config import Config

__all__ = ["EmailReceiver"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[EmailAddress] = []


class EmailReceiver:
    """Mails a group to a list of addresses through the configured SMTP server."""

    kind: ClassVar[str] = "email"

    def __init__(self, name: str, recipients: Sequence[str], sender: str, transport: Transport,
                 templates_dir: Path | None = None) -> None:
        self.name = name
        self.recipients = list(recipients)
        self.sender = sender
        self.transport = transport
        self.templates_dir = templates_dir

    @classmethod
    def from_config(cls, name: str, options: Mapping[str, Any], config: Config) -> EmailReceiver:
        try:
            parsed = _Options(**options)
        except ValidationError as exc:
            raise options_error(exc, config, name) from None
        recipients = parsed.to or config.smtp.recipients
        if not recipients:
            raise NotConfigured(name, "no recipients: set smtp.recipients (or alerts.receivers."
                                      f"{name}.to) in monitor.toml")
        target = SmtpTarget.from_config(config.smtp)  # NotConfigured without smtp.host
        check_templates(config.alerts.templates_dir)
        return cls(name, recipients, config.smtp.sender, target, config.alerts.templates_dir)

    def describe(self) -> str:
        target = self.transport
        where = f"{target.host}:{target.port} ({target.security})" if isinstance(target, SmtpTarget) else "custom"
        return f"email to {len(self.recipients)} recipient(s) via {where}"

    def render(self, group: Group) -> dict[str, Any]:
        names = sorted({a.name for a in group.alerts})
        sources = sorted({a.source for a in group.alerts} - {""})
        context = {"group": group, "names": names, "sources": sources, "fmt": fmt}
        subject = header_safe(render("email_subject.j2", self.templates_dir, **context), 200)
        return {"message_id": group.delivery_id(self.name), "date": group.created_at.isoformat(),
                "sender": self.sender, "to": self.recipients, "rcpt": self.recipients, "subject": subject,
                "text": render("email.txt.j2", self.templates_dir, **context),
                "html": render("email.html.j2", self.templates_dir, **context)}

    def summary(self, payload: Mapping[str, Any]) -> str:
        return str(payload.get("subject", ""))

    def send(self, payload: Mapping[str, Any]) -> Delivery:
        message = build_message(sender=payload.get("sender") or self.sender, recipients=payload["to"], subject=payload["subject"],
                                text=payload["text"], html=payload["html"], message_id=payload["message_id"],
                                date=datetime.fromisoformat(payload["date"]))
        wanted = list(payload["rcpt"])
        refused = self.transport.send(message, wanted) or {}
        outcomes = {addr: "delivered" for addr in wanted if addr not in refused}
        outcomes.update({addr: f"refused: {code} {reply}" for addr, (code, reply) in refused.items()})
        if not refused:
            return Delivery(outcomes)
        return Delivery(outcomes, remaining={**payload, "rcpt": sorted(refused)},
                        permanent=all(500 <= code < 600 for code, _ in refused.values()))
