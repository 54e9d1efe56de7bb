"""The demo site serves WordPress REST, wpDiscuz and Blogger shapes that the real collectors read,
and releases its scripted comments over time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Iterator

import httpx
import pytest

from monitor.collect.base import ArticleState, make_collector
from monitor.collect.http import PoliteClient
from monitor.demo.content import BLOGS, COMMENTS, POSTS
from monitor.demo.site import DemoSite
from tests.helpers import run_cli


class FakeClock:
    """Seconds since the demo started, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(clock: FakeClock) -> Iterator[DemoSite]:
    with DemoSite(clock=clock) as running:
        yield running


@pytest.fixture
def client(site: DemoSite) -> Iterator[PoliteClient]:
    with PoliteClient(min_delay_s=0.0, max_retries=0, timeout_s=10,
                      allow_private=[site.url(blog) for blog in BLOGS]) as polite:
        yield polite


def collector_for(site: DemoSite, blog: str, client: PoliteClient):
    source = SimpleNamespace(name=f"demo-{blog}", url=site.url(blog) + "/", platform=BLOGS[blog].platform,
                             discovery="auto", max_articles=50, articles=[], selectors={})
    return make_collector(BLOGS[blog].platform, source, client)


def read_all(site: DemoSite, blog: str, client: PoliteClient) -> dict[str, list]:
    """Post title → the comments the platform's collector reads from the demo blog."""
    collector = collector_for(site, blog, client)
    found = {}
    for article in collector.discover(datetime.now(timezone.utc) - timedelta(days=2)):
        fetched = collector.fetch_comments(article, ArticleState())
        assert fetched.complete, f"{article.url}: listing should be complete"
        found[article.title] = fetched.comments
    return found


@pytest.mark.parametrize("blog", ["rest", "wpdiscuz", "blogger"])
def test_collector_reads_every_post_and_released_comment_of_the_demo_blog(site, client, blog):
    found = read_all(site, blog, client)

    posts = [p for p in POSTS if p.blog == blog]
    assert sorted(found) == sorted(p.title for p in posts)
    for post in posts:
        comments = found[post.title]
        expected = site.released(post.key)
        assert [c.text for c in comments] == [c.text for c in expected]
        assert [c.author for c in comments] == [c.author for c in expected]
        # Times survive the platform's own format (local time, offsets, epoch milliseconds); wpDiscuz
        # prints minutes only.
        minutes_only = blog == "wpdiscuz"
        assert [c.published_at for c in comments] == [
            site.published(c).replace(second=0) if minutes_only else site.published(c) for c in expected]
        ids = {c.external_id for c in comments}
        replies = [c for c in comments if c.parent_external_id]
        assert all(r.parent_external_id in ids for r in replies)
        assert len(replies) == sum(1 for c in expected if c.parent)


def test_new_comments_appear_over_time_and_old_ones_keep_their_ids(site, client, clock):
    first = read_all(site, "rest", client)
    clock.now = 60
    later = read_all(site, "rest", client)

    before = {c.external_id: c.text for cs in first.values() for c in cs}
    after = {c.external_id: c.text for cs in later.values() for c in cs}
    assert len(after) > len(before) > 0
    assert all(after[key] == text for key, text in before.items())
    new_texts = set(after.values()) - set(before.values())
    assert new_texts == {c.text for c in COMMENTS if 0 < c.at_s <= 60 and c.post.startswith("rest")}


def test_unchanged_comment_listing_answers_not_modified_until_a_comment_arrives(site, client, clock):
    collector = collector_for(site, "rest", client)
    article = next(a for a in collector.discover(datetime.now(timezone.utc) - timedelta(days=2))
                   if a.external_id == "412")
    first = collector.fetch_comments(article, ArticleState())
    again = collector.fetch_comments(article, first.state)
    assert again.not_modified

    clock.now = min(c.at_s for c in COMMENTS if c.post == "rest-1" and c.at_s > 0)
    changed = collector.fetch_comments(article, first.state)
    assert not changed.not_modified
    assert len(changed.comments) == len(first.comments) + 1


def test_rest_api_reports_totals_and_pages_like_wordpress(site, clock):
    clock.now = 1000  # the whole script released
    url = site.url("rest") + "/wp-json/wp/v2/comments"
    total = sum(1 for c in COMMENTS if c.post.startswith("rest"))
    page = httpx.get(url, params={"per_page": 5, "page": 2, "orderby": "id", "order": "asc"})
    assert page.status_code == 200
    assert page.headers["X-WP-Total"] == str(total)
    assert page.headers["X-WP-TotalPages"] == str(-(-total // 5))
    assert len(page.json()) == 5
    beyond = httpx.get(url, params={"per_page": 5, "page": 99})
    assert beyond.status_code == 400 and beyond.json()["code"] == "rest_post_invalid_page_number"
    # The wpDiscuz blog has its REST API closed, as many such sites do.
    assert httpx.get(site.url("wpdiscuz") + "/wp-json/wp/v2/posts").status_code == 404


def test_blogger_comment_feed_pages_with_start_index(site, clock):
    clock.now = 1000
    feed = httpx.get(site.url("blogger") + "/feeds/posts/default", params={"alt": "json"}).json()["feed"]
    replies = next(link["href"] for link in feed["entry"][0]["link"]
                   if link["rel"] == "replies" and "atom" in link["type"])
    first = httpx.get(replies, params={"alt": "json", "start-index": 1, "max-results": 3}).json()["feed"]
    second = httpx.get(replies, params={"alt": "json", "start-index": 4, "max-results": 3}).json()["feed"]
    total = int(first["openSearch$totalResults"]["$t"])
    assert total > 6
    ids = [e["id"]["$t"] for e in first["entry"] + second["entry"]]
    assert len(ids) == len(set(ids)) == 6


def test_monitor_extract_reads_the_demo_pages_and_feeds(site, capsys):
    released = site.released()
    wpd_post = next(p for p in POSTS if p.blog == "wpdiscuz")
    blg_post = next(p for p in site.posts_of("blogger"))
    feed = httpx.get(site.url("blogger") + "/feeds/posts/default", params={"alt": "json"}).json()["feed"]
    atom_url = next(link["href"] for link in feed["entry"][0]["link"]
                    if link["rel"] == "replies" and "atom" in link["type"])

    for url, post in ((site.post_url(wpd_post), wpd_post), (atom_url, blg_post)):
        code, out, err = run_cli(capsys, "extract", url)
        assert code == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert [line["text"] for line in lines] == [c.text for c in released if c.post == post.key]


def test_robots_txt_allows_the_monitor_and_names_the_sitemap(site):
    for blog in BLOGS:
        robots = httpx.get(site.url(blog) + "/robots.txt")
        assert robots.status_code == 200
        assert "Sitemap: " + site.url(blog) in robots.text
        assert "Disallow: /\n" not in robots.text
