"""Surviving a database that restarts: telling a dropped connection from a real error, and backing off."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

__all__ = ["Backoff", "is_disconnect", "short_reason"]


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
