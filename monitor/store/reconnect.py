"""Surviving a database that restarts: telling a dropped connection from a real error, and backing off."""

from __future__ import annotations

import logging
import threading
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

__all__ = ["Backoff", "is_disconnect", "retry_on_disconnect", "short_reason"]

T = TypeVar("T")


def is_disconnect(exc: BaseException) -> bool:
    """True for a lost or refused database connection (server restarted, network gone, admin
    shutdown): the unit of work was rolled back and may simply be done again."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("sqlite3"):
        # SQLite has no server to lose: only a busy database is worth another try ("no such
        # table" or a full disk is not).
        reason = str(exc.orig).lower()
        return "locked" in reason or "busy" in reason
    return isinstance(exc, (OperationalError, InterfaceError))


class Backoff:
    """Exponential delays (1 s, 2 s, 4 s … `maximum`), reset after a success."""

    def __init__(self, first: float = 1.0, maximum: float = 30.0) -> None:
        self.first = first
        self.maximum = maximum
        self.delay = first

    def next(self) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self.delay = self.first


def short_reason(exc: BaseException) -> str:
    """The driver's first line, without SQL or parameters (they may hold comment text)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}"


def retry_on_disconnect(fn: Callable[[], T], *, what: str, stop: threading.Event | None = None,
                        attempts: int = 6, backoff: Backoff | None = None,
                        log: logging.Logger | None = None) -> T:
    """Run `fn`; when the database connection drops, wait and run it again (at most `attempts`
    times). Other errors, and the last disconnect, are raised. `fn` must be a unit of work that is
    safe to repeat: one transaction, or idempotent writes."""
    backoff = backoff or Backoff()
    log = log or logging.getLogger("monitor.store")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_disconnect(exc) or attempt == attempts or (stop is not None and stop.is_set()):
                raise
            delay = backoff.next()
            log.warning("%s: database connection lost (%s); retrying in %.0fs (attempt %d of %d)",
                        what, short_reason(exc), delay, attempt + 1, attempts)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                threading.Event().wait(delay)
    raise AssertionError("unreachable")
