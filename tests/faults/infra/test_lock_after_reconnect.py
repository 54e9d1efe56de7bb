"""The PostgreSQL single-daemon lock lives in a session: when that session is cut, the daemon takes
the lock again, or stops when another daemon got it first."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from monitor.config import load_config
from monitor.daemon import Daemon, DaemonLock, LockLost
from monitor.store.db import engine_for_url
from tests.conftest import make_config_dir

pytestmark = pytest.mark.postgres

HOLDERS = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = " \
          "(SELECT oid FROM pg_database WHERE datname = current_database())"


def _cut_lock_sessions(engine) -> int:
    """What a server restart does to the lock: the sessions holding it end."""
    with engine.connect() as conn:
        pids = conn.execute(text(HOLDERS)).scalars().all()
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()
    return len(pids)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_lock_is_taken_again_or_given_up(database_url: str, tmp_path) -> None:
    admin = engine_for_url(database_url)
    first_engine, second_engine = engine_for_url(database_url), engine_for_url(database_url)
    first, second = DaemonLock(first_engine, tmp_path), DaemonLock(second_engine, tmp_path)
    try:
        first.acquire()
        assert _cut_lock_sessions(admin) == 1
        first.ensure()  # taken again on a new connection
        with pytest.raises(Exception, match="already running"):
            second.acquire()

        assert _cut_lock_sessions(admin) == 1
        second.acquire()  # another daemon was quicker this time
        with pytest.raises(LockLost, match="another monitor daemon took the lock"):
            first.ensure()
    finally:
        first.release()
        second.release()
        for engine in (admin, first_engine, second_engine):
            engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_daemon_that_lost_its_lock_stops_with_status_1(database_url: str, tmp_path) -> None:
    config = load_config(make_config_dir(tmp_path, database_url), environ={})
    daemon = Daemon(config)
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(daemon.run_forever()), daemon=True)
    admin = engine_for_url(database_url)
    other = DaemonLock(engine_for_url(database_url), tmp_path)
    try:
        thread.start()
        for _ in range(100):
            if daemon.state == "running":
                break
            thread.join(0.2)
        assert _cut_lock_sessions(admin) == 1
        other.acquire()
        thread.join(30)  # the next heartbeat (every 5 s) finds the lock taken
        assert not thread.is_alive(), "the daemon kept running without its lock"
        assert status == [1]
        assert daemon.lost_lock and "another monitor daemon took the lock" in daemon.lost_lock
    finally:
        daemon.stop_event.set()
        thread.join(30)
        other.release()
        other.engine.dispose()
        admin.dispose()
        daemon.engine.dispose()
