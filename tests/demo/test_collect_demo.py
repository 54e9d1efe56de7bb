"""The real collection runner stores the demo blogs' comments, and picks up the ones that arrive later."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_source
from monitor.config import load_config
from monitor.demo.content import BLOGS
from monitor.demo.run import SOURCE_NAMES
from monitor.demo.site import DemoSite
from monitor.store.db import open_engine
from monitor.store.schema import comments, sources
from tests.conftest import make_config_dir


def test_runner_stores_each_demo_blogs_comments_and_later_arrivals(tmp_path, database_url):
    clock = [0.0]
    with DemoSite(clock=lambda: clock[0]) as site:
        listed = "".join(f'[[source]]\nname = "{SOURCE_NAMES[key]}"\nurl = "{url}/"\n'
                         f'platform = "{BLOGS[key].platform}"\ninterval = "5s"\n\n'
                         for key, url in site.urls.items())
        config = load_config(make_config_dir(tmp_path, database_url, sources=listed), environ={})
        engine = open_engine(config)
        try:
            with PoliteClient(min_delay_s=0.0, max_retries=0) as client:
                first = [collect_source(engine, config, s, client) for s in config.sources]
                clock[0] = 90.0
                # Half a minute later by the runner's clock: every young thread is due again.
                later = datetime.now(timezone.utc) + timedelta(seconds=30)
                second = [collect_source(engine, config, s, client, now=later) for s in config.sources]
            with engine.connect() as conn:
                stored = dict(conn.execute(select(sources.c.name, func.count(comments.c.id))
                                           .join(comments, comments.c.source_id == sources.c.id)
                                           .group_by(sources.c.name)).all())
        finally:
            engine.dispose()

        assert [o.status for o in first + second] == ["ok"] * 6, [o.summary() for o in first + second]
        key_of = {name: key for key, name in SOURCE_NAMES.items()}
        for outcome in first:
            blog = key_of[outcome.name]
            assert outcome.new == sum(1 for c in site.comments if c.at_s <= 0 and c.post in
                                      {p.key for p in site.posts_of(blog)})
        assert sum(o.new for o in second) == sum(1 for c in site.comments if 0 < c.at_s <= 90)
        assert stored == {SOURCE_NAMES[key]: len([c for c in site.released()
                                                  if c.post in {p.key for p in site.posts_of(key)}])
                          for key in BLOGS}
