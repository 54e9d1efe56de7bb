"""One daemon per database: a file lock beside SQLite, a session advisory lock on PostgreSQL that is
re-taken after the server restarts, or given up so that the daemon stops."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from monitor.errors import StoreError
from monitor.pidlock import PidFileLock
from monitor.store.db import safe_url
from monitor.store.reconnect import is_disconnect, short_reason

__all__ = ["DaemonLock", "LockLost"]

log = logging.getLogger("monitor.daemon")

# PostgreSQL advisory lock key for "a daemon runs on this database" (any constant works).
_PG_LOCK_KEY = 0x6D6F6E69  # "moni"


class LockLost(StoreError):
    """Another daemon took the lock while ours was gone with a dropped connection."""


class DaemonLock:
    """Refuses a second daemon on the same database: an flock on a file beside an SQLite
    database, a session advisory lock on PostgreSQL. Both vanish with the process, even on kill -9.

    A PostgreSQL session lock also vanishes when the server restarts. `ensure()` checks the
    session before each job and takes the lock again on a new connection; if another daemon got
    it first, it raises LockLost and the daemon stops: two daemons never run at once."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self._file: PidFileLock | None = None
        self._conn: Any = None
        self._held = False
        self._mutex = threading.Lock()

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _safe_url(self) -> str:
        return safe_url(self.engine.url)

    def _try_pg_lock(self) -> bool:
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY}).scalar()
            conn.commit()
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def acquire(self) -> None:
        with self._mutex:
            if self.postgres:
                if not self._try_pg_lock():
                    raise StoreError("another monitor daemon is already running on this database "
                                     f"({self._safe_url()}); stop it first, or start "
                                     "`monitor worker` processes to add scoring capacity")
                self._held = True
                return
            url = make_url(str(self.engine.url))
            db_path = Path(url.database or self.data_dir / "monitor.db")
            self._file = PidFileLock(db_path.with_name(db_path.name + ".daemon.lock"))
            holder = self._file.acquire()
            if holder is not None:
                self._file = None
                raise StoreError(f"another monitor daemon is already running on {db_path} (pid {holder}); "
                                 "stop it first")
            self._held = True

    def ensure(self) -> None:
        """Make sure the lock is still ours (PostgreSQL: the session survived); take it again
        after a reconnect. Raises a disconnect error while the database is unreachable, and
        LockLost when another daemon holds the lock now."""
        if not self.postgres:
            return
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1")).scalar()
                    self._conn.rollback()
                    return
                except Exception as exc:
                    if not is_disconnect(exc):
                        raise
                    log.warning("daemon lock: the database session is gone (%s); taking the lock "
                                "again", short_reason(exc))
                    self._drop_connection()
            if not self._try_pg_lock():
                self._held = False
                raise LockLost("another monitor daemon took the lock on this database "
                               f"({self._safe_url()}) while the connection was down; stopping this one")
            self._held = True
            log.warning("daemon lock taken again after reconnect")

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.invalidate()
            conn.close()
        except Exception:  # the connection is dead already: nothing to give back
            pass

    def release(self) -> None:
        with self._mutex:
            if self._conn is not None:
                # The connection goes back to the pool, so the session-level lock must be let go
                # explicitly; on a crash the server drops it with the session.
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    self._conn.commit()
                    self._conn.close()
                except Exception as exc:  # the session is gone, and the lock with it
                    log.warning("daemon lock: could not release (%s)", short_reason(exc))
                    self._drop_connection()
                self._conn = None
            if self._file is not None:
                self._file.release()
                self._file = None
            self._held = False
