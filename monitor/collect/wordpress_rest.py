"""WordPress through its REST API (/wp-json/wp/v2/posts and /comments), self-hosted and WordPress.com;
falls back to the page markup when the API is closed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from monitor.collect.base import ArticleState, CommentFetch, ExtractedArticle, ExtractedComment, \
    convert_each
from monitor.collect.http import HTTPStatusError
from monitor.collect.markup import Document, fragment_text, parse_iso
from monitor.errors import ExtractError, FetchError

__all__ = ["WordPressRestCollector", "api_root", "comment_from_json", "extract"]

_PER_PAGE = 100
_MAX_PAGES = 200  # 20,000 comments on one article is far beyond any real thread
_CLOSED = {401, 403, 404, 410}


def api_root(site_url: str) -> str:
    """The wp/v2 root of a site; WordPress.com blogs are served from public-api.wordpress.com."""
    parts = urlsplit(site_url)
    host = parts.netloc.lower()
    if host.endswith(".wordpress.com") and host != "public-api.wordpress.com":
        return f"https://public-api.wordpress.com/wp/v2/sites/{host}"
    path = parts.path
    # A site root may sit below a path (example.org/blog/); an article URL is not a site root, so
    # only a path that already names the API is kept.
    base = path.split("/wp-json")[0] if "/wp-json" in path else ""
    return f"{parts.scheme}://{parts.netloc}{base.rstrip('/')}/wp-json/wp/v2"


def _utc(item: dict[str, Any], key_gmt: str, key_local: str) -> datetime | None:
    # date_gmt has no offset but is UTC; `date` is site-local without offset, so it is only a fallback
    # when it carries one.
    return parse_iso(item.get(key_gmt), assume=timezone.utc) or parse_iso(item.get(key_local))


def comment_from_json(item: dict[str, Any]) -> ExtractedComment:
    content = item.get("content")
    rendered = content.get("rendered", "") if isinstance(content, dict) else str(content or "")
    parent = item.get("parent")
    return ExtractedComment(
        external_id=str(item["id"]), parent_id=str(parent) if parent not in (None, 0, "0") else None,
        author=(item.get("author_name") or None), text=fragment_text(rendered),
        published_at=_utc(item, "date_gmt", "date"), url=item.get("link") or None)


def extract(doc: Document) -> list[ExtractedComment]:
    """A saved /wp/v2/comments response (JSON list), or a WordPress page (core markup / wpDiscuz)."""
    if doc.kind != "json":
        from monitor.collect.wordpress_html import extract as extract_html

        return extract_html(doc)
    data = doc.json
    if not isinstance(data, list) or not all(isinstance(i, dict) and "id" in i for i in data):
        raise ExtractError("this JSON is not a WordPress comment list (expected the array that "
                           "/wp-json/wp/v2/comments returns)")
    return convert_each(data, comment_from_json)


def _total_pages(result: Any) -> int:
    value = result.headers.get("x-wp-totalpages", "1")
    return max(1, int(value)) if value.isdigit() else 1


class WordPressRestCollector:
    """Posts and comments from the REST API; when it is closed (401/403/404), articles come from the
    feed or sitemap and comments from the page markup."""

    platform = "wordpress"

    def __init__(self, source: Any, client: Any, *, api_base: str | None = None, **_: Any) -> None:
        self.source = source
        self.client = client
        self._api = api_base.rstrip("/") if api_base else None
        self.rest_closed = False

    @property
    def api(self) -> str:
        """The wp/v2 root: from the page's <link rel="https://api.w.org/"> when the source URL is not
        a site root (WordPress installed below a path), else /wp-json/wp/v2 on the host."""
        if self._api is None:
            self._api = api_root(self.source.url)
            if urlsplit(self.source.url).path not in ("", "/") and "/wp-json" not in self.source.url:
                try:
                    doc = self.client.get(self.source.url).document()
                    links = doc.html.xpath("//link[@rel='https://api.w.org/']/@href") if doc.kind == "html" else []
                except FetchError:
                    links = []
                if links and links[0].startswith("http"):
                    self._api = links[0].rstrip("/") + "/wp/v2"
        return self._api

    def discover(self, since: datetime) -> list[ExtractedArticle]:
        discovery = getattr(self.source, "discovery", "auto")
        if discovery not in ("auto", "rest"):
            from monitor.collect.discovery import discover_articles

            return discover_articles(self.client, self.source, since)
        try:
            return self._discover_rest(since)
        except HTTPStatusError as exc:
            if exc.status not in _CLOSED or discovery == "rest":
                raise
        self.rest_closed = True
        from monitor.collect.discovery import discover_articles

        return discover_articles(self.client, self.source, since, methods=("feed", "sitemap"))

    def _discover_rest(self, since: datetime) -> list[ExtractedArticle]:
        limit = getattr(self.source, "max_articles", 200)
        found: list[ExtractedArticle] = []
        page = 1
        while len(found) < limit:
            result = self.client.get(f"{self.api}/posts", params={
                "per_page": min(_PER_PAGE, limit), "page": page, "orderby": "date", "order": "desc",
                "after": since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                "_fields": "id,link,title,date_gmt,date"})
            for item in result.json():
                title = item.get("title")
                found.append(ExtractedArticle(
                    external_id=str(item["id"]), url=item.get("link") or "",
                    title=fragment_text(title.get("rendered", "") if isinstance(title, dict) else title or "")
                    or None, published_at=_utc(item, "date_gmt", "date")))
            if page >= _total_pages(result):
                break
            page += 1
        return found[:limit]

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        if self.rest_closed or not article.external_id.isdigit():
            return self._html(article, state)
        try:
            return self._fetch_rest(article, state)
        except HTTPStatusError as exc:
            if exc.status not in _CLOSED:
                raise
            self.rest_closed = True
            return self._html(article, state)

    def _html(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        from monitor.collect.wordpress_html import WordPressHtmlCollector

        return WordPressHtmlCollector(self.source, self.client).fetch_comments(article, state)

    def _fetch_rest(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        comments: list[ExtractedComment] = []
        new_state = ArticleState(state.etag, state.last_modified, dict(state.extra))
        page = 1
        while True:
            conditional = page == 1 and state.extra.get("pages") == 1
            result = self.client.get(f"{self.api}/comments", params={
                "post": article.external_id, "per_page": _PER_PAGE, "page": page, "orderby": "id",
                "order": "asc", "_fields": "id,post,parent,author_name,date,date_gmt,content,link"},
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None)
            if result.not_modified:
                # Only trusted when the listing was a single page last time: a 304 on page 1 says
                # nothing about later pages.
                return CommentFetch([], complete=False, not_modified=True, state=new_state)
            if page == 1:
                new_state.etag, new_state.last_modified = result.etag, result.last_modified
            data = result.json()
            if not isinstance(data, list):
                raise ExtractError(f"{result.url}: expected a JSON list of comments")
            comments.extend(comment_from_json(item) for item in data if isinstance(item, dict))
            pages = _total_pages(result)
            if page >= pages or page >= _MAX_PAGES or not data:
                new_state.extra["pages"] = pages
                return CommentFetch(comments, complete=page >= pages, state=new_state)
            page += 1
