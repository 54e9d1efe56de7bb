"""The long-running daemon: APScheduler jobs built from config, one instance per database, clean stop."""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from monitor.errors import CollectError, MonitorError, NotConfigured, StoreError
from monitor.pidlock import PidFileLock
from monitor.store.db import open_engine
from monitor.store.repo import purge_older_than, put_state, utcnow

__all__ = ["Daemon", "DaemonLock", "JobResult", "STAGES"]

log = logging.getLogger("monitor.daemon")

# The order of one full cycle (`monitor run --once`) and the job ids of the recurring jobs.
STAGES = ("collect", "score", "slurs", "aggregate", "alerts", "purge")

# PostgreSQL advisory lock key for "a daemon runs on this database" (any constant works).
_PG_LOCK_KEY = 0x6D6F6E69  # "moni"


@dataclass
class JobResult:
    """What one job run did: logged as one line and kept in the daemon's heartbeat state."""

    job: str
    started: datetime
    duration_s: float
    ok: bool
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def log_line(self) -> str:
        counts = " ".join(f"{k}={v}" for k, v in self.counts.items())
        status = "ok" if self.ok else f"error: {self.error}"
        return f"job={self.job} duration={self.duration_s:.2f}s {counts} {status}".replace("  ", " ")


class DaemonLock:
    """Refuses a second daemon on the same database: an flock on a file beside an SQLite
    database, a session advisory lock on PostgreSQL. Both vanish with the process, even on kill -9."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self._file: PidFileLock | None = None
        self._conn: Any = None

    def acquire(self) -> None:
        url = make_url(str(self.engine.url))
        if self.engine.dialect.name == "postgresql":
            self._conn = self.engine.connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY}).scalar()
            self._conn.commit()
            if not got:
                self._conn.close()
                self._conn = None
                raise StoreError("another monitor daemon is already running on this database "
                                 f"({url.render_as_string(hide_password=True)}); stop it first, or start "
                                 "`monitor worker` processes to add scoring capacity")
            return
        db_path = Path(url.database or self.data_dir / "monitor.db")
        self._file = PidFileLock(db_path.with_name(db_path.name + ".daemon.lock"))
        holder = self._file.acquire()
        if holder is not None:
            self._file = None
            raise StoreError(f"another monitor daemon is already running on {db_path} (pid {holder}); "
                             "stop it first")

    def release(self) -> None:
        if self._conn is not None:
            # The connection goes back to the pool, so the session-level lock must be let go
            # explicitly; on a crash the server drops it with the session.
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            self._conn.commit()
            self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.release()
            self._file = None


class Daemon:
    """Collect → score → slur statistics → aggregate → alerts, each on its own schedule."""

    def __init__(self, config: Any, *, config_loader: Callable[[], Any] | None = None,
                 engine: Engine | None = None) -> None:
        self.config = config
        self.config_loader = config_loader
        self.engine = engine or open_engine(config)
        self.stop_event = threading.Event()
        self.lock = DaemonLock(self.engine, Path(config.data_dir))
        self.scheduler: Any = None
        self.started_at = utcnow()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.state = "starting"
        self._pipeline: Any = None
        self._pipeline_lock = threading.Lock()
        self._http: Any = None
        self._enabled: dict[str, str] = {}
        self._slurs_since: datetime | None = None
        self._disabled: dict[str, str] = {}

    # --- components ----------------------------------------------------------------------------

    def pipeline(self) -> Any:
        """The scorer (scoring.processes worker processes, or the pipeline in this one), loaded once
        (models are big) and again after a reload."""
        with self._pipeline_lock:
            if self._pipeline is None:
                from monitor.score_pool import make_scorer

                self._pipeline = make_scorer(self.config)
                log.info("scoring memory: %s", ", ".join(
                    f"pid {pid} {mib:.0f} MiB" for pid, mib in self._pipeline.memory().items() if mib))
            return self._pipeline

    def _close_pipeline(self) -> None:
        with self._pipeline_lock:
            if self._pipeline is not None:
                self._pipeline.close()
                self._pipeline = None

    def _report_components(self) -> None:
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
        if cfg.smtp.host and (cfg.smtp.recipients or cfg.alerts.routes):
            enabled["email"] = f"{cfg.smtp.host}:{cfg.smtp.port} ({cfg.smtp.security})"
        else:
            disabled["email"] = "smtp.host or smtp.recipients empty in monitor.toml"
        self._enabled, self._disabled = enabled, disabled
        for name, why in enabled.items():
            log.info("enabled %s: %s", name, why)
        for name, why in disabled.items():
            log.info("disabled %s: %s", name, why)

    # --- jobs ----------------------------------------------------------------------------------

    def _run_job(self, job: str, fn: Callable[[], dict[str, Any]]) -> JobResult:
        started = utcnow()
        t0 = time.monotonic()
        try:
            counts = fn() or {}
            result = JobResult(job, started, time.monotonic() - t0, True, counts)
            log.info(result.log_line())
        except MonitorError as exc:
            result = JobResult(job, started, time.monotonic() - t0, False, error=str(exc))
            log.error(result.log_line())
        except Exception as exc:  # a job must never take the daemon down; the traceback is logged
            result = JobResult(job, started, time.monotonic() - t0, False,
                               error=f"{type(exc).__name__}: {exc}")
            log.exception(result.log_line())
        self.jobs[job] = {"last_run": started.isoformat(), "duration_s": round(result.duration_s, 3),
                          "ok": result.ok, "counts": result.counts, "error": result.error}
        return result

    def http_client(self) -> Any:
        """One polite HTTP client for all sources, so per-host limits hold across jobs."""
        if self._http is None:
            from monitor.collect.http import PoliteClient

            self._http = PoliteClient.from_settings(self.config.collect)
        return self._http

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

    def collect_all(self) -> dict[str, Any]:
        totals: dict[str, Any] = {"sources": 0, "failed": 0}
        for source in self.config.sources:
            if self.stop_event.is_set():
                break
            if not source.enabled:
                continue
            result = self._run_job(f"collect:{source.name}", lambda s=source: self.collect_source(s))
            totals["sources"] += 1
            totals["failed"] += 0 if result.ok else 1
        return totals

    def score(self) -> dict[str, Any]:
        from monitor.worker import score_pending

        stats = score_pending(self.engine, self.pipeline(), batch_size=self.config.scoring.batch_size,
                              stop=self.stop_event)
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

        stats = aggregate.run(self.engine, self.config)
        return _as_counts(stats)

    def alerts(self) -> dict[str, Any]:
        from monitor.alert import evaluate, notify

        evaluated = _as_counts(evaluate.run(self.engine, self.config))
        notified = _as_counts(notify.run(self.engine, self.config))
        return {**{f"eval_{k}": v for k, v in evaluated.items()},
                **{f"mail_{k}": v for k, v in notified.items()}}

    def purge(self) -> dict[str, Any]:
        with self.engine.begin() as conn:
            return {"purged": purge_older_than(conn, self.config.retention.comments)}

    def heartbeat(self) -> None:
        with self.engine.begin() as conn:
            put_state(conn, "daemon", {
                "state": self.state, "pid": os.getpid(), "host": socket.gethostname(),
                "started_at": self.started_at.isoformat(), "heartbeat": utcnow().isoformat(),
                "jobs": self.jobs, "enabled": self._enabled, "disabled": self._disabled,
            })

    def _stage(self, name: str) -> Callable[[], dict[str, Any]]:
        return {"collect": self.collect_all, "score": self.score, "slurs": self.slurs,
                "aggregate": self.aggregate, "alerts": self.alerts, "purge": self.purge}[name]

    # --- lifecycle -----------------------------------------------------------------------------

    def run_once(self) -> list[JobResult]:
        """One full cycle, in order, then return (for cron and tests)."""
        self.lock.acquire()
        try:
            self.state = "running"
            self._report_components()
            results = []
            for name in STAGES:
                if self.stop_event.is_set():
                    break
                results.append(self._run_job(name, self._stage(name)))
            self.state = "stopped"
            self.heartbeat()
            return results
        finally:
            if self._http is not None:
                self._http.close()
                self._http = None
            self.lock.release()

    def _build_jobs(self) -> None:
        """(Re)create the scheduler's jobs from the current config; ids derive from config."""
        from apscheduler.triggers.interval import IntervalTrigger

        sched = self.scheduler
        cfg = self.config
        sched.remove_all_jobs()
        common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": int(cfg.schedule.misfire_grace_s),
                  "replace_existing": True}
        now = datetime.now().astimezone()
        for source in cfg.sources:
            if not source.enabled:
                continue
            every = source.interval or cfg.schedule.collect
            sched.add_job(self._run_job, IntervalTrigger(seconds=every.total_seconds(),
                                                         jitter=cfg.schedule.jitter_s or None),
                          args=(f"collect:{source.name}", lambda s=source: self.collect_source(s)),
                          id=f"collect:{source.name}", name=f"collect {source.name}",
                          next_run_time=now + timedelta(seconds=random.uniform(0, 1)), **common)
        for name in ("score", "slurs", "aggregate", "alerts", "purge"):
            every: timedelta = getattr(cfg.schedule, name)
            sched.add_job(self._run_job, IntervalTrigger(seconds=every.total_seconds()),
                          args=(name, self._stage(name)), id=name, name=name,
                          next_run_time=now + timedelta(seconds=2 if name != "purge" else 60), **common)
        sched.add_job(self._safe_heartbeat, IntervalTrigger(seconds=5), id="heartbeat",
                      name="heartbeat", next_run_time=now, **common)
        log.info("scheduled %d job(s): %s", len(sched.get_jobs()),
                 ", ".join(j.id for j in sched.get_jobs()))

    def _safe_heartbeat(self) -> None:
        try:
            self.heartbeat()
        except Exception as exc:  # the database may be briefly busy; the next beat will do
            log.warning("heartbeat not written: %s", exc)

    def reload(self) -> None:
        """Re-read the configuration and rebuild the jobs (SIGHUP)."""
        if self.config_loader is None:
            return
        try:
            new = self.config_loader()
        except MonitorError as exc:
            log.error("config reload failed, keeping the running config: %s", exc)
            return
        self.config = new
        self._close_pipeline()
        self._report_components()
        self._build_jobs()
        log.info("configuration reloaded")

    def start(self) -> None:
        """Take the lock and start the scheduler in the background."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.lock.acquire()
        self.state = "running"
        self._report_components()
        self.scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(4)},
                                             job_defaults={"coalesce": True, "max_instances": 1})
        self._build_jobs()
        self.scheduler.start()

    def stop(self) -> None:
        """Ask running jobs to finish their current unit of work, then shut down (≤ stop_timeout_s)."""
        if self.state == "stopped":
            return
        self.state = "stopping"
        self.stop_event.set()
        if self.scheduler is not None:
            self.scheduler.pause()
            done = threading.Event()

            def shutdown() -> None:
                self.scheduler.shutdown(wait=True)
                done.set()

            threading.Thread(target=shutdown, daemon=True).start()
            if not done.wait(self.config.daemon.stop_timeout_s - 1):
                # Whatever is still running is abandoned: every write is transactional, so the
                # next start redoes it without duplicates.
                log.warning("jobs still running after %.0fs; abandoning them", self.config.daemon.stop_timeout_s)
        self.state = "stopped"
        if self._http is not None:
            self._http.close()
            self._http = None
        self._close_pipeline()
        try:
            self.heartbeat()
        except Exception as exc:
            log.warning("final heartbeat not written: %s", exc)
        self.lock.release()
        log.info("daemon stopped")

    def run_forever(self) -> None:
        """Start, then block until SIGTERM/SIGINT (clean stop) or stop(); SIGHUP reloads config."""
        self.start()
        wake = threading.Event()
        hup = threading.Event()
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.signal(signal.SIGTERM, lambda *_: (self.stop_event.set(), wake.set()))
            signal.signal(signal.SIGINT, lambda *_: (self.stop_event.set(), wake.set()))
            signal.signal(signal.SIGHUP, lambda *_: (hup.set(), wake.set()))
        log.info("daemon running (pid %d); Ctrl-C or SIGTERM stops it, SIGHUP reloads the config",
                 os.getpid())
        try:
            while not self.stop_event.is_set():
                wake.wait(1.0)
                wake.clear()
                if hup.is_set():
                    hup.clear()
                    self.reload()
        finally:
            self.stop()


def _as_counts(stats: Any) -> dict[str, Any]:
    if stats is None:
        return {}
    if isinstance(stats, dict):
        return stats
    if hasattr(stats, "__dataclass_fields__"):
        return {k: getattr(stats, k) for k in stats.__dataclass_fields__}
    return {"result": stats}
