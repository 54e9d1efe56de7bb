"""The collector protocol, the records collectors produce, and the registry of platforms."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol, runtime_checkable

from pydantic import BaseModel

from monitor.errors import ConfigError
from monitor.store.records import CommentRecord

__all__ = [
    "ArticleState",
    "CommentFetch",
    "Collector",
    "CommentRecord",
    "ExtractedArticle",
    "Platform",
    "all_platforms",
    "convert_each",
    "extractor_for",
    "get_platform",
    "make_collector",
    "option_owners",
    "platform_names",
    "register",
    "unregister",
]


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

    comments: list[CommentRecord]
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


@dataclass(frozen=True)
class Platform:
    """One comment platform, declared once as `PLATFORM` in its own module: how to collect a
    configured source (`collector`, None for a reader of saved documents only) and how to read a
    saved page or API response (`extract`).

    `options` is the pydantic model of the platform's own keys of a `[[source]]` table (written
    beside the shared ones: name, url, platform …). Loading the config validates a source's keys
    against it, and `make_collector` hands the validated instance to the collector as `options=`.
    It should forbid extra keys, so that a misspelt option is an error."""

    name: str
    extract: Callable[..., list[CommentRecord]]
    collector: Callable[..., Collector] | None = None
    # Detection, asked in `order`: `recognise(doc)` says a saved document is this platform's;
    # `claim_site(front_page)` names the platform to collect a site with (or None).
    recognise: Callable[[Any], bool] | None = None
    claim_site: Callable[[Any], str | None] | None = None
    order: int = 100
    options: type[BaseModel] | None = None


# Platform name → (module that declares its PLATFORM, whether it collects sites). A new platform
# is one module plus one line here, or `register(Platform(...))` from outside the package.
_BUILTIN: dict[str, tuple[str, bool]] = {
    "wordpress": ("monitor.collect.wordpress_rest", True),
    "wpdiscuz": ("monitor.collect.wordpress_html", True),
    "blogger": ("monitor.collect.blogger", True),
    "disqus": ("monitor.collect.disqus", True),
    "feed": ("monitor.collect.feed", True),
    "css": ("monitor.collect.css", True),
    # schema.org Comment microdata / JSON-LD in saved pages (`monitor extract`); collecting such a
    # site uses platform "wpdiscuz", whose page reader falls back to it.
    "schema": ("monitor.collect.schema_org", False),
}
_REGISTERED: dict[str, Platform] = {}


def register(platform: Platform) -> None:
    """Add (or replace) a platform by name; config validation and `monitor extract` see it."""
    _REGISTERED[platform.name] = platform


def unregister(name: str) -> None:
    _REGISTERED.pop(name, None)


def platform_names(*, documents: bool = False) -> tuple[str, ...]:
    """Names of the platforms that collect sites; with `documents`, also those that only read
    saved documents. Known without importing any platform module (config loading stays light)."""
    names = [n for n, (_, collects) in _BUILTIN.items() if collects or documents]
    names += [n for n, p in _REGISTERED.items() if (p.collector is not None or documents) and n not in names]
    return tuple(names)


def all_platforms() -> list[Platform]:
    """Every platform, built-in and registered, in detection order."""
    return sorted((get_platform(name) for name in platform_names(documents=True)), key=lambda p: p.order)


def get_platform(name: str) -> Platform:
    """The platform called `name`; ConfigError naming the accepted ones otherwise."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in _BUILTIN:
        raise ConfigError(f"unknown platform {name!r}",
                          fix="use one of: auto, " + ", ".join(platform_names(documents=True)))
    return importlib.import_module(_BUILTIN[name][0]).PLATFORM


def option_owners() -> dict[str, str]:
    """Option key → the collecting platform that declares it (imports every platform module, so
    it is asked only when a source has keys beyond the shared ones)."""
    owners: dict[str, str] = {}
    for name in platform_names():
        model = get_platform(name).options
        for key in model.model_fields if model is not None else ():
            owners.setdefault(key, name)
    return owners


def convert_each(items: Any, convert: Callable[[Any], CommentRecord]) -> list[CommentRecord]:
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


def extractor_for(platform: str) -> Callable[..., list[CommentRecord]]:
    """The document extractor of a platform."""
    return get_platform(platform).extract


def make_collector(platform: str, source: Any, client: Any, **runtime: Any) -> Collector:
    """The collector for a platform, built for one configured source and an HTTP client; a
    platform with its own options gets the source's validated ones (`SourceConfig.options_for`)."""
    found = get_platform(platform)
    if found.collector is None:
        raise ConfigError(f"platform {platform!r} reads saved documents only",
                          fix="collect with one of: auto, " + ", ".join(platform_names()))
    if found.options is not None:
        runtime["options"] = source.options_for(platform)
    return found.collector(source, client, **runtime)
