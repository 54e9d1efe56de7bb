"""The demo site: three blogs on 127.0.0.1 (WordPress REST, WordPress with wpDiscuz, Blogger feeds)
serving the scripted comments as they are released, in the shapes the real collectors read."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

from monitor.demo.content import BLOGS, COMMENTS, POSTS, Blog, Post, ScriptedComment

__all__ = ["DemoSite", "Response"]

log = logging.getLogger(__name__)

_BLOGGER_BLOG_ID = "8120453377190456211"
_BLOGGER_POST_BASE = 4_750_000_000_000_000_000
_BLOGGER_COMMENT_BASE = 2_914_000_000_000_000_000
_WP_COMMENT_BASE = {"rest": 5000, "wpdiscuz": 7000}
_JSON = "application/json; charset=UTF-8"
_HTML = "text/html; charset=UTF-8"


@dataclass
class Response:
    """What a route answers; the handler adds ETag, gzip and Content-Length."""

    status: int
    content_type: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, _JSON, json.dumps(data, ensure_ascii=False), headers or {})


def _int(query: dict[str, list[str]], name: str, default: int) -> int | None:
    """A positive integer query parameter; None when present but not one."""
    values = query.get(name)
    if not values:
        return default
    return int(values[0]) if values[0].isdigit() and int(values[0]) > 0 else None


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(part.strip())}</p>\n" for part in text.split("\n\n") if part.strip())


def _ago(seconds: float) -> str:
    """wpDiscuz shows relative times; the absolute one is in the title attribute."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''} ago"


class DemoSite:
    """Three blogs, each on its own ephemeral port of 127.0.0.1. Comments with `at_s` up to the
    seconds elapsed since start are visible; `clock` is injectable so tests can move time."""

    def __init__(self, *, host: str = "127.0.0.1", clock: Callable[[], float] = time.monotonic,
                 started_at: datetime | None = None, posts: Iterable[Post] = POSTS,
                 comments: Iterable[ScriptedComment] = COMMENTS) -> None:
        self.host = host
        self.clock = clock
        self.t0 = clock()
        self.started_at = (started_at or datetime.now(timezone.utc)).replace(microsecond=0)
        self.posts = list(posts)
        self.comments = sorted(comments, key=lambda c: (c.at_s, c.cid))
        self._by_cid = {c.cid: c for c in self.comments}
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self.requests = 0  # served so far, across the three blogs

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> DemoSite:
        for key, blog in BLOGS.items():
            server = ThreadingHTTPServer((self.host, 0), _Handler)
            server.daemon_threads = True
            server.demo = _ROUTERS[blog.platform](self, blog)  # type: ignore[attr-defined]
            self._servers[key] = server
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"demo-site-{key}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what is visible now ----------------------------------------------------------------------

    def url(self, blog: str) -> str:
        """The root URL of a blog ('rest', 'wpdiscuz' or 'blogger'); the site must be started."""
        server = self._servers[blog]
        return f"http://{self.host}:{server.server_address[1]}"

    @property
    def urls(self) -> dict[str, str]:
        return {key: self.url(key) for key in self._servers}

    def post_url(self, post: Post) -> str:
        """The article page of a post, as its blog links it."""
        return self._servers[post.blog].demo.post_url(post)  # type: ignore[attr-defined]

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def by_cid(self, cid: int) -> ScriptedComment:
        return self._by_cid[cid]

    def published(self, comment: ScriptedComment) -> datetime:
        return self.started_at + timedelta(seconds=comment.at_s)

    def post_published(self, post: Post) -> datetime:
        return self.started_at - timedelta(seconds=post.age_s)

    def released(self, post_key: str | None = None) -> list[ScriptedComment]:
        """Comments visible now, oldest first; all posts when `post_key` is None."""
        now = self.elapsed()
        return [c for c in self.comments if c.at_s <= now and (post_key is None or c.post == post_key)]

    def posts_of(self, blog: str) -> list[Post]:
        """A blog's posts, newest first (how every platform lists them)."""
        return sorted((p for p in self.posts if p.blog == blog), key=lambda p: p.age_s)

    def next_release_in(self) -> float | None:
        """Seconds until the next scripted comment appears; None when the script is spent."""
        now = self.elapsed()
        upcoming = [c.at_s - now for c in self.comments if c.at_s > now]
        return min(upcoming) if upcoming else None


class _Handler(BaseHTTPRequestHandler):
    """Routes GETs to the blog's router; ETag/If-None-Match and gzip as a real server does them."""

    protocol_version = "HTTP/1.1"
    server_version = "DemoBlog/1.0"
    timeout = 30  # idle keep-alive connections go away

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        router: _Router = self.server.demo  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        try:
            response = router.route(parts.path, parse_qs(parts.query))
        except Exception:  # a bug in the demo must not kill the server thread silently
            log.exception("demo site failed on %s", self.path)
            response = Response(500, "text/plain; charset=UTF-8", "internal error\n")
        router.site.requests += 1
        body = response.body.encode("utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        if response.status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        encoding = None
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and len(body) > 1024:
            body, encoding = gzip.compress(body, 5), "gzip"
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        if response.status == 200:
            self.send_header("ETag", etag)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        log.debug("%s %s", self.address_string(), format % args)


class _Router:
    """Pages every demo blog has: home, robots.txt; subclasses add their platform's routes."""

    def __init__(self, site: DemoSite, blog: Blog) -> None:
        self.site = site
        self.blog = blog
        self.tz = timezone(timedelta(hours=blog.utc_offset_h))

    @property
    def base(self) -> str:
        return self.site.url(self.blog.key)

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def route(self, path: str, query: dict[str, list[str]]) -> Response:
        if path == "/robots.txt":
            return Response(200, "text/plain; charset=UTF-8", self.robots())
        if path in ("", "/"):
            return Response(200, _HTML, self.home())
        return self.platform_route(path, query) or self.not_found(path)

    def platform_route(self, path: str, query: dict[str, list[str]]) -> Response | None:
        raise NotImplementedError

    def robots(self) -> str:
        return "User-agent: *\nDisallow: /wp-admin/\nAllow: /\n"

    def not_found(self, path: str) -> Response:
        return Response(404, _HTML, f"<!DOCTYPE html><html><body><h1>404</h1><p>{escape(path)} "
                                    "not found</p></body></html>")

    def home_head(self) -> str:
        return ""

    def home(self) -> str:
        items = "".join(f'<li><a href="{escape(self.post_url(p))}">{escape(p.title)}</a></li>'
                        for p in self.site.posts_of(self.blog.key))
        return (f'<!DOCTYPE html><html lang="{self.blog.lang}"><head><meta charset="utf-8">'
                f"<title>{escape(self.blog.title)}</title>{self.home_head()}</head><body>"
                f"<h1>{escape(self.blog.title)}</h1><ul class=\"posts\">{items}</ul></body></html>")

    def post_url(self, post: Post) -> str:
        raise NotImplementedError

    def post_for_path(self, path: str) -> Post | None:
        for post in self.site.posts_of(self.blog.key):
            if urlsplit(self.post_url(post)).path == path:
                return post
        return None


# --- WordPress: REST API, RSS, sitemap and article pages -------------------------------------------

class _WordPress(_Router):
    """A WordPress site; `rest` says whether /wp-json/ is open (the wpDiscuz blog has it closed)."""

    rest = True

    def comment_id(self, comment: ScriptedComment) -> int:
        return _WP_COMMENT_BASE[self.blog.key] + comment.cid

    def post_url(self, post: Post) -> str:
        return f"{self.base}/{self.site.post_published(post):%Y/%m/%d}/{post.slug}/"

    def home_head(self) -> str:
        head = f'<link rel="alternate" type="application/rss+xml" href="{self.base}/feed/">'
        if self.rest:
            head += f'<link rel="https://api.w.org/" href="{self.base}/wp-json/">'
        return head + '<meta name="generator" content="WordPress 6.4.3">'

    def robots(self) -> str:
        return super().robots() + f"\nSitemap: {self.base}/wp-sitemap.xml\n"

    def platform_route(self, path: str, query: dict[str, list[str]]) -> Response | None:
        if path.startswith("/wp-json"):
            if not self.rest:
                return _json({"code": "rest_disabled", "message": "The REST API is disabled on this "
                              "site.", "data": {"status": 404}}, 404)
            return self.api(path.removeprefix("/wp-json").rstrip("/"), query)
        if path == "/feed/":
            return Response(200, "application/rss+xml; charset=UTF-8", self.posts_feed())
        if path == "/wp-sitemap.xml":
            return Response(200, "application/xml; charset=UTF-8", self.sitemap_index())
        if path == "/wp-sitemap-posts-post-1.xml":
            return Response(200, "application/xml; charset=UTF-8", self.sitemap())
        if path.endswith("/feed/") and (post := self.post_for_path(path.removesuffix("feed/"))):
            return Response(200, "application/rss+xml; charset=UTF-8", self.comments_feed(post))
        if post := self.post_for_path(path):
            return Response(200, _HTML, self.article(post))
        return None

    # REST

    def api(self, route: str, query: dict[str, list[str]]) -> Response:
        if route == "":
            return _json({"name": self.blog.title, "url": self.base, "namespaces": ["wp/v2"],
                          "routes": {"/wp/v2/posts": {}, "/wp/v2/comments": {}}})
        if route == "/wp/v2/posts":
            return self.api_posts(query)
        if route == "/wp/v2/comments":
            return self.api_comments(query)
        return _json({"code": "rest_no_route", "message": "No route was found matching the URL and "
                      "request method.", "data": {"status": 404}}, 404)

    @staticmethod
    def _paged(items: list[dict[str, Any]], query: dict[str, list[str]], default: int) -> Response:
        per_page, page = _int(query, "per_page", default), _int(query, "page", 1)
        if per_page is None or per_page > 100 or page is None:
            return _json({"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page, "
                          "page", "data": {"status": 400}}, 400)
        total = len(items)
        pages = math.ceil(total / per_page)
        if page > max(1, pages):
            return _json({"code": "rest_post_invalid_page_number", "message": "The page number "
                          "requested is larger than the number of pages available.",
                          "data": {"status": 400}}, 400)
        fields = [f for f in ",".join(query.get("_fields", [])).split(",") if f]
        chunk = items[(page - 1) * per_page: page * per_page]
        if fields:
            chunk = [{k: v for k, v in item.items() if k in fields} for item in chunk]
        return _json(chunk, headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})

    def _dates(self, when: datetime) -> dict[str, str]:
        return {"date": f"{self.local(when):%Y-%m-%dT%H:%M:%S}",
                "date_gmt": f"{when.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S}"}

    def api_posts(self, query: dict[str, list[str]]) -> Response:
        posts = self.site.posts_of(self.blog.key)
        after = (query.get("after") or [""])[0]
        if after:
            try:
                since = datetime.fromisoformat(after)
            except ValueError:
                return _json({"code": "rest_invalid_param", "message": "Invalid parameter(s): after",
                              "data": {"status": 400}}, 400)
            since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            posts = [p for p in posts if self.site.post_published(p) > since]
        if (query.get("order") or ["desc"])[0] == "asc":
            posts.reverse()
        items = []
        for post in posts:
            when = self.site.post_published(post)
            items.append({"id": post.number, **self._dates(when), "slug": post.slug, "status": "publish",
                          "type": "post", "link": self.post_url(post),
                          "title": {"rendered": escape(post.title)},
                          "content": {"rendered": _paragraphs(post.body), "protected": False},
                          "author": 1, "comment_status": "open"})
        return self._paged(items, query, 10)

    def api_comments(self, query: dict[str, list[str]]) -> Response:
        wanted = {int(v) for value in query.get("post", []) for v in value.split(",") if v.isdigit()}
        posts = {p.key: p for p in self.site.posts_of(self.blog.key)
                 if not query.get("post") or p.number in wanted}
        comments = [c for c in self.site.released() if c.post in posts]
        orderby = (query.get("orderby") or ["date_gmt"])[0]
        comments.sort(key=(lambda c: c.cid) if orderby == "id" else (lambda c: (c.at_s, c.cid)))
        if (query.get("order") or ["desc"])[0] != "asc":
            comments.reverse()
        items = []
        for c in comments:
            post = posts[c.post]
            number = self.comment_id(c)
            items.append({"id": number, "post": post.number,
                          "parent": self.comment_id(self.site.by_cid(c.parent)) if c.parent else 0,
                          "author": 0, "author_name": c.author, "author_url": "",
                          **self._dates(self.site.published(c)),
                          "content": {"rendered": _paragraphs(c.text)},
                          "link": f"{self.post_url(post)}#comment-{number}", "status": "approved",
                          "type": "comment"})
        return self._paged(items, query, 10)

    # feeds and sitemaps

    def posts_feed(self) -> str:
        items = []
        for post in self.site.posts_of(self.blog.key):
            url = self.post_url(post)
            count = len(self.site.released(post.key))
            items.append(
                f"<item><title>{escape(post.title)}</title><link>{url}</link>"
                f"<comments>{url}#comments</comments><dc:creator><![CDATA[Redaktion]]></dc:creator>"
                f"<pubDate>{format_datetime(self.site.post_published(post), usegmt=True)}</pubDate>"
                f'<guid isPermaLink="false">{self.base}/?p={post.number}</guid>'
                f"<description>{escape(post.body)}</description>"
                f"<slash:comments>{count}</slash:comments>"
                "</item>")
        return self._rss(f"{self.base}/feed/", self.blog.title, "".join(items))

    def comments_feed(self, post: Post) -> str:
        url = self.post_url(post)
        items = []
        for c in reversed(self.site.released(post.key)):  # WordPress lists the newest first
            number = self.comment_id(c)
            items.append(
                f"<item><title>{escape(f'Comment on {post.title} by {c.author}')}</title>"
                f"<link>{url}#comment-{number}</link><dc:creator><![CDATA[{c.author}]]></dc:creator>"
                f"<pubDate>{format_datetime(self.site.published(c), usegmt=True)}</pubDate>"
                f'<guid isPermaLink="false">{url}#comment-{number}</guid>'
                f"<description>{escape(c.text)}</description>"
                f"<content:encoded><![CDATA[{_paragraphs(c.text)}]]></content:encoded></item>")
        return self._rss(f"{url}feed/", f"Comments on: {post.title}", "".join(items))

    def _rss(self, self_url: str, title: str, items: str) -> str:
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                'xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">'
                f'<channel><title>{escape(title)}</title>'
                f'<atom:link href="{self_url}" rel="self" type="application/rss+xml"/>'
                f"<link>{self.base}/</link><description>{escape(self.blog.title)}</description>"
                f"<language>{self.blog.lang}</language><generator>https://wordpress.org/?v=6.4.3</generator>"
                f"{items}</channel></rss>\n")

    def sitemap_index(self) -> str:
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{self.base}/wp-sitemap-posts-post-1.xml</loc></sitemap></sitemapindex>\n")

    def sitemap(self) -> str:
        urls = "".join(f"<url><loc>{self.post_url(p)}</loc>"
                       f"<lastmod>{self.site.post_published(p).isoformat()}</lastmod></url>"
                       for p in self.site.posts_of(self.blog.key))
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n')

    # article pages

    def article(self, post: Post) -> str:
        released = self.site.released(post.key)
        when = self.local(self.site.post_published(post))
        return (f'<!DOCTYPE html><html lang="{self.blog.lang}"><head><meta charset="utf-8">'
                f"<title>{escape(post.title)} – {escape(self.blog.title)}</title>{self.home_head()}"
                f'<link rel="canonical" href="{self.post_url(post)}"></head>'
                f'<body class="single single-post postid-{post.number}">'
                f'<article id="post-{post.number}" class="post type-post"><h1 class="entry-title">'
                f'{escape(post.title)}</h1><time class="entry-date published" datetime="{when.isoformat()}">'
                f'{when:%d.%m.%Y}</time><div class="entry-content">{_paragraphs(post.body)}</div></article>'
                f"{self.comment_area(post, released)}</body></html>")

    def comment_area(self, post: Post, released: list[ScriptedComment]) -> str:
        """WordPress core markup: ol.comment-list, li#comment-N, replies in ol.children."""
        children = _children(released)

        def render(c: ScriptedComment, depth: int) -> str:
            number = self.comment_id(c)
            when = self.local(self.site.published(c))
            replies = "".join(render(r, depth + 1) for r in children.get(c.cid, []))
            nested = f'<ol class="children">{replies}</ol>' if replies else ""
            return (f'<li id="comment-{number}" class="comment depth-{depth}">'
                    f'<article id="div-comment-{number}" class="comment-body"><footer class="comment-meta">'
                    f'<div class="comment-author vcard"><b class="fn">{escape(c.author)}</b> '
                    f'<span class="says">sagt:</span></div><div class="comment-metadata">'
                    f'<a href="{self.post_url(post)}#comment-{number}"><time datetime="{when.isoformat()}">'
                    f"{when:%d.%m.%Y um %H:%M Uhr}</time></a></div></footer>"
                    f'<div class="comment-content">{_paragraphs(c.text)}</div>'
                    f'<div class="reply"><a class="comment-reply-link" href="#respond">Antworten</a></div>'
                    f"</article>{nested}</li>")

        top = "".join(render(c, 1) for c in children.get(None, []))
        return (f'<div id="comments" class="comments-area"><h2 class="comments-title">{len(released)} '
                f'Kommentare</h2><ol class="comment-list">{top}</ol>'
                '<div id="respond" class="comment-respond"></div></div>')


class _WpDiscuz(_WordPress):
    """A WordPress site with the REST API closed and wpDiscuz rendering the comments."""

    rest = False

    def comment_area(self, post: Post, released: list[ScriptedComment]) -> str:
        children = _children(released)
        now = self.site.started_at + timedelta(seconds=self.site.elapsed())

        def render(c: ScriptedComment, level: int) -> str:
            number = self.comment_id(c)
            parent = self.comment_id(self.site.by_cid(c.parent)) if c.parent else 0
            when = self.local(self.site.published(c))
            stamp = f"{when:%B} {when.day}, {when:%Y} {when.hour % 12 or 12}:{when:%M} {when:%p}".lower()
            replies = "".join(render(r, min(level + 1, 5)) for r in children.get(c.cid, []))
            return (f'<div id="wpd-comm-{number}_{parent}" class="comment wpd-comment '
                    f'wpd_comment_level-{level}{" wpd-reply" if parent else ""}">'
                    '<div class="wpd-comment-wrap wpd-blog-guest"><div class="wpd-comment-left">'
                    '<div class="wpd-avatar"></div></div>'
                    f'<div id="comment-{number}" class="wpd-comment-right"><div class="wpd-comment-header">'
                    f'<div class="wpd-comment-author">{escape(c.author)}</div><div class="wpd-space"></div>'
                    f'<div class="wpd-comment-date" title="{stamp[0].upper() + stamp[1:]}">'
                    f'<i class="far fa-clock" aria-hidden="true"></i> '
                    f"{_ago((now - self.site.published(c)).total_seconds())}</div></div>"
                    f'<div class="wpd-comment-text">{_paragraphs(c.text)}</div>'
                    '<div class="wpd-comment-footer"><div class="wpd-reply-button">Reply</div></div>'
                    f'</div></div><div id="wpdiscuz_form_anchor-{number}_{parent}"></div>{replies}</div>')

        top = "".join(render(c, 1) for c in children.get(None, []))
        return ('<div id="comments" class="comments-area"><div id="wpdcom" class="wpdiscuz_unauth '
                'wpd-default wpd-layout-1"><div class="wpd-thread-head"><div class="wpd-thread-info" '
                f'data-comments-count="{len(released)}"><span class="wpdtc">{len(released)}</span> '
                f'Comments</div></div><div class="wpd-thread-list">{top}</div></div></div>')


# --- Blogger: JSON and Atom feeds, post pages ------------------------------------------------------

class _Blogger(_Router):
    """A Blogspot blog: /feeds/posts/default and /feeds/POSTID/comments/default (alt=json or Atom)."""

    def post_number(self, post: Post) -> int:
        return _BLOGGER_POST_BASE + post.number

    def comment_id(self, comment: ScriptedComment) -> int:
        return _BLOGGER_COMMENT_BASE + comment.cid

    def post_url(self, post: Post) -> str:
        return f"{self.base}/{self.local(self.site.post_published(post)):%Y/%m}/{post.slug}.html"

    def home_head(self) -> str:
        return (f'<meta name="generator" content="blogger"><link rel="alternate" '
                f'type="application/atom+xml" href="{self.base}/feeds/posts/default">')

    def robots(self) -> str:
        return (f"User-agent: *\nDisallow: /search\nAllow: /\n\nSitemap: {self.base}/sitemap.xml\n")

    def stamp(self, when: datetime) -> str:
        return self.local(when).isoformat(timespec="milliseconds")

    def platform_route(self, path: str, query: dict[str, list[str]]) -> Response | None:
        parts = path.strip("/").split("/")
        if parts == ["feeds", "posts", "default"]:
            return self.feed(query, self.posts_entries(query), self.blog.title, "posts")
        if len(parts) == 4 and parts[0] == "feeds" and parts[2:] == ["comments", "default"]:
            post = next((p for p in self.site.posts_of(self.blog.key)
                         if str(self.post_number(p)) == parts[1]), None)
            if post is None:
                return Response(404, "text/plain; charset=UTF-8", "Blog or post not found\n")
            return self.feed(query, self.comment_entries(post), f"Комментарии: {post.title}",
                             f"{parts[1]}/comments")
        if post := self.post_for_path(path):
            return Response(200, _HTML, self.page(post))
        return None

    def posts_entries(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        posts = self.site.posts_of(self.blog.key)
        since = (query.get("published-min") or [""])[0]
        if since:
            try:
                bound = datetime.fromisoformat(since)
            except ValueError:
                bound = None
            if bound is not None:
                bound = bound if bound.tzinfo else bound.replace(tzinfo=timezone.utc)
                posts = [p for p in posts if self.site.post_published(p) >= bound]
        entries = []
        for post in posts:
            number = self.post_number(post)
            url = self.post_url(post)
            count = len(self.site.released(post.key))
            entries.append({
                "id": f"tag:blogger.com,1999:blog-{_BLOGGER_BLOG_ID}.post-{number}",
                "published": self.stamp(self.site.post_published(post)),
                "title": post.title, "content": _paragraphs(post.body), "author": "Редакция",
                "links": [("replies", "application/atom+xml",
                           f"{self.base}/feeds/{number}/comments/default"),
                          ("replies", "text/html", f"{url}#comment-form"),
                          ("alternate", "text/html", url)],
                "total": count})
        return entries

    def comment_entries(self, post: Post) -> list[dict[str, Any]]:
        number = self.post_number(post)
        url = self.post_url(post)
        entries = []
        for c in self.site.released(post.key):
            cid = self.comment_id(c)
            ms = int(self.site.published(c).timestamp() * 1000)
            links = [("alternate", "text/html", f"{url}?showComment={ms}#c{cid}")]
            if c.parent:
                links.append(("related", "application/atom+xml", f"{self.base}/feeds/{number}/comments/"
                              f"default/{self.comment_id(self.site.by_cid(c.parent))}"))
            entries.append({"id": f"tag:blogger.com,1999:blog-{_BLOGGER_BLOG_ID}.post-{cid}",
                            "published": self.stamp(self.site.published(c)), "title": c.text[:40],
                            "content": _paragraphs(c.text), "author": c.author, "links": links})
        return entries

    def feed(self, query: dict[str, list[str]], entries: list[dict[str, Any]], title: str,
             feed_path: str) -> Response:
        start, size = _int(query, "start-index", 1), _int(query, "max-results", 25)
        if start is None or size is None:
            return Response(400, "text/plain; charset=UTF-8", "Invalid start-index or max-results\n")
        total = len(entries)
        chunk = entries[start - 1: start - 1 + min(size, 500)]
        feed_id = f"tag:blogger.com,1999:blog-{_BLOGGER_BLOG_ID}"
        if (query.get("alt") or ["atom"])[0] == "json":
            return _json({"version": "1.0", "encoding": "UTF-8", "feed": {
                "xmlns": "http://www.w3.org/2005/Atom",
                "xmlns$openSearch": "http://a9.com/-/spec/opensearchrss/1.0/",
                "id": {"$t": feed_id}, "title": {"type": "text", "$t": title},
                "generator": {"version": "7.00", "uri": "http://www.blogger.com", "$t": "Blogger"},
                "openSearch$totalResults": {"$t": str(total)},
                "openSearch$startIndex": {"$t": str(start)},
                "openSearch$itemsPerPage": {"$t": str(size)},
                "entry": [self._json_entry(e) for e in chunk]}})
        body = "".join(self._atom_entry(e) for e in chunk)
        return Response(200, "application/atom+xml; charset=UTF-8", (
            "<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
            "xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
            "xmlns:thr='http://purl.org/syndication/thread/1.0'>"
            f"<id>{feed_id}</id><title type='text'>{escape(title)}</title>"
            f"<link rel='self' type='application/atom+xml' href='{self.base}/feeds/{feed_path}/default'/>"
            "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>"
            f"<openSearch:totalResults>{total}</openSearch:totalResults>"
            f"<openSearch:startIndex>{start}</openSearch:startIndex>"
            f"<openSearch:itemsPerPage>{size}</openSearch:itemsPerPage>{body}</feed>\n"))

    @staticmethod
    def _json_entry(entry: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": {"$t": entry["id"]}, "published": {"$t": entry["published"]},
            "updated": {"$t": entry["published"]}, "title": {"type": "text", "$t": entry["title"]},
            "content": {"type": "html", "$t": entry["content"]},
            "link": [{"rel": rel, "type": kind, "href": href} for rel, kind, href in entry["links"]],
            "author": [{"name": {"$t": entry["author"]}, "email": {"$t": "noreply@blogger.com"}}]}
        if "total" in entry:
            out["thr$total"] = {"$t": str(entry["total"])}
        return out

    @staticmethod
    def _atom_entry(entry: dict[str, Any]) -> str:
        links = "".join(f"<link rel='{rel}' type='{kind}' href='{escape(href)}'/>"
                        for rel, kind, href in entry["links"])
        total = f"<thr:total>{entry['total']}</thr:total>" if "total" in entry else ""
        return (f"<entry><id>{entry['id']}</id><published>{entry['published']}</published>"
                f"<updated>{entry['published']}</updated><title type='text'>{escape(entry['title'])}</title>"
                f"<content type='html'>{escape(entry['content'])}</content>{links}"
                f"<author><name>{escape(entry['author'])}</name><email>noreply@blogger.com</email></author>"
                f"{total}</entry>")

    def page(self, post: Post) -> str:
        """The post page in Blogger's threaded comment layout (li.comment id="c…")."""
        released = self.site.released(post.key)
        children = _children(released)
        url = self.post_url(post)

        def render(c: ScriptedComment) -> str:
            cid = self.comment_id(c)
            when = self.site.published(c)
            replies = "".join(render(r) for r in children.get(c.cid, []))
            nested = (f'<div class="comment-replies"><div class="comment-thread inline-thread"><ol>'
                      f"{replies}</ol></div></div>") if replies else ""
            return (f'<li class="comment" id="c{cid}"><div class="comment-block"><div class="comment-header">'
                    f'<cite class="user">{escape(c.author)}</cite><span class="datetime secondary-text">'
                    f'<a rel="nofollow" href="{url}?showComment={int(when.timestamp() * 1000)}#c{cid}">'
                    f"{self.local(when):%d.%m.%Y, %H:%M}</a></span></div>"
                    f'<p class="comment-content">{escape(c.text)}</p></div>{nested}</li>')

        top = "".join(render(c) for c in children.get(None, []))
        return (f'<!DOCTYPE html><html lang="{self.blog.lang}"><head><meta charset="utf-8">'
                f"<title>{escape(post.title)}</title>{self.home_head()}</head><body>"
                f'<div class="post hentry"><h3 class="post-title entry-title">{escape(post.title)}</h3>'
                f'<div class="post-body entry-content">{_paragraphs(post.body)}</div></div>'
                f'<div class="comments" id="comments"><h4>Комментариев: {len(released)}</h4>'
                f'<div class="comments-content"><div class="comment-thread"><ol>{top}</ol></div></div>'
                "</div></body></html>")


def _children(comments: list[ScriptedComment]) -> dict[int | None, list[ScriptedComment]]:
    """Replies grouped under their parent (None: top level); a reply whose parent is not released
    yet cannot happen in the script, but is shown at the top level rather than lost."""
    visible = {c.cid for c in comments}
    grouped: dict[int | None, list[ScriptedComment]] = {}
    for c in comments:
        parent = c.parent if c.parent in visible else None
        grouped.setdefault(parent, []).append(c)
    return grouped


_ROUTERS: dict[str, type[_Router]] = {"wordpress": _WordPress, "wpdiscuz": _WpDiscuz, "blogger": _Blogger}
