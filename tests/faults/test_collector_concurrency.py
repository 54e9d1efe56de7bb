"""Concurrent collection keeps each host's politeness: a Retry-After told to one source's request
holds the host for every other source too."""

from __future__ import annotations

from monitor.collect.http import PoliteClient
from monitor.collect.runner import collect_all
from monitor.config import SourceConfig

from .conftest import CSS, Reply, comment_page


def test_retry_after_holds_a_shared_host_for_every_source(hostile, store):
    config, engine = store
    shared, a, b = hostile(), hostile(), hostile()
    busy = iter([Reply(429, headers={"Retry-After": "1"})])  # for whichever article request is first
    page = Reply(body=comment_page(("Ann", "Shared.")))
    for site in (shared, a, b):
        site.route("/robots.txt", Reply(404))
    shared.route("/x/", lambda hit: next(busy, page))
    shared.route("/y/", lambda hit: next(busy, page))
    sources = [SourceConfig(name=name, url=site.url + "/", platform="css", selectors=CSS, discovery="urls",
                            articles=[f"{shared.url}{path}"])
               for name, site, path in (("a", a, "/x/"), ("b", b, "/y/"))]
    config.sources = [*sources, SourceConfig(name="shared", url=shared.url + "/", enabled=False)]
    with PoliteClient.from_settings(config.collect) as client:
        outcomes = collect_all(engine, config, sources, client=client, concurrency=2)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    told, *later = [h.at for h in shared.log if h.path in ("/x/", "/y/")]
    assert len(later) == 2 and all(at >= told + 0.9 for at in later)  # the retry and the other source
