"""Comments any site may describe with schema.org: `Comment` microdata (itemprop="comment", "text",
"author", "dateCreated") and JSON-LD `comment` arrays. The fallback for sites without known markup."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Iterator

from monitor.collect.base import CommentRecord, Platform
from monitor.collect.identity import ContentIds
from monitor.collect.markup import Document, fragment_text, html_to_text, normalize_space, parse_date, \
    parse_iso, safe_urljoin

__all__ = ["PLATFORM", "extract", "extract_jsonld", "extract_microdata", "has_schema_comments"]

_ID_IN = re.compile(r"(?:#comment-|[?&]replytocom=|#c|comment[-_])(\d+)\b")
_TRAILING_NUMBER = re.compile(r"(?:^|\D)(\d+)$")  # id="uc-77120", itemid="…/77120"
_COMMENT_TYPE = re.compile(r"(?:^|[/#\s])Comment(?:\s|$)")
_NODES = ("//*[@itemprop and contains(concat(' ', normalize-space(@itemprop), ' '), ' comment ')]"
          " | //*[@itemscope and contains(@itemtype, 'Comment')]")
_MAX_JSON = 2_000_000  # a JSON-LD block larger than this is not metadata


def _stable_id(base_url: str | None, author: str | None, when: datetime | None, text: str) -> str:
    """An id for a JSON-LD comment the page does not number: the same comment on the same article
    gives the same id each pass (repeats of one comment are one comment in JSON-LD)."""
    return ContentIds(base_url)(author, when, text)


def _id_from(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, (str, int)) and str(value).strip():
            text = str(value).strip()
            if match := _ID_IN.search(text) or _TRAILING_NUMBER.search(text):
                return match.group(1)
    return None


# --- microdata -------------------------------------------------------------------------------------

def _is_comment(el: Any) -> bool:
    if "comment" in (el.get("itemprop") or "").split():
        return True
    return el.get("itemscope") is not None and any(_COMMENT_TYPE.search(t) for t in [el.get("itemtype") or ""])


def _scope_of(el: Any, node: Any) -> Any:
    """The item a property belongs to: the nearest itemscope above it (the comment, or a nested
    Person/reply)."""
    for up in el.iterancestors():
        if up is node or up.get("itemscope") is not None:
            return up
    return None


def _props(node: Any, name: str) -> list[Any]:
    found = node.xpath(f".//*[@itemprop and contains(concat(' ', normalize-space(@itemprop), ' '), ' {name} ')]")
    return [el for el in found if _scope_of(el, node) is node]


def _value(el: Any) -> str:
    for attr in ("content", "datetime"):
        if el.get(attr):
            return normalize_space(el.get(attr))
    if el.tag in ("a", "link") and el.get("href") and not normalize_space(html_to_text(el)):
        return el.get("href")
    return html_to_text(el)


def _author(node: Any) -> str | None:
    for el in _props(node, "author") + _props(node, "creator"):
        if el.get("itemscope") is not None:
            names = [n for n in _props(el, "name")]
            if names:
                return _value(names[0]) or None
        return _value(el) or None
    return None


def _date(node: Any) -> datetime | None:
    for name in ("dateCreated", "datePublished", "dateModified"):
        for el in _props(node, name):
            raw = _value(el)
            value = parse_iso(raw) or parse_date(raw)
            if value is not None:
                return value
    return None


def extract_microdata(doc: Document) -> list[CommentRecord]:
    """Comments marked up as schema.org Comment items; a Comment inside a Comment is a reply."""
    root = doc.html
    nodes = [el for el in root.xpath(_NODES) if _is_comment(el)]
    node_set = set(nodes)
    ids: dict[Any, str] = {}
    content_id = ContentIds(doc.base_url)
    comments = []
    for node in nodes:
        text_el = (_props(node, "text") or _props(node, "commentText") or [None])[0]
        nested = node_set - {node}
        text = html_to_text(text_el, lambda e: e in nested) if text_el is not None else ""
        author, when = _author(node), _date(node)
        url_el = (_props(node, "url") or [None])[0]
        url = safe_urljoin(doc.base_url, _value(url_el)) if url_el is not None else None
        number = _id_from(node.get("id"), node.get("itemid"), url, node.get("data-comment-id"),
                          node.get("data-id")) or content_id(author, when, text)
        ids[node] = number
        parent = next((a for a in node.iterancestors() if a in node_set), None)
        anchor = node.get("id")
        if url is None and doc.base_url:
            url = f"{doc.base_url.split('#')[0]}#{anchor}" if anchor else doc.base_url
        comments.append(CommentRecord(
            external_id=number, parent_external_id=ids.get(parent) if parent is not None else None,
            author=author, text=text, published_at=when, url=url))
    return comments


# --- JSON-LD ---------------------------------------------------------------------------------------

def _blocks(doc: Document) -> Iterator[Any]:
    for raw in doc.html.xpath("//script[contains(@type, 'ld+json')]/text()"):
        if len(raw) > _MAX_JSON:
            continue
        cleaned = raw.strip().removeprefix("<![CDATA[").removesuffix("]]>").strip()
        try:
            yield json.loads(cleaned)
        except ValueError:
            continue  # a broken block on a real page is common; the others are still read


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object holding a `comment` property, without descending into comments themselves."""
    if isinstance(value, list):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        if "comment" in value:
            yield value
        for key, item in value.items():
            if key != "comment":
                yield from _walk(item)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _name(value: Any) -> str | None:
    for item in _as_list(value):
        if isinstance(item, str) and item.strip():
            return normalize_space(item)
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
            return normalize_space(item["name"])
    return None


def _jsonld_comments(items: Any, parent: str | None, base_url: str | None,
                     out: list[CommentRecord], seen: set[str]) -> None:
    for item in _as_list(items):
        if not isinstance(item, dict):
            continue
        kind = " ".join(str(t) for t in _as_list(item.get("@type")))
        if kind and "Comment" not in kind:
            continue
        body = item.get("text") or item.get("commentText") or item.get("description") or ""
        text = fragment_text(body) if isinstance(body, str) else ""
        author = _name(item.get("author") or item.get("creator"))
        raw_date = next((item[k] for k in ("dateCreated", "datePublished", "dateModified")
                         if isinstance(item.get(k), str)), None)
        when = parse_iso(raw_date) or parse_date(raw_date)
        url = item.get("url") if isinstance(item.get("url"), str) else None
        if url is None and isinstance(item.get("@id"), str) and item["@id"].startswith("http"):
            url = item["@id"]
        number = _id_from(item.get("@id"), item.get("identifier"), url) or _stable_id(base_url, author, when, text)
        if number not in seen:
            seen.add(number)
            out.append(CommentRecord(external_id=number, parent_external_id=parent, author=author, text=text,
                                        published_at=when, url=safe_urljoin(base_url, url) or base_url))
        _jsonld_comments(item.get("comment"), number, base_url, out, seen)


def extract_jsonld(doc: Document) -> list[CommentRecord]:
    """Comments listed in JSON-LD (`"comment": [{"@type": "Comment", …}]`, replies nested the same way)."""
    out: list[CommentRecord] = []
    seen: set[str] = set()
    for block in _blocks(doc):
        for holder in _walk(block):
            _jsonld_comments(holder.get("comment"), None, doc.base_url, out, seen)
    return out


def has_schema_comments(doc: Document) -> bool:
    """Whether the page describes comments with schema.org at all (cheap text test first)."""
    text = doc.text
    if "Comment" not in text and "comment" not in text:
        return False
    if "itemprop" in text and any(_is_comment(el) for el in doc.html.xpath(_NODES)):
        return True
    return "ld+json" in text and any(True for b in _blocks(doc) for h in _walk(b)
                                     if any(isinstance(c, dict) for c in _as_list(h.get("comment"))))


def extract(doc: Document) -> list[CommentRecord]:
    """schema.org comments of a page: microdata when present, else JSON-LD."""
    if doc.kind != "html":
        return []
    return extract_microdata(doc) or extract_jsonld(doc)


PLATFORM = Platform("schema", extract=extract, order=40,  # saved documents only
                    recognise=lambda doc: doc.kind == "html" and has_schema_comments(doc))
