"""Watching given articles (discovery = "urls"): collected with their page titles, suggested when a
site has neither feed nor sitemap, and validated in sources.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.config import SourceConfig, load_config
from monitor.errors import ConfigError
from monitor.store.schema import articles, comments
from tests.collect.wordpress_site import count, run
from tests.conftest import make_config_dir

from .conftest import Reply

FIXTURES = Path(__file__).parent / "fixtures"


def test_listed_articles_are_collected_and_named_by_their_page(site, env):  # noqa: F811
    config, engine = env
    site.route("/robots.txt", Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain"))
    site.route("/2024/ferry/", Reply(body=(FIXTURES / "wp_html5.html").read_bytes()))
    source = SourceConfig(name="harbour", url=site.url + "/", platform="wordpress", discovery="urls",
                          articles=[f"{site.url}/2024/ferry/"])
    outcome = run(config, engine, source)
    assert outcome.status == "ok", outcome.errors
    with engine.connect() as conn:
        [(url, title)] = conn.execute(select(articles.c.url, articles.c.title)).all()
    assert url == f"{site.url}/2024/ferry/"
    assert title == "Ferry timetable changes for the winter"  # the heading, without the site name
    assert count(engine, comments) == outcome.new > 0


def test_a_site_without_feed_or_sitemap_suggests_listing_the_articles(site, env):  # noqa: F811
    config, engine = env
    site.route("/robots.txt", Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain"))
    site.route("/", Reply(body="<html><head><title>Blog</title></head><body>Hi</body></html>"))
    source = SourceConfig(name="plain", url=site.url + "/", platform="wordpress", discovery="auto")
    outcome = run(config, engine, source)
    assert outcome.status == "failed"
    assert 'set discovery = "urls" and articles = ["https://…"]' in outcome.error


def test_urls_discovery_without_articles_is_a_config_error(tmp_path):
    config_path = make_config_dir(tmp_path, sources='[[source]]\nname = "x"\nurl = "https://x.example/"\n'
                                                    'discovery = "urls"\n')
    with pytest.raises(ConfigError, match=r'source\[0\].*discovery = "urls" watches the pages listed in '
                                          r'articles'):
        load_config(config_path, environ={})
