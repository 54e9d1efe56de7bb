"""Fixtures for alerting tests: SQLite database, config, a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import itertools
import socket
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any, Callable

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, insert, select

from monitor.config import load_config
from monitor.store.db import engine_for_url
from monitor.store.schema import articles, comments, metadata, scores, sources

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
    counter = itertools.count(1)

    def add(*, source: str = "daily", article: str = "a1", at: datetime, toxicity: float = 0.1,
            author: str | None = "p1", text: str | None = None) -> int:
        n = next(counter)
        with engine.begin() as conn:
            source_id = conn.execute(select(sources.c.id).where(sources.c.name == source)).scalar()
            if source_id is None:
                source_id = conn.execute(insert(sources).values(
                    name=source, platform="wordpress", url=f"https://{source}.example", created_at=at,
                    state={})).inserted_primary_key[0]
            article_id = conn.execute(select(articles.c.id).where(
                articles.c.source_id == source_id, articles.c.external_id == article)).scalar()
            if article_id is None:
                article_id = conn.execute(insert(articles).values(
                    source_id=source_id, external_id=article, url=f"https://{source}.example/{article}",
                    discovered_at=at, comment_count=0, state={})).inserted_primary_key[0]
            comment_id = conn.execute(insert(comments).values(
                source_id=source_id, article_id=article_id, external_id=f"c{n}", author_pseudonym=author,
                text=text if text is not None else f"comment number {n}", content_hash=f"h{n}",
                published_at=at, first_seen_at=at, updated_at=at, edit_count=0,
                needs_scoring=False)).inserted_primary_key[0]
            conn.execute(insert(scores).values(
                comment_id=comment_id, model_version="test-1", content_hash=f"h{n}", lang="en",
                toxicity=toxicity, toxic=toxicity >= 0.5, attributes={}, stance={}, slurs=[], scored_at=at))
        return comment_id

    return add
