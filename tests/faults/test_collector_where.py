"""Where the collector may go: http(s) only, wherever a URL comes from; redirects checked like a
first request; private addresses only at configured host:ports, judged on the address connected to."""

from __future__ import annotations

import json
import socket

import pytest
from sqlalchemy import select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_source
from monitor.config import SourceConfig
from monitor.store.schema import collection_errors, comments
from tests.helpers import run_cli

from .conftest import CSS, Reply, comment_page, rss


def stored_texts(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(comments.c.text)).scalars())


def errors(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(collection_errors.c.error)).scalars())


def collect(config, engine, source):
    with PoliteClient.from_settings(config.collect, sleep=lambda s: None) as client:
        return collect_source(engine, config, source, client)


@pytest.mark.parametrize("listing", ["feed", "sitemap"])
def test_a_file_link_in_a_feed_or_sitemap_is_never_opened(hostile, store, tmp_path, listing):
    config, engine = store
    secret = tmp_path / "secret.html"
    secret.write_text(comment_page(("root", "SECRET-FROM-DISK")), encoding="utf-8")
    site = hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/ok/", Reply(body=comment_page(("Ann", "A fine harbour."))))
    links = (secret.as_uri(), f"{site.url}/ok/")
    site.route("/feed/", rss(*links))
    site.route("/sitemap.xml", Reply(content_type="application/xml", body=(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{link}</loc></url>" for link in links) + "</urlset>")))
    source = SourceConfig(name="s", url=site.url + ("/feed/" if listing == "feed" else "/"), platform="css",
                          selectors=CSS, discovery=listing)
    outcome = collect(config, engine, source)
    assert "A fine harbour." in stored_texts(engine)
    assert not any("SECRET" in (t or "") for t in stored_texts(engine))
    assert outcome.status == "partial"
    assert any("only http:// and https://" in e for e in errors(engine)), errors(engine)


def test_a_rest_api_link_to_a_file_is_never_opened(hostile, store, tmp_path):
    config, engine = store
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps([{"id": 1, "post": 5, "content": {"rendered": "SECRET-FROM-DISK"}}]))
    site = hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/wp-json/wp/v2/posts", Reply(content_type="application/json", headers={"X-WP-TotalPages": "1"},
                                            body=json.dumps([{"id": 5, "link": secret.as_uri(),
                                                              "title": {"rendered": "x"}}])))
    site.route("/wp-json/wp/v2/comments", Reply(401, "{}", content_type="application/json"))
    outcome = collect(config, engine, SourceConfig(name="w", url=site.url + "/", platform="wordpress"))
    assert not any("SECRET" in (t or "") for t in stored_texts(engine))
    assert outcome.status == "failed" and "only http:// and https://" in outcome.error


def test_a_redirect_to_another_loopback_port_is_refused_before_connecting(hostile, store):
    config, engine = store
    site, internal = hostile(), hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/feed/", rss(f"{site.url}/post/"))
    site.route("/post/", Reply(302, headers={"Location": f"{internal.url}/admin/"}))
    internal.route("/admin/", Reply(body=comment_page(("admin", "INTERNAL-ONLY"))))
    outcome = collect(config, engine, SourceConfig(name="s", url=site.url + "/feed/", platform="css",
                                                   selectors=CSS, discovery="feed"))
    assert stored_texts(engine) == []
    assert internal.connections == 0  # refused on the resolved address, before any connection
    assert "private or local address" in outcome.error and "redirects elsewhere" not in outcome.error


def test_a_redirect_is_checked_against_the_new_hosts_robots_txt(hostile, store):
    config, engine = store
    site, other = hostile(), hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/feed/", rss(f"{site.url}/post/"))
    site.route("/post/", Reply(301, headers={"Location": f"{other.url}/private/post/"}))
    other.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    other.route("/private/post/", Reply(body=comment_page(("x", "DISALLOWED-TEXT"))))
    source = SourceConfig(name="s", url=site.url + "/feed/", platform="css", selectors=CSS, discovery="feed")
    neighbour = SourceConfig(name="n", url=other.url + "/", platform="css", selectors=CSS, enabled=False)
    config.sources = [source, neighbour]  # both configured: the other port may be reached
    outcome = collect(config, engine, source)
    assert other.hits("/robots.txt") and other.hits("/private/post/") == []
    assert "disallowed by" in outcome.error and stored_texts(engine) == []


def test_a_public_name_that_resolves_to_loopback_is_refused(hostile, store, monkeypatch):
    config, _ = store
    site = hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/post/", Reply(body=comment_page(("x", "REBOUND-TEXT"))))
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):  # the name's DNS answer flips to 127.0.0.1
        return real("127.0.0.1" if host == "news.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with PoliteClient.from_settings(config.collect) as client:
        with pytest.raises(Exception, match="private or local address"):
            client.get(f"http://news.example:{site.port}/post/")
    assert site.connections == 0


def test_extract_url_stays_on_its_own_origin(hostile, capsys):
    site, other = hostile(), hostile()
    site.route("/robots.txt", Reply(404))
    site.route("/page/", Reply(302, headers={"Location": f"{other.url}/page/"}))
    other.route("/page/", Reply(body=comment_page(("x", "ELSEWHERE"))))
    code, out, err = run_cli(capsys, "extract", f"{site.url}/page/", "--platform", "css",
                             "--selector", "comment=div.c")
    assert code != 0 and "ELSEWHERE" not in out
    assert other.connections == 0
    assert len(err.strip().splitlines()) == 1 and "refused" in err
