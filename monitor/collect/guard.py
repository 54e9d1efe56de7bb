"""Where the collector may go: http(s) only, private addresses only for configured host:ports, one
wall-clock deadline per request. Enforced in the socket layer, so redirects and DNS rebinding
cannot get around it.

The client sets a `RequestScope` for each request it makes (a context variable, so each thread and
each request sees its own); `GuardedTransport` reads it when it connects and on every read."""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore._backends.sync import SyncStream as _SocketStream  # httpcore's plain socket stream

from monitor.errors import FetchError

__all__ = ["AddressRefused", "GuardedTransport", "RequestScope", "check_url", "host_port",
           "iter_private_ok", "origin", "request_scope"]

_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressRefused(FetchError):
    """A URL or an address the collector must not reach."""


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL, else AddressRefused naming it (file:, ftp:, data: …)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise AddressRefused(f"not a valid URL: {url[:200]!r}") from None
    if parts.scheme.lower() not in _SCHEMES:
        raise AddressRefused(f"refused {url[:200]!r}: the monitor fetches only http:// and https:// URLs")
    if not parts.hostname:
        raise AddressRefused(f"refused {url[:200]!r}: no host name")
    return url


def host_port(url: str) -> tuple[str, int]:
    """(lower-case host, port) of an http(s) URL, the port filled in from the scheme."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise AddressRefused(f"refused {url[:200]!r}: invalid port") from None
    return (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, as robots.txt and the per-host delay count hosts."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified
            or ip.is_reserved or ip.is_multicast)


@dataclass
class RequestScope:
    """What one request may do: reach private addresses only at `private_ok` host:ports, and be
    finished (connect, headers and body) by `deadline` (time.monotonic())."""

    deadline: float
    private_ok: frozenset[tuple[str, int]] = frozenset()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_scope: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar("monitor_request_scope",
                                                                             default=None)


@contextlib.contextmanager
def request_scope(scope: RequestScope) -> Iterator[RequestScope]:
    """Run one request under `scope` (this thread and context only)."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def _current() -> RequestScope:
    scope = _scope.get()
    if scope is None:  # a request made around the client: no private address, a short deadline
        scope = RequestScope(deadline=time.monotonic() + 30.0)
    return scope


def _clamp(timeout: float | None, scope: RequestScope, error: type[Exception]) -> float:
    left = scope.remaining()
    if left <= 0:
        raise error("request deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """Every read and write bounded by what is left of the current request's deadline, so a server
    sending one byte a second still ends the request on time."""

    def __init__(self, inner: httpcore.NetworkStream, sock: socket.socket) -> None:
        self._inner = inner
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, _current(), httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, _current(), httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        scope = _current()
        left = _clamp(timeout, scope, httpcore.ConnectTimeout)
        # The handshake is many reads inside the ssl module; a timer cuts a trickled one off.
        timer = threading.Timer(left, _shutdown, args=(self._sock,))
        timer.daemon = True
        timer.start()
        try:
            inner = self._inner.start_tls(ssl_context, server_hostname, left)
        finally:
            timer.cancel()
        return _DeadlineStream(inner, self._sock)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_resolver = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="resolve")


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves the host once, refuses private addresses not allowed by the request's scope, and
    connects to the checked address itself (no second lookup that DNS rebinding could change)."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        scope = _current()
        lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:  # a resolver that never answers is bounded by the deadline too
            infos = lookup.result(_clamp(timeout, scope, httpcore.ConnectTimeout))
        except concurrent.futures.TimeoutError:
            raise httpcore.ConnectTimeout(f"looking up {host} timed out") from None
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        allowed = (host.lower().strip("[]"), port) in scope.private_ok
        candidates = [info for info in infos if allowed or not _private(info[4][0])]
        if not candidates:
            raise AddressRefused(
                f"refused {host}:{port}: it resolves to a private or local address "
                f"({infos[0][4][0]}); only a host:port named by a configured source may be private")
        last: Exception | None = None
        for family, kind, proto, _, address in candidates:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(_clamp(timeout, scope, httpcore.ConnectTimeout))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.connect(address)
            except socket.timeout:
                sock.close()
                last = httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out")
            except OSError as exc:
                sock.close()
                last = httpcore.ConnectError(f"cannot connect to {host}:{port} ({exc.strerror or exc})")
            else:
                return _DeadlineStream(_SocketStream(sock), sock)
        assert last is not None
        raise last

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over the guarded backend; no proxies from the environment (a proxy
    would make the address check meaningless)."""

    def __init__(self, *, max_connections: int = 100) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=max_connections,
            max_keepalive_connections=20, keepalive_expiry=5.0, network_backend=_GuardedBackend())


def iter_private_ok(urls: Iterable[str]) -> Iterator[tuple[str, int]]:
    """The host:ports of configured URLs (source sites, listed articles) that may be private."""
    for url in urls:
        try:
            check_url(url)
            yield host_port(url)
        except AddressRefused:
            continue
