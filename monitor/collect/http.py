"""The polite HTTP client: robots.txt, one request at a time per host with a minimum delay,
conditional GET, Retry-After, backoff with jitter, timeouts, size and decompression limits."""

from __future__ import annotations

import random
import threading
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from monitor import __version__ as _VERSION
from monitor.collect.markup import Document, decode_body
from monitor.errors import FetchError

__all__ = ["FetchResult", "HTTPStatusError", "PoliteClient", "user_agent"]

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_CHUNK = 64 * 1024


def user_agent(contact: str) -> str:
    """Names the tool and the operator so site owners can reach whoever runs it."""
    return f"comment-monitor/{_VERSION} (reader-comment research crawler; contact: {contact})"


class HTTPStatusError(FetchError):
    """The server answered with an error status (after retries, where retrying made sense)."""

    def __init__(self, url: str, status: int, hint: str = "") -> None:
        self.url = url
        self.status = status
        super().__init__(f"HTTP {status} from {url}{hint}")


@dataclass
class FetchResult:
    """A response as the collectors need it; `body` is decompressed and within the size limit."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    not_modified: bool = False

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def text(self) -> str:
        return decode_body(self.body, self.content_type)

    def document(self) -> Document:
        return Document(self.text, url=self.url, content_type=self.content_type)

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise FetchError(f"{self.url} did not return JSON ({exc})") from None


class _Decoder:
    """Content-Encoding undone chunk by chunk with a hard cap on the output (zip/brotli bombs)."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit = limit
        self.url = url
        self.size = 0
        self.parts: list[bytes] = []
        steps = [e.strip().lower() for e in encoding.split(",") if e.strip()]
        self.steps: list[Any] = []
        for name in reversed(steps):  # the last encoding applied is undone first
            if name in ("gzip", "x-gzip"):
                self.steps.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif name == "deflate":
                self.steps.append("deflate")
            elif name == "br":
                import brotli

                self.steps.append(brotli.Decompressor())
            elif name != "identity":
                raise FetchError(f"{url}: unsupported Content-Encoding {name!r}")

    def too_big(self) -> FetchError:
        return FetchError(f"{self.url}: response larger than {self.limit} bytes once decompressed; "
                          "raise collect.max_response_bytes if this page is legitimate")

    def _run(self, step: Any, data: bytes, budget: int) -> bytes:
        """Decompress `data` with one step, producing at most budget+1 bytes."""
        if isinstance(step, str):  # deflate: zlib-wrapped per the RFC, raw in practice; sniff once
            raw = not (len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0)
            step = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            self.steps[self.steps.index("deflate")] = step
        if hasattr(step, "unconsumed_tail"):
            out = step.decompress(data, budget + 1)
            if len(out) > budget or step.unconsumed_tail:
                raise self.too_big()
            return out
        out = step.process(data, output_buffer_limit=budget + 1)
        if len(out) > budget or not step.can_accept_more_data():
            raise self.too_big()
        return out

    def feed(self, data: bytes) -> None:
        for step in self.steps:
            data = self._run(step, data, self.limit - self.size)
        self.size += len(data)
        if self.size > self.limit:
            raise self.too_big()
        self.parts.append(data)

    def result(self) -> bytes:
        return b"".join(self.parts)


class PoliteClient:
    """A sync HTTP client that behaves well toward the sites it reads. Thread-safe: requests to one
    host are serialised and spaced by at least `min_delay_s` (or the robots.txt Crawl-delay)."""

    def __init__(self, *, contact: str = "ops@example.invalid", min_delay_s: float = 1.0,
                 timeout_s: float = 20.0, max_response_bytes: int = 10_000_000, max_retries: int = 4,
                 respect_robots: bool = True, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, backoff_base_s: float = 1.0,
                 max_wait_s: float = 300.0, rng: random.Random | None = None) -> None:
        self.min_delay_s = min_delay_s
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.respect_robots = respect_robots
        self.backoff_base_s = backoff_base_s
        self.max_wait_s = max_wait_s
        self.user_agent = user_agent(contact)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            transport=transport, timeout=httpx.Timeout(timeout_s), follow_redirects=True,
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate, br"})
        self._guard = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self.requests = 0

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> PoliteClient:
        """Built from the `[collect]` section of the config."""
        options = dict(contact=settings.contact, min_delay_s=settings.min_delay_s,
                       timeout_s=settings.timeout_s, max_response_bytes=settings.max_response_bytes,
                       max_retries=settings.max_retries, respect_robots=settings.respect_robots)
        options.update(overrides)
        return cls(**options)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public ------------------------------------------------------------------------------------

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str | None = None, params: dict[str, Any] | None = None) -> FetchResult:
        """GET with every politeness rule applied. A 304 comes back as `not_modified`; other
        failures raise FetchError (HTTPStatusError for error statuses) once retries are spent."""
        if url.startswith("file:"):
            return self._read_file(url)
        if params:
            url = str(httpx.URL(url, params=params))
        host = self._host(url)
        if self.respect_robots and not self._allowed(url, host):
            raise FetchError(f"{url} is disallowed by {host}/robots.txt; the monitor will not fetch "
                             "it (set collect.respect_robots = false only with the owner's consent)")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        return self._with_retries(url, host, headers)

    # --- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _host(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(f"not an http(s) URL: {url!r}")
        return f"{parts.scheme}://{parts.netloc}"

    def _read_file(self, url: str) -> FetchResult:
        path = Path(unquote(urlsplit(url).path))
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}") from None
        return FetchResult(url=url, status=200, headers=httpx.Headers(), body=body)

    def _lock_for(self, host: str) -> threading.Lock:
        with self._guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _allowed(self, url: str, host: str) -> bool:
        if host not in self._robots:
            self._robots[host] = self._load_robots(host)
        parser = self._robots[host]
        return True if parser is None else parser.can_fetch(self.user_agent, url)

    def _load_robots(self, host: str) -> RobotFileParser | None:
        parser = RobotFileParser()
        try:
            result = self._with_retries(f"{host}/robots.txt", host, {}, retries=1)
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:
                return None  # no robots.txt: everything is allowed (RFC 9309)
            parser.disallow_all = True  # server errors: assume a complete disallow (RFC 9309)
            return parser
        except FetchError:
            parser.disallow_all = True
            return parser
        parser.parse(result.text.splitlines())
        return parser

    def _crawl_delay(self, host: str) -> float:
        parser = self._robots.get(host)
        delay = parser.crawl_delay(self.user_agent) if parser is not None else None
        return min(float(delay), 60.0) if delay else 0.0

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())

    def _backoff(self, attempt: int) -> float:
        # Full jitter around an exponential step keeps several monitors from retrying in lockstep.
        return min(self.max_wait_s, self.backoff_base_s * (2 ** attempt) * self._rng.uniform(0.5, 1.5))

    def _with_retries(self, url: str, host: str, headers: dict[str, str],
                      retries: int | None = None) -> FetchResult:
        retries = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            wait: float | None = None
            try:
                result, response = self._once(url, host, headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise FetchError(f"{url}: {exc}") from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else f"failed ({exc})"
                if attempt >= retries:
                    raise FetchError(f"{url}: request {kind} after {attempt + 1} attempt(s); "
                                     "check the site, or raise collect.timeout_s") from None
            else:
                if response.status_code not in _RETRY_STATUSES:
                    if result is not None:
                        return result
                    raise HTTPStatusError(url, response.status_code)
                if attempt >= retries:
                    raise HTTPStatusError(url, response.status_code,
                                          f" after {attempt + 1} attempt(s)")
                if response.status_code in (429, 503):
                    wait = self._retry_after(response)
                    if wait is not None and wait > self.max_wait_s:
                        raise HTTPStatusError(url, response.status_code,
                                              f"; Retry-After asks for {wait:.0f}s, more than "
                                              f"{self.max_wait_s:.0f}s: try again later")
            self._sleep(self._backoff(attempt) if wait is None else wait)
            attempt += 1

    def _pace(self, host: str) -> None:
        delay = max(self.min_delay_s, self._crawl_delay(host))
        last = self._last_request.get(host)
        if last is not None and delay > 0:
            remaining = last + delay - time.monotonic()
            if remaining > 0:
                self._sleep(remaining)

    def _once(self, url: str, host: str,
              headers: dict[str, str]) -> tuple[FetchResult | None, httpx.Response]:
        with self._lock_for(host):
            self._pace(host)
            try:
                return self._request(url, headers)
            finally:
                self._last_request[host] = time.monotonic()
                with self._guard:
                    self.requests += 1

    def _request(self, url: str, headers: dict[str, str]) -> tuple[FetchResult | None, httpx.Response]:
        started = time.monotonic()
        with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            if response.status_code == 304:
                return FetchResult(final_url, 304, response.headers, b"", not_modified=True), response
            if not 200 <= response.status_code < 300:
                return None, response
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise FetchError(f"{url}: response of {declared} bytes is over the "
                                 f"{self.max_response_bytes}-byte limit (collect.max_response_bytes)")
            if response.is_stream_consumed:
                # An injected transport (httpx.MockTransport) hands over a body already read and decoded.
                decoder = _Decoder("identity", self.max_response_bytes, url)
                chunks: Any = [response.content]
            else:
                decoder = _Decoder(response.headers.get("content-encoding", ""), self.max_response_bytes, url)
                chunks = response.iter_raw(_CHUNK)
            raw_size = 0
            for chunk in chunks:
                raw_size += len(chunk)
                if raw_size > self.max_response_bytes:
                    raise decoder.too_big()
                decoder.feed(chunk)
                # A server trickling bytes resets the read timeout each time; bound the whole body.
                if time.monotonic() - started > self.timeout_s * 3:
                    raise httpx.ReadTimeout(f"{url}: body still arriving after {self.timeout_s * 3:.0f}s")
            return FetchResult(final_url, response.status_code, response.headers, decoder.result()), response
