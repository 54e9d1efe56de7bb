"""Which platform a saved document or a live site is: from payload shape and markup fingerprints."""

from __future__ import annotations

import re
from typing import Any

from monitor.collect.markup import Document, xp_class
from monitor.errors import ExtractError

__all__ = ["detect_document", "detect_site"]

_CORE_ID = re.compile(r"""id=["']?(?:li-|div-)?comment-\d+\b""")
_BLOGGER_ID = re.compile(r"""<li[^>]+id=["']?c\d{6,}\b""")


def _json_platform(data: Any) -> str | None:
    if isinstance(data, list) and data and all(isinstance(i, dict) for i in data):
        first = data[0]
        if "id" in first and ("author_name" in first or "post" in first) and "content" in first:
            return "wordpress"
    if isinstance(data, dict):
        if isinstance(data.get("feed"), dict):
            return "blogger"
        if isinstance(data.get("response"), list) and "code" in data:
            return "disqus"
    if data == []:
        return "wordpress"  # an empty /wp/v2/comments page
    return None


def detect_document(doc: Document) -> str:
    """The platform whose extractor reads `doc`; ExtractError when nothing is recognised."""
    if doc.kind == "json":
        try:
            platform = _json_platform(doc.json)
        except ValueError as exc:
            raise ExtractError(f"looks like JSON but does not parse: {exc}") from None
        if platform:
            return platform
        raise ExtractError("unrecognised JSON: expected a WordPress /wp/v2/comments list, a Blogger "
                           "feed (alt=json) or a Disqus listPosts response")
    if doc.kind == "xml":
        head = doc.text[:4000]
        if "tag:blogger.com" in head or "blogger.com" in head and "<feed" in head:
            return "blogger"
        return "feed"
    text = doc.text
    if ("wpd-comment" in text or "wc-comment" in text) and doc.html.xpath(
            f"//*[{xp_class('wpd-comment')} or {xp_class('wc-comment')}]"):
        return "wpdiscuz"
    if _BLOGGER_ID.search(text) or "comments-block" in text and "blogger" in text.lower():
        return "blogger"
    if _CORE_ID.search(text):
        return "wordpress"
    from monitor.collect.schema_org import has_schema_comments

    if has_schema_comments(doc):
        return "schema"
    if "disqus_thread" in text or "disqus.com/embed.js" in text:
        raise ExtractError("this page uses Disqus, whose comments are loaded by script: run "
                           "`monitor extract` on a saved threads/listPosts JSON response, or collect "
                           "with platform = \"disqus\" and an API key")
    raise ExtractError("no known comment markup found (WordPress, wpDiscuz, Blogger, schema.org, "
                       "feeds); for a custom site use --platform css with --selector comment=CSS …")


def detect_site(client: Any, url: str) -> str:
    """The platform of a live site from its front page (REST link, generator, embeds)."""
    doc = client.get(url).document()
    if doc.kind == "xml":
        return "blogger" if "tag:blogger.com" in doc.text[:4000] else "feed"
    text = doc.text
    lowered = text.lower()
    if "wpd-comment" in text or "wpdiscuz" in lowered:
        # wpDiscuz comments are ordinary WordPress comments: the REST API serves them when open.
        return "wordpress" if "api.w.org" in lowered or "/wp-json/" in lowered else "wpdiscuz"
    if "disqus_thread" in text or ".disqus.com/embed.js" in lowered:
        return "disqus"
    if 'content="blogger"' in lowered or "content='blogger'" in lowered or ".blogspot." in lowered \
            or "blogger.com/feeds" in lowered:
        return "blogger"
    if "api.w.org" in lowered or "/wp-json/" in lowered or "/wp-content/" in lowered:
        return "wordpress"
    if _CORE_ID.search(text):
        return "wpdiscuz"  # WordPress markup without an API: read the pages
    if "application/rss+xml" in lowered or "application/atom+xml" in lowered:
        return "feed"
    raise ExtractError(f"could not tell which comment platform {url} uses; set `platform` for this "
                       "source in sources.toml (wordpress, wpdiscuz, blogger, disqus, feed or css)")
