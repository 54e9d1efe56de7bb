"""Fixtures for alerting tests: SQLite database, config, a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, Callable

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine

from monitor.config import load_config
from monitor.store.db import engine_for_url
from monitor.store.schema import metadata
from tests.helpers import comment_adder

USER, PASSWORD = "monitor", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What the test SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    refuse_recipients: bool = False  # answer every RCPT with 550, as for an unknown mailbox

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


class SmtpServer:
    """An aiosmtpd server that can be started, stopped and started again on the same port."""

    def __init__(self, port: int, auth: bool = False) -> None:
        self.port = port
        self.auth = auth
        self.inbox = Inbox()
        self.controller: Controller | None = None
        self.user, self.password = USER, PASSWORD

    @staticmethod
    def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.auth:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Any:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def auth_smtp_server() -> Any:
    server = SmtpServer(free_port(), auth=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'monitor.db'}")
    metadata.create_all(engine)
    return engine


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    return folder


@pytest.fixture
def config(rules_dir: Path, smtp_server: SmtpServer) -> Any:
    config = load_config(None, environ={})
    config.paths.rules_dir = rules_dir
    config.smtp.host, config.smtp.port, config.smtp.security = "127.0.0.1", smtp_server.port, "none"
    config.smtp.recipients = ["ops@example.org"]
    config.smtp.sender = "monitor@example.org"
    return config


@pytest.fixture
def add_comment(engine: Engine) -> Callable[..., int]:
    """Store one scored comment; returns its id."""
    return comment_adder(engine)
