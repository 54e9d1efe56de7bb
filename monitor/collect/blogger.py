"""Blogger / Blogspot: posts and comments from the JSON or Atom feeds, the page markup as fallback."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.collect.base import ArticleState, CommentFetch, CommentRecord, ExtractedArticle, \
    Platform, convert_each
from monitor.collect.http import HTTPStatusError
from monitor.collect.identity import ContentIds
from monitor.collect.markup import Document, fragment_text, from_epoch_ms, has_class, html_to_text, \
    normalize_space, parse_date, parse_iso, safe_urljoin, xp_class
from monitor.errors import ExtractError

__all__ = ["PLATFORM", "BloggerCollector", "extract", "extract_feed_json", "extract_feed_xml", "extract_html",
           "is_blogger_feed"]

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearchrss/1.0/}"
_POST_ID = re.compile(r"post-(\d+)$")
_COMMENT_ANCHOR = re.compile(r"^c(\d+)$")
_SAID = re.compile(r"\s*(said|says|sagte|hat gesagt|schrieb|dijo|a dit|ha detto)\s*(\.\.\.|…)?\s*:?\s*$", re.I)
_CMT_ID = re.compile(r"_cmt-(\d+)$")  # dd.comment-body id="Blog1_cmt-N" in the classic layout
_PAGE_SIZE = 200  # Blogger serves at most 500 per request; 200 keeps responses small


def _tail_id(value: str | None) -> str | None:
    """'tag:blogger.com,1999:blog-1.post-42' → '42'; a URL ending in /42 → '42'."""
    if not value:
        return None
    match = _POST_ID.search(value)
    if match:
        return match.group(1)
    last = value.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    return last if last.isdigit() else None


def _show_comment_time(href: str | None) -> datetime | None:
    if not href:
        return None
    try:
        values = parse_qs(urlsplit(href).query).get("showComment")
    except ValueError:  # a mangled link (`http://[x`) in a saved page
        return None
    return from_epoch_ms(values[0]) if values else None


# --- feeds -----------------------------------------------------------------------------------------

def _t(node: Any) -> str:
    value = node.get("$t", "") if isinstance(node, dict) else ""
    return value if isinstance(value, str) else str(value) if isinstance(value, (int, float)) else ""


def _json_links(entry: dict[str, Any]) -> list[dict[str, Any]]:
    links = entry.get("link")
    return [link for link in links if isinstance(link, dict)] if isinstance(links, list) else []


def _json_comment(entry: dict[str, Any]) -> CommentRecord:
    links = _json_links(entry)
    alternate = next((l.get("href") for l in links if l.get("rel") == "alternate"), None)
    related = next((l.get("href") for l in links if l.get("rel") == "related"), None)
    authors = entry.get("author") or [{}]
    body = _t(entry.get("content")) or _t(entry.get("summary"))
    return CommentRecord(
        external_id=_tail_id(_t(entry.get("id"))) or _t(entry.get("id")),
        parent_external_id=_tail_id(related), author=_t(authors[0].get("name")) or None,
        text=fragment_text(body),
        published_at=parse_iso(_t(entry.get("published"))) or _show_comment_time(alternate),
        url=alternate)


def extract_feed_json(data: dict[str, Any]) -> list[CommentRecord]:
    """A Blogger comments feed with alt=json."""
    feed = data.get("feed")
    return convert_each(feed.get("entry") if isinstance(feed, dict) else None, _json_comment)


def _xml_comment(entry: Any) -> CommentRecord:
    links = entry.findall(f"{_ATOM}link")
    alternate = next((l.get("href") for l in links if l.get("rel") == "alternate"), None)
    related = next((l.get("href") for l in links if l.get("rel") == "related"), None)
    body = entry.findtext(f"{_ATOM}content") or entry.findtext(f"{_ATOM}summary") or ""
    return CommentRecord(
        external_id=_tail_id(entry.findtext(f"{_ATOM}id")) or (entry.findtext(f"{_ATOM}id") or ""),
        parent_external_id=_tail_id(related),
        author=normalize_space(entry.findtext(f"{_ATOM}author/{_ATOM}name") or "") or None,
        text=fragment_text(body),
        published_at=parse_iso(entry.findtext(f"{_ATOM}published")) or _show_comment_time(alternate),
        url=alternate)


def extract_feed_xml(root: Any) -> list[CommentRecord]:
    """A Blogger comments feed in Atom."""
    return [_xml_comment(e) for e in root.iter(f"{_ATOM}entry")]


def is_blogger_feed(doc: Document) -> bool:
    return "blogger.com" in doc.text[:5000] and ("tag:blogger.com" in doc.text or "Blogger" in doc.text[:5000])


# --- page markup -----------------------------------------------------------------------------------

def _removed(body: Any) -> bool:
    """A comment its author or the blog removed: Blogger keeps a placeholder sentence in its place."""
    return bool(body.xpath(f".//*[{xp_class('deleted-comment')}]")) and not normalize_space(
        html_to_text(body, lambda e: has_class(e, "deleted-comment")))


def _threaded(root: Any, base_url: str | None) -> list[CommentRecord]:
    nodes = [li for li in root.xpath(f"//li[{xp_class('comment')}]") if _COMMENT_ANCHOR.match(li.get("id", ""))]
    node_set = set(nodes)
    comments = []
    for li in nodes:
        number = li.get("id")[1:]

        def own(xpath: str, li: Any = li) -> list[Any]:
            return [el for el in li.xpath(xpath)
                    if next((a for a in el.iterancestors() if a in node_set), None) is li]

        author_el = (own(".//cite[contains(@class, 'user')]") or own(".//cite")
                     or own(f".//*[{xp_class('comment-header')}]//*[{xp_class('user')}][normalize-space()]")
                     or own(f".//*[{xp_class('comment-author')}]"))
        text_el = own(f".//*[{xp_class('comment-content')}]") or own(f".//*[{xp_class('comment-body')}]")
        if text_el and _removed(text_el[0]):
            continue
        date_links = own(f".//*[{xp_class('datetime')}]//a") or own(".//a[contains(@href, 'showComment')]")
        href = date_links[0].get("href") if date_links else None
        parent = next((a for a in li.iterancestors() if a in node_set), None)
        comments.append(CommentRecord(
            external_id=number, parent_external_id=parent.get("id")[1:] if parent is not None else None,
            author=_SAID.sub("", html_to_text(author_el[0])) or None if author_el else None,
            text=html_to_text(text_el[0]) if text_el else "",
            published_at=_show_comment_time(href) or (parse_date(html_to_text(date_links[0]))
                                                      if date_links else None),
            url=safe_urljoin(base_url, href)))
    return comments


def _classic(root: Any, base_url: str | None) -> list[CommentRecord]:
    """The pre-2011 layout: dl#comments-block with dt (author) / dd (body) / dd (footer) triples."""
    comments = []
    for block in root.xpath("//*[@id='comments-block' or " + xp_class("comments-block") + "]"):
        current: dict[str, Any] | None = None
        for el in block:
            if not isinstance(el.tag, str):
                continue
            if el.tag == "dt" or has_class(el, "comment-author"):
                anchor = el.get("id", "")
                if not _COMMENT_ANCHOR.match(anchor):
                    names = el.xpath(".//a[@name or @id]")
                    anchor = next((a.get("name") or a.get("id") for a in names
                                   if _COMMENT_ANCHOR.match(a.get("name") or a.get("id") or "")), "")
                if current:
                    comments.append(current)
                current = {"id": anchor[1:] if anchor else "",
                           "author": _SAID.sub("", html_to_text(el, lambda e: e.tag == "img")), "text": "",
                           "href": None, "date": None}
            elif current is not None and has_class(el, "comment-body"):
                current["text"] = "" if _removed(el) else html_to_text(el)
                current["removed"] = _removed(el)
                if not current["id"] and (match := _CMT_ID.search(el.get("id", ""))):
                    current["id"] = match.group(1)
            elif current is not None and (has_class(el, "comment-footer") or has_class(el, "comment-timestamp")):
                links = el.xpath(".//a[contains(@href, 'showComment')]") or el.xpath(".//a[@href]")
                if links:
                    current["href"] = links[0].get("href")
                    current["date"] = html_to_text(links[0])
        if current:
            comments.append(current)
    out = []
    content_id = ContentIds(base_url)
    for c in comments:
        if c.get("removed"):
            continue
        href = c["href"]
        published = _show_comment_time(href) or parse_date(c["date"])
        out.append(CommentRecord(
            external_id=c["id"] or _tail_id(href) or content_id(c["author"], published, c["text"]),
            parent_external_id=None, author=c["author"] or None, text=c["text"], published_at=published,
            url=safe_urljoin(base_url, href)))
    return out


def extract_html(doc: Document) -> list[CommentRecord]:
    """Comments in a Blogger page: the threaded layout (li.comment id="c…") or the classic one."""
    root = doc.html
    return _threaded(root, doc.base_url) or _classic(root, doc.base_url)


def extract(doc: Document) -> list[CommentRecord]:
    """A Blogger comments feed (alt=json or Atom) or a Blogger page."""
    if doc.kind == "json":
        data = doc.json
        if not isinstance(data, dict) or "feed" not in data:
            raise ExtractError("this JSON is not a Blogger feed (expected {\"feed\": {\"entry\": …}})")
        return extract_feed_json(data)
    if doc.kind == "xml":
        return extract_feed_xml(doc.xml)
    return extract_html(doc)


# --- collector -------------------------------------------------------------------------------------

class BloggerCollector:
    """Posts from /feeds/posts/default and comments from /feeds/POSTID/comments/default (alt=json,
    start-index/max-results paging); the post page's markup when the comment feed is off."""

    platform = "blogger"

    def __init__(self, source: Any, client: Any, **_: Any) -> None:
        self.source = source
        self.client = client
        parts = urlsplit(source.url)
        self.site = f"{parts.scheme}://{parts.netloc}"

    def discover(self, since: datetime) -> list[ExtractedArticle]:
        if getattr(self.source, "discovery", "auto") not in ("auto", "feed", "rest"):
            from monitor.collect.discovery import discover_articles

            return discover_articles(self.client, self.source, since)
        limit = getattr(self.source, "max_articles", 200)
        found: list[ExtractedArticle] = []
        start = 1
        while len(found) < limit:
            data = self.client.get(f"{self.site}/feeds/posts/default", params={
                "alt": "json", "start-index": start, "max-results": min(150, limit),
                "published-min": since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                "orderby": "published"}).json()
            entries = (data.get("feed") or {}).get("entry") or []
            for entry in entries:
                links = _json_links(entry)
                url = next((l.get("href") for l in links if l.get("rel") == "alternate"), "")
                replies = next((l.get("href") for l in links if l.get("rel") == "replies"
                                and "json" not in (l.get("type") or "") and "/feeds/" in l.get("href", "")), None)
                post_id = _tail_id(_t(entry.get("id")))
                total = _t(entry.get("thr$total"))
                found.append(ExtractedArticle(
                    external_id=post_id or url, url=url, title=_t(entry.get("title")) or None,
                    published_at=parse_iso(_t(entry.get("published"))), comments_url=replies,
                    comment_count=int(total) if total.isdigit() else None))
            total_results = _t((data.get("feed") or {}).get("openSearch$totalResults"))
            start += len(entries)
            if not entries or (total_results.isdigit() and start > int(total_results)):
                break
        return found[:limit]

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        if not article.external_id.isdigit():
            return self._page(article, state)
        url = f"{self.site}/feeds/{article.external_id}/comments/default"
        comments: list[CommentRecord] = []
        new_state = ArticleState(state.etag, state.last_modified, dict(state.extra))
        start = 1
        try:
            while True:
                first = start == 1 and state.extra.get("single_page") is True
                result = self.client.get(url, params={"alt": "json", "start-index": start,
                                                      "max-results": _PAGE_SIZE},
                                         etag=state.etag if first else None,
                                         last_modified=state.last_modified if first else None)
                if result.not_modified:
                    return CommentFetch([], complete=False, not_modified=True, state=new_state)
                if start == 1:
                    new_state.etag, new_state.last_modified = result.etag, result.last_modified
                feed = (result.json().get("feed") or {})
                entries = [e for e in feed.get("entry") or [] if isinstance(e, dict)]
                comments.extend(_json_comment(e) for e in entries)
                total = _t(feed.get("openSearch$totalResults"))
                start += len(entries)
                if not entries or not total.isdigit() or start > int(total):
                    new_state.extra["single_page"] = start <= _PAGE_SIZE + 1
                    return CommentFetch(comments, complete=True, state=new_state)
        except HTTPStatusError as exc:
            if exc.status not in (401, 403, 404):
                raise
            return self._page(article, state)  # comment feed switched off: read the page

    def _page(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        result = self.client.get(article.url)
        comments = extract_html(result.document())
        # Blogger pages show at most 200 comments, so a page is a complete listing only below that.
        return CommentFetch(comments, complete=0 < len(comments) < 200, state=state)


_BLOGGER_LI = re.compile(r"""<li[^>]+id=["']?c\d{6,}\b""")


def _recognise(doc: Document) -> bool:
    if doc.kind == "json":
        data = doc.json
        return isinstance(data, dict) and isinstance(data.get("feed"), dict)
    text = doc.text
    if doc.kind == "xml":
        head = text[:4000]
        return "tag:blogger.com" in head or "blogger.com" in head and "<feed" in head
    return bool(_BLOGGER_LI.search(text)) or "comments-block" in text and "blogger" in text.lower()


def _claim_site(doc: Document) -> str | None:
    if doc.kind == "xml":
        return "blogger" if "tag:blogger.com" in doc.text[:4000] else None
    lowered = doc.text.lower()
    if 'content="blogger"' in lowered or "content='blogger'" in lowered or ".blogspot." in lowered \
            or "blogger.com/feeds" in lowered:
        return "blogger"
    return None


PLATFORM = Platform("blogger", extract=extract, collector=BloggerCollector, recognise=_recognise,
                    claim_site=_claim_site, order=20)
