"""Which platform a saved document or a live site is: each platform recognises its own payloads and
markup (`Platform.recognise`, `Platform.claim_site`); this asks them in order."""

from __future__ import annotations

from typing import Any

from monitor.collect.base import all_platforms
from monitor.collect.markup import Document
from monitor.errors import ExtractError

__all__ = ["detect_document", "detect_site"]


def detect_document(doc: Document) -> str:
    """The platform whose extractor reads `doc`; ExtractError when nothing is recognised."""
    if doc.kind == "json":
        try:
            doc.json
        except ValueError as exc:
            raise ExtractError(f"looks like JSON but does not parse: {exc}") from None
    for platform in all_platforms():
        if platform.recognise is not None and platform.recognise(doc):
            return platform.name
    if doc.kind == "json":
        raise ExtractError("unrecognised JSON: expected a WordPress /wp/v2/comments list, a Blogger "
                           "feed (alt=json) or a Disqus listPosts response")
    if "disqus_thread" in doc.text or "disqus.com/embed.js" in doc.text:
        raise ExtractError("this page uses Disqus, whose comments are loaded by script: run "
                           "`monitor extract` on a saved threads/listPosts JSON response, or collect "
                           "with platform = \"disqus\" and an API key")
    raise ExtractError("no known comment markup found (WordPress, wpDiscuz, Blogger, schema.org, "
                       "feeds); for a custom site use --platform css with --selector comment=CSS …")


def detect_site(client: Any, url: str) -> str:
    """The platform of a live site from its front page (REST link, generator, embeds)."""
    doc = client.get(url).document()
    for platform in all_platforms():
        if platform.claim_site is not None and (name := platform.claim_site(doc)):
            return name
    raise ExtractError(f"could not tell which comment platform {url} uses; set `platform` for this "
                       "source in sources.toml (wordpress, wpdiscuz, blogger, disqus, feed or css)")
