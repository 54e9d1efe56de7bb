"""Disqus: comments from the public API's threads/listPosts (cursor paging, API key from the env)."""

from __future__ import annotations

import os
from datetime import timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from monitor.collect.base import ArticleState, CommentFetch, CommentRecord, ExtractedArticle, \
    Platform, convert_each
from monitor.collect.discovery import BaseCollector
from monitor.collect.markup import Document, fragment_text, normalize_space, parse_iso
from monitor.errors import ExtractError, FetchError, NotConfigured

__all__ = ["PLATFORM", "API_BASE", "DisqusCollector", "DisqusOptions", "comment_from_json", "extract"]

API_BASE = "https://disqus.com/api/3.0"
_MAX_PAGES = 100


def comment_from_json(item: dict[str, Any], thread_url: str | None = None) -> CommentRecord:
    # raw_message is the plain text the author typed; message is HTML.
    raw = item.get("raw_message")
    text = normalize_space(raw) if isinstance(raw, str) and raw.strip() else fragment_text(item.get("message") or "")
    author = item.get("author") if isinstance(item.get("author"), dict) else {}
    parent = item.get("parent")
    url = item.get("url") or (f"{thread_url.split('#')[0]}#comment-{item['id']}" if thread_url else None)
    return CommentRecord(
        external_id=str(item["id"]), parent_external_id=str(parent) if parent not in (None, 0, "") else None,
        author=(author.get("name") or author.get("username") or None), text=text,
        published_at=parse_iso(item.get("createdAt"), assume=timezone.utc), url=url)


def extract(doc: Document) -> list[CommentRecord]:
    """A saved threads/listPosts (or posts/list) JSON response."""
    data = doc.json if doc.kind == "json" else None
    if not isinstance(data, dict) or not isinstance(data.get("response"), list):
        raise ExtractError("not a Disqus API response (expected {\"code\": 0, \"response\": [...]}); "
                           "Disqus comments are loaded by script, so a saved page holds none")
    thread_url = doc.url if doc.url and "disqus.com" not in doc.url else None
    return convert_each([i for i in data["response"] if isinstance(i, dict) and "id" in i],
                        lambda item: comment_from_json(item, thread_url))


class DisqusOptions(BaseModel):
    """A disqus source's own keys in sources.toml."""

    model_config = ConfigDict(extra="forbid")

    disqus_forum: str = Field("", description="Disqus forum shortname (the site's embed names it).")
    disqus_api_key_env: str = Field("MONITOR_DISQUS_API_KEY",
                                    description="Env var holding the Disqus public API key.")


class DisqusCollector(BaseCollector):
    """Comments of each article's Disqus thread (looked up by the article URL); articles come from
    the site's feed or sitemap. Needs the forum shortname and a public API key."""

    platform = "disqus"

    def __init__(self, source: Any, client: Any, *, options: DisqusOptions, api_base: str = API_BASE,
                 environ: dict[str, str] | None = None, **_: Any) -> None:
        env = os.environ if environ is None else environ
        key_env = options.disqus_api_key_env
        self.api_key = env.get(key_env, "")
        self.forum = options.disqus_forum
        if not self.api_key:
            raise NotConfigured(f"Disqus collector for {source.name}",
                                f"no API key: set the environment variable {key_env} to a Disqus "
                                "public API key (disqus.com/api/applications)")
        if not self.forum:
            raise NotConfigured(f"Disqus collector for {source.name}",
                                "set disqus_forum to the site's Disqus shortname in sources.toml")
        super().__init__(source, client)
        self.api_base = api_base.rstrip("/")

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        comments: list[CommentRecord] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            params = {"api_key": self.api_key, "forum": self.forum, "thread": f"link:{article.url}",
                      "limit": 100, "order": "asc"}
            if cursor:
                params["cursor"] = cursor
            data = self.client.get(f"{self.api_base}/threads/listPosts.json", params=params).json()
            if not isinstance(data, dict) or data.get("code") not in (0, None):
                detail = data.get("response") if isinstance(data, dict) else data
                if isinstance(data, dict) and data.get("code") == 2 and "thread" in str(detail).lower():
                    return CommentFetch([], complete=True, state=state)  # no thread yet: no comments
                raise FetchError(f"Disqus API error for {article.url}: {detail}")
            comments.extend(comment_from_json(item, article.url)
                            for item in data.get("response") or [] if isinstance(item, dict)
                            and not item.get("isDeleted"))
            page = data.get("cursor") or {}
            if not page.get("hasNext") or not page.get("next"):
                return CommentFetch(comments, complete=True, state=state)
            cursor = page["next"]
        return CommentFetch(comments, complete=False, state=state)


def _recognise(doc: Document) -> bool:
    if doc.kind != "json":
        return False
    data = doc.json
    return isinstance(data, dict) and isinstance(data.get("response"), list) and "code" in data


def _claim_site(doc: Document) -> str | None:
    text = doc.text
    if doc.kind != "xml" and ("disqus_thread" in text or ".disqus.com/embed.js" in text.lower()):
        return "disqus"
    return None


PLATFORM = Platform("disqus", extract=extract, collector=DisqusCollector, recognise=_recognise,
                    claim_site=_claim_site, order=15, options=DisqusOptions)
