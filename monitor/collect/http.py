"""The polite HTTP client: robots.txt, one request at a time per host with a minimum delay,
conditional GET, Retry-After, backoff with jitter, a deadline per request, a retry budget per
pass, size and decompression limits; redirects followed by hand, each hop checked like a first
request (scheme, address, robots.txt, pacing)."""

from __future__ import annotations

import contextlib
import contextvars
import random
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urljoin

import httpx

from monitor import __version__ as _VERSION
from monitor.collect.guard import AddressRefused, GuardedTransport, RequestScope, check_url, \
    iter_private_ok, origin, request_scope
from monitor.collect.markup import Document, decode_body
from monitor.collect.robots import RobotsCache, RobotsRules
from monitor.errors import FetchError

__all__ = ["FetchResult", "HTTPStatusError", "PassContext", "PoliteClient", "user_agent"]

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_REDIRECTS = 5
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


@dataclass
class PassContext:
    """One collection pass as the client sees it: the private host:ports its configuration names,
    a budget of seconds for retries (waits and failed attempts), the requests it made, and the
    hosts whose robots.txt could not be read during it (not asked again until the next pass)."""

    retry_budget_s: float = 300.0
    private_ok: frozenset[tuple[str, int]] = frozenset()
    spent_s: float = 0.0
    requests: int = 0
    robots_failures: dict[str, FetchError] = field(default_factory=dict)

    @classmethod
    def for_urls(cls, urls: Iterable[str], retry_budget_s: float = 300.0) -> PassContext:
        return cls(retry_budget_s=retry_budget_s, private_ok=frozenset(iter_private_ok(urls)))


_pass: contextvars.ContextVar[PassContext | None] = contextvars.ContextVar("monitor_pass", default=None)


@dataclass
class _Answer:
    status: int
    headers: httpx.Headers
    result: FetchResult | None = None
    location: str | None = None


class PoliteClient:
    """A sync HTTP client that behaves well toward the sites it reads and cannot be steered at its
    own host. Thread-safe: requests to one host are serialised and spaced by at least
    `min_delay_s` (or the robots.txt Crawl-delay); different hosts proceed side by side.

    `allow_private` lists URLs whose host:port may resolve to a private or loopback address (the
    configured sources; a pass adds its own); `only_origins`, when given, is the whole set of
    origins the client may visit (`monitor extract URL`: that URL's origin)."""

    def __init__(self, *, contact: str = "ops@example.invalid", min_delay_s: float = 1.0,
                 timeout_s: float = 20.0, max_response_bytes: int = 10_000_000, max_retries: int = 4,
                 respect_robots: bool = True, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, backoff_base_s: float = 1.0,
                 max_wait_s: float = 300.0, rng: random.Random | None = None,
                 allow_private: Iterable[str] = (), only_origins: Iterable[str] | None = None) -> None:
        self.min_delay_s = min_delay_s
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.respect_robots = respect_robots
        self.backoff_base_s = backoff_base_s
        self.max_wait_s = max_wait_s
        self.user_agent = user_agent(contact)
        self.private_ok = frozenset(iter_private_ok(allow_private))
        self.only_origins = None if only_origins is None else frozenset(origin(u) for u in only_origins)
        self._sleep = sleep
        self._rng = rng or random.Random()
        # Redirects are followed by hand (each hop checked); a proxy from the environment would
        # hide the address actually reached, so none is used.
        self._client = httpx.Client(
            transport=transport or GuardedTransport(), timeout=httpx.Timeout(timeout_s),
            follow_redirects=False, trust_env=False,
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate, br"})
        self._guard = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_request: dict[str, float] = {}
        # host → (monotonic time, thread) before which no request goes out: a Retry-After holds the
        # host for every thread, not only for the one that was told (which waits on its own).
        self._held: dict[str, tuple[float, int]] = {}
        self._robots = RobotsCache()
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

    def clear_caches(self) -> None:
        """Forget cached robots.txt rules (SIGHUP): the next request to each host reads them anew."""
        self._robots.clear()

    @contextlib.contextmanager
    def pass_context(self, context: PassContext) -> Iterator[PassContext]:
        """`with client.pass_context(ctx):` — requests made by this thread inside it belong to one
        collection pass (its private hosts, retry budget, request count and robots failures)."""
        token = _pass.set(context)
        try:
            yield context
        finally:
            _pass.reset(token)

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str | None = None, params: dict[str, Any] | None = None) -> FetchResult:
        """GET with every politeness rule applied. A 304 comes back as `not_modified`; other
        failures raise FetchError (HTTPStatusError for error statuses) once retries are spent."""
        check_url(url)
        if params:
            url = str(httpx.URL(url, params=params))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        for _ in range(_MAX_REDIRECTS + 1):
            host = self._admit(url)
            if self.respect_robots and not self._allowed(url, host):
                raise FetchError(f"{url} is disallowed by {host}/robots.txt; the monitor will not fetch "
                                 "it (set collect.respect_robots = false only with the owner's consent)")
            answer = self._with_retries(url, host, headers)
            if answer.location is None:
                assert answer.result is not None
                return answer.result
            url = self._redirect_target(url, answer.location)
        raise FetchError(f"{url}: more than {_MAX_REDIRECTS} redirects; check the source URL")

    # --- internals ---------------------------------------------------------------------------------

    def _admit(self, url: str) -> str:
        """The origin of `url` once it passed the scheme and scope checks."""
        check_url(url)
        host = origin(url)
        if self.only_origins is not None and host not in self.only_origins:
            raise AddressRefused(f"refused {url[:200]}: only {', '.join(sorted(self.only_origins))} "
                                 "may be fetched here")
        return host

    @staticmethod
    def _redirect_target(url: str, location: str) -> str:
        try:
            target = urljoin(url, location.strip())
        except ValueError:
            raise FetchError(f"{url}: redirect to an invalid URL {location[:200]!r}") from None
        try:
            return check_url(target)
        except AddressRefused as exc:
            raise AddressRefused(f"{url} redirects elsewhere: {exc}") from None

    def _lock_for(self, host: str) -> threading.Lock:
        with self._guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _allowed(self, url: str, host: str) -> bool:
        rules = self._robots.get(host)
        if rules is None:
            rules = self._load_robots(host)
            self._robots.put(host, rules)
        return rules.allowed(url, self.user_agent)

    def _load_robots(self, host: str) -> RobotsRules:
        """The host's rules; a robots.txt that could not be read (no connection, timeout, 5xx) is a
        transient FetchError, remembered for the rest of the pass and tried again on the next."""
        context = _pass.get()
        if context is not None and host in context.robots_failures:
            raise context.robots_failures[host]
        url = f"{host}/robots.txt"
        try:
            for _ in range(_MAX_REDIRECTS + 1):  # RFC 9309 §2.3.1.2: follow at least five redirects
                answer = self._with_retries(url, origin(url), {}, retries=1)
                if answer.location is None:
                    assert answer.result is not None
                    return RobotsRules.parse(answer.result.text)
                url = self._redirect_target(url, answer.location)
                self._admit(url)
            return RobotsRules.allow_all()
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:
                return RobotsRules.allow_all()  # no robots.txt: everything is allowed (RFC 9309)
            error = FetchError(f"{host}/robots.txt could not be read (HTTP {exc.status}); nothing is "
                               f"fetched from {host} until it can be (tried again next pass)")
        except AddressRefused:
            raise
        except FetchError as exc:
            error = FetchError(f"{host}/robots.txt could not be read ({_short(exc)}); nothing is "
                               f"fetched from {host} until it can be (tried again next pass)")
        if context is not None:
            context.robots_failures[host] = error
        raise error

    def _crawl_delay(self, host: str) -> float:
        rules = self._robots.get(host)
        return rules.crawl_delay(self.user_agent) if rules is not None else 0.0

    def _retry_after(self, headers: httpx.Headers) -> float | None:
        value = headers.get("retry-after")
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

    def _charge(self, url: str, seconds: float, why: str) -> None:
        """Count a retry against the pass's budget; a spent budget ends the retrying."""
        context = _pass.get()
        if context is None:
            return
        if context.spent_s + seconds > context.retry_budget_s:
            raise FetchError(f"{url}: {why}; not retried: this pass spent its retry budget "
                             f"({context.retry_budget_s:.0f}s, collect.retry_budget_s), next pass tries again")
        context.spent_s += seconds

    def _with_retries(self, url: str, host: str, headers: dict[str, str],
                      retries: int | None = None) -> _Answer:
        retries = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            wait: float | None = None
            started = time.monotonic()
            try:
                answer = self._once(url, host, headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise FetchError(f"{url}: {exc}") from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if isinstance(exc, httpx.TimeoutException):
                    why = (f"request timed out (deadline {self.timeout_s:g}s for connect, headers and "
                           "body; collect.timeout_s)")
                else:
                    why = f"request failed ({exc})"
                if attempt >= retries:
                    raise FetchError(f"{url}: {why} after {attempt + 1} attempt(s)") from None
            else:
                status = answer.status
                if status not in _RETRY_STATUSES:
                    if answer.result is not None or answer.location is not None:
                        return answer
                    raise HTTPStatusError(url, status)
                if attempt >= retries:
                    raise HTTPStatusError(url, status, f" after {attempt + 1} attempt(s)")
                why = f"HTTP {status}"
                if status in (429, 503):
                    wait = self._retry_after(answer.headers)
                    if wait is not None and wait > self.max_wait_s:
                        raise HTTPStatusError(url, status,
                                              f"; Retry-After asks for {wait:.0f}s, more than "
                                              f"{self.max_wait_s:.0f}s: try again later")
                    if wait is not None:
                        self._held[host] = (time.monotonic() + wait, threading.get_ident())
            pause = self._backoff(attempt) if wait is None else wait
            self._charge(url, pause + (time.monotonic() - started), why)
            self._sleep(pause)
            attempt += 1

    def _pace(self, host: str) -> None:
        delay = max(self.min_delay_s, self._crawl_delay(host))
        last = self._last_request.get(host)
        ready = last + delay if last is not None and delay > 0 else 0.0
        held, by = self._held.get(host, (0.0, 0))
        if by != threading.get_ident():
            ready = max(ready, held)
        remaining = ready - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)

    def _once(self, url: str, host: str, headers: dict[str, str]) -> _Answer:
        context = _pass.get()
        private_ok = self.private_ok | context.private_ok if context is not None else self.private_ok
        with self._lock_for(host):
            self._pace(host)
            try:
                with request_scope(RequestScope(time.monotonic() + self.timeout_s, private_ok)):
                    return self._request(url, headers)
            finally:
                self._last_request[host] = time.monotonic()
                with self._guard:
                    self.requests += 1
                    if context is not None:
                        context.requests += 1

    def _request(self, url: str, headers: dict[str, str]) -> _Answer:
        deadline = time.monotonic() + self.timeout_s
        with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            status = response.status_code
            if status in _REDIRECTS and response.headers.get("location"):
                return _Answer(status, response.headers, location=response.headers["location"])
            if status == 304:
                result = FetchResult(final_url, 304, response.headers, b"", not_modified=True)
                return _Answer(status, response.headers, result)
            if not 200 <= status < 300:
                return _Answer(status, response.headers)
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
                # The transport bounds every read by the deadline; this covers injected transports.
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(f"{url}: body still arriving after {self.timeout_s:.0f}s")
            result = FetchResult(final_url, status, response.headers, decoder.result())
            return _Answer(status, response.headers, result)


def _short(exc: Exception) -> str:
    """An error's message without the URL it starts with."""
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("http") and ": " in text else text
