"""Deadlines: one wall-clock deadline per request (connect, headers and body together), retries paid
from a per-pass budget, and a slow host that delays nobody but itself."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_all, collect_source
from monitor.config import SourceConfig
from monitor.errors import FetchError
from monitor.store.schema import comments

from .conftest import CSS, Reply, comment_page


def texts(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(comments.c.text)).scalars())


def listed(site, name: str, *paths: str) -> SourceConfig:
    return SourceConfig(name=name, url=site.url + "/", platform="css", selectors=CSS, discovery="urls",
                        articles=[site.url + p for p in paths])


def test_headers_and_body_that_each_beat_the_timeout_still_meet_one_deadline(hostile, store):
    config, engine = store  # timeout_s = 2.0
    site = hostile()
    site.route("/robots.txt", Reply(404))
    body = comment_page(("Ann", "Trickled but patient."))
    # Every byte arrives well within the read timeout; headers and body take ~1.4 s each.
    site.route("/slow/", Reply(body=body, trickle_head_s=1.4 / 110, trickle_body_s=1.4 / len(body)))
    with PoliteClient.from_settings(config.collect, max_retries=0) as client:
        outcome = collect_source(engine, config, listed(site, "slow", "/slow/"), client)
    assert outcome.status == "failed" and "timed out" in outcome.error
    assert texts(engine) == []


def test_trickled_headers_cannot_hold_a_request(hostile, store):
    config, engine = store
    site = hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/drip/", Reply(body=comment_page(("A", "x")), trickle_head_s=0.1))  # ~12 s of headers
    with PoliteClient.from_settings(config.collect, max_retries=0) as client:
        outcome = collect_source(engine, config, listed(site, "drip", "/drip/"), client)
    assert "timed out" in outcome.error
    assert outcome.seconds < 6  # the server would still be sending its headers


def test_a_slow_host_delays_only_itself(hostile, store):
    config, engine = store
    slow, fast = hostile(), hostile()
    for site in (slow, fast):
        site.route("/robots.txt", Reply(404))
    slow.route("/a/", Reply(body=comment_page(("S", "slow")), trickle_body_s=0.2))
    for n in range(3):
        fast.route(f"/{n}/", Reply(body=comment_page(("F", f"fast {n}"))))
    sources = [listed(slow, "slow", "/a/"), listed(fast, "fast", "/0/", "/1/", "/2/")]
    config.sources = sources
    with PoliteClient.from_settings(config.collect, max_retries=0) as client:
        outcomes = collect_all(engine, config, sources, client=client, concurrency=2)
    assert [o.status for o in outcomes] == ["failed", "ok"]
    assert sorted(t for t in texts(engine)) == ["fast 0", "fast 1", "fast 2"]
    # The fast host was done while the slow one was still trickling (its request lasts the 2 s deadline).
    assert max(h.at for h in fast.log) < slow.hits("/a/")[0].at + 1.0


def test_retries_are_paid_from_a_budget_per_pass(hostile, store):
    config, engine = store
    config.collect.max_retries = 4
    config.collect.retry_budget_s = 25
    site = hostile()
    site.route("/robots.txt", Reply(404))
    for n in range(3):
        site.route(f"/{n}/", Reply(503, headers={"Retry-After": "10"}))
    waits: list[float] = []
    with PoliteClient.from_settings(config.collect, sleep=waits.append) as client:
        outcome = collect_source(engine, config, listed(site, "busy", "/0/", "/1/", "/2/"), client)
    assert outcome.status == "failed"
    assert sum(waits) <= 25  # without a budget: 3 articles x 4 retries x 10 s = 120 s
    assert len([h for h in site.log if h.path != "/robots.txt"]) == 5
    assert any("retry budget" in e for e in outcome.errors)


def test_a_dns_lookup_that_hangs_is_bounded_by_the_deadline(hostile, store, monkeypatch):
    config, _ = store
    site = hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/p/", Reply(body=comment_page(("A", "x"))))
    real = socket.getaddrinfo

    def stuck(host, *args, **kwargs):
        if host == "slow-dns.example":
            time.sleep(6)  # a resolver that takes far longer than the 2 s deadline
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    started = time.monotonic()
    with PoliteClient.from_settings(config.collect, max_retries=0, respect_robots=False,
                                    allow_private=[f"http://slow-dns.example:{site.port}/"]) as client:
        with pytest.raises(FetchError, match="timed out"):
            client.get(f"http://slow-dns.example:{site.port}/p/")
    assert time.monotonic() - started < 5
