"""The long-running daemon: APScheduler jobs built from config, one instance per database, clean stop.

    locking.py     one daemon per database; the lock re-taken after a database restart
    stages.py      what each job does, and the components the stages share
    jobs.py        running one job: lock check, retry on a dropped connection, log line
    scheduling.py  executors per kind of work, jobs rebuilt from the config
    signals.py     SIGTERM/SIGINT stop, SIGHUP reload
    recovery.py    closing what a crashed process left open
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Engine

from monitor.daemon.jobs import JobResult, JobRunner
from monitor.daemon.locking import DaemonLock, LockLost
from monitor.daemon.recovery import close_interrupted_runs
from monitor.daemon.scheduling import build_scheduler, schedule_jobs
from monitor.daemon.signals import SignalLoop
from monitor.daemon.stages import STAGES, Stages
from monitor.errors import MonitorError
from monitor.store.db import open_engine
from monitor.store.reconnect import short_reason
from monitor.store.repo import utcnow

__all__ = ["Daemon", "DaemonLock", "JobResult", "LockLost", "STAGES"]

log = logging.getLogger("monitor.daemon")


class Daemon:
    """Collect → score → slur statistics → aggregate → alerts, each on its own schedule."""

    def __init__(self, config: Any, *, config_loader: Callable[[], Any] | None = None,
                 engine: Engine | None = None) -> None:
        self.config = config
        self.config_loader = config_loader
        self.engine = engine or open_engine(config)
        self.stop_event = threading.Event()
        self.lock = DaemonLock(self.engine, Path(config.data_dir))
        self.stages = Stages(config, self.engine, self.stop_event)
        self.runner = JobRunner(self.lock, self.stop_event, self._lock_lost)
        self.scheduler: Any = None
        self.started_at = utcnow()
        self.state = "starting"
        self.lost_lock: str | None = None

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.runner.jobs

    @property
    def listeners(self) -> list[Callable[[JobResult], None]]:
        """Called with every JobResult, from the thread that ran the job."""
        return self.runner.listeners

    def _lock_lost(self, why: str) -> None:
        if self.lost_lock is None:
            self.lost_lock = why
            log.error("%s", why)

    def _begin(self) -> None:
        """Take the lock, then tidy what a crashed predecessor left behind."""
        self.lock.acquire()
        self.state = "running"
        with self.engine.begin() as conn:
            close_interrupted_runs(conn, self.started_at)
        self.stages.report_components()

    def heartbeat(self) -> None:
        self.stages.heartbeat(self.state, self.started_at, self.runner.jobs)

    def _beat(self) -> None:
        """The heartbeat job: checks the lock (re-taking it after a reconnect), then writes."""
        try:
            self.runner.guard()
            self.heartbeat()
        except LockLost:
            pass  # the main loop stops the daemon
        except Exception as exc:  # the database may be busy or restarting; the next beat will do
            log.warning("heartbeat not written: %s", short_reason(exc))

    def collect_all(self) -> dict[str, Any]:
        """Every enabled source in one pass, hosts side by side (collect.concurrency)."""
        from monitor.collect.runner import collect_all

        totals: dict[str, Any] = {"sources": 0, "failed": 0}

        def record(outcome: Any) -> None:
            ok = outcome.status != "failed"
            counts = {"source": outcome.name, "status": outcome.status,
                      "articles": outcome.articles_checked, "new": outcome.new,
                      "updated": outcome.updated, "deleted": outcome.deleted,
                      "requests": outcome.requests}
            result = JobResult(f"collect:{outcome.name}", utcnow(), outcome.seconds, ok, counts,
                               None if ok else f"{outcome.name}: {outcome.error}")
            (log.info if ok else log.error)(result.log_line())
            self.runner.record(result)
            totals["sources"] += 1
            totals["failed"] += 0 if ok else 1

        self.runner.guard()
        collect_all(self.engine, self.config, self.config.sources,
                    client=self.stages.http_client(), stop=self.stop_event, on_outcome=record)
        return totals

    # --- lifecycle -----------------------------------------------------------------------------

    def run_once(self) -> list[JobResult]:
        """One full cycle, in order, then return (for cron and tests)."""
        try:
            self._begin()
            results = []
            for name in STAGES:
                if self.stop_event.is_set():
                    break
                fn = self.collect_all if name == "collect" else self.stages.stage(name)
                results.append(self.runner.run(name, fn))
            self.state = "stopped"
            self.heartbeat()
            return results
        finally:
            self.stages.close()
            self.lock.release()

    def _schedule(self) -> None:
        schedule_jobs(self.scheduler, self.config, self.runner.run, self.stages.collect_source,
                      self.stages.stage, self._beat)

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
        self.stages.reconfigure(new)
        self.stages.report_components()
        self._schedule()
        log.info("configuration reloaded")

    def start(self) -> None:
        """Take the lock and start the scheduler in the background."""
        self._begin()
        self.scheduler = build_scheduler()
        self._schedule()
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
        self.stages.close()
        if self.lost_lock is None:  # without the lock, the heartbeat row is the other daemon's
            try:
                self.heartbeat()
            except Exception as exc:
                log.warning("final heartbeat not written: %s", short_reason(exc))
        self.lock.release()
        log.info("daemon stopped")

    def run_forever(self) -> int:
        """Start, then block until SIGTERM/SIGINT (clean stop) or stop(); SIGHUP reloads config.
        Returns the exit status: 1 when the daemon stopped because it lost its lock."""
        self.start()
        loop = SignalLoop(self.stop_event, self.reload)
        loop.install()
        log.info("daemon running (pid %d); Ctrl-C or SIGTERM stops it, SIGHUP reloads the config",
                 os.getpid())
        try:
            loop.run()
        finally:
            self.stop()
        return 1 if self.lost_lock else 0
