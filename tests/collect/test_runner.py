"""Collecting into the database from fixture sites on 127.0.0.1: incremental, idempotent, edits,
deletions, paging, failures isolated per source, health, and `monitor collect --once`."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from monitor.collect.runner import next_check
from monitor.config import SourceConfig, load_config
from monitor.store.db import engine_for_url
from monitor.store.schema import articles, collection_errors, collection_runs, comment_revisions, comments, \
    sources
from tests.conftest import make_config_dir
from tests.helpers import run_cli

from .conftest import Reply

from .wordpress_site import NOW, WordPressSite, count, run, wp_source  # noqa: F401


def test_first_pass_collects_every_page_and_thread(site, env):
    config, engine = env
    WordPressSite(site)
    outcome = run(config, engine, wp_source(site))
    assert outcome.status == "ok", outcome.errors
    assert (outcome.articles_checked, outcome.new) == (2, 4)
    with engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(comments))}
        titles = set(conn.execute(select(articles.c.title)).scalars())
    assert rows["2"].parent_external_id == "1" and rows["3"].text == "Third voice"  # page 2 of 2
    assert rows["1"].author_pseudonym and rows["1"].author_name is None  # pseudonymised by the store
    assert titles == {"Ferry", "Bridge & road"}


def test_a_rerun_changes_nothing_and_an_edit_keeps_history(site, env):
    config, engine = env
    wp = WordPressSite(site)
    source = wp_source(site)
    run(config, engine, source)
    later = NOW + timedelta(days=1)  # every article is due again
    again = run(config, engine, source, now=later)
    assert (again.new, again.updated, again.deleted) == (0, 0, 0)
    assert count(engine, comments) == 4

    wp.comments[41][0]["content"]["rendered"] = "<p>First! (edited: typo)</p>"
    edited = run(config, engine, source, now=later + timedelta(days=1))
    assert (edited.new, edited.updated) == (0, 1)
    with engine.connect() as conn:
        text = conn.execute(select(comments.c.text).where(comments.c.external_id == "1")).scalar_one()
        old = conn.execute(select(comment_revisions.c.text)).scalars().all()
    assert text == "First! (edited: typo)" and old == ["First!"]


def test_a_vanished_comment_is_marked_deleted_not_removed(site, env):
    config, engine = env
    wp = WordPressSite(site)
    source = wp_source(site)
    run(config, engine, source)
    del wp.comments[41][2]
    outcome = run(config, engine, source, now=NOW + timedelta(days=1))
    assert outcome.deleted == 1
    assert count(engine, comments) == 4
    assert count(engine, comments, comments.c.deleted_at.is_not(None)) == 1


def test_an_incomplete_listing_never_marks_deletions(site, env):
    config, engine = env
    wp = WordPressSite(site)
    source = wp_source(site)
    run(config, engine, source)
    wp.fail_page = (41, 2)  # page 2 of post 41 fails: its comments must not look deleted
    outcome = run(config, engine, source, now=NOW + timedelta(days=1))
    assert outcome.status == "partial" and outcome.deleted == 0
    assert count(engine, comments, comments.c.deleted_at.is_not(None)) == 0
    assert count(engine, collection_errors) == 1


def test_one_failing_source_does_not_stop_the_others_and_health_is_kept(site, other_site, tmp_path, capsys,
                                                                        monkeypatch):
    WordPressSite(site)
    other_site.route("/wp-json/wp/v2/posts", Reply(500))
    sources_toml = (f'[[source]]\nname = "broken"\nurl = "{other_site.url}/"\nplatform = "wordpress"\n\n'
                    f'[[source]]\nname = "harbour"\nurl = "{site.url}/"\nplatform = "wordpress"\n')
    cfg = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}",
                          extra="\n[collect]\nmin_delay_s = 0\nmax_retries = 0\n", sources=sources_toml)
    code, out, err = run_cli(capsys, "--config", str(cfg), "collect", "--once", "--no-progress")
    assert code == 1, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("broken: failed") and "HTTP 500" in lines[0]
    assert lines[1].startswith("harbour: ok") and "4 new" in lines[1]
    engine = engine_for_url(load_config(cfg, environ={}).database.url)
    with engine.connect() as conn:
        health = {r.name: r for r in conn.execute(select(sources))}
        runs = conn.execute(select(collection_runs.c.status)).scalars().all()
    engine.dispose()
    assert health["broken"].consecutive_failures == 1 and "HTTP 500" in health["broken"].last_error
    assert health["harbour"].consecutive_failures == 0 and health["harbour"].last_success_at is not None
    assert sorted(runs) == ["failed", "ok"]
    monkeypatch.setenv("COLUMNS", "300")  # a wide terminal: no wrapped table cells
    code, out, _ = run_cli(capsys, "--config", str(cfg), "status")
    assert code == 0 and "broken" in out and "HTTP 500" in out


def test_disqus_without_a_key_reports_itself_not_configured(site, env):
    config, engine = env
    source = SourceConfig(name="tide", url=site.url + "/", platform="disqus", disqus_forum="tide",
                          disqus_api_key_env="MONITOR_TEST_NO_SUCH_KEY")
    outcome = run(config, engine, source)
    assert outcome.status == "failed"
    assert "not configured" in outcome.error and "MONITOR_TEST_NO_SUCH_KEY" in outcome.error


def test_feed_discovery_and_wpdiscuz_pages_with_conditional_get(site, env):
    from pathlib import Path

    config, engine = env
    page = (Path(__file__).parent / "fixtures" / "wpdiscuz.html").read_bytes()
    pub = (NOW - timedelta(hours=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>K</title>'
            f'<item><title>Brücke</title><link>{site.url}/2023/06/bruecke/</link><pubDate>{pub}</pubDate></item>'
            f'</channel></rss>')
    site.route("/feed/", Reply(body=feed, content_type="application/rss+xml; charset=utf-8"))

    def article(req):
        if req.headers.get("if-none-match") == '"p1"':
            return Reply(304, headers={"ETag": '"p1"'})
        return Reply(body=page, headers={"ETag": '"p1"'})
    site.route("/2023/06/bruecke/", article)
    source = SourceConfig(name="kreisbote", url=site.url + "/feed/", platform="wpdiscuz")
    first = run(config, engine, source)
    assert first.status == "ok", first.errors
    assert first.new == 4
    second = run(config, engine, source, now=NOW + timedelta(days=1))
    assert second.not_modified == 1 and second.new == 0
    assert site.hits("/2023/06/bruecke/")[-1].headers.get("if-none-match") == '"p1"'


def test_blogger_feeds_are_paged_with_start_index(site, env):
    config, engine = env
    published = (NOW - timedelta(hours=2)).isoformat()
    posts = {"feed": {"openSearch$totalResults": {"$t": "1"}, "entry": [{
        "id": {"$t": "tag:blogger.com,1999:blog-9.post-777"}, "published": {"$t": published},
        "title": {"$t": "Frost"},
        "link": [{"rel": "alternate", "href": f"{site.url}/2024/frost.html"},
                 {"rel": "replies", "type": "application/atom+xml", "href": f"{site.url}/feeds/777/comments/default"}]}]}}
    entries = [{"id": {"$t": f"tag:blogger.com,1999:blog-9.post-{900 + i}"}, "published": {"$t": published},
                "content": {"$t": f"comment number {i}"}, "author": [{"name": {"$t": f"R{i}"}}],
                "link": [{"rel": "alternate", "href": f"{site.url}/2024/frost.html?showComment=1#c{900 + i}"}]}
               for i in range(5)]
    site.route("/feeds/posts/default", Reply(body=json.dumps(posts), content_type="application/json"))

    def comments_feed(req):
        start, size = int(req.query["start-index"]), 2  # the server caps max-results at 2
        chunk = entries[start - 1: start - 1 + size]
        return Reply(body=json.dumps({"feed": {"openSearch$totalResults": {"$t": "5"}, "entry": chunk}}),
                     content_type="application/json")
    site.route("/feeds/777/comments/default", comments_feed)
    outcome = run(config, engine, SourceConfig(name="valley", url=site.url + "/", platform="blogger"))
    assert outcome.status == "ok", outcome.errors
    assert outcome.new == 5
    assert [r.query["start-index"] for r in site.hits("/feeds/777/comments/default")] == ["1", "3", "5"]


def test_recheck_interval_grows_with_age_and_stops():
    born = NOW - timedelta(hours=1)
    base, until = timedelta(minutes=15), timedelta(days=14)
    assert next_check(NOW, born, base, until) == NOW + base
    assert next_check(NOW, NOW - timedelta(days=2), base, until) == NOW + timedelta(hours=6)
    assert next_check(NOW, NOW - timedelta(days=10), base, until) == NOW + timedelta(days=1)
    assert next_check(NOW, NOW - timedelta(days=15), base, until) is None


def test_extract_command_reads_a_url(site, capsys):
    from pathlib import Path

    site.route("/2023/06/bruecke/", Reply(body=(Path(__file__).parent / "fixtures" / "wpdiscuz.html").read_bytes()))
    code, out, err = run_cli(capsys, "extract", f"{site.url}/2023/06/bruecke/")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["external_id"] for r in rows] == ["3301", "3303", "3302", "3304"]
    assert rows[0]["url"] == f"{site.url}/2023/06/bruecke/#comment-3301"


def test_collect_with_progress_display_still_prints_summaries(site, tmp_path, capsys):
    WordPressSite(site)
    sources_toml = f'[[source]]\nname = "harbour"\nurl = "{site.url}/"\nplatform = "wordpress"\n'
    cfg = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}",
                          extra="\n[collect]\nmin_delay_s = 0\n", sources=sources_toml)
    code, out, err = run_cli(capsys, "--config", str(cfg), "collect", "--once", "--progress",
                             "--source", "harbour")
    assert code == 0, err
    assert out.startswith("harbour: ok") and "2 article(s) checked" in out
    code, _, err = run_cli(capsys, "--config", str(cfg), "collect", "--once", "--source", "nope")
    assert code == 1 and "unknown source(s): nope" in err


def test_auto_platform_is_detected_once_and_remembered(site, env):
    config, engine = env
    WordPressSite(site)
    site.route("/", Reply(body='<html><head><link rel="https://api.w.org/" href="/wp-json/"></head></html>'))
    source = SourceConfig(name="auto-site", url=site.url + "/")
    first = run(config, engine, source)
    assert (first.platform, first.status, first.new) == ("wordpress", "ok", 4)
    run(config, engine, source, now=NOW + timedelta(days=1))
    assert len(site.hits("/")) == 1  # the front page is not fetched again to re-detect
    with engine.connect() as conn:
        state = conn.execute(select(sources.c.state).where(sources.c.name == "auto-site")).scalar_one()
    assert state["detected_platform"] == "wordpress"
