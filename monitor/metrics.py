"""Prometheus `/metrics` for the daemon: the windowed metrics the rules read, and its own health.

Database-backed values (windows, stored comments, queue depth, outbox) are read at scrape time,
so they are right after a restart and whoever else writes the database (workers); job durations
and counters come from the daemon's own job results. Label values are bounded: sources are the
configured ones, windows the configured sizes, jobs the daemon's stages; article-scoped windows
are left out (one series per article would grow without end).
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.config import parse_address
from monitor.errors import ConfigError

__all__ = ["DaemonMetrics", "MetricsServer", "start_metrics_server"]

log = logging.getLogger("monitor.metrics")

_METRIC_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Job durations from sub-second scoring batches to minutes-long collection passes.
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


def _job_labels(job: str) -> tuple[str, str]:
    """'collect:daily' → ('collect', 'daily'); 'score' → ('score', '')."""
    stage, _, source = job.partition(":")
    return stage, source


class _DatabaseCollector(Collector):
    """Reads the current windows and the health counts from the database on every scrape."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except Exception as exc:  # a busy or lost database must not fail the whole scrape
            log.warning("metrics: database not readable: %s", exc)
            up = GaugeMetricFamily("monitor_database_up", "1 when the last scrape could read the database.")
            up.add_metric([], 0)
            yield up

    def _collect(self) -> Iterator[Metric]:
        from sqlalchemy import func, select

        from monitor.alert.rules import format_duration
        from monitor.store.repo import source_status, utcnow
        from monitor.store.schema import aggregates, outbox

        config = self.daemon.config
        configured = {s.name for s in config.sources}
        windows = {int(w.total_seconds()): format_duration(w) for w in config.aggregate.windows}
        # Only recent windows are looked at, so a scrape costs the same after a year of history;
        # a scope without comments for two of the longest windows drops its series.
        cutoff = utcnow() - 2 * max(config.aggregate.windows, default=timedelta(days=1))
        with self.daemon.engine.connect() as conn:
            sources = [r for r in source_status(conn) if r["name"] in configured]
            mail = dict(conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all())
            latest = (select(aggregates.c.window_s, aggregates.c.scope, aggregates.c.scope_key,
                             func.max(aggregates.c.window_start).label("window_start"))
                      .where(aggregates.c.scope.in_(("overall", "source")),
                             aggregates.c.window_start >= cutoff)
                      .group_by(aggregates.c.window_s, aggregates.c.scope, aggregates.c.scope_key)
                      .subquery())
            rows = conn.execute(
                select(aggregates.c.window_s, aggregates.c.scope, aggregates.c.scope_key,
                       aggregates.c.window_start, aggregates.c.metrics)
                .join(latest, (aggregates.c.window_s == latest.c.window_s)
                      & (aggregates.c.scope == latest.c.scope)
                      & (aggregates.c.scope_key == latest.c.scope_key)
                      & (aggregates.c.window_start == latest.c.window_start))).all()

        up = GaugeMetricFamily("monitor_database_up", "1 when the last scrape could read the database.")
        up.add_metric([], 1)
        yield up
        started = GaugeMetricFamily("monitor_daemon_start_time_seconds", "When this daemon started.")
        started.add_metric([], self.daemon.started_at.timestamp())
        yield started
        stored = GaugeMetricFamily("monitor_comments_stored", "Comments stored per source.", labels=["source"])
        queue = GaugeMetricFamily("monitor_scoring_queue_depth",
                                  "Comments waiting to be scored, per source.", labels=["source"])
        failing = GaugeMetricFamily("monitor_source_consecutive_failures",
                                    "Collection passes failed in a row, per source.", labels=["source"])
        last_ok = GaugeMetricFamily("monitor_source_last_success_timestamp_seconds",
                                    "When a source was last collected without error.", labels=["source"])
        for r in sources:
            stored.add_metric([r["name"]], r["comments"])
            queue.add_metric([r["name"]], r["pending"] or 0)
            failing.add_metric([r["name"]], r["consecutive_failures"] or 0)
            if r["last_success_at"] is not None:
                last_ok.add_metric([r["name"]], r["last_success_at"].timestamp())
        yield from (stored, queue, failing, last_ok)
        emails = GaugeMetricFamily("monitor_outbox_emails", "Alert emails in the outbox by status.",
                                   labels=["status"])
        for status in ("pending", "sending", "sent", "failed"):
            emails.add_metric([status], mail.get(status, 0))
        yield emails
        yield from self._windows(rows, windows, configured)

    def _windows(self, rows: list[Any], windows: dict[int, str], configured: set[str]) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        start = GaugeMetricFamily("monitor_window_start_timestamp_seconds",
                                  "Start of the current window the monitor_window_* values describe.",
                                  labels=["scope", "source", "window"])
        for row in rows:
            window = windows.get(row.window_s)
            source = row.scope_key if row.scope == "source" else ""
            if window is None or (row.scope == "source" and source not in configured):
                continue
            labels = [row.scope, source, window]
            start.add_metric(labels, row.window_start.timestamp())
            for name, value in sorted((row.metrics or {}).items()):
                if isinstance(value, bool) or not isinstance(value, (int, float)) \
                        or not _METRIC_NAME.fullmatch(name):
                    continue  # top_slurs: a list, not a series
                family = families.get(name)
                if family is None:
                    family = families[name] = GaugeMetricFamily(
                        f"monitor_window_{name}", f"{name} in the current window (as alert rules read it).",
                        labels=["scope", "source", "window"])
                family.add_metric(labels, float(value))
        yield start
        yield from families.values()


class DaemonMetrics:
    """The daemon's metrics: counters fed from job results, plus the database collector."""

    def __init__(self, daemon: Any, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.duration = Histogram("monitor_job_duration_seconds", "How long each daemon job run took.",
                                  ["job", "source"], buckets=_BUCKETS, registry=self.registry)
        self.runs = Counter("monitor_job_runs", "Daemon job runs by outcome.", ["job", "source", "outcome"],
                            registry=self.registry)
        self.collected = Counter("monitor_comments_collected", "New comments collected, per source.",
                                 ["source"], registry=self.registry)
        self.collect_errors = Counter("monitor_collect_errors", "Failed collection passes, per source.",
                                      ["source"], registry=self.registry)
        self.scored = Counter("monitor_comments_scored", "Comments scored by the daemon.",
                              registry=self.registry)
        self.registry.register(_DatabaseCollector(daemon))
        daemon.listeners.append(self.observe)

    def observe(self, result: Any) -> None:
        """Record one JobResult (called by the daemon after every job run)."""
        job, source = _job_labels(result.job)
        self.duration.labels(job, source).observe(result.duration_s)
        self.runs.labels(job, source, "ok" if result.ok else "error").inc()
        if job == "collect" and source:
            if result.ok:
                self.collected.labels(source).inc(int(result.counts.get("new", 0)))
            else:
                self.collect_errors.labels(source).inc()
        elif job == "score" and result.ok:
            self.scored.inc(int(result.counts.get("scored", 0)))


class MetricsServer:
    """The HTTP server answering /metrics from its own thread; `close` stops it."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[:2]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(address: str, daemon: Any) -> MetricsServer:
    """Serve the daemon's metrics at http://ADDRESS/metrics (port 0 picks a free one)."""
    from prometheus_client import start_http_server

    try:
        host, port = parse_address(address)
    except ValueError as exc:
        raise ConfigError(str(exc), key="daemon.metrics_address / --metrics-address") from None
    metrics = DaemonMetrics(daemon)
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc.strerror or exc}",
                          key="daemon.metrics_address / --metrics-address",
                          fix="pick a free port or another address; is another monitor daemon "
                              "already serving there?") from None
    served = MetricsServer(server, thread)
    log.info("serving Prometheus metrics at http://%s:%d/metrics", *served.address)
    return served
