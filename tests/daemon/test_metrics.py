"""`monitor run --metrics-address`: Prometheus scrapes the windows the rules read and the daemon's
health from a real loopback endpoint; `--log-format json` gives one JSON object per log line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.config import load_config
from monitor.store.db import open_engine
from tests.conftest import make_config_dir
from tests.helpers import comment_adder, run_cli

pytestmark = pytest.mark.slow

FAST = '[schedule]\ncollect = "1s"\nscore = "1s"\naggregate = "1s"\nalerts = "2s"\njitter_s = 0\n'
# Port 9 (discard) on loopback refuses connections: every collection pass fails at once.
SOURCES = '[[source]]\nname = "daily"\nurl = "http://127.0.0.1:9/"\nplatform = "wordpress"\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _container_healthcheck(port: int) -> list[str]:
    """deploy/Containerfile's HEALTHCHECK command, pointed at `port`."""
    text = (Path(__file__).resolve().parents[2] / "deploy" / "Containerfile").read_text(encoding="utf-8")
    command = json.loads(text.split("HEALTHCHECK", 1)[1].split("CMD", 1)[1].split("\n\n", 1)[0])
    return [sys.executable if part == "python" else part.replace(":9187/", f":{port}/") for part in command]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_are_scraped_from_a_running_daemon(tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path, extra=FAST + '\n[collect]\nmax_retries = 0\n', sources=SOURCES)
    engine = open_engine(load_config(config_path, environ={}))
    add = comment_adder(engine)
    now = datetime.now(timezone.utc)
    for toxicity in (0.9, 0.8, 0.1, 0.2):
        add(source="daily", at=now, toxicity=toxicity)
    engine.dispose()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config_path), "run",
                             "--metrics-address", f"127.0.0.1:{port}", "--log-format", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wanted = {("monitor_window_toxic_share", (("scope", "source"), ("source", "daily"), ("window", "1h"))),
                  ("monitor_collect_errors_total", (("source", "daily"),))}
        samples: dict = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not wanted <= set(samples):
            time.sleep(0.5)
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            except httpx.TransportError:
                continue
            assert reply.status_code == 200
            samples = _samples(reply.text)
        assert wanted <= set(samples), sorted(samples)
        assert samples[("monitor_window_toxic_share", (("scope", "source"), ("source", "daily"),
                                                        ("window", "1h")))] == 0.5
        assert samples[("monitor_window_comment_count", (("scope", "overall"), ("source", ""),
                                                          ("window", "1h")))] == 4
        assert samples[("monitor_comments_stored", (("source", "daily"),))] == 4
        assert samples[("monitor_scoring_queue_depth", (("source", "daily"),))] == 0
        assert samples[("monitor_outbox_emails", (("status", "failed"),))] == 0
        assert samples[("monitor_database_up", ())] == 1
        assert samples[("monitor_collect_errors_total", (("source", "daily"),))] >= 1
        assert samples[("monitor_job_duration_seconds_count", (("job", "aggregate"), ("source", "")))] >= 1
        assert not any(name.startswith("monitor_window_") and dict(labels).get("scope") == "article"
                       for name, labels in samples)
        # The container's HEALTHCHECK passes against this daemon.
        check = _container_healthcheck(port)
        assert subprocess.run(check, timeout=30).returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(e["message"].startswith("serving Prometheus metrics at http://127.0.0.1:") for e in events)
    assert all(set(e) >= {"time", "level", "logger", "message"} for e in events)
    assert all(e["time"].endswith("Z") for e in events)


def test_a_bad_metrics_address_is_a_config_error(capsys, tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path, extra='\n[daemon]\nmetrics_address = "localhost"\n')
    code, _, err = run_cli(capsys, "--config", str(config_path), "config", "check")
    assert code == 2 and "daemon.metrics_address" in err and "HOST:PORT" in err


def test_a_busy_metrics_port_is_a_clear_error(tmp_path: Path) -> None:
    from monitor.daemon import Daemon
    from monitor.errors import ConfigError
    from monitor.metrics import start_metrics_server

    config = load_config(make_config_dir(tmp_path), environ={})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        with pytest.raises(ConfigError, match=f"cannot listen on {address}.*pick a free port"):
            start_metrics_server(address, Daemon(config))
