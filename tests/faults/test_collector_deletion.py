"""No false mass deletion: a listing that lost most known comments at once is held until a second
pass shows the same; a maintenance page neither deletes comments nor adds its own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_source
from monitor.config import SourceConfig
from monitor.store.schema import comments

from .conftest import CSS, Reply, comment_page

NOW = datetime.now(timezone.utc)
FULL = comment_page(("Ann", "One."), ("Bo", "Two."), ("Cy", "Three."), ("Dee", "Four."))
MAINTENANCE = ('<html><body><div class="c"><b class="who">Admin</b><p class="txt">Down for maintenance, '
               "back soon.</p></div></body></html>")


def live(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(comments.c.text).where(comments.c.deleted_at.is_(None))).scalars())


def source_for(site) -> SourceConfig:
    site.route("/robots.txt", Reply(404))
    return SourceConfig(name="m", url=site.url + "/", platform="css", selectors=CSS, discovery="urls",
                        articles=[f"{site.url}/post/"])


def collect(config, engine, source, days: int):
    with PoliteClient.from_settings(config.collect) as client:
        return collect_source(engine, config, source, client, now=NOW + timedelta(days=days))


def test_a_maintenance_page_deletes_nothing_and_adds_nothing(hostile, store):
    config, engine = store
    site = hostile()
    source = source_for(site)
    site.route("/post/", Reply(body=FULL))
    collect(config, engine, source, 0)
    site.route("/post/", Reply(body=MAINTENANCE))
    during = collect(config, engine, source, 1)
    assert (during.new, during.deleted, during.held) == (0, 0, 1)
    assert "held until the next pass confirms" in during.summary()
    assert live(engine) == ["Four.", "One.", "Three.", "Two."]
    site.route("/post/", Reply(body=FULL))
    after = collect(config, engine, source, 2)
    assert (after.new, after.deleted, after.held) == (0, 0, 0)
    assert live(engine) == ["Four.", "One.", "Three.", "Two."]


def test_a_real_mass_deletion_is_believed_on_the_second_pass(hostile, store):
    config, engine = store
    site = hostile()
    source = source_for(site)
    site.route("/post/", Reply(body=FULL))
    collect(config, engine, source, 0)
    shrunk = comment_page(("Ann", "One."))
    site.route("/post/", lambda hit: Reply(304) if hit.headers.get("if-none-match") == '"v2"'
               else Reply(body=shrunk, headers={"ETag": '"v2"'}))  # a server that answers 304s
    first = collect(config, engine, source, 1)
    second = collect(config, engine, source, 2)
    assert (first.deleted, second.deleted) == (0, 3)
    assert live(engine) == ["One."]

