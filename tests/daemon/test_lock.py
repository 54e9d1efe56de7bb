"""Only one daemon per database: the second refuses with a clear message, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.daemon import DaemonLock
from monitor.errors import StoreError
from monitor.store.db import engine_for_url


def test_second_daemon_on_the_same_database_is_refused(engine, config):
    first = DaemonLock(engine, config.data_dir)
    first.acquire()
    other_engine = engine_for_url(config.database.url)
    try:
        with pytest.raises(StoreError, match="another monitor daemon is already running"):
            DaemonLock(other_engine, config.data_dir).acquire()
        first.release()
        second = DaemonLock(other_engine, config.data_dir)
        second.acquire()  # free again once the first one let go
        second.release()
    finally:
        first.release()
        other_engine.dispose()


def test_lock_of_a_killed_process_is_free(engine, config):
    # A process that takes the lock and dies with SIGKILL must not block the next daemon.
    code = (
        "import os, signal, sys\n"
        "from monitor.daemon import DaemonLock\n"
        "from monitor.store.db import engine_for_url\n"
        f"lock = DaemonLock(engine_for_url({config.database.url!r}), {str(config.data_dir)!r})\n"
        "lock.acquire()\n"
        "print('locked', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9 and "locked" in proc.stdout
    lock = DaemonLock(engine, config.data_dir)
    lock.acquire()
    lock.release()
