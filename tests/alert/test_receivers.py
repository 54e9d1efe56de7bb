"""Receivers: the webhook against a loopback HTTP server, routing to several receivers, a toy
receiver registered in one line, configuration errors, and the outbox migration."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Mapping

import pytest
from sqlalchemy import select

from monitor import aggregate
from monitor.alert import evaluate, notify
from monitor.alert.receiver import Delivery
from monitor.alert.receivers import RECEIVERS, build_receivers
from monitor.config import RouteSettings
from monitor.errors import ConfigError
from monitor.store.schema import outbox
from tests.helpers import TOXIC_RULE, at

RULE = TOXIC_RULE


def tick(engine, config, now):
    aggregate.run(engine, config, now=now)
    evaluate.run(engine, config, now=now)


@pytest.fixture(autouse=True)
def firing(engine, config, rules_dir, add_comment):
    """One ToxicHigh alert firing since at(5), with a comment that links to its place on the page."""
    from sqlalchemy import update

    from monitor.store.schema import articles, comments

    (rules_dir / "test.toml").write_text(RULE)
    for i in range(4):
        cid = add_comment(at=at(-4 + i), toxicity=0.9 - i / 100, author=f"p{i}", text=f"toxic text {i}")
        with engine.begin() as conn:
            conn.execute(update(comments).where(comments.c.id == cid)
                         .values(url=f"https://daily.example/a1#comment-{cid}"))
    with engine.begin() as conn:
        conn.execute(update(articles).values(title="Debate on the budget"))
    tick(engine, config, at(0))
    tick(engine, config, at(5))


class Hook:
    """A webhook endpoint on 127.0.0.1 that answers with scripted statuses (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = hook.statuses.pop(0) if hook.statuses else 200
                if status == 200:
                    hook.bodies.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def use_webhook(config, url: str) -> None:
    config.alerts.receivers = {"chat": {"type": "webhook", "url": url, "timeout_s": 5}}
    config.alerts.routes = [RouteSettings(match={"severity": "warning"}, receivers=["chat"])]


def test_webhook_gets_alertmanager_json_with_examples_after_a_retry(engine, config, add_comment, smtp_server):
    with Hook(statuses=[503]) as hook:
        use_webhook(config, hook.url)
        first = notify.run(engine, config, now=at(6))
        assert first.queued == 1 and first.sent == 0 and first.failed_attempts == 1
        with engine.connect() as conn:
            row = conn.execute(select(outbox)).one()
        assert row.receiver == "chat" and row.status == "pending" and "HTTP 503" in row.last_error
        assert notify.run(engine, config, now=at(7)).sent == 1  # retried through the outbox

        for i in range(10):  # calm comments: the alert resolves
            add_comment(at=at(10), toxicity=0.05, author=f"calm{i}")
        tick(engine, config, at(12))
        notify.run(engine, config, now=at(12))

    assert smtp_server.inbox.messages == []  # routed to the webhook only
    fired, resolved = hook.bodies
    assert fired["version"] == "4" and fired["status"] == "firing" and fired["receiver"] == "chat"
    assert fired["groupLabels"] == {"alertname": "ToxicHigh"}
    [alert] = fired["alerts"]
    assert alert["labels"]["alertname"] == "ToxicHigh" and alert["labels"]["source"] == "daily"
    assert alert["annotations"] == {"summary": "daily: toxic share 1"}
    assert alert["startsAt"] == "2026-03-01T10:10:00Z" and alert["endsAt"] == "0001-01-01T00:00:00Z"
    top = alert["examples"][0]
    assert top["text"] == "toxic text 0" and top["articleTitle"] == "Debate on the budget"
    assert top["url"].startswith("https://daily.example/a1#comment-")
    assert alert["silenceCommand"] == ("monitor alerts silence --match alertname=ToxicHigh "
                                       "--match source=daily --for 2h")
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] == "2026-03-01T10:17:00Z"


def test_webhook_client_error_is_permanent(engine, config, smtp_server):
    with Hook(statuses=[400]) as hook:
        use_webhook(config, hook.url)
        stats = notify.run(engine, config, now=at(6))
    assert stats.failed == 1
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert row.status == "failed" and "HTTP 400" in row.last_error and "alerts.receivers.chat.url" in row.last_error


def test_a_route_can_name_several_receivers(engine, config, smtp_server):
    with Hook() as hook:
        use_webhook(config, hook.url)
        config.alerts.routes[0].receivers = ["chat", "email"]
        assert notify.run(engine, config, now=at(6)).sent == 2
    assert len(hook.bodies) == 1 and len(smtp_server.inbox.messages) == 1
    with engine.connect() as conn:
        assert sorted(conn.execute(select(outbox.c.receiver)).scalars()) == ["chat", "email"]


class ToyReceiver:
    """A receiver in a dozen lines: keeps what it is sent."""

    kind: ClassVar[str] = "toy"
    sent: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def from_config(cls, name: str, options: Mapping[str, Any], config: Any) -> ToyReceiver:
        return cls(name)

    def describe(self) -> str:
        return "a toy"

    def render(self, group: Any) -> dict[str, Any]:
        return {"names": [a.name for a in group.alerts], "first_link": group.alerts[0].examples[0].url}

    def summary(self, payload: Mapping[str, Any]) -> str:
        return "toy: " + ", ".join(payload["names"])

    def send(self, payload: Mapping[str, Any]) -> Delivery:
        self.sent.append(dict(payload))
        return Delivery({self.name: "delivered"})


def test_a_new_receiver_is_one_class_and_one_registry_line(engine, config, monkeypatch, smtp_server):
    monkeypatch.setitem(RECEIVERS, "toy", ToyReceiver)  # the one line a new receiver module adds
    config.alerts.receivers = {"log": {"type": "toy"}}
    config.alerts.routes = [RouteSettings(match={"alertname": "ToxicHigh"}, receivers=["log"])]

    assert notify.run(engine, config, now=at(6)).sent == 1
    assert ToyReceiver.sent[-1]["names"] == ["ToxicHigh"]
    assert ToyReceiver.sent[-1]["first_link"].startswith("https://daily.example/a1#comment-")
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert (row.receiver, row.subject, row.status) == ("log", "toy: ToxicHigh", "sent")


@pytest.mark.parametrize(("receivers", "routes", "key", "says"), [
    ({}, [{"receivers": ["pager"]}], "alerts.routes[0].receivers", "unknown receiver 'pager'"),
    ({"chat": {"type": "pigeon"}}, [], "alerts.receivers.chat.type", "accepted: email, webhook"),
    ({"chat": {"type": "webhook", "url": "file:///etc/passwd"}}, [], "alerts.receivers.chat.url",
     "expected an http:// or https:// URL"),
    ({"chat": {"type": "webhook"}}, [], "alerts.receivers.chat.url", "Field required"),
    ({"chat": {"type": "webhook", "url": "https://x.example", "colour": "red"}}, [],
     "alerts.receivers.chat.colour", "Extra inputs are not permitted"),
    ({"mods": {"type": "email", "to": ["mods@example.org", "not an address"]}}, [],
     "alerts.receivers.mods.to.1", "expected an email address"),
])
def test_bad_receiver_config_is_one_line_naming_the_key(config, receivers, routes, key, says):
    config.alerts.receivers = receivers
    config.alerts.routes = [RouteSettings(**r) for r in routes]
    with pytest.raises(ConfigError) as err:
        build_receivers(config)
    assert key in str(err.value) and says in str(err.value) and "\n" not in str(err.value)


def test_route_recipients_must_be_addresses(tmp_path):
    from monitor.config import load_config

    path = tmp_path / "monitor.toml"
    path.write_text('[alerts]\nroutes = [{ match = { severity = "critical" }, to = ["oncall"] }]\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert "alerts.routes.0.to.0: expected an email address" in str(err.value)


def test_email_receiver_without_recipients_says_why_it_is_off(config):
    config.smtp.recipients = []
    enabled, disabled = build_receivers(config)
    assert "email" not in enabled and "smtp.recipients" in disabled["email"]


def test_outbox_migration_keeps_waiting_emails(database_url, smtp_server, config):
    """An email queued before receivers existed is still sent, once, with its Message-ID."""
    from alembic import command
    from sqlalchemy import text

    from monitor.store.db import _alembic_config, engine_for_url, upgrade

    engine = engine_for_url(database_url)
    command.upgrade(_alembic_config(engine), "0001")
    old = {"message_id": "<old.1@monitor.invalid>", "group_key": "g", "recipients": ["ops@example.org"],
           "subject": "[FIRING:1] Old", "body_text": "old text", "body_html": "<p>old</p>",
           "created_at": "2026-03-01 10:00:00.000000", "status": "pending", "attempts": 2,
           "next_attempt_at": "2026-03-01 10:00:00.000000", "last_error": "cannot reach"}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO outbox (message_id, group_key, recipients, subject, body_text, "
                          "body_html, created_at, status, attempts, next_attempt_at, last_error) VALUES "
                          "(:message_id, :group_key, :recipients, :subject, :body_text, :body_html, "
                          ":created_at, :status, :attempts, :next_attempt_at, :last_error)"),
                     {**old, "recipients": json.dumps(old["recipients"])})
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert (row.receiver, row.subject, row.attempts) == ("email", "[FIRING:1] Old", 2)
    assert row.payload["to"] == ["ops@example.org"] and row.payload["text"] == "old text"

    stats = notify.deliver(engine, config, at(30), *build_receivers(config))
    assert stats.sent == 1
    [mail] = smtp_server.inbox.messages
    assert mail["Message-ID"] == "<old.1@monitor.invalid>" and mail["From"] == "monitor@example.org"
    assert "old text" in mail.get_payload()[0].get_payload()
    engine.dispose()


def test_webhook_that_takes_the_request_but_never_answers_is_uncertain():
    """The request went out, so it may have been acted on: counted against max_uncertain_copies."""
    import socket

    from monitor.alert.receiver import DeliveryError
    from monitor.alert.receivers.webhook import WebhookReceiver

    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    thread = threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True)
    thread.start()
    receiver = WebhookReceiver("chat", f"http://127.0.0.1:{listener.getsockname()[1]}/hook", timeout_s=0.5)
    try:
        with pytest.raises(DeliveryError) as err:
            receiver.send({"status": "firing", "alerts": []})
    finally:
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()
    assert err.value.uncertain and not err.value.permanent
