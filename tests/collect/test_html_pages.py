"""Page-reading collectors on 127.0.0.1: the article page (not its comment feed) is read, the comment
feed is only a fallback, and comments split over comment-page-N pages are all read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from monitor.collect.base import ArticleState, ExtractedArticle, make_collector
from monitor.collect.http import PoliteClient
from monitor.collect.markup import Document
from monitor.collect.paging import read_all_pages
from monitor.collect.runner import collect_source
from monitor.collect.wordpress_html import extract
from monitor.config import SourceConfig
from monitor.store.schema import comments

from .conftest import Reply

NOW = datetime.now(timezone.utc)


def client(site) -> PoliteClient:
    return PoliteClient(min_delay_s=0, timeout_s=2, max_retries=0, sleep=lambda s: None,
                        allow_private=[site.url])


def comment(number: int, author: str, text: str) -> str:
    return (f'<li id="comment-{number}" class="comment depth-1"><article id="div-comment-{number}" '
            f'class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">'
            f'<b class="fn">{author}</b> <span class="says">says:</span></div><div class="comment-metadata">'
            f'<a href="#comment-{number}"><time datetime="2025-02-0{number % 9 + 1}T10:00:00+01:00">'
            f'Feb</time></a></div></footer><div class="comment-content"><p>{text}</p></div>'
            f'<div class="reply"><a class="comment-reply-link" href="?replytocom={number}#respond">Reply'
            f'</a></div></article></li>')


def page(comments: str, nav: str = "", extra: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Post</title></head><body>'
            f'<article><h1>Deich</h1><p>Article text.</p></article>'
            f'<nav class="navigation post-navigation"><div class="nav-previous">'
            f'<a href="/older-article/" rel="prev">Previous post</a></div></nav>'
            f'<div id="comments" class="comments-area"><h2>Comments</h2>{nav}'
            f'<ol class="comment-list">{comments}</ol>{nav}<div id="respond"><form><textarea></textarea>'
            f'</form></div></div>{extra}</body></html>')


def rss(site_url: str, post: str, items: str = "") -> str:
    pub = (NOW - timedelta(hours=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
            'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f'<item><title>Deich</title><link>{site_url}{post}</link><pubDate>{pub}</pubDate>'
            f'<wfw:commentRss>{site_url}{post}feed/</wfw:commentRss><slash:comments>2</slash:comments>'
            f'</item>{items}</channel></rss>')


def comment_feed(site_url: str, post: str) -> str:
    items = "".join(
        f'<item><title>By: {who}</title><link>{site_url}{post}#comment-{n}</link>'
        f'<dc:creator>{who}</dc:creator><pubDate>Sat, 01 Feb 2025 10:0{n % 10}:00 +0000</pubDate>'
        f'<description>{text}</description></item>'
        for n, who, text in ((81, "Ute", "Aus dem Feed."), (82, "Bo", "Auch aus dem Feed.")))
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel>{items}</channel></rss>')


def test_html_collector_reads_the_article_page_not_the_comment_feed(site):
    site.route("/feed/", Reply(body=rss(site.url, "/deich/"), content_type="application/rss+xml"))
    site.route("/deich/", Reply(body=page(comment(11, "Ana", "Hoch genug?") + comment(12, "Ben", "Ja."))))
    site.route("/deich/feed/", Reply(body=comment_feed(site.url, "/deich/"), content_type="application/rss+xml"))
    source = SourceConfig(name="w", url=site.url + "/feed/", platform="wpdiscuz", discovery="feed")
    with client(site) as c:
        collector = make_collector("wpdiscuz", source, c)
        [article] = collector.discover(NOW - timedelta(days=30))
        fetched = collector.fetch_comments(article, ArticleState())
    assert article.comments_url == f"{site.url}/deich/feed/"  # discovery keeps the feed for the feed platform
    assert [(x.external_id, x.author, x.text) for x in fetched.comments] == [("11", "Ana", "Hoch genug?"),
                                                                            ("12", "Ben", "Ja.")]
    assert fetched.complete
    assert site.hits("/deich/feed/") == []


def test_comment_feed_is_the_fallback_when_the_page_shows_no_comments(site):
    # Comments loaded by script: the page has a placeholder only.
    site.route("/deich/", Reply(body='<html><body><article>Text</article><div id="app-comments"></div></body></html>'))
    site.route("/deich/feed/", Reply(body=comment_feed(site.url, "/deich/"), content_type="application/rss+xml"))
    source = SourceConfig(name="w", url=site.url + "/", platform="wpdiscuz")
    article = ExtractedArticle("a", f"{site.url}/deich/", comments_url=f"{site.url}/deich/feed/", comment_count=2)
    with client(site) as c:
        fetched = make_collector("wpdiscuz", source, c).fetch_comments(article, ArticleState())
    assert [(x.external_id, x.author, x.text) for x in fetched.comments] == [
        ("81", "Ute", "Aus dem Feed."), ("82", "Bo", "Auch aus dem Feed.")]
    assert fetched.complete  # the feed holds as many comments as the site feed announced


def test_css_collector_reads_the_article_page_too(site):
    site.route("/deich/", Reply(body='<div class="c" id="x1"><p class="t">Seite</p></div>'))
    site.route("/deich/feed/", Reply(body=comment_feed(site.url, "/deich/"), content_type="application/rss+xml"))
    source = SourceConfig(name="c", url=site.url + "/", platform="css", selectors={"comment": ".c", "text": ".t"})
    article = ExtractedArticle("a", f"{site.url}/deich/", comments_url=f"{site.url}/deich/feed/")
    with client(site) as c:
        fetched = make_collector("css", source, c).fetch_comments(article, ArticleState())
    assert [(x.external_id, x.text) for x in fetched.comments] == [("x1", "Seite")]


def paged_site(site, fail_page: int | None = None) -> None:
    """Three comment pages; the article URL shows the newest (WordPress's default), like page 3."""
    def nav(current: int) -> str:
        links = []
        if current > 1:
            links.append(f'<div class="nav-previous"><a href="{site.url}/deich/comment-page-{current - 1}/#comments">'
                         'Older Comments</a></div>')
        if current < 3:
            links.append(f'<div class="nav-next"><a href="{site.url}/deich/comment-page-{current + 1}/#comments">'
                         'Newer Comments</a></div>')
        numbers = "".join(f'<span aria-current="page" class="page-numbers current">{n}</span>' if n == current
                          else f'<a class="page-numbers" href="/deich/comment-page-{n}/#comments">{n}</a>'
                          for n in (1, 2, 3))
        return (f'<nav class="navigation comment-navigation"><div class="nav-links">{"".join(links)}</div></nav>'
                f'<nav class="navigation comments-pagination"><div class="nav-links">{numbers}</div></nav>')

    pages = {1: comment(1, "A", "eins") + comment(2, "B", "zwei"),
             2: comment(3, "C", "drei") + comment(4, "D", "vier"),
             3: comment(5, "E", "fünf")}
    site.route("/deich/", Reply(body=page(pages[3], nav(3))))
    for n in (1, 2, 3):
        reply = Reply(500, b"boom") if n == fail_page else Reply(body=page(pages[n], nav(n)))
        site.route(f"/deich/comment-page-{n}/", reply)


def test_every_comment_page_is_read_once_and_the_listing_is_complete(site):
    paged_site(site)
    source = SourceConfig(name="w", url=site.url + "/", platform="wpdiscuz")
    with client(site) as c:
        fetched = make_collector("wpdiscuz", source, c).fetch_comments(
            ExtractedArticle("a", f"{site.url}/deich/"), ArticleState())
    assert sorted(x.external_id for x in fetched.comments) == ["1", "2", "3", "4", "5"]
    assert fetched.complete and fetched.state.extra["comment_pages"] == 3
    assert len(site.hits("/deich/comment-page-1/")) == 1 and len(site.hits("/deich/comment-page-2/")) == 1
    assert site.hits("/deich/comment-page-3/") == []  # the article URL already showed page 3
    assert site.hits("/older-article/") == []  # post navigation is not comment paging


def test_a_comment_page_that_fails_leaves_the_listing_incomplete(site):
    paged_site(site, fail_page=1)
    source = SourceConfig(name="w", url=site.url + "/", platform="wpdiscuz")
    with client(site) as c:
        fetched = make_collector("wpdiscuz", source, c).fetch_comments(
            ExtractedArticle("a", f"{site.url}/deich/"), ArticleState())
    assert sorted(x.external_id for x in fetched.comments) == ["3", "4", "5"]
    assert not fetched.complete  # comments 1 and 2 must not be marked deleted


def test_paging_stops_at_the_bound_and_says_the_listing_is_incomplete(site):
    def endless(req):
        n = int(req.path.strip("/").rsplit("-", 1)[-1])
        nxt = f'<a rel="next" href="/deich/comment-page-{n + 1}/">Next</a>'
        return Reply(body=page(comment(n, "X", f"Seite {n}"), extra="", nav=f'<div class="c-nav">{nxt}</div>'))
    for n in range(1, 40):
        site.route(f"/deich/comment-page-{n}/", endless)
    first = page(comment(100, "Y", "Start"), nav='<a rel="next" href="/deich/comment-page-1/">Next</a>')
    with client(site) as c:
        listing = read_all_pages(c, Document(first), f"{site.url}/deich/", extract, max_pages=4)
    assert not listing.complete
    assert len(site.log) <= 4 + 1  # robots.txt and at most the bound of pages
    assert [x.external_id for x in listing.comments][:2] == ["100", "1"]


def test_a_navigation_without_readable_links_is_not_a_complete_listing():
    html = page(comment(7, "Q", "Text"), nav='<nav class="comment-navigation"><button>Load more</button></nav>')
    listing = read_all_pages(None, Document(html), "https://site.example/a/", extract)
    assert [x.external_id for x in listing.comments] == ["7"] and not listing.complete


def test_a_304_is_trusted_only_for_a_single_page_listing(site):
    paged_site(site)
    source = SourceConfig(name="w", url=site.url + "/", platform="wpdiscuz")
    with client(site) as c:
        collector = make_collector("wpdiscuz", source, c)
        collector.fetch_comments(ExtractedArticle("a", f"{site.url}/deich/"),
                                 ArticleState(etag='"v1"', extra={"comment_pages": 3}))
    assert "if-none-match" not in site.hits("/deich/")[0].headers


def test_closed_rest_api_site_is_collected_from_its_pages_with_the_feed_listing_comment_feeds(site, env):
    """The demo engineer's case: the site feed names each post's comment feed (wfw:commentRss);
    the comments still come from the article pages, all of their comment pages."""
    config, engine = env
    site.route("/wp-json/wp/v2/posts", Reply(404, b'{"code":"rest_no_route"}', content_type="application/json"))
    site.route("/", Reply(body=f'<html><head><link rel="alternate" type="application/rss+xml" '
                               f'href="{site.url}/feed/"></head><body>home</body></html>'))
    site.route("/feed/", Reply(body=rss(site.url, "/deich/"), content_type="application/rss+xml"))
    site.route("/deich/feed/", Reply(body=comment_feed(site.url, "/deich/"), content_type="application/rss+xml"))
    paged_site(site)
    source = SourceConfig(name="nordufer", url=site.url + "/", platform="wordpress")
    with client(site) as c:
        first = collect_source(engine, config, source, c)
    assert first.status == "ok", first.errors
    assert (first.articles_checked, first.new) == (1, 5)
    assert site.hits("/deich/feed/") == []

    site.route("/deich/comment-page-1/", Reply(body=page(comment(1, "A", "eins"))))  # comment 2 removed
    with client(site) as c:
        second = collect_source(engine, config, source, c, now=NOW + timedelta(days=1))
    assert second.deleted == 1
    with engine.connect() as conn:
        gone = conn.execute(select(comments.c.external_id).where(comments.c.deleted_at.is_not(None))).scalars().all()
    assert gone == ["2"]


def test_wpdiscuz_listing_is_complete_unless_more_comments_load_by_script():
    from pathlib import Path

    saved = (Path(__file__).parent / "fixtures" / "wpdiscuz5_de.html").read_text(encoding="utf-8")
    whole = read_all_pages(None, Document(saved), "https://kuestenkurier.example/a/", extract)
    assert len(whole.comments) == 3 and whole.complete  # its pagination div is empty
    more = saved.replace('<div class="wpdiscuz-comment-pagination"></div>',
                         '<div class="wpdiscuz-comment-pagination"><div class="wc-load-more-submit-wrap">'
                         '<button class="wc-load-more-submit">Mehr Kommentare laden</button></div></div>')
    partial = read_all_pages(None, Document(more), "https://kuestenkurier.example/a/", extract)
    assert len(partial.comments) == 3 and not partial.complete


def test_plain_permalink_comment_pages_are_followed_but_not_other_posts(site):
    def post(req):
        n = int(req.query.get("cpage", "2"))
        others = '<a href="/?p=13&amp;cpage=1#comments">other post</a>'
        nav = (f'<nav class="comment-navigation"><a href="/?p=12&amp;cpage={3 - n}#comments">'
               f'{"Older" if n == 2 else "Newer"} Comments</a></nav>')
        return Reply(body=page(comment(20 + n, "P", f"Seite {n}"), nav=nav, extra=others))
    site.route("/", post)
    with client(site) as c:
        first = c.get(f"{site.url}/?p=12")
        listing = read_all_pages(c, first.document(), first.url, extract)
    assert sorted(x.external_id for x in listing.comments) == ["21", "22"] and listing.complete
    assert all(r.query.get("p") == "12" for r in site.hits("/"))


def test_feed_campaign_tags_on_the_article_url_do_not_hide_its_comment_pages():
    from monitor.collect.paging import page_links

    html = page(comment(1, "A", "x"), nav='<nav class="comment-navigation"><a href="/a/comment-page-1/#comments">'
                                            'Older Comments</a></nav>')
    links, has_nav = page_links(Document(html), "https://site.example/a/?utm_source=rss&utm_medium=feed")
    assert links == ["https://site.example/a/comment-page-1/"] and has_nav
