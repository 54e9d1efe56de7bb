"""WordPress through its REST API (/wp-json/wp/v2/posts and /comments), self-hosted and WordPress.com;
falls back to the page markup when the API is closed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from monitor.collect.base import ArticleState, CommentFetch, CommentRecord, ExtractedArticle, \
    Platform, convert_each
from monitor.collect.http import HTTPStatusError
from monitor.collect.markup import Document, fragment_text
from monitor.collect.wp_api import api_root, find_api, rest_posts, total_pages, utc_date
from monitor.errors import ExtractError

__all__ = ["PLATFORM", "WordPressRestCollector", "api_root", "comment_from_json", "extract"]

_PER_PAGE = 100
_MAX_PAGES = 200  # 20,000 comments on one article is far beyond any real thread
_CLOSED = {401, 403, 404, 410}


def comment_from_json(item: dict[str, Any]) -> CommentRecord:
    content = item.get("content")
    rendered = content.get("rendered", "") if isinstance(content, dict) else str(content or "")
    parent = item.get("parent")
    return CommentRecord(
        external_id=str(item["id"]), parent_external_id=str(parent) if parent not in (None, 0, "0") else None,
        author=(item.get("author_name") or None), text=fragment_text(rendered),
        published_at=utc_date(item, "date_gmt", "date"), url=item.get("link") or None)


def extract(doc: Document) -> list[CommentRecord]:
    """A saved /wp/v2/comments response (JSON list), or a WordPress page (core markup / wpDiscuz)."""
    if doc.kind != "json":
        from monitor.collect.wordpress_html import extract as extract_html

        return extract_html(doc)
    data = doc.json
    if not isinstance(data, list) or not all(isinstance(i, dict) and "id" in i for i in data):
        raise ExtractError("this JSON is not a WordPress comment list (expected the array that "
                           "/wp-json/wp/v2/comments returns)")
    return convert_each(data, comment_from_json)


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
        """The site's wp/v2 root, looked up once."""
        if self._api is None:
            self._api = find_api(self.client, self.source.url)
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
        return rest_posts(self.client, self.api, since, getattr(self.source, "max_articles", 200))

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
        comments: list[CommentRecord] = []
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
            pages = total_pages(result)
            if page >= pages or page >= _MAX_PAGES or not data:
                new_state.extra["pages"] = pages
                return CommentFetch(comments, complete=page >= pages, state=new_state)
            page += 1


_CORE_MARKUP = re.compile(r"""id=["']?(?:li-|div-)?comment-\d+\b""")


def _recognise(doc: Document) -> bool:
    if doc.kind == "json":
        data = doc.json
        if data == []:
            return True  # an empty /wp/v2/comments page
        if isinstance(data, list) and data and all(isinstance(i, dict) for i in data):
            first = data[0]
            return "id" in first and ("author_name" in first or "post" in first) and "content" in first
        return False
    return doc.kind == "html" and bool(_CORE_MARKUP.search(doc.text))


def _claim_site(doc: Document) -> str | None:
    if doc.kind == "xml":
        return None
    lowered = doc.text.lower()
    if "api.w.org" in lowered or "/wp-json/" in lowered or "/wp-content/" in lowered:
        return "wordpress"
    # WordPress markup without an API: the pages are read by the HTML platform.
    return "wpdiscuz" if _CORE_MARKUP.search(doc.text) else None


PLATFORM = Platform("wordpress", extract=extract, collector=WordPressRestCollector, recognise=_recognise,
                    claim_site=_claim_site, order=30)
