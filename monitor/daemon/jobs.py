"""Running one job: the single-daemon lock checked first, a dropped database connection retried
with backoff, one log line per run, and the outcome kept for the heartbeat."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from monitor.daemon.locking import DaemonLock, LockLost
from monitor.errors import MonitorError
from monitor.store.reconnect import Backoff, is_disconnect, short_reason
from monitor.store.repo import utcnow

__all__ = ["JobResult", "JobRunner"]

log = logging.getLogger("monitor.daemon")

# A job whose database connection drops is run again this many times (1 s, 2 s, 4 s … apart)
# before it is logged as failed; the next scheduled run starts afresh.
RETRIES = 5


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


class JobRunner:
    """Runs jobs for the daemon from any executor thread. `on_lock_lost` is called (once) when
    another daemon holds the lock after a reconnect: this daemon must stop."""

    def __init__(self, lock: DaemonLock, stop: threading.Event,
                 on_lock_lost: Callable[[str], None]) -> None:
        self.lock = lock
        self.stop = stop
        self.on_lock_lost = on_lock_lost
        self._jobs: dict[str, dict[str, Any]] = {}
        self._jobs_lock = threading.Lock()
        # Called with every JobResult (the Prometheus metrics listen here).
        self.listeners: list[Callable[[JobResult], None]] = []

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        """A copy of the last outcome per job (safe to read while jobs run)."""
        with self._jobs_lock:
            return dict(self._jobs)

    def guard(self) -> None:
        """The lock must be ours before any work; raises LockLost or a disconnect error."""
        try:
            self.lock.ensure()
        except LockLost as exc:
            self.stop.set()
            self.on_lock_lost(str(exc))
            raise

    def run(self, job: str, fn: Callable[[], dict[str, Any] | None]) -> JobResult:
        started = utcnow()
        t0 = time.monotonic()
        backoff = Backoff()
        attempt = 0
        while True:
            attempt += 1
            try:
                self.guard()
                counts = fn() or {}
                result = JobResult(job, started, time.monotonic() - t0, True, counts)
                log.info(result.log_line())
                break
            except LockLost as exc:
                result = JobResult(job, started, time.monotonic() - t0, False, error=str(exc))
                log.error(result.log_line())
                break
            except Exception as exc:  # a job must never take the daemon down
                if is_disconnect(exc) and attempt <= RETRIES and not self.stop.is_set():
                    delay = backoff.next()
                    log.warning("job=%s database connection lost (%s); retrying in %.0fs", job,
                                short_reason(exc), delay)
                    if not self.stop.wait(delay):
                        continue
                result = self._failed(job, started, t0, exc)
                break
        self.record(result)
        return result

    def record(self, result: JobResult) -> None:
        """Keep `result` as its job's last outcome and tell the listeners."""
        with self._jobs_lock:
            self._jobs[result.job] = {"last_run": result.started.isoformat(),
                                      "duration_s": round(result.duration_s, 3), "ok": result.ok,
                                      "counts": result.counts, "error": result.error}
        for listener in self.listeners:
            listener(result)

    @staticmethod
    def _failed(job: str, started: datetime, t0: float, exc: Exception) -> JobResult:
        if isinstance(exc, MonitorError):
            result = JobResult(job, started, time.monotonic() - t0, False, error=str(exc))
            log.error(result.log_line())
        elif is_disconnect(exc):
            result = JobResult(job, started, time.monotonic() - t0, False,
                               error=f"database unreachable: {short_reason(exc)}")
            log.error(result.log_line())
        else:  # a bug: the traceback is logged
            result = JobResult(job, started, time.monotonic() - t0, False,
                               error=f"{type(exc).__name__}: {exc}")
            log.exception(result.log_line())
        return result
