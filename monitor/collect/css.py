"""Custom sites: comments found by the CSS selectors a source declares in config/sources.toml.

A selector value is `CSS` (the text of the first match inside the comment), `CSS@attr` (that
match's attribute) or `@attr` (an attribute of the comment element itself)."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.collect.base import ArticleState, CommentFetch, CommentRecord, ExtractedArticle, \
    Platform
from monitor.collect.discovery import BaseCollector
from monitor.collect.identity import ContentIds
from monitor.collect.markup import Document, normalize_space, page_title, parse_date, parse_iso, safe_urljoin
from monitor.errors import ConfigError, ExtractError

__all__ = ["PLATFORM", "CssCollector", "CssOptions", "SELECTOR_KEYS", "extract", "validate_selectors"]

SELECTOR_KEYS = ("comment", "author", "text", "date", "id", "parent", "url")
_NEEDS_COMMENT = ("platform 'css' needs selectors with at least `comment`, e.g. "
                  "selectors = { comment = 'div.comment', text = '.body' }")


def _compiled(selectors: dict[str, str]) -> dict[str, str]:
    """Compile every selector now, so a typo fails `config check`, not the first collection."""
    from selectolax.lexbor import LexborHTMLParser

    unknown = sorted(set(selectors) - set(SELECTOR_KEYS))
    if unknown:
        raise ValueError(f"unknown selector key(s) {', '.join(unknown)}; accepted: {', '.join(SELECTOR_KEYS)}")
    probe = LexborHTMLParser("<div></div>")
    for key, value in selectors.items():
        css = value.split("@", 1)[0].strip()
        if not css and not value.startswith("@"):
            raise ValueError(f"{key}: empty selector; accepted: CSS, CSS@attribute or @attribute")
        if css:
            try:
                probe.css(css)
            except Exception:  # selectolax raises its own error types for a selector it cannot parse
                raise ValueError(f"{key}: {css!r} is not a valid CSS selector") from None
    return selectors


class CssOptions(BaseModel):
    """A css source's own key in sources.toml."""

    model_config = ConfigDict(extra="forbid")

    selectors: dict[str, str] = Field(default_factory=dict,
                                      description="CSS selectors: comment, author, text, date, id, "
                                                  "parent, url (`CSS`, `CSS@attribute` or `@attribute`).")

    @field_validator("selectors")
    @classmethod
    def _valid(cls, value: dict[str, str]) -> dict[str, str]:
        return _compiled(value)

    @model_validator(mode="after")
    def _needs_comment(self) -> CssOptions:
        if not self.selectors.get("comment"):
            raise ValueError(_NEEDS_COMMENT)
        return self


def validate_selectors(selectors: Mapping[str, str], where: str = "selectors") -> None:
    """The same checks for selectors given on the command line (`monitor extract --selector`)."""
    try:
        CssOptions(selectors=dict(selectors))
    except ValidationError as exc:
        raise ConfigError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()),
                          key=where) from None


class _Page:
    def __init__(self, html: str, comment_selector: str) -> None:
        from selectolax.lexbor import LexborHTMLParser

        self.tree = LexborHTMLParser(html)
        self.nodes = self.tree.css(comment_selector)
        self.ids = {n.mem_id for n in self.nodes}

    def owner(self, node: Any) -> Any:
        while node is not None:
            if node.mem_id in self.ids:
                return node
            node = node.parent
        return None

    def value(self, node: Any, spec: str | None, *, date: bool = False) -> str | None:
        if not spec:
            return None
        css, _, attr = spec.partition("@")
        css = css.strip()
        target = node
        if css:
            target = next((m for m in node.css(css) if self.owner(m).mem_id == node.mem_id), None)
            if target is None:
                return None
        if attr:
            return target.attributes.get(attr.strip())
        if date:
            for name in ("datetime", "title", "content", "data-time", "data-date"):
                if target.attributes.get(name):
                    return target.attributes[name]
        return normalize_space(self.text(target, node))

    def text(self, target: Any, node: Any) -> str:
        # Text of `target` without nested comments (replies inside their parent) or scripts.
        parts: list[str] = []

        def walk(el: Any) -> None:
            for child in el.iter(include_text=True):
                if child.tag == "-text":
                    parts.append(child.text(deep=False))
                elif child.tag in ("script", "style", "noscript"):
                    continue
                elif child.mem_id in self.ids and child.mem_id != node.mem_id:
                    continue
                else:
                    if child.tag in ("br", "p", "div", "li", "blockquote"):
                        parts.append(" ")
                    walk(child)
                    if child.tag in ("p", "div", "li", "blockquote"):
                        parts.append(" ")
        walk(target)
        return "".join(parts)


def extract(doc: Document, selectors: Mapping[str, str] | None = None,
            article_key: str | None = None) -> list[CommentRecord]:
    """Comments found by `selectors` (keys: comment, author, text, date, id, parent, url). Without
    an `id` match a comment's id comes from `article_key` (default: the page URL) and its content."""
    if not selectors:
        raise ExtractError("platform css needs selectors: give --selector comment=CSS (and text=, "
                           "author=, date=, id=) or a source with `selectors` in sources.toml")
    validate_selectors(selectors)
    page = _Page(doc.text, selectors["comment"])
    content_id = ContentIds(article_key or doc.url)
    assigned: dict[Any, str] = {}  # node → its id, for the replies nested inside it
    comments = []
    for node in page.nodes:
        raw_date = page.value(node, selectors.get("date"), date=True)
        published = parse_iso(raw_date) or parse_date(raw_date)
        text = page.value(node, selectors.get("text")) if selectors.get("text") else \
            normalize_space(page.text(node, node))
        author = page.value(node, selectors.get("author")) or None
        external_id = (page.value(node, selectors.get("id", "@id")) or "").strip() or \
            content_id(author, published, text or "")
        assigned[node.mem_id] = external_id
        parent_id = page.value(node, selectors.get("parent"))
        if parent_id is None and node.parent is not None:
            ancestor = page.owner(node.parent)
            if ancestor is not None:
                parent_id = assigned.get(ancestor.mem_id)
        url = page.value(node, selectors.get("url"))
        if url and doc.base_url:
            url = safe_urljoin(doc.base_url, url)
        comments.append(CommentRecord(
            external_id=external_id, parent_external_id=parent_id.strip() if parent_id else None,
            author=author, text=text or "", published_at=published, url=url or doc.base_url))
    return comments


class CssCollector(BaseCollector):
    """Article pages read with the source's selectors; articles from the feed, sitemap or a list."""

    platform = "css"

    def __init__(self, source: Any, client: Any, *, options: CssOptions, **runtime: Any) -> None:
        super().__init__(source, client, **runtime)
        self.selectors = options.selectors

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        # comments_url is the comment *feed* discovery found (wfw:commentRss); selectors read pages.
        result = self.client.get(article.url, etag=state.etag, last_modified=state.last_modified)
        new_state = ArticleState(result.etag or state.etag, result.last_modified or state.last_modified,
                                 dict(state.extra))
        if result.not_modified:
            return CommentFetch([], complete=False, not_modified=True, state=new_state)
        doc = result.document()
        comments = extract(doc, self.selectors, article_key=article.url)
        # No match at all may mean the markup changed: never a reason to mark comments deleted.
        return CommentFetch(comments, complete=bool(comments), state=new_state, title=page_title(doc))


PLATFORM = Platform("css", extract=extract, collector=CssCollector, options=CssOptions)
