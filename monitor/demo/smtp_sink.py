"""The demo's mail sink: an aiosmtpd server on 127.0.0.1 that saves every message it receives as an .eml file."""

from __future__ import annotations

import itertools
import logging
import os
import threading
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Callable

from monitor.text import header_safe

__all__ = ["ReceivedMail", "SmtpSink"]

log = logging.getLogger(__name__)


class ReceivedMail:
    """One stored message: where it was saved, the envelope and the parsed message."""

    def __init__(self, path: Path, mail_from: str, rcpt_tos: list[str], message: Message) -> None:
        self.path = path
        self.mail_from = mail_from
        self.rcpt_tos = rcpt_tos
        self.message = message

    @property
    def subject(self) -> str:
        return header_safe(str(self.message.get("Subject", "")))


class _Handler:
    """aiosmtpd handler: DATA is written to disk before the 250 reply, so an accepted message is never lost."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.sink.store(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


def _controller_class() -> type:
    from aiosmtpd.controller import Controller

    class EphemeralController(Controller):  # type: ignore[misc, valid-type]
        """Binds port 0 and learns the port the system chose before aiosmtpd's self-test connects."""

        def _trigger_server(self) -> None:
            if self.port == 0 and self.server is not None:
                self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    return EphemeralController


class SmtpSink:
    """A local SMTP server (no auth, no TLS) that stores messages in `mail_dir` as NNNN-TIME.eml.

    `on_message` is called with each ReceivedMail from the server's thread."""

    def __init__(self, mail_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                 on_message: Callable[[ReceivedMail], None] | None = None) -> None:
        self.mail_dir = Path(mail_dir)
        self.host = host
        self.requested_port = port
        self.on_message = on_message
        self.received: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._controller: Any = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the SMTP sink is not started")
        return int(self._controller.port)

    def start(self) -> SmtpSink:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        # A busy machine can take a while to schedule the server thread; aiosmtpd's default is 1 s.
        self._controller = _controller_class()(_Handler(self), hostname=self.host,
                                               port=self.requested_port, ready_timeout=10.0)
        self._controller.start()
        log.info("SMTP sink listening on %s:%d, saving to %s", self.host, self.port, self.mail_dir)
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def store(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> ReceivedMail:
        """Write one message atomically (a reader never sees half a file) and log a line."""
        with self._lock:
            number = next(self._numbers)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            path = self.mail_dir / f"{number:04d}-{stamp}.eml"
            partial = path.with_suffix(".eml.part")
            partial.write_bytes(content)
            os.replace(partial, path)
            mail = ReceivedMail(path, mail_from, rcpt_tos,
                                message_from_bytes(content, policy=default_policy))
            self.received.append(mail)
        log.info("mail received from %s for %s: %r saved as %s", header_safe(mail_from),
                 header_safe(", ".join(rcpt_tos)), mail.subject, path.name)
        if self.on_message is not None:
            self.on_message(mail)
        return mail
