"""Collectors and discovery on 127.0.0.1: sitemap, site feed with wfw:commentRss, Disqus cursors,
platform detection, WordPress REST closed → page markup."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from monitor.collect.base import ArticleState, ExtractedArticle, make_collector
from monitor.collect.detect import detect_site
from monitor.collect.discovery import discover_articles
from monitor.collect.http import PoliteClient
from monitor.config import SourceConfig

from .conftest import Reply

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime.now(timezone.utc)


def client(site, **kw) -> PoliteClient:
    kw.setdefault("allow_private", [site.url])
    return PoliteClient(min_delay_s=0, timeout_s=2, max_retries=0, sleep=lambda s: None, **kw)


def day(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_sitemap_index_is_followed_and_old_articles_left_out(site):
    site.route("/sitemap.xml", Reply(content_type="application/xml", body=(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{site.url}/post-sitemap.xml</loc><lastmod>{day(1)}</lastmod></sitemap>'
        f'<sitemap><loc>{site.url}/old-sitemap.xml</loc><lastmod>{day(400)}</lastmod></sitemap>'
        '</sitemapindex>')))
    site.route("/post-sitemap.xml", Reply(content_type="application/xml", body=(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<url><loc>{site.url}/new/</loc><lastmod>{day(2)}</lastmod></url>'
        f'<url><loc>{site.url}/newest/</loc><lastmod>{day(0.5)}</lastmod></url>'
        f'<url><loc>{site.url}/stale/</loc><lastmod>{day(90)}</lastmod></url>'
        '</urlset>')))
    source = SourceConfig(name="s", url=site.url + "/", platform="css", discovery="sitemap",
                          selectors={"comment": ".c"})
    with client(site) as c:
        found = discover_articles(c, source, NOW - timedelta(days=30))
    assert [a.url for a in found] == [f"{site.url}/newest/", f"{site.url}/new/"]
    assert site.hits("/old-sitemap.xml") == []


def test_site_feed_links_comment_feeds_and_counts(site):
    rss = (FIXTURES / "comments_rss.xml").read_bytes()
    pub = (NOW - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    site.route("/", Reply(body=f'<html><head><link rel="alternate" type="application/rss+xml" '
                               f'href="{site.url}/feed/"></head><body>home</body></html>'))
    site.route("/feed/", Reply(content_type="application/rss+xml", body=(
        '<?xml version="1.0"?><rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/"><channel>'
        f'<item><title>Brücke</title><link>{site.url}/bruecke/</link><pubDate>{pub}</pubDate>'
        f'<wfw:commentRss>{site.url}/bruecke/feed/</wfw:commentRss><slash:comments>2</slash:comments></item>'
        '</channel></rss>')))
    site.route("/bruecke/feed/", Reply(body=rss, content_type="application/rss+xml"))
    source = SourceConfig(name="k", url=site.url + "/", platform="feed")
    with client(site) as c:
        collector = make_collector("feed", source, c)
        [article] = collector.discover(NOW - timedelta(days=30))
        fetched = collector.fetch_comments(article, ArticleState())
    assert article.comments_url == f"{site.url}/bruecke/feed/" and article.comment_count == 2
    assert sorted(x.external_id for x in fetched.comments) == ["3301", "3304"]
    assert fetched.complete  # as many items as the site feed announced


def test_disqus_follows_cursors_and_skips_deleted(site):
    pages = {
        None: {"code": 0, "cursor": {"hasNext": True, "next": "c2"}, "response": [
            {"id": "1", "parent": None, "createdAt": "2022-02-24T06:10:00", "raw_message": "one",
             "author": {"name": "A"}}]},
        "c2": {"code": 0, "cursor": {"hasNext": False, "next": "c3"}, "response": [
            {"id": "2", "parent": 1, "createdAt": "2022-02-24T06:11:00", "raw_message": "two",
             "author": {"name": "B"}},
            {"id": "3", "parent": None, "createdAt": "2022-02-24T06:12:00", "raw_message": "",
             "isDeleted": True, "author": {"name": "C"}}]},
    }
    site.route("/api/3.0/threads/listPosts.json",
               lambda req: Reply(body=json.dumps(pages[req.query.get("cursor")]), content_type="application/json"))
    source = SourceConfig(name="d", url=site.url + "/", platform="disqus", disqus_forum="tide")
    with client(site) as c:
        collector = make_collector("disqus", source, c, api_base=f"{site.url}/api/3.0",
                                   environ={"MONITOR_DISQUS_API_KEY": "pub-key"})
        fetched = collector.fetch_comments(ExtractedArticle("a", f"{site.url}/a/"), ArticleState())
    assert [(x.external_id, x.parent_external_id, x.text) for x in fetched.comments] == [("1", None, "one"), ("2", "1", "two")]
    assert fetched.complete
    first = site.hits("/api/3.0/threads/listPosts.json")[0]
    assert first.query["api_key"] == "pub-key" and first.query["thread"] == f"link:{site.url}/a/"


def test_platform_detection_of_live_sites(site, other_site):
    site.route("/", Reply(body='<html><head><link rel="https://api.w.org/" href="/wp-json/"></head></html>'))
    other_site.route("/", Reply(body="<html><head><meta content='blogger' name='generator'/></head></html>"))
    with client(site, allow_private=[site.url, other_site.url]) as c:
        assert detect_site(c, site.url + "/") == "wordpress"
        assert detect_site(c, other_site.url + "/") == "blogger"


def test_closed_rest_api_falls_back_to_the_page_markup(site):
    site.route("/wp-json/wp/v2/comments", Reply(401, body='{"code":"rest_forbidden"}', content_type="application/json"))
    site.route("/post/", Reply(body=(FIXTURES / "wp_html5.html").read_bytes()))
    source = SourceConfig(name="w", url=site.url + "/", platform="wordpress")
    with client(site) as c:
        collector = make_collector("wordpress", source, c)
        fetched = collector.fetch_comments(ExtractedArticle("412", f"{site.url}/post/"), ArticleState())
    assert len(fetched.comments) == 4 and fetched.complete


def test_unit_tests_can_inject_a_mock_transport():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, json=json.loads((FIXTURES / "wp_comments.json").read_text()),
                              headers={"X-WP-TotalPages": "1"})
    source = SourceConfig(name="m", url="https://harbour.example/", platform="wordpress")
    with PoliteClient(min_delay_s=0, max_retries=0, transport=httpx.MockTransport(handler)) as c:
        fetched = make_collector("wordpress", source, c).fetch_comments(
            ExtractedArticle("412", "https://harbour.example/p/"), ArticleState())
    assert [x.external_id for x in fetched.comments] == ["7701", "7702", "7705"]
    assert fetched.state.extra["pages"] == 1


def test_disqus_without_forum_is_not_configured():
    from monitor.errors import NotConfigured

    source = SourceConfig(name="d", url="https://x.example/", platform="disqus")
    with pytest.raises(NotConfigured, match="disqus_forum"):
        make_collector("disqus", source, None, environ={"MONITOR_DISQUS_API_KEY": "k"})


def test_rss_1_0_feeds_are_discovered(site):
    site.route("/index.rdf", Reply(content_type="application/rdf+xml", body=(
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{site.url}/"><title>Blog</title></channel>'
        f'<item rdf:about="{site.url}/p/1"><title>Fähre</title><link>/p/1</link><dc:date>{day(1)}</dc:date></item>'
        f'<item rdf:about="{site.url}/p/2"><title>Alt</title><link>/p/2</link><dc:date>{day(90)}</dc:date></item>'
        "</rdf:RDF>")))
    source = SourceConfig(name="r", url=site.url + "/index.rdf", discovery="feed")
    with client(site) as c:
        found = discover_articles(c, source, NOW - timedelta(days=30))
    assert [(a.url, a.title) for a in found] == [(f"{site.url}/p/1", "Fähre")]
