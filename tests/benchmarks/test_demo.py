"""The demo site under load: one collector pass over its three blogs with a scaled-up script.
Small by default; MONITOR_BENCH_FULL=1 for the full-size run (1,000 comments per post)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace


from monitor.collect.base import ArticleState, make_collector
from monitor.collect.http import PoliteClient
from monitor.demo.content import BLOGS, COMMENTS, POSTS
from monitor.demo.site import DemoSite

PER_POST = 1000 if os.environ.get("MONITOR_BENCH_FULL") == "1" else 20


def _scaled_script() -> list:
    """PER_POST comments on every post, all released, replies kept on their own post."""
    out = []
    cid = 0
    for post in POSTS:
        own = [c for c in COMMENTS if c.post == post.key]
        for n in range(PER_POST):
            cid += 1
            base = own[n % len(own)]
            out.append(replace(base, cid=cid, at_s=-1 - (n % 50), parent=cid - 1 if n % 7 == 3 else None))
    return out


def _pass(site: DemoSite) -> int:
    total = 0
    with PoliteClient(min_delay_s=0.0, max_retries=0, timeout_s=30,
                      allow_private=[site.url(key) for key in BLOGS]) as client:
        for key, blog in BLOGS.items():
            source = SimpleNamespace(name=key, url=site.url(key) + "/", platform=blog.platform,
                                     discovery="auto", max_articles=50, articles=[], selectors={})
            collector = make_collector(blog.platform, source, client)
            for article in collector.discover(datetime.now(timezone.utc) - timedelta(days=1)):
                total += len(collector.fetch_comments(article, ArticleState()).comments)
    return total


def test_collector_pass_over_the_demo_site(benchmark):
    with DemoSite(comments=_scaled_script()) as site:
        found = benchmark(_pass, site)
    assert found == PER_POST * len(POSTS)
