"""Collection speed: extraction of a 300-comment page, and an incremental pass over 1,000 articles
served by a WordPress-like site on 127.0.0.1. Small sizes unless MONITOR_BENCH_FULL=1."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from monitor.collect.http import PoliteClient
from monitor.collect.markup import Document
from monitor.collect.runner import collect_source
from monitor.collect.wordpress_html import extract
from monitor.config import SourceConfig, load_config
from monitor.store.db import engine_for_url, upgrade
from tests.collect.conftest import Reply, start_site
from tests.conftest import make_config_dir

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
PAGE_COMMENTS = 300 if FULL else 30
ARTICLES = 1000 if FULL else 20
COMMENTS_PER_ARTICLE = 3


def comment_page(n: int) -> str:
    """WordPress HTML5 markup with n comments; every third one is a reply to the one before."""
    items = []
    for i in range(1, n + 1):
        body = (f'<article id="div-comment-{i}" class="comment-body"><footer class="comment-meta">'
                f'<div class="comment-author vcard"><img class="avatar" src="a.png"><b class="fn">Reader {i % 37}</b>'
                f' <span class="says">says:</span></div><div class="comment-metadata"><a href="#comment-{i}">'
                f'<time datetime="2024-03-0{1 + i % 9}T1{i % 10}:00:00+01:00">March</time></a></div></footer>'
                f'<div class="comment-content"><p>Comment {i} about the ferry timetable and the winter prices.</p>'
                f'<p>Second paragraph with <a href="https://x.example">a link</a> and more words.</p></div>'
                f'<div class="reply"><a class="comment-reply-link" href="#">Reply</a></div></article>')
        if i % 3 == 0:
            items[-1] = items[-1].replace("</li>", f'<ol class="children"><li id="comment-{i}" class="comment">'
                                                  f'{body}</li></ol></li>')
        else:
            items.append(f'<li id="comment-{i}" class="comment depth-1">{body}</li>')
    return (f'<html><head><meta charset="utf-8"></head><body><div id="comments"><ol class="comment-list">'
            f'{"".join(items)}</ol></div></body></html>')


def test_extraction_of_a_comment_page(benchmark):
    html = comment_page(PAGE_COMMENTS)
    comments = benchmark(lambda: extract(Document(html, url="https://news.example/a/")))
    assert len(comments) == PAGE_COMMENTS
    assert sum(c.parent_external_id is not None for c in comments) == PAGE_COMMENTS // 3


@pytest.fixture
def wordpress_site():
    site = start_site()
    now = datetime.now(timezone.utc)
    posts = [{"id": i, "link": f"{site.url}/p/{i}/", "title": {"rendered": f"Post {i}"},
              "date_gmt": (now - timedelta(hours=1 + i % 48)).strftime("%Y-%m-%dT%H:%M:%S")}
             for i in range(1, ARTICLES + 1)]

    def posts_route(req):
        page, size = int(req.query.get("page", "1")), int(req.query.get("per_page", "10"))
        pages = -(-len(posts) // size)
        return Reply(body=json.dumps(posts[(page - 1) * size: page * size]), content_type="application/json",
                     headers={"X-WP-TotalPages": str(pages), "X-WP-Total": str(len(posts))})

    def comments_route(req):
        post = int(req.query["post"])
        etag = f'"c{post}"'
        if req.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        items = [{"id": post * 10 + k, "post": post, "parent": 0, "author_name": f"R{k}",
                  "date_gmt": "2024-03-01T10:00:00", "content": {"rendered": f"<p>Comment {k} on {post}</p>"}}
                 for k in range(COMMENTS_PER_ARTICLE)]
        return Reply(body=json.dumps(items), content_type="application/json",
                     headers={"ETag": etag, "X-WP-TotalPages": "1"})

    site.route("/wp-json/wp/v2/posts", posts_route)
    site.route("/wp-json/wp/v2/comments", comments_route)
    yield site
    site.server.shutdown()
    site.server.server_close()


def test_incremental_pass_over_articles(benchmark, wordpress_site, tmp_path):
    config = load_config(make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}"),
                         environ={"MONITOR_SECRET": "bench"})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    source = SourceConfig(name="bench", url=wordpress_site.url + "/", platform="wordpress",
                          max_articles=ARTICLES)
    client = PoliteClient(min_delay_s=0, timeout_s=5, max_retries=0)
    first = collect_source(engine, config, source, client)
    assert first.new == ARTICLES * COMMENTS_PER_ARTICLE

    later = [datetime.now(timezone.utc) + timedelta(days=1)]

    def incremental():
        later[0] += timedelta(days=1)  # every article is due again on each round
        return collect_source(engine, config, source, client, now=later[0])

    outcome = benchmark.pedantic(incremental, rounds=1 if not FULL else 2, iterations=1)
    assert outcome.articles_checked == ARTICLES and outcome.not_modified == ARTICLES
    assert outcome.new == 0
    benchmark.extra_info["requests"] = outcome.requests
    benchmark.extra_info["pages_per_s"] = round(outcome.requests / outcome.seconds, 1)
    client.close()
    engine.dispose()


HOSTS, PER_HOST, DELAY_S = 10, 12, 0.5


@pytest.fixture
def ten_hosts():
    """10 sites on their own loopback ports, each with a feed of 12 articles of 3 comments."""
    sites = [start_site() for _ in range(HOSTS)]
    for h, site in enumerate(sites):
        site.route("/robots.txt", Reply(404))
        links = [f"{site.url}/a/{n}/" for n in range(PER_HOST)]
        items = "".join(f"<item><title>A{n}</title><link>{link}</link></item>" for n, link in enumerate(links))
        site.route("/feed/", Reply(body=f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
                                   content_type="application/rss+xml"))
        for n in range(PER_HOST):
            body = "".join(f'<div class="c" id="c{h}-{n}-{k}"><p>Comment {k} on {h}/{n}</p></div>' for k in range(3))
            site.route(f"/a/{n}/", Reply(body=f"<html><body>{body}</body></html>"))
    yield sites
    for site in sites:
        site.server.shutdown()
        site.server.server_close()


def test_concurrent_pass_over_ten_polite_hosts(benchmark, ten_hosts, tmp_path):
    """Hosts side by side, each paced at min_delay_s = 0.5: one host's 14 requests take ≈ 6.5 s, all
    hosts one after another ≈ 66 s. Target (issue 14): ≤ 22 s."""
    from monitor.collect.runner import collect_all

    config = load_config(make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}",
                                         f"[collect]\nmin_delay_s = {DELAY_S}\nconcurrency = {HOSTS}\n"),
                         environ={"MONITOR_SECRET": "bench"})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    sources = [SourceConfig(name=f"h{h}", url=f"{site.url}/feed/", platform="css", discovery="feed",
                            selectors={"comment": "div.c", "text": "p"}) for h, site in enumerate(ten_hosts)]
    config.sources = sources
    outcomes = benchmark.pedantic(lambda: collect_all(engine, config, sources), rounds=1, iterations=1)
    assert [o.status for o in outcomes] == ["ok"] * HOSTS, [o.summary() for o in outcomes]
    assert sum(o.new for o in outcomes) == HOSTS * PER_HOST * 3
    benchmark.extra_info["requests"] = sum(o.requests for o in outcomes)
    engine.dispose()
