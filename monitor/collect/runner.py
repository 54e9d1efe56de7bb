"""Collecting configured sources into the database: discovery, due articles, incremental comment
upserts, deletions, runs, errors and per-source health. One failing source never stops the others;
hosts are collected side by side, each host's requests one at a time."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlsplit

from monitor.errors import MonitorError, NotConfigured

__all__ = ["Progress", "SourceOutcome", "collect_all", "collect_source", "next_check"]

log = logging.getLogger(__name__)

# progress(event, source_name, **details): "start" (total=articles due), "article", "done".
Progress = Callable[..., None]
_MAX_RECHECK_INTERVAL = timedelta(days=1)


@dataclass
class SourceOutcome:
    """What one source's pass did; `status` is ok, partial (some articles failed) or failed."""

    name: str
    status: str = "ok"
    platform: str = ""
    articles_checked: int = 0
    not_modified: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    held: int = 0  # listings that lost most known comments at once, waiting for a second pass
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def error(self) -> str | None:
        return self.errors[0] if self.errors else None

    def summary(self) -> str:
        """The one-line summary `monitor collect` prints."""
        from monitor.text import one_line

        text = (f"{self.name}: {self.status} — {self.articles_checked} article(s) checked "
                f"({self.not_modified} unchanged), {self.new} new, {self.updated} edited, "
                f"{self.deleted} deleted, {self.requests} request(s) in {self.seconds:.1f}s")
        if self.held:
            text += (f"; {self.held} listing(s) lost most known comments at once: held until the "
                     "next pass confirms")
        if self.errors:
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            text += f"; error: {self.errors[0]}{more}"
        return one_line(text)


def next_check(now: datetime, born: datetime, base: timedelta, until: timedelta) -> datetime | None:
    """Comments slow down as an article ages: re-check after max(base, age/8), at most daily, and
    never once the article is older than `until`."""
    age = max(now - born, timedelta(0))
    if age >= until:
        return None
    step = min(max(base, age / 8), _MAX_RECHECK_INTERVAL)
    return now + step


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _resolve_platform(engine: Any, source: Any, source_id: int, client: Any) -> str:
    from monitor.collect.detect import detect_site
    from monitor.collect.store_bridge import get_source_state, set_source_state

    if source.platform != "auto":
        return source.platform
    with engine.begin() as conn:
        state = get_source_state(conn, source_id)
    if state.get("detected_platform"):
        return state["detected_platform"]
    platform = detect_site(client, source.url)
    with engine.begin() as conn:
        state = get_source_state(conn, source_id)
        state["detected_platform"] = platform
        set_source_state(conn, source_id, state)
    return platform


def _forget_platform(engine: Any, source_id: int) -> None:
    from monitor.collect.store_bridge import get_source_state, set_source_state

    with engine.begin() as conn:
        state = get_source_state(conn, source_id)
        if state.pop("detected_platform", None) is not None:
            set_source_state(conn, source_id, state)


def _configured_urls(config: Any, source: Any) -> list[str]:
    """Every URL the configuration names: only their host:ports may be private addresses."""
    urls = [source.url, *getattr(source, "articles", [])]
    for other in getattr(config, "sources", []):
        urls.append(other.url)
        urls.extend(other.articles)
    return urls


def _pass_context(config: Any, source: Any) -> Any:
    from monitor.collect.http import PassContext

    return PassContext.for_urls(_configured_urls(config, source),
                                retry_budget_s=config.collect.retry_budget_s)


def _lost_most(known: set[str], listed: set[str]) -> bool:
    """A listing without more than half of the comments known to be live: a maintenance page, a
    truncated response or a changed theme far more often than a mass deletion."""
    return bool(known) and len(known - listed) * 2 > len(known)


def collect_source(engine: Any, config: Any, source: Any, client: Any, *, privacy: Any = None,
                   now: datetime | None = None, progress: Progress | None = None,
                   collector_options: dict[str, Any] | None = None) -> SourceOutcome:
    """One pass over one source. Never raises for a problem of the source itself: the outcome
    (and the database's runs, errors and source health) says what went wrong."""
    context = _pass_context(config, source)
    with client.pass_context(context):
        return _collect_source(engine, config, source, client, context, privacy=privacy, now=now,
                               progress=progress, collector_options=collector_options)


def _collect_source(engine: Any, config: Any, source: Any, client: Any, context: Any, *, privacy: Any,
                    now: datetime | None, progress: Progress | None,
                    collector_options: dict[str, Any] | None) -> SourceOutcome:
    from monitor.collect.base import make_collector
    from monitor.collect.store_bridge import (article_record, due_articles, finish_run,
                                              live_external_ids, record_error, save_article_check,
                                              save_article_meta, start_run)
    from monitor.store.repo import Privacy, ensure_source, mark_deleted, upsert_article, upsert_comments

    started = time.monotonic()
    now = now or _utcnow()
    privacy = privacy or Privacy.from_config(config)
    outcome = SourceOutcome(source.name)
    with engine.begin() as conn:
        source_id = ensure_source(conn, source)
        run_id = start_run(conn, source_id, now)

    def fail(message: str, url: str | None = None) -> None:
        outcome.errors.append(message)
        with engine.begin() as conn:
            record_error(conn, run_id, source_id, url, message, _utcnow())

    base_interval = source.interval or config.schedule.collect
    since = now - (source.since or config.collect.since)
    until = source.recheck_until or config.collect.recheck_until
    try:
        outcome.platform = _resolve_platform(engine, source, source_id, client)
        collector = make_collector(outcome.platform, source, client, **(collector_options or {}))
        discovered = collector.discover(since)
        with engine.begin() as conn:
            for article in discovered:
                article_id = upsert_article(conn, source_id, article_record(article))
                save_article_meta(conn, article_id, article)
            due = due_articles(conn, source_id, now, now - until, source.max_articles)
    except NotConfigured as exc:
        outcome.status = "failed"
        fail(str(exc))
        due = []
    except MonitorError as exc:
        outcome.status = "failed"
        fail(str(exc), source.url)
        due = []
    except Exception as exc:  # a bug or a surprise in one source must not stop the others
        log.exception("collecting %s failed", source.name)
        outcome.status = "failed"
        fail(f"unexpected {type(exc).__name__}: {exc}", source.url)
        due = []

    if progress is not None:
        progress("start", source.name, total=len(due))
    failed_articles = 0
    for item in due:
        try:
            fetched = collector.fetch_comments(item.article, item.state)
        except MonitorError as exc:
            failed_articles += 1
            fail(str(exc), item.article.url)
        except Exception as exc:
            log.exception("collecting %s from %s failed", item.article.url, source.name)
            failed_articles += 1
            fail(f"unexpected {type(exc).__name__}: {exc}", item.article.url)
        else:
            checked_at = _utcnow()
            born = item.published_at or item.discovered_at
            with engine.begin() as conn:
                if fetched.title and not item.article.title:  # listed by URL only: name it
                    upsert_article(conn, source_id, article_record(
                        replace(item.article, title=fetched.title)))
                if fetched.not_modified:
                    outcome.not_modified += 1
                else:
                    records = [c for c in fetched.comments if c.external_id]  # no id: cannot be kept
                    held = False
                    if fetched.complete:
                        listed = {r.external_id for r in records}
                        if _lost_most(live_external_ids(conn, item.id), listed):
                            # Held once; the same loss on the next pass is believed.
                            held = not item.state.extra.get("held_listing")
                            fetched.state.extra["held_listing"] = True
                        else:
                            fetched.state.extra.pop("held_listing", None)
                    if held:
                        # Fetched in full again next pass (a 304 then would confirm nothing).
                        fetched.state.etag = item.state.etag
                        fetched.state.last_modified = item.state.last_modified
                        outcome.held += 1
                        log.warning("%s: %s lists %d comment(s) and lost most known ones; held until "
                                    "the next pass confirms", source.name, item.article.url, len(records))
                    else:
                        fetched.state.extra.pop("held_listing", None)
                        stats = upsert_comments(conn, source_id, item.id, records, seen_at=checked_at,
                                                privacy=privacy)
                        outcome.new += stats.new
                        outcome.updated += stats.updated
                        if fetched.complete:  # only a whole listing proves a comment is gone
                            outcome.deleted += mark_deleted(conn, item.id, [r.external_id for r in records],
                                                            checked_at)
                save_article_check(conn, item.id, fetched.state, checked_at,
                                   next_check(checked_at, born, base_interval, until))
            outcome.articles_checked += 1
        if progress is not None:
            progress("article", source.name)

    if outcome.status != "failed" and failed_articles:
        outcome.status = "failed" if failed_articles == len(due) else "partial"
    if outcome.status == "failed" and source.platform == "auto":
        _forget_platform(engine, source_id)  # detect again next time: the site may have changed
    outcome.requests = context.requests
    outcome.seconds = time.monotonic() - started
    with engine.begin() as conn:
        finish_run(conn, run_id, source_id, status=outcome.status, finished_at=_utcnow(),
                   articles_checked=outcome.articles_checked, new=outcome.new, updated=outcome.updated,
                   deleted=outcome.deleted, requests=outcome.requests, error=outcome.error)
    if progress is not None:
        progress("done", source.name, outcome=outcome)
    return outcome


def _host_groups(sources: Sequence[Any]) -> list[list[int]]:
    """Indexes of `sources` grouped by host: one group's sources run in turn (their requests would
    queue for the same host anyway), different groups side by side."""
    groups: dict[str, list[int]] = {}
    for index, source in enumerate(sources):
        try:
            host = urlsplit(source.url).netloc.lower() or source.url
        except ValueError:
            host = source.url
        groups.setdefault(host, []).append(index)
    return list(groups.values())


def collect_all(engine: Any, config: Any, sources: Iterable[Any], *, client: Any = None,
                progress: Progress | None = None, collector_options: dict[str, Any] | None = None,
                concurrency: int | None = None, stop: threading.Event | None = None,
                on_outcome: Callable[[SourceOutcome], None] | None = None) -> list[SourceOutcome]:
    """Collect every enabled source, up to `concurrency` hosts (default collect.concurrency) side by
    side; each host keeps its own pace, Retry-After and robots.txt through the shared client.
    Outcomes come back in the order of `sources`; `stop` ends the pass between sources."""
    from monitor.collect.http import PoliteClient
    from monitor.store.repo import Privacy

    enabled = [s for s in sources if s.enabled]
    own_client = client is None
    client = client or PoliteClient.from_settings(config.collect)
    privacy = Privacy.from_config(config)
    outcomes: list[SourceOutcome | None] = [None] * len(enabled)

    def run_group(indexes: list[int]) -> None:
        for index in indexes:
            if stop is not None and stop.is_set():
                return
            outcome = collect_source(engine, config, enabled[index], client, privacy=privacy,
                                     progress=progress, collector_options=collector_options)
            outcomes[index] = outcome
            if on_outcome is not None:
                on_outcome(outcome)

    groups = _host_groups(enabled)
    workers = max(1, min(concurrency or config.collect.concurrency, len(groups)))
    try:
        if workers == 1:
            for group in groups:
                run_group(group)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="collect") as pool:
                for future in [pool.submit(run_group, group) for group in groups]:
                    future.result()
    finally:
        if own_client:
            client.close()
    return [o for o in outcomes if o is not None]
