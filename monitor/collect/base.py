"""The collector protocol, the records collectors produce, and the registry of built-in platforms."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol, runtime_checkable

from monitor.collect.markup import iso_or_none
from monitor.errors import ConfigError

__all__ = [
    "ArticleState",
    "COLLECTORS",
    "CommentFetch",
    "Collector",
    "EXTRACTORS",
    "ExtractedArticle",
    "ExtractedComment",
    "PLATFORMS",
    "convert_each",
    "extractor_for",
    "make_collector",
]


@dataclass(frozen=True)
class ExtractedComment:
    """One comment as found on a page or in an API response; the author is the raw name."""

    external_id: str
    text: str
    author: str | None = None
    parent_id: str | None = None
    published_at: datetime | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `monitor extract` line: exactly these keys, dates as ISO 8601 with offset."""
        return {"external_id": self.external_id, "parent_id": self.parent_id, "author": self.author,
                "text": self.text, "published_at": iso_or_none(self.published_at), "url": self.url}


@dataclass(frozen=True)
class ExtractedArticle:
    """An article found by discovery; `comments_url` is where its comments are read, if not `url`."""

    external_id: str
    url: str
    title: str | None = None
    published_at: datetime | None = None
    comments_url: str | None = None
    comment_count: int | None = None  # as announced by the feed/API, when it says


@dataclass
class ArticleState:
    """What the store remembers about an article between passes (conditional GET, paging)."""

    etag: str | None = None
    last_modified: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CommentFetch:
    """The comments of one article. `complete` is true only when every page of the listing was read,
    which is what allows comments missing from it to be marked deleted."""

    comments: list[ExtractedComment]
    complete: bool
    not_modified: bool = False
    state: ArticleState = field(default_factory=ArticleState)
    title: str | None = None  # the page's own title, for articles listed without one (discovery = "urls")


@runtime_checkable
class Collector(Protocol):
    """A platform: finds a source's articles and reads each article's comments."""

    platform: str

    def discover(self, since: datetime) -> list[ExtractedArticle]:
        """Articles published after `since` (newest first is fine; the runner caps the count)."""
        ...

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        """All comments of `article`, using `state` for conditional requests."""
        ...


# Platform name → "module:Class" of its collector. A new platform is one module plus one line here.
COLLECTORS: dict[str, str] = {
    "wordpress": "monitor.collect.wordpress_rest:WordPressRestCollector",
    "wpdiscuz": "monitor.collect.wordpress_html:WordPressHtmlCollector",
    "blogger": "monitor.collect.blogger:BloggerCollector",
    "disqus": "monitor.collect.disqus:DisqusCollector",
    "feed": "monitor.collect.feed:FeedCollector",
    "css": "monitor.collect.css:CssCollector",
}

# Platform name → "module:function" reading a saved document (`monitor extract`).
EXTRACTORS: dict[str, str] = {
    "wordpress": "monitor.collect.wordpress_rest:extract",
    "wpdiscuz": "monitor.collect.wordpress_html:extract",
    "blogger": "monitor.collect.blogger:extract",
    "disqus": "monitor.collect.disqus:extract",
    "feed": "monitor.collect.feed:extract",
    "css": "monitor.collect.css:extract",
    # Documents only (`monitor extract` on an unknown site): schema.org Comment microdata / JSON-LD.
    # Collecting such a site uses platform "wpdiscuz", whose page reader falls back to it.
    "schema": "monitor.collect.schema_org:extract",
}

PLATFORMS: tuple[str, ...] = tuple(COLLECTORS)


def convert_each(items: Any, convert: Callable[[Any], ExtractedComment]) -> list[ExtractedComment]:
    """`convert` applied to each item of a JSON list. An item of an unexpected shape (a number where
    an object belongs, a list for a name) is left out rather than failing the whole listing."""
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            out.append(convert(item))
        except (TypeError, AttributeError, KeyError, ValueError):
            continue
    return out


def _load(target: str) -> Any:
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


def extractor_for(platform: str) -> Callable[..., list[ExtractedComment]]:
    """The document extractor of a platform."""
    if platform not in EXTRACTORS:
        raise ConfigError(f"unknown platform {platform!r}",
                          fix="use one of: auto, " + ", ".join(PLATFORMS))
    return _load(EXTRACTORS[platform])


def make_collector(platform: str, source: Any, client: Any, **options: Any) -> Collector:
    """The collector for a platform, built for one configured source and an HTTP client."""
    if platform not in COLLECTORS:
        raise ConfigError(f"unknown platform {platform!r}",
                          fix="use one of: auto, " + ", ".join(PLATFORMS))
    return _load(COLLECTORS[platform])(source, client, **options)
