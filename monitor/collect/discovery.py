"""Finding a source's articles: its feed (RSS/Atom), its sitemap.xml, the WordPress REST API, or a
fixed list; limited to those published after `since`."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

from monitor.collect.base import ExtractedArticle
from monitor.collect.http import HTTPStatusError
from monitor.collect.markup import Document, normalize_space, parse_iso
from monitor.collect.wp_api import find_api, rest_posts
from monitor.errors import CollectError, FetchError

__all__ = ["BaseCollector", "discover_articles", "from_feed", "from_sitemap"]

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"
_MAX_CHILD_SITEMAPS = 5


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _recent(articles: Iterable[ExtractedArticle], since: datetime, limit: int) -> list[ExtractedArticle]:
    # Undated articles are kept: a feed without dates is still worth reading.
    kept = [a for a in articles if a.published_at is None or a.published_at >= since]
    kept.sort(key=lambda a: a.published_at or datetime.max.replace(tzinfo=timezone.utc), reverse=True)
    unique: dict[str, ExtractedArticle] = {}
    for article in kept:
        unique.setdefault(article.external_id, article)
    return list(unique.values())[:limit]


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6], tzinfo=timezone.utc) if parsed else None


def _count(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _feed_articles(doc: Document) -> list[ExtractedArticle]:
    """Articles of an RSS 0.9x/1.0/2.0 or Atom feed, read by feedparser from the text already
    fetched within the size limit (a stream: feedparser never opens a URL or a file itself)."""
    import feedparser

    parsed = feedparser.parse(io.BytesIO(doc.text.encode("utf-8")), sanitize_html=False,
                              response_headers={"content-type": "application/xml; charset=utf-8",
                                                "content-location": doc.url or ""})
    found = []
    for entry in parsed.entries:
        links = [link for link in entry.get("links", []) if isinstance(link, dict)]
        url = entry.get("link") or next((l.get("href") for l in links if l.get("rel") == "alternate"), None)
        if not url:
            continue
        replies = next((l.get("href") for l in links if l.get("rel") == "replies"
                        and "atom" in (l.get("type") or "atom")), None)
        found.append(ExtractedArticle(
            external_id=url.split("#")[0], url=url, title=normalize_space(entry.get("title") or "") or None,
            published_at=_when(entry), comments_url=(entry.get("wfw_commentrss") or "").strip() or replies,
            comment_count=_count(entry.get("slash_comments") or entry.get("thr_total"))))
    return found


def from_feed(client: Any, url: str) -> list[ExtractedArticle]:
    """Articles of the site feed; `url` is the feed itself or a page that links it."""
    result = client.get(url, accept="application/rss+xml, application/atom+xml, text/html;q=0.8")
    doc = result.document()
    if doc.kind != "xml":
        links = doc.html.xpath("//link[@rel='alternate'][contains(@type, 'rss') or contains(@type, 'atom')]"
                               "/@href")
        # WordPress lists the comments feed second; the first alternate is the posts feed.
        feed_url = urljoin(result.url, links[0]) if links else urljoin(_site_root(url), "/feed/")
        doc = client.get(feed_url, accept="application/rss+xml, application/atom+xml").document()
    if doc.kind != "xml":
        raise CollectError(f"no RSS/Atom feed found for {url}; set discovery = \"sitemap\" or list the "
                           "articles (discovery = \"urls\")")
    return _feed_articles(doc)


def from_sitemap(client: Any, url: str, since: datetime) -> list[ExtractedArticle]:
    """Articles of /sitemap.xml (following a sitemap index to its newest child sitemaps)."""
    pending = [url if url.endswith(".xml") else urljoin(_site_root(url), "/sitemap.xml")]
    found: list[ExtractedArticle] = []
    fetched = 0
    while pending and fetched <= _MAX_CHILD_SITEMAPS:
        doc = client.get(pending.pop(0), accept="application/xml, text/xml").document()
        fetched += 1
        root = doc.xml
        if root.tag == f"{_SITEMAP_NS}sitemapindex":
            children = []
            for sm in root.findall(f"{_SITEMAP_NS}sitemap"):
                loc = (sm.findtext(f"{_SITEMAP_NS}loc") or "").strip()
                modified = parse_iso(sm.findtext(f"{_SITEMAP_NS}lastmod"), assume=timezone.utc)
                if loc and (modified is None or modified >= since):
                    children.append((modified or since, loc))
            pending.extend(loc for _, loc in sorted(children, reverse=True))
            continue
        for entry in root.findall(f"{_SITEMAP_NS}url"):
            loc = (entry.findtext(f"{_SITEMAP_NS}loc") or "").strip()
            if not loc:
                continue
            published = parse_iso(entry.findtext(f"{_NEWS_NS}news/{_NEWS_NS}publication_date"),
                                  assume=timezone.utc)
            modified = parse_iso(entry.findtext(f"{_SITEMAP_NS}lastmod"), assume=timezone.utc)
            found.append(ExtractedArticle(external_id=loc, url=loc, published_at=published or modified))
    return found


def discover_articles(client: Any, source: Any, since: datetime,
                      methods: tuple[str, ...] | None = None) -> list[ExtractedArticle]:
    """The source's articles after `since`, newest first, at most source.max_articles."""
    limit = getattr(source, "max_articles", 200)
    mode = getattr(source, "discovery", "auto")
    if mode == "urls" or (mode == "auto" and getattr(source, "articles", None) and methods is None):
        return [ExtractedArticle(external_id=u.split("#")[0], url=u) for u in source.articles][:limit]
    if mode == "rest":
        return rest_posts(client, find_api(client, source.url), since, limit)
    order = methods or (("feed", "sitemap") if mode == "auto" else (mode,))
    errors = []
    for method in order:
        try:
            articles = from_feed(client, source.url) if method == "feed" else \
                from_sitemap(client, source.url, since)
        except (HTTPStatusError, FetchError, CollectError, ValueError) as exc:
            errors.append(f"{method}: {exc}")
            continue
        if articles:
            return _recent(articles, since, limit)
    if errors:
        raise CollectError(f"no articles found for {source.name}: " + "; ".join(errors)
                           + '; to watch given articles instead, set discovery = "urls" and '
                             'articles = ["https://…"] for this source in sources.toml')
    return []


class BaseCollector:
    """What most platforms share: the source, the HTTP client, and articles found through the
    source's feed, sitemap or list. A platform with its own article API overrides `discover`."""

    platform = ""

    def __init__(self, source: Any, client: Any, **_: Any) -> None:
        self.source = source
        self.client = client

    def discover(self, since: datetime) -> list[ExtractedArticle]:
        return discover_articles(self.client, self.source, since)
