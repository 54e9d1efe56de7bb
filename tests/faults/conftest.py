"""A hostile site on 127.0.0.1: raw sockets, so it can do what well-behaved servers never do —
trickle its headers or body a byte at a time, drop connections while "down", redirect anywhere,
serve file:// links, a maintenance page, and pages whose comments carry no ids."""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine

from monitor.config import Config, load_config
from monitor.store.db import engine_for_url, upgrade
from tests.conftest import make_config_dir


@dataclass
class Reply:
    status: int = 200
    body: str | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    trickle_head_s: float = 0.0  # pause between bytes of the status line and headers
    trickle_body_s: float = 0.0  # pause between bytes of the body


@dataclass
class Hit:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


Route = Callable[[Hit], Reply]

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class HostileSite:
    """Routes by path; `down = True` drops every connection before answering (an outage)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Hit] = []
        self.down = False
        self.connections = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, path: str, reply: Route | Reply) -> None:
        self.routes[path] = reply if callable(reply) else (lambda _hit, r=reply: r)

    def hits(self, path: str) -> list[Hit]:
        return [h for h in self.log if h.path == path]

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                if self.down:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return  # reset: the outage
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                target = head[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
                parts = urlsplit(target)
                hit = Hit(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}, headers,
                          time.monotonic())
                self.log.append(hit)
                route = self.routes.get(parts.path)
                reply = route(hit) if route else Reply(404, "not found", content_type="text/plain")
                self._send(conn, reply)
        except OSError:
            pass  # the client gave up (deadline, limit): expected in these tests

    def _send(self, conn: socket.socket, reply: Reply) -> None:
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}",
                 f"Content-Type: {reply.content_type}", f"Content-Length: {len(body)}",
                 "Connection: close", *(f"{k}: {v}" for k, v in reply.headers.items())]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        for data, pause in ((head, reply.trickle_head_s), (body, reply.trickle_body_s)):
            if pause:
                for i in range(len(data)):
                    if self._stop.is_set():
                        return
                    conn.sendall(data[i:i + 1])
                    time.sleep(pause)
            else:
                conn.sendall(data)


@pytest.fixture
def hostile() -> Iterator[Callable[[], HostileSite]]:
    """A factory: each call starts another hostile site on its own loopback port."""
    sites: list[HostileSite] = []

    def start() -> HostileSite:
        site = HostileSite()
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.close()


@pytest.fixture
def dead_port() -> int:
    """A loopback port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Config, Engine]]:
    """A config (no delay, few retries) and a migrated SQLite database."""
    extra = "[collect]\nmin_delay_s = 0.0\ntimeout_s = 2.0\nmax_retries = 1\n"
    config = load_config(make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}", extra),
                         environ={"MONITOR_SECRET": "faults"})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    yield config, engine
    engine.dispose()


def recent(days: float = 1.0) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%a, %d %b %Y %H:%M:%S +0000")


def rss(*links: str) -> Reply:
    """A site feed listing `links` as articles published yesterday."""
    items = "".join(f"<item><title>Post {n}</title><link>{link}</link><pubDate>{recent()}</pubDate></item>"
                    for n, link in enumerate(links))
    return Reply(body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
                      "</channel></rss>", content_type="application/rss+xml")


def comment_page(*comments: tuple[str, str], title: str = "Article") -> str:
    """A page of comments without ids: (author, text) pairs in div.c > b.who + p.txt."""
    body = "".join(f'<div class="c"><b class="who">{who}</b><p class="txt">{text}</p></div>'
                   for who, text in comments)
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


CSS = {"comment": "div.c", "author": "b.who", "text": "p.txt"}
