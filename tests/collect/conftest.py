"""A real threading HTTP server on 127.0.0.1 that serves fixture sites from route functions."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.config import load_config
from monitor.store.db import engine_for_url, upgrade
from tests.conftest import make_config_dir


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (slow server)
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


Route = Callable[[Request], Reply]


class Site:
    """Routes by path; every request is logged with its headers and arrival time."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Request] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, reply: Route | Reply) -> None:
        self.routes[path] = reply if callable(reply) else (lambda _req, r=reply: r)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.log if r.path == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            request = Request(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                              {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
            site.log.append(request)
            route = site.routes.get(parts.path)
            reply = route(request) if route else Reply(404, b"not found", content_type="text/plain")
            if reply.delay_s:
                time.sleep(reply.delay_s)
            body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": reply.content_type, **reply.headers}
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    headers["Content-Length"] = str(len(body))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (size limit, timeout): expected in those tests

    return Handler


def start_site() -> Site:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.server = server
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return site


@pytest.fixture
def site() -> Iterator[Site]:
    s = start_site()
    yield s
    assert s.server is not None
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def other_site() -> Iterator[Site]:
    s = start_site()
    yield s
    assert s.server is not None
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def env(tmp_path):
    config = load_config(make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"),
                         environ={"MONITOR_SECRET": "test-secret"})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    yield config, engine
    engine.dispose()
