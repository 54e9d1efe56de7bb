"""A WordPress REST API fixture site and small helpers shared by the collection tests."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_source
from monitor.config import SourceConfig

from .conftest import Reply

NOW = datetime.now(timezone.utc)


class WordPressSite:
    """A WordPress REST API: posts and comments, comments paged two per page like a small per_page."""

    def __init__(self, site, page_size: int = 2) -> None:
        self.site = site
        self.page_size = page_size
        self.posts = {
            41: {"id": 41, "link": f"{site.url}/2024/ferry/", "title": {"rendered": "Ferry"},
                 "date_gmt": (NOW - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S")},
            42: {"id": 42, "link": f"{site.url}/2024/bridge/", "title": {"rendered": "Bridge &amp; road"},
                 "date_gmt": (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")},
        }
        self.comments = {41: [self.comment(1, 41, "First!"), self.comment(2, 41, "Reply one", parent=1),
                              self.comment(3, 41, "Third voice")],
                         42: [self.comment(4, 42, "Bridges matter")]}
        self.fail_page: tuple[int, int] | None = None
        site.route("/robots.txt", Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain"))
        site.route("/wp-json/wp/v2/posts", self.posts_route)
        site.route("/wp-json/wp/v2/comments", self.comments_route)

    @staticmethod
    def comment(cid: int, post: int, text: str, parent: int = 0) -> dict:
        return {"id": cid, "post": post, "parent": parent, "author_name": f"Reader {cid}",
                "date_gmt": "2024-10-03T07:15:42", "content": {"rendered": f"<p>{text}</p>"},
                "link": f"https://example.invalid/p/{post}/#comment-{cid}"}

    def posts_route(self, req):
        items = sorted(self.posts.values(), key=lambda p: p["id"], reverse=True)
        return Reply(body=json.dumps(items), content_type="application/json",
                     headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": "1"})

    def comments_route(self, req):
        post = int(req.query["post"])
        page = int(req.query.get("page", "1"))
        if self.fail_page == (post, page):
            return Reply(500)
        items = self.comments.get(post, [])
        pages = max(1, math.ceil(len(items) / self.page_size))
        chunk = items[(page - 1) * self.page_size: page * self.page_size]
        return Reply(body=json.dumps(chunk), content_type="application/json",
                     headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)})


def wp_source(site, name="harbour"):
    return SourceConfig(name=name, url=site.url + "/", platform="wordpress")


def run(config, engine, source, **kw):
    with PoliteClient(min_delay_s=0, timeout_s=2, max_retries=0, sleep=lambda s: None) as client:
        return collect_source(engine, config, source, client, **kw)


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
