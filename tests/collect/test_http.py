"""The polite client against a real server on 127.0.0.1: robots, pacing, 304, retries, limits, charsets."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from monitor.collect.http import HTTPStatusError, PoliteClient
from monitor.errors import FetchError

from .conftest import Reply


def client(site, **kw) -> PoliteClient:
    sleeps: list[float] = []
    options = dict(contact="ops@newsroom.example", min_delay_s=0.0, timeout_s=2.0, max_retries=2,
                   sleep=sleeps.append, allow_private=[site.url])
    options.update(kw)
    c = PoliteClient(**options)
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return c


def test_user_agent_names_the_tool_and_the_operator(site):
    site.route("/a", Reply(body="ok"))
    with client(site) as c:
        c.get(f"{site.url}/a")
    agent = site.hits("/a")[0].headers["user-agent"]
    assert "comment-monitor" in agent and "ops@newsroom.example" in agent


def test_robots_txt_disallow_is_honoured(site):
    site.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    site.route("/private/page", Reply(body="secret"))
    site.route("/public/page", Reply(body="hello"))
    with client(site) as c:
        assert c.get(f"{site.url}/public/page").text == "hello"
        with pytest.raises(FetchError, match="robots.txt"):
            c.get(f"{site.url}/private/page")
    assert site.hits("/private/page") == []
    assert len(site.hits("/robots.txt")) == 1  # fetched once per host


def test_requests_to_one_host_are_spaced_by_the_minimum_delay(site):
    site.route("/p", Reply(body="x"))
    with PoliteClient(min_delay_s=0.25, timeout_s=2, allow_private=[site.url]) as c:
        for _ in range(3):
            c.get(f"{site.url}/p")
    times = [r.at for r in site.hits("/p")]
    assert all(b - a >= 0.24 for a, b in zip(times, times[1:]))


def test_conditional_get_returns_not_modified(site):
    def page(req):
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(body="<p>comments</p>", headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
    site.route("/post", page)
    with client(site) as c:
        first = c.get(f"{site.url}/post")
        second = c.get(f"{site.url}/post", etag=first.etag, last_modified=first.last_modified)
    assert not first.not_modified and first.etag == '"v1"'
    assert second.not_modified and second.body == b""
    assert site.hits("/post")[1].headers["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_retry_after_is_honoured_on_429(site):
    answers = iter([Reply(429, headers={"Retry-After": "7"}), Reply(body="finally")])
    site.route("/busy", lambda req: next(answers))
    with client(site) as c:
        assert c.get(f"{site.url}/busy").text == "finally"
        assert c.sleeps == [7.0]


def test_server_error_then_success_backs_off_with_jitter(site):
    answers = iter([Reply(500), Reply(502), Reply(body="ok")])
    site.route("/flaky", lambda req: next(answers))
    with client(site, backoff_base_s=1.0) as c:
        assert c.get(f"{site.url}/flaky").text == "ok"
        first, second = c.sleeps
    assert 0.5 <= first <= 1.5 and 1.0 <= second <= 3.0  # exponential, jittered


def test_persistent_503_fails_after_the_retries(site):
    site.route("/down", Reply(503))
    with client(site, max_retries=2) as c, pytest.raises(HTTPStatusError, match="503") as exc:
        c.get(f"{site.url}/down")
    assert exc.value.status == 503 and len(site.hits("/down")) == 3


def test_a_retry_after_beyond_the_cap_is_not_waited_for(site):
    site.route("/later", Reply(429, headers={"Retry-After": "86400"}))
    with client(site, max_wait_s=60) as c, pytest.raises(HTTPStatusError, match="try again later"):
        c.get(f"{site.url}/later")
    assert c.sleeps == []


def test_a_response_slower_than_the_timeout_fails(site):
    site.route("/slow", Reply(body="late", delay_s=1.5))
    with client(site, timeout_s=0.3, max_retries=0) as c, pytest.raises(FetchError, match="timed out"):
        c.get(f"{site.url}/slow")


def test_oversized_body_is_refused_with_or_without_content_length(site):
    big = b"<p>" + b"x" * 50_000 + b"</p>"
    site.route("/declared", Reply(body=big))
    site.route("/chunked", Reply(body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big),
                                 headers={"Transfer-Encoding": "chunked"}))
    with client(site, max_response_bytes=10_000) as c:
        for path in ("/declared", "/chunked"):
            with pytest.raises(FetchError, match="10000"):
                c.get(f"{site.url}{path}")


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_compression_bombs_are_stopped(site, encoding):
    payload = b"\0" * 20_000_000  # 20 MB that compresses to a few kB
    packed = {"gzip": gzip.compress, "br": lambda b: brotli.compress(b, quality=2), "deflate": zlib.compress}[encoding](payload)
    assert len(packed) < 100_000
    site.route("/bomb", Reply(body=packed, headers={"Content-Encoding": encoding}))
    with client(site, max_response_bytes=1_000_000) as c, pytest.raises(FetchError, match="decompressed"):
        c.get(f"{site.url}/bomb")


def test_compressed_pages_are_decoded(site):
    site.route("/gz", Reply(body=gzip.compress("Grüße".encode()), headers={"Content-Encoding": "gzip"}))
    site.route("/br", Reply(body=brotli.compress("Привет".encode()), headers={"Content-Encoding": "br"}))
    with client(site) as c:
        assert c.get(f"{site.url}/gz").text == "Grüße"
        assert c.get(f"{site.url}/br").text == "Привет"


def test_wrong_declared_charset_falls_back_to_what_the_bytes_are(site):
    russian = "<html><body><p>Комментарий читателя о погоде и дорогах в области.</p></body></html>"
    site.route("/ru", Reply(body=russian.encode("windows-1251"), content_type="text/html; charset=utf-8"))
    german = "<html><body><p>Schöne Grüße aus München</p></body></html>"
    site.route("/de", Reply(body=german.encode("latin-1"), content_type="text/html"))
    site.route("/mislabeled", Reply(body=german.encode("utf-8"), content_type="text/html; charset=iso-8859-1"))
    with client(site) as c:
        assert "Комментарий читателя" in c.get(f"{site.url}/ru").text
        assert "Schöne Grüße aus München" in c.get(f"{site.url}/de").text
        assert "Schöne Grüße aus München" in c.get(f"{site.url}/mislabeled").text


def test_meta_charset_is_used_when_the_header_has_none(site):
    page = '<html><head><meta charset="windows-1251"></head><body>Ура</body></html>'
    site.route("/meta", Reply(body=page.encode("windows-1251"), content_type="text/html"))
    with client(site) as c:
        assert "Ура" in c.get(f"{site.url}/meta").text
