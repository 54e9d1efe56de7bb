"""Comment listings split over several pages (WordPress's comment-page-N / ?cpage=N): finding the
links to the other pages of one article's comments and reading them all, within a bound."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.collect.base import CommentRecord
from monitor.collect.http import HTTPStatusError
from monitor.collect.markup import Document, normalize_space, safe_urljoin
from monitor.errors import FetchError

__all__ = ["MAX_COMMENT_PAGES", "PagedListing", "page_key", "page_links", "read_all_pages"]

MAX_COMMENT_PAGES = 30  # 30 pages of 50 comments: far beyond a normal thread, and a bound on requests
_PAGE_IN_PATH = re.compile(r"/comment-page-(\d+)/?$")
# Containers that only ever hold comment paging (WordPress core, block themes, classic themes).
_NAV = ("contains(@class, 'comment-navigation') or contains(@class, 'comments-navigation') or "
        "contains(@class, 'comment-pagination') or contains(@class, 'comments-pagination') or "
        "contains(@class, 'comment-nav') or starts-with(@id, 'comment-nav') or "
        "starts-with(@id, 'comments-nav') or contains(@class, 'wp-block-comments-pagination')")
_AREA = ("@id='comments' or contains(@class, 'comments-area') or contains(@class, 'comment-list') or "
         "contains(@class, 'wp-block-comments')")
_MORE_BY_SCRIPT = ("contains(@class, 'wpd-load-more-submit') or contains(@class, 'wc-load-more-submit') "
                   "or contains(@class, 'wpdiscuz-loadmore') or contains(@class, 'load-more-comments')")


def page_key(url: str) -> tuple[str, str, int | None] | None:
    """(host, article path and query, comment page) of a URL; the page is None on the article URL
    itself. `?p=12&cpage=2` and `?p=13` are different articles, so the query stays in the key."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path = parts.path or "/"
    number: int | None = None
    if match := _PAGE_IN_PATH.search(path):
        number = int(match.group(1))
        path = path[: match.start()] + "/"
    query = dict(parse_qsl(parts.query))
    if query.get("cpage", "").isdigit():
        number = int(query.pop("cpage"))
    for name in list(query):  # reply targets and campaign tags do not change which page it is
        if name in ("replytocom", "fbclid", "gclid") or name.startswith("utm_"):
            del query[name]
    if not path.endswith("/"):
        path += "/"
    if query:
        path += "?" + urlencode(sorted(query.items()))
    return parts.netloc.lower(), path, number


def _current_page(root: Any) -> int | None:
    """The page number a listing marks as the one shown (`<span class="page-numbers current">`)."""
    for text in root.xpath(f"//*[{_NAV}]//*[contains(@class, 'current') or @aria-current='page']//text()"):
        value = normalize_space(text)
        if value.isdigit():
            return int(value)
    return None


def page_links(doc: Document, page_url: str) -> tuple[list[str], bool]:
    """Links from this page to other pages of the same article's comments, and whether the page
    has a comment navigation at all (a navigation whose links cannot be read means the listing is
    not known to be whole)."""
    root = doc.html
    here = page_key(page_url)
    if here is None:
        return [], False
    rel = f"//*[{_AREA}]//*[self::a or self::link][@rel='next' or @rel='prev']"
    # An empty container (wpDiscuz 5 always prints div.wpdiscuz-comment-pagination) is no navigation.
    navs = root.xpath(f"//*[{_NAV}][.//a or .//button or normalize-space()] | {rel}")
    # Any link to a numbered comment page counts, wherever the theme puts it (Kubrick's
    # div.navigation sits beside the list, not in it); page_key keeps other articles out.
    hrefs = root.xpath(f"//*[{_NAV}]//a/@href | {rel}/@href"
                       " | //a[contains(@href, 'comment-page-') or contains(@href, 'cpage=')]/@href")
    found: list[str] = []
    for href in hrefs:
        url = safe_urljoin(page_url, href)
        key = page_key(url) if url else None
        # Only pages of this article: post navigation (previous/next article) shares class names.
        if url is None or key is None or key[:2] != here[:2] or key[2] is None:
            continue
        url = url.split("#")[0]
        if url not in found:
            found.append(url)
    return found, bool(navs)


def _canonical(url: str) -> str:
    """One spelling per page, so /comment-page-2/ and /comment-page-2/#comments are one visit."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query)))
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, query, ""))


@dataclass
class PagedListing:
    """Every comment page of one article that could be read, and whether that is all of them."""

    comments: list[CommentRecord] = field(default_factory=list)
    complete: bool = True
    pages: int = 1


def read_all_pages(client: Any, first: Document, first_url: str,
                   extract: Callable[[Document], list[CommentRecord]],
                   max_pages: int = MAX_COMMENT_PAGES) -> PagedListing:
    """The comments of `first` and of every comment page reachable from it (older and newer), each
    read once. Complete only when every page found was read and nothing is loaded by script."""
    listing = PagedListing()
    seen_ids: set[str] = set()
    visited: set[tuple[str, str, int | None]] = set()
    queue: list[tuple[str, Document | None]] = [(first_url, first)]
    while queue:
        url, doc = queue.pop(0)
        key = page_key(url)
        if key is not None:
            visited.add(key)
        if doc is None:
            if len(visited) > max_pages:
                listing.complete = False  # more pages than the bound: the rest stays unread
                break
            try:
                doc = client.get(url).document()
            except (HTTPStatusError, FetchError):
                listing.complete = False
                continue
            listing.pages += 1
        if doc.kind != "html":
            listing.complete = False
            continue
        if key is not None and key[2] is None and (current := _current_page(doc.html)) is not None:
            visited.add((key[0], key[1], current))  # the article URL shows this page: no second visit
        for comment in extract(doc):
            if comment.external_id not in seen_ids:
                seen_ids.add(comment.external_id)
                listing.comments.append(comment)
        links, has_nav = page_links(doc, url)
        if has_nav and not links:
            listing.complete = False
        if doc.html.xpath(f"//*[{_MORE_BY_SCRIPT}]"):
            listing.complete = False
        for link in links:
            link_key = page_key(link)
            if link_key is not None and link_key not in visited and all(
                    page_key(u) != link_key for u, _ in queue):
                queue.append((_canonical(link), None))
    return listing
