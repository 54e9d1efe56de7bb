"""Stage wiring: what each daemon job does (collect, score, slurs, aggregate, alerts, purge,
heartbeat) and the components the stages share (scoring pipeline, HTTP client)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Engine

from monitor.errors import CollectError, NotConfigured
from monitor.store.repo import purge_older_than, put_state, utcnow

__all__ = ["EXECUTORS", "STAGES", "Stages"]

log = logging.getLogger("monitor.daemon")

# The order of one full cycle (`monitor run --once`) and the job ids of the recurring jobs.
STAGES = ("collect", "score", "slurs", "aggregate", "alerts", "purge")

# Which executor (thread pool) runs each job: a stage can only wait for jobs of its own kind, so
# a stuck collection never delays scoring, alerts or the heartbeat.
EXECUTORS = {"collect": "collect", "score": "score", "slurs": "aggregate", "aggregate": "aggregate",
             "alerts": "aggregate", "purge": "aggregate", "heartbeat": "heartbeat"}


class Stages:
    """The jobs' bodies; each returns the counts logged on the job's line."""

    def __init__(self, config: Any, engine: Engine, stop: threading.Event) -> None:
        self.config = config
        self.engine = engine
        self.stop = stop
        self.enabled: dict[str, str] = {}
        self.disabled: dict[str, str] = {}
        self._pipeline: Any = None
        self._pipeline_lock = threading.Lock()
        self._http: Any = None
        self._http_lock = threading.Lock()
        self._slurs_since: datetime | None = None

    # --- components ----------------------------------------------------------------------------

    def pipeline(self) -> Any:
        """The scorer (scoring.processes worker processes, or the pipeline in this one), loaded
        once (models are big) and again after a reload."""
        with self._pipeline_lock:
            if self._pipeline is None:
                from monitor.score_pool import make_scorer

                self._pipeline = make_scorer(self.config)
                log.info("scoring memory: %s", ", ".join(
                    f"pid {pid} {mib:.0f} MiB" for pid, mib in self._pipeline.memory().items() if mib))
            return self._pipeline

    def close_pipeline(self) -> None:
        with self._pipeline_lock:
            if self._pipeline is not None:
                self._pipeline.close()
                self._pipeline = None

    def reconfigure(self, config: Any) -> None:
        """Use a reloaded config: the pipeline is rebuilt on next use, and robots.txt is read
        again (from hosts that may have recovered)."""
        self.config = config
        self.close_pipeline()
        with self._http_lock:
            if self._http is not None:
                self._http.clear_caches()

    def http_client(self) -> Any:
        """One polite HTTP client for all sources, so per-host limits hold across jobs."""
        with self._http_lock:
            if self._http is None:
                from monitor.collect.http import PoliteClient

                self._http = PoliteClient.from_settings(self.config.collect)
            return self._http

    def close(self) -> None:
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None
        self.close_pipeline()

    def report_components(self) -> None:
        """Log once what is enabled and what is disabled, with the reason (scrapy-style)."""
        cfg = self.config
        enabled, disabled = {}, {}
        active = [s.name for s in cfg.sources if s.enabled]
        if active:
            enabled["collect"] = f"{len(active)} source(s): {', '.join(active)}"
        else:
            disabled["collect"] = f"no enabled [[source]] in {cfg.paths.sources}"
        try:
            enabled["scoring"] = self.pipeline().describe()
        except NotConfigured as exc:
            disabled["scoring"] = exc.reason
        from monitor.alert.receivers import build_receivers

        receivers, off = build_receivers(cfg)
        enabled.update({f"receiver {name}": r.describe() for name, r in receivers.items()})
        disabled.update({f"receiver {name}": why for name, why in off.items()})
        self.enabled, self.disabled = enabled, disabled
        for name, why in enabled.items():
            log.info("enabled %s: %s", name, why)
        for name, why in disabled.items():
            log.info("disabled %s: %s", name, why)

    # --- stages --------------------------------------------------------------------------------

    def collect_source(self, source: Any) -> dict[str, Any]:
        from monitor.collect.runner import collect_source
        from monitor.store.repo import Privacy

        outcome = collect_source(self.engine, self.config, source, self.http_client(),
                                 privacy=Privacy.from_config(self.config))
        if outcome.status == "failed":
            raise CollectError(f"{source.name}: {outcome.error}")
        return {"source": source.name, "status": outcome.status, "articles": outcome.articles_checked,
                "new": outcome.new, "updated": outcome.updated, "deleted": outcome.deleted,
                "requests": outcome.requests}

    def score(self) -> dict[str, Any]:
        from monitor.worker import score_pending

        stats = score_pending(self.engine, self.pipeline(), batch_size=self.config.scoring.batch_size,
                              stop=self.stop)
        return {"scored": stats.scored, "batches": stats.batches}

    def slurs(self) -> dict[str, Any]:
        """Candidate statistics: everything on the first run, then the terms seen again since the
        previous run (with a margin for scores committed late)."""
        from monitor.score.candidates import update_candidates

        started = utcnow()
        since = None if self._slurs_since is None else self._slurs_since - timedelta(minutes=15)
        written = update_candidates(self.engine, since)
        self._slurs_since = started
        return {"candidates": written, "full": since is None}

    def aggregate(self) -> dict[str, Any]:
        from monitor import aggregate

        return as_counts(aggregate.run(self.engine, self.config))

    def alerts(self) -> dict[str, Any]:
        from monitor.alert import evaluate, notify

        evaluated = as_counts(evaluate.run(self.engine, self.config))
        notified = as_counts(notify.run(self.engine, self.config))
        return {**{f"eval_{k}": v for k, v in evaluated.items()},
                **{f"mail_{k}": v for k, v in notified.items()}}

    def purge(self) -> dict[str, Any]:
        with self.engine.begin() as conn:
            return {"purged": purge_older_than(conn, self.config.retention.comments)}

    def heartbeat(self, state: str, started_at: datetime, jobs: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            put_state(conn, "daemon", {
                "state": state, "pid": os.getpid(), "host": socket.gethostname(),
                "started_at": started_at.isoformat(), "heartbeat": utcnow().isoformat(),
                "jobs": dict(jobs), "enabled": self.enabled, "disabled": self.disabled,
            })

    def stage(self, name: str) -> Callable[[], dict[str, Any]]:
        return {"score": self.score, "slurs": self.slurs, "aggregate": self.aggregate,
                "alerts": self.alerts, "purge": self.purge}[name]


def as_counts(stats: Any) -> dict[str, Any]:
    if stats is None:
        return {}
    if isinstance(stats, dict):
        return stats
    if hasattr(stats, "__dataclass_fields__"):
        return {k: getattr(stats, k) for k in stats.__dataclass_fields__}
    return {"result": stats}
