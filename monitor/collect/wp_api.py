"""The WordPress REST API as a source of articles: where a site's wp/v2 root is, and its posts
after a date. Below discovery and the WordPress platform, which both use it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from monitor.collect.base import ExtractedArticle
from monitor.collect.markup import fragment_text, parse_iso
from monitor.errors import FetchError

__all__ = ["api_root", "find_api", "rest_posts", "total_pages", "utc_date"]

_PER_PAGE = 100


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


def find_api(client: Any, site_url: str) -> str:
    """The wp/v2 root: from the page's <link rel="https://api.w.org/"> when `site_url` is not a site
    root (WordPress installed below a path), else /wp-json/wp/v2 on the host."""
    api = api_root(site_url)
    if urlsplit(site_url).path not in ("", "/") and "/wp-json" not in site_url:
        try:
            doc = client.get(site_url).document()
            links = doc.html.xpath("//link[@rel='https://api.w.org/']/@href") if doc.kind == "html" else []
        except FetchError:
            links = []
        if links and links[0].startswith("http"):
            api = links[0].rstrip("/") + "/wp/v2"
    return api


def utc_date(item: dict[str, Any], key_gmt: str, key_local: str) -> datetime | None:
    # date_gmt has no offset but is UTC; `date` is site-local without offset, so it is only a fallback
    # when it carries one.
    return parse_iso(item.get(key_gmt), assume=timezone.utc) or parse_iso(item.get(key_local))


def total_pages(result: Any) -> int:
    value = result.headers.get("x-wp-totalpages", "1")
    return max(1, int(value)) if value.isdigit() else 1


def rest_posts(client: Any, api: str, since: datetime, limit: int) -> list[ExtractedArticle]:
    """Posts published after `since`, newest first, at most `limit`."""
    found: list[ExtractedArticle] = []
    page = 1
    while len(found) < limit:
        result = client.get(f"{api}/posts", params={
            "per_page": min(_PER_PAGE, limit), "page": page, "orderby": "date", "order": "desc",
            "after": since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "_fields": "id,link,title,date_gmt,date"})
        for item in result.json():
            title = item.get("title")
            found.append(ExtractedArticle(
                external_id=str(item["id"]), url=item.get("link") or "",
                title=fragment_text(title.get("rendered", "") if isinstance(title, dict) else title or "")
                or None, published_at=utc_date(item, "date_gmt", "date")))
        if page >= total_pages(result):
            break
        page += 1
    return found[:limit]
