"""WordPress comments read from the page itself: core comment markup in its theme variants and the
wpDiscuz plugin's markup. Used when the REST API is closed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Iterable

from monitor.collect.base import ArticleState, CommentFetch, CommentRecord, ExtractedArticle, \
    Platform
from monitor.collect.discovery import BaseCollector
from monitor.collect.markup import Document, has_class, html_to_text, normalize_space, parse_date, \
    page_title, parse_iso, safe_urljoin, xp_class

__all__ = ["PLATFORM", "WordPressHtmlCollector", "extract", "extract_core", "extract_wpdiscuz",
           "is_wpdiscuz"]

_CORE_ID = re.compile(r"^(?:li-|div-)?comment-?(\d+)$")
_WPD_ID = re.compile(r"^(?:wpd|wc)-comm-(\d+)_(\d+)$")
_SAYS = re.compile(r"\s*(says|sagt|meint|schreibt|said|wrote|dit|dice)\s*:?\s*$", re.I)
_CONTAINER_TAGS = {"li", "div", "article", "section", "dl", "td", "tr", "aside"}
# Parts of a comment that are not its text.
_META_CLASSES = {"comment-author", "comment-meta", "comment-metadata", "commentmetadata", "reply",
                 "says", "avatar", "comment-reply-link", "comment-edit-link", "vcard", "comment-footer",
                 "comment-header", "comment-awaiting-moderation", "edit-link", "comment-actions",
                 "children", "comment-respond", "screen-reader-text", "sharedaddy", "comment-like",
                 "comment-likes", "comment-avatar", "comment-info", "comment-date", "comment-time"}
_TEXT_CLASSES = ("comment-content", "wp-block-comment-content", "comment-text", "comment_text",
                 "comment-entry", "commenttext", "comment-body-text", "comment-message")
_AUTHOR_CLASSES = ("fn", "comment-author-name", "wp-block-comment-author-name", "comment-author",
                   "commentauthor", "comment_author", "author-name", "author")
_DATE_CLASSES = ("comment-metadata", "commentmetadata", "comment-meta", "comment-date", "comment-time",
                 "comment_date", "date", "time")


def _classes(el: Any) -> list[str]:
    return (el.get("class") or "").split()


class _Thread:
    """Comment nodes of a page and which node owns each element (nested replies excluded)."""

    def __init__(self, nodes: dict[Any, str]) -> None:
        self.nodes = nodes  # element → comment id

    def owner(self, el: Any) -> Any:
        while el is not None:
            if el in self.nodes:
                return el
            el = el.getparent()
        return None

    def parent_id(self, node: Any) -> str | None:
        up = node.getparent()
        owner = self.owner(up) if up is not None else None
        return self.nodes.get(owner) if owner is not None else None

    def own(self, node: Any, xpath: str) -> list[Any]:
        """Matches of `xpath` inside `node` that do not belong to a nested reply."""
        return [el for el in node.xpath(xpath) if self.owner(el) is node]

    def skip_nested(self, node: Any, extra: Callable[[Any], bool] | None = None) -> Callable[[Any], bool]:
        def skip(el: Any) -> bool:
            if el is not node and el in self.nodes:
                return True
            return extra(el) if extra is not None else False
        return skip


def _first(thread: _Thread, node: Any, class_names: Iterable[str], tag: str = "*") -> Any:
    for name in class_names:
        found = thread.own(node, f".//{tag}[{xp_class(name)}]")
        if found:
            return found[0]
    return None


def _author(thread: _Thread, node: Any) -> str | None:
    el = _first(thread, node, _AUTHOR_CLASSES)
    if el is None:
        cites = thread.own(node, ".//cite")
        el = cites[0] if cites else None
    if el is None:
        # Custom themes: any element whose class mentions the author (w-comments-item-author …).
        found = thread.own(node, ".//*[contains(@class, 'author') and not(contains(@class, 'avatar'))]")
        el = found[0] if found else None
    if el is None:
        return None
    name = _SAYS.sub("", html_to_text(el, lambda e: has_class(e, "says") or e.tag == "img"))
    return name or None


def _date(thread: _Thread, node: Any) -> datetime | None:
    for el in thread.own(node, ".//time[@datetime]"):
        if (value := parse_iso(el.get("datetime"))) is not None:
            return value
    for el in thread.own(node, ".//*[@itemprop='datePublished' or @itemprop='dateCreated']"):
        if (value := parse_iso(el.get("content") or el.get("datetime"))) is not None:
            return value
    for el in thread.own(node, ".//abbr[@title]"):
        if (value := parse_iso(el.get("title"))) is not None:
            return value
    for name in _DATE_CLASSES:
        for el in thread.own(node, f".//*[{xp_class(name)}]"):
            value = parse_date(el.get("title")) or parse_date(html_to_text(el))
            if value is not None:
                return value
    for el in thread.own(node, ".//*[contains(@class, 'date') or contains(@class, 'time')]"):
        value = parse_date(el.get("title")) or parse_date(html_to_text(el))
        if value is not None:
            return value
    return None


_NOT_TEXT = ("reply", "comment-edit", "edit-link", "says", "screen-reader", "comment-like", "likes",
             "rating", "vote", "sharedaddy", "share-", "awaiting-moderation", "moderation-note",
             "wpd-inline-feedback")
_LEADING_SAYS = re.compile(r"^\s*(says|sagt|meint|schreibt)\s*:\s*", re.I)
# WordPress's notice on a comment still held for moderation (en, de du/Sie), printed without a
# class by old themes.
_MODERATION = re.compile(
    r"^(your comment is awaiting moderation|(dein|ihr) kommentar (muss noch freigegeben werden|"
    r"wartet auf (die )?freischaltung|wird moderiert)|this is a preview|dies ist eine vorschau)", re.I)


def _not_text(el: Any) -> bool:
    """Controls and notices inside a comment's text block: reply/edit links, votes, share buttons,
    the moderation notice."""
    value = el.get("class") or ""
    if value and any(part in value for part in _NOT_TEXT):
        return True
    if el.tag == "a" and ("replytocom=" in (el.get("href") or "") or el.get("data-commentid")
                          or "moveForm" in (el.get("onclick") or "")):
        return True  # an unclassed "Reply" / "Antworten" link
    if el.tag in ("em", "i", "p", "span", "strong", "small", "div"):
        head = (el.text or "").lstrip()[:60]
        if head and _MODERATION.match(head) and len(html_to_text(el)) < 200:
            return True
    return False


def _text(thread: _Thread, node: Any) -> str:
    el = _first(thread, node, _TEXT_CLASSES)
    if el is None:
        found = thread.own(node, ".//*[@itemprop='text' or @itemprop='commentText']")
        el = found[0] if found else None
    if el is None:
        found = thread.own(node, ".//*[(contains(@class, '-text') or contains(@class, 'content'))"
                                 " and not(contains(@class, 'author') or contains(@class, 'screen-reader'))]")
        el = found[0] if found else None
    if el is not None:
        return html_to_text(el, thread.skip_nested(node, _not_text))
    # Old markup: the paragraphs sit in the comment body next to the author and date blocks.
    text = html_to_text(node, thread.skip_nested(
        node, lambda e: bool(set(_classes(e)) & _META_CLASSES) or _not_text(e)
        or e.tag in ("cite", "footer", "header", "small")))
    return _LEADING_SAYS.sub("", text)


def _permalink(thread: _Thread, node: Any, comment_id: str, base_url: str | None) -> str | None:
    for a in thread.own(node, f".//a[contains(@href, '#comment-{comment_id}')]"):
        href = a.get("href")
        return safe_urljoin(base_url, href) if base_url else href
    if base_url:
        return f"{base_url.split('#')[0]}#comment-{comment_id}"
    return None


def extract_core(doc: Document) -> list[CommentRecord]:
    """Comments in WordPress core markup: li/div/article with id="comment-N" (and li-comment-N,
    div-comment-N), threaded through nested lists."""
    root = doc.html
    by_number: dict[str, Any] = {}
    claimed: dict[Any, str] = {}  # li element → the comment number it belongs to
    for el in root.xpath("//*[@id]"):
        match = _CORE_ID.match(el.get("id", ""))
        if not match:
            continue
        if el.tag not in _CONTAINER_TAGS:
            # An anchor like <a id="comment-5"></a>: the comment is the enclosing container.
            el = next((a for a in el.iterancestors() if a.tag in ("li", "div", "article")), None)
            if el is None:
                continue
        if has_class(el, "wpd-comment-right") or has_class(el, "wc-comment-right"):
            continue  # wpDiscuz's inner block; read by extract_wpdiscuz
        if any(has_class(a, "pingback") or has_class(a, "trackback") for a in (el, *el.iterancestors())):
            continue  # links from other blogs, not reader comments
        number = match.group(1)
        if el.tag != "li":
            # <li class="comment"><article id="comment-N">…</article><ol class="children">…: the
            # replies sit in the id-less li, so that li is the comment. Ancestors come first in
            # document order, so the first numbered element inside an li claims it.
            li = next((a for a in el.iterancestors() if a.tag == "li"), None)
            if li is not None and "comment" in (li.get("class") or "") and claimed.get(li, number) == number:
                claimed[li] = number
                el = li
        known = by_number.get(number)
        # The outermost element wins: li#comment-N around article#div-comment-N.
        if known is None or el in known.iterancestors():
            by_number[number] = el
            claimed.setdefault(el, number)
    nodes = {el: number for number, el in by_number.items()}
    thread = _Thread(nodes)
    comments = []
    for el in root.iter():  # document order
        number = nodes.get(el)
        if number is None:
            continue
        text = _text(thread, el)
        comments.append(CommentRecord(
            external_id=number, parent_external_id=thread.parent_id(el), author=_author(thread, el), text=text,
            published_at=_date(thread, el), url=_permalink(thread, el, number, doc.base_url)))
    return comments


def is_wpdiscuz(doc: Document) -> bool:
    return doc.kind == "html" and ("wpd-comment" in doc.text or "wc-comment" in doc.text) and bool(
        doc.html.xpath(f"//*[{xp_class('wpd-comment')} or {xp_class('wc-comment')}]"))


def extract_wpdiscuz(doc: Document) -> list[CommentRecord]:
    """Comments in wpDiscuz markup: div.wpd-comment id="wpd-comm-ID_PARENT", replies nested inside
    their parent; also the older wc-comment markup of wpDiscuz 5."""
    root = doc.html
    nodes: dict[Any, str] = {}
    parents: dict[str, str | None] = {}
    for el in root.xpath(f"//*[{xp_class('wpd-comment')} or {xp_class('wc-comment')}]"):
        match = _WPD_ID.match(el.get("id", ""))
        if not match:
            continue
        nodes[el] = match.group(1)
        parents[match.group(1)] = None if match.group(2) in ("0", "") else match.group(2)
    thread = _Thread(nodes)
    comments = []
    for el, number in nodes.items():
        author_el = _first(thread, el, ("wpd-comment-author", "wc-comment-author"))
        text_el = _first(thread, el, ("wpd-comment-text", "wc-comment-text"))
        date_el = _first(thread, el, ("wpd-comment-date", "wc-comment-date"))
        published = None
        if date_el is not None:
            # The visible text is relative ("2 Jahre zuvor"); the absolute time is in attributes.
            times = date_el.xpath(".//time[@datetime]")
            published = (parse_iso(times[0].get("datetime")) if times else None) \
                or parse_date(date_el.get("title")) or parse_date(html_to_text(date_el))
        author = normalize_space(html_to_text(author_el)) if author_el is not None else None
        text = html_to_text(text_el, thread.skip_nested(el)) if text_el is not None else ""
        links = thread.own(el, ".//*[@data-wpd-clipboard]/@data-wpd-clipboard")
        url = links[0] if links else (f"{doc.base_url.split('#')[0]}#comment-{number}" if doc.base_url else None)
        comments.append(CommentRecord(
            external_id=number, parent_external_id=parents[number] or thread.parent_id(el), author=author or None,
            text=text, published_at=published, url=url))
    return comments


def extract(doc: Document) -> list[CommentRecord]:
    """wpDiscuz markup when present, else WordPress core comment markup, else schema.org comments
    (microdata / JSON-LD) for a theme whose markup is not recognised."""
    from monitor.collect.schema_org import extract as extract_schema

    if doc.kind != "html":
        return []
    comments = extract_wpdiscuz(doc) if is_wpdiscuz(doc) else []
    return comments or extract_core(doc) or extract_schema(doc)


class WordPressHtmlCollector(BaseCollector):
    """Reads each article page and extracts its comments (core markup or wpDiscuz), following the
    comment pages (comment-page-N). Articles are found through the site feed or sitemap. The
    article's comment feed (wfw:commentRss) is only a fallback, read as a feed, for a page that
    shows no comments."""

    platform = "wpdiscuz"

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        from monitor.collect.paging import read_all_pages

        # A 304 for the article page says nothing about its other comment pages, so the
        # conditional request is made only when the listing was one page last time.
        single = state.extra.get("comment_pages", 1) <= 1
        result = self.client.get(article.url, etag=state.etag if single else None,
                                 last_modified=state.last_modified if single else None)
        new_state = ArticleState(result.etag or state.etag, result.last_modified or state.last_modified,
                                 dict(state.extra))
        if result.not_modified:
            return CommentFetch([], complete=False, not_modified=True, state=new_state)
        doc = result.document()
        if doc.kind == "xml":  # the configured article URL is itself a comment feed
            return self._from_feed(doc, article, new_state)
        listing = read_all_pages(self.client, doc, result.url, extract)
        new_state.extra["comment_pages"] = listing.pages
        if not listing.comments and article.comments_url:
            fallback = self._feed_fallback(article, new_state)
            if fallback is not None and fallback.comments:
                return fallback
        # A page that lost its comment markup (a theme change, an error page) is not a complete
        # listing: nothing is marked deleted on its evidence.
        complete = listing.complete and (bool(listing.comments) or _has_comment_area(doc))
        return CommentFetch(listing.comments, complete=complete, state=new_state, title=page_title(doc))

    def _feed_fallback(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch | None:
        """The article's comment feed, for pages whose comments are not in the markup (loaded by
        script, or a theme this extractor does not know)."""
        from monitor.collect.http import HTTPStatusError
        from monitor.errors import FetchError

        try:
            result = self.client.get(article.comments_url or "", accept="application/rss+xml, "
                                     "application/atom+xml, application/xml;q=0.9")
        except (HTTPStatusError, FetchError):
            return None
        doc = result.document()
        return self._from_feed(doc, article, state) if doc.kind == "xml" else None

    @staticmethod
    def _from_feed(doc: Document, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        from monitor.collect.feed import extract as extract_feed
        from monitor.errors import ExtractError

        try:
            comments = [c for c in extract_feed(doc) if c.external_id]
        except ExtractError:
            comments = []
        # Comment feeds hold only the latest comments: whole only when the count is as announced.
        complete = article.comment_count is not None and article.comment_count == len(comments)
        return CommentFetch(comments, complete=complete, state=state)


def _has_comment_area(doc: Document) -> bool:
    return bool(doc.html.xpath("//*[@id='comments' or @id='wpdcom' or @id='respond']"))


def _recognise(doc: Document) -> bool:
    return doc.kind == "html" and is_wpdiscuz(doc)


def _claim_site(doc: Document) -> str | None:
    if doc.kind == "xml" or not ("wpd-comment" in doc.text or "wpdiscuz" in doc.text.lower()):
        return None
    # wpDiscuz comments are ordinary WordPress comments: the REST API serves them when open.
    lowered = doc.text.lower()
    return "wordpress" if "api.w.org" in lowered or "/wp-json/" in lowered else "wpdiscuz"


PLATFORM = Platform("wpdiscuz", extract=extract, collector=WordPressHtmlCollector, recognise=_recognise,
                    claim_site=_claim_site, order=10)
