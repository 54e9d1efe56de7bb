"""robots.txt state: a robots.txt that could not be read is a transient error, tried again on the
next pass; only a robots.txt that was read disallows; SIGHUP forgets what was learnt."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_source
from monitor.config import SourceConfig
from monitor.daemon import Daemon
from monitor.store.schema import comments
from tests.helpers import run_cli

from .conftest import CSS, Reply, comment_page


def texts(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(comments.c.text)).scalars())


def source_for(site) -> SourceConfig:
    return SourceConfig(name="h", url=site.url + "/", platform="css", selectors=CSS, discovery="urls",
                        articles=[site.url + "/post/"])


def test_a_site_down_at_first_contact_is_collected_once_it_recovers(hostile, store):
    config, engine = store
    site = hostile()
    site.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /admin/\n", content_type="text/plain"))
    site.route("/post/", Reply(body=comment_page(("Ann", "Back again."))))
    site.down = True
    with PoliteClient.from_settings(config.collect, sleep=lambda s: None) as client:
        first = collect_source(engine, config, source_for(site), client)
        site.down = False
        second = collect_source(engine, config, source_for(site), client)
    assert first.status == "failed"
    assert "robots.txt could not be read" in first.error and "disallowed" not in first.error
    assert second.status == "ok", second.errors
    assert texts(engine) == ["Back again."]


def test_server_errors_on_robots_txt_are_retried_next_pass_not_read_as_disallow(hostile, store):
    config, engine = store
    site = hostile()
    answers = iter([Reply(503), Reply(503), Reply(404)])
    site.route("/robots.txt", lambda hit: next(answers))
    site.route("/post/", Reply(body=comment_page(("Bo", "Fine now."))))
    with PoliteClient.from_settings(config.collect, sleep=lambda s: None) as client:
        first = collect_source(engine, config, source_for(site), client)
        second = collect_source(engine, config, source_for(site), client)
    assert "HTTP 503" in first.error and "tried again next pass" in first.error
    assert second.status == "ok" and texts(engine) == ["Fine now."]


def test_sighup_forgets_robots_txt(hostile, store):
    config, engine = store
    site = hostile()
    rules = {"text": "User-agent: *\nDisallow: /\n"}
    site.route("/robots.txt", lambda hit: Reply(body=rules["text"], content_type="text/plain"))
    site.route("/post/", Reply(body=comment_page(("Cy", "Allowed at last."))))
    config.sources = [source_for(site)]
    daemon = Daemon(config, config_loader=lambda: config, engine=engine)
    daemon.scheduler = BackgroundScheduler()  # built, not started: reload rebuilds its jobs
    first = daemon.collect_all()
    rules["text"] = "User-agent: *\nAllow: /\n"  # the owner changed their mind
    daemon.reload()  # what SIGHUP runs
    second = daemon.collect_all()
    daemon.stages.close()
    assert (first["failed"], second["failed"]) == (1, 0)
    assert texts(engine) == ["Allowed at last."]


def test_robots_wildcards_are_understood(hostile, store):
    config, _ = store
    site = hostile()
    site.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /*?print=\n", content_type="text/plain"))
    site.route("/post/", Reply(body=comment_page(("Di", "Readable."))))
    with PoliteClient.from_settings(config.collect, allow_private=[site.url]) as client:
        assert "Readable." in client.get(f"{site.url}/post/").text
        try:
            client.get(f"{site.url}/post/?print=1")
        except Exception as exc:
            assert "disallowed by" in str(exc)
        else:
            raise AssertionError("a wildcard Disallow was ignored")
    assert [h.query for h in site.hits("/post/")] == [{}]


def test_extract_on_a_dead_port_says_what_happened(dead_port, capsys):
    code, out, err = run_cli(capsys, "extract", f"http://127.0.0.1:{dead_port}/post/")
    assert code != 0 and out == ""
    assert "disallowed" not in err and "robots.txt could not be read" in err
    assert len(err.strip().splitlines()) == 1
