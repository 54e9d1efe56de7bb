"""Stable comment identity without platform ids: from the article and the content, never from
position alone; nothing collides across articles; an unchanged page changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_source
from monitor.config import SourceConfig
from monitor.store.schema import articles, comment_revisions, comments

from .conftest import CSS, Reply, comment_page

LATER = datetime.now(timezone.utc) + timedelta(days=1)


def by_article(engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, comments.c.text).join(articles)
                            .where(comments.c.deleted_at.is_(None)).order_by(comments.c.id)).all()
    found: dict[str, list[str]] = {}
    for url, text in rows:
        found.setdefault(url.rsplit("/", 2)[-2], []).append(text)
    return found


def revisions(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(comment_revisions)).scalar_one()


def two_articles(site) -> SourceConfig:
    site.route("/robots.txt", Reply(404))
    site.route("/one/", Reply(body=comment_page(("Ann", "Ferry late again."), ("Bo", "Prices up."),
                                                ("Cy", "Nice photo."))))
    site.route("/two/", Reply(body=comment_page(("Dee", "Bridge closed."), ("Eve", "Who pays?"),
                                                ("Fay", "Good news."))))
    return SourceConfig(name="css", url=site.url + "/", platform="css", selectors=CSS, discovery="urls",
                        articles=[f"{site.url}/one/", f"{site.url}/two/"])


def collect(config, engine, source, **kw):
    with PoliteClient.from_settings(config.collect) as client:
        return collect_source(engine, config, source, client, **kw)


def test_comments_without_ids_stay_under_their_own_article(hostile, store):
    config, engine = store
    source = two_articles(hostile())
    first = collect(config, engine, source)
    assert first.new == 6
    assert by_article(engine) == {"one": ["Ferry late again.", "Prices up.", "Nice photo."],
                                  "two": ["Bridge closed.", "Who pays?", "Good news."]}
    second = collect(config, engine, source, now=LATER)
    assert (second.new, second.updated, second.deleted) == (0, 0, 0)
    assert revisions(engine) == 0


def test_a_comment_added_on_top_does_not_shift_the_others(hostile, store):
    config, engine = store
    site = hostile()
    source = two_articles(site)
    collect(config, engine, source)
    site.route("/one/", Reply(body=comment_page(("Zed", "First!"), ("Ann", "Ferry late again."),
                                                ("Bo", "Prices up."), ("Cy", "Nice photo."))))
    second = collect(config, engine, source, now=LATER)
    assert (second.new, second.updated, second.deleted) == (1, 0, 0)
    assert revisions(engine) == 0


def test_equal_comments_on_identical_pages_are_all_kept(hostile, store):
    config, engine = store
    site = hostile()
    site.route("/robots.txt", Reply(404))
    page = Reply(body=comment_page(("Al", "+1"), ("Al", "+1"), ("Bea", "+1")))
    site.route("/p/", page)
    site.route("/q/", page)
    source = SourceConfig(name="p", url=site.url + "/", platform="css", selectors=CSS, discovery="urls",
                          articles=[f"{site.url}/p/", f"{site.url}/q/"])
    assert collect(config, engine, source).new == 6
    assert by_article(engine) == {"p": ["+1", "+1", "+1"], "q": ["+1", "+1", "+1"]}
    again = collect(config, engine, source, now=LATER)
    assert (again.new, again.updated, again.deleted) == (0, 0, 0)
