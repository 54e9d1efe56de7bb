"""The daemon under signals: SIGTERM stops it cleanly within 10 s, SIGHUP rebuilds jobs from the
edited config, and a second daemon on the same database refuses to start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.store.db import open_engine
from monitor.store.repo import get_state
from tests.conftest import make_config_dir

pytestmark = pytest.mark.slow

FAST = '[schedule]\ncollect = "2s"\nscore = "1s"\naggregate = "2s"\nalerts = "2s"\njitter_s = 0\n'


def _start(config_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config_path), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def _daemon_state(config_path: Path) -> dict:
    engine = open_engine(load_config(config_path, environ={}))
    try:
        with engine.connect() as conn:
            return get_state(conn, "daemon", {}) or {}
    finally:
        engine.dispose()


def test_sigterm_stops_cleanly_and_sighup_reloads(tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path, extra=FAST)
    proc = _start(config_path)
    try:
        _wait_for(lambda: _daemon_state(config_path).get("state") == "running")

        # A second daemon on the same database refuses, with a clear message and no traceback.
        second = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config_path), "run"],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert "another monitor daemon is already running" in second.stderr
        assert "Traceback" not in second.stderr

        # SIGHUP: a source added to sources.toml gets its own collection job.
        (config_path.parent / "sources.toml").write_text(
            '[[source]]\nname = "late-blog"\nurl = "http://127.0.0.1:9/"\n', encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: "collect:late-blog" in _daemon_state(config_path).get("jobs", {}))

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        stop_s = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert stop_s < 10, f"stopping took {stop_s:.1f}s"
    assert "configuration reloaded" in err and "daemon stopped" in err
    assert _daemon_state(config_path)["state"] == "stopped"
