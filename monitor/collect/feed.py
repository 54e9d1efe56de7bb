"""RSS/Atom comment feeds: the per-post feeds a site feed links with wfw:commentRss (WordPress's
/post/feed/ among them)."""

from __future__ import annotations

import re
from typing import Any

from monitor.collect.base import ArticleState, CommentFetch, CommentRecord, ExtractedArticle, \
    Platform
from monitor.collect.discovery import BaseCollector
from monitor.collect.markup import Document, fragment_text, normalize_space, parse_iso
from monitor.collect.syndication import NS, parse_rfc822
from monitor.errors import ExtractError

__all__ = ["PLATFORM", "FeedCollector", "extract", "post_feed_url"]

_COMMENT_ID = re.compile(r"(?:#comment-|[?&]replytocom=|#c)(\d+)")
_BY = re.compile(r"^(?:by|von|from|kommentar von|comment by)\s*:?\s*(.+)$", re.I)


def _comment_id(*candidates: str | None) -> str | None:
    for value in candidates:
        if value and (match := _COMMENT_ID.search(value)):
            return match.group(1)
    return next((v.strip() for v in candidates if v and v.strip()), None)


def _text(el: Any, path: str) -> str:
    found = el.find(path, NS)
    return (found.text or "") if found is not None else ""


def _rss_item(item: Any) -> CommentRecord:
    link = _text(item, "link").strip() or None
    guid = _text(item, "guid").strip() or None
    author = normalize_space(_text(item, "dc:creator") or _text(item, "author"))
    if not author:  # WordPress titles comment items "By: NAME" / "Von: NAME"
        match = _BY.match(normalize_space(_text(item, "title")))
        author = match.group(1) if match else ""
    body = _text(item, "content:encoded") or _text(item, "description")
    return CommentRecord(
        external_id=_comment_id(link, guid) or "", parent_external_id=None, author=author or None,
        text=fragment_text(body), published_at=parse_rfc822(_text(item, "pubDate")) or parse_iso(
            _text(item, "dc:date")), url=link)


def _atom_entry(entry: Any) -> CommentRecord:
    links = entry.findall("atom:link", NS)
    href = next((l.get("href") for l in links if l.get("rel") in (None, "alternate")), None)
    reply_to = entry.find("thr:in-reply-to", NS)
    parent = _comment_id(reply_to.get("href"), reply_to.get("ref")) if reply_to is not None else None
    if parent is not None and not parent.isdigit():
        parent = None  # in-reply-to names the post itself for top-level comments
    content = entry.find("atom:content", NS)
    if content is None:
        content = entry.find("atom:summary", NS)
    body = content.text or "" if content is not None else ""
    if content is not None and content.get("type") == "xhtml":
        from lxml import etree

        body = etree.tostring(content, encoding="unicode", method="html")
    return CommentRecord(
        external_id=_comment_id(href, _text(entry, "atom:id")) or "", parent_external_id=parent,
        author=normalize_space(_text(entry, "atom:author/atom:name")) or None, text=fragment_text(body),
        published_at=parse_iso(_text(entry, "atom:published")) or parse_iso(_text(entry, "atom:updated")),
        url=href)


def extract(doc: Document) -> list[CommentRecord]:
    """Comments of an RSS 2.0 or Atom comment feed."""
    if doc.kind != "xml":
        raise ExtractError("not a feed: expected RSS or Atom XML (a post's comment feed is usually "
                           "linked as wfw:commentRss, or at POST_URL/feed/ on WordPress)")
    root = doc.xml
    if root.tag == f"{{{NS['atom']}}}feed":
        return [_atom_entry(e) for e in root.findall("atom:entry", NS)]
    return [_rss_item(i) for i in root.iter("item")]


def post_feed_url(article_url: str) -> str:
    """WordPress's per-post comment feed: the post URL plus feed/."""
    base = article_url.split("#")[0]
    if "?" in base:
        return f"{base}&feed=rss2"
    return base.rstrip("/") + "/feed/"


class FeedCollector(BaseCollector):
    """Articles from the site feed (wfw:commentRss gives each post's comment feed); comments from
    the comment feed, with conditional GET. Comment feeds list only the latest comments, so a feed
    counts as complete only when it holds as many items as the site feed announced."""

    platform = "feed"

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        url = article.comments_url or post_feed_url(article.url)
        result = self.client.get(url, etag=state.etag, last_modified=state.last_modified,
                                 accept="application/rss+xml, application/atom+xml, application/xml;q=0.9")
        new_state = ArticleState(result.etag or state.etag, result.last_modified or state.last_modified,
                                 dict(state.extra))
        if result.not_modified:
            return CommentFetch([], complete=False, not_modified=True, state=new_state)
        comments = [c for c in extract(result.document()) if c.external_id]
        complete = article.comment_count is not None and article.comment_count == len(comments)
        return CommentFetch(comments, complete=complete, state=new_state)


def _claim_site(doc: Document) -> str | None:
    lowered = doc.text.lower()
    if doc.kind == "xml" or "application/rss+xml" in lowered or "application/atom+xml" in lowered:
        return "feed"
    return None


PLATFORM = Platform("feed", extract=extract, collector=FeedCollector,
                    recognise=lambda doc: doc.kind == "xml", claim_site=_claim_site, order=90)
