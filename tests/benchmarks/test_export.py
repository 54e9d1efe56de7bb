"""Export memory: `monitor export` in a process of its own, its peak RSS per format (issue 14's
target: ≤ 400 MB for 1M comments). Default size is small (CI); MONITOR_BENCH_FULL=1 stores 1M."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.benchmarks.stored_history import store_history
from tests.conftest import REPO, make_config_dir

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
ROWS = 1_000_000 if FULL else 50_000
TEXT = "Ein Kommentar von ungefähr hundertfünfzig Zeichen, wie sie unter Nachrichtenartikeln stehen: " \
       "Meinung, Widerspruch, ein Link."


# `monitor` with its own peak RSS (VmHWM) on stderr at exit. Not the rusage of the child: Linux
# carries the parent's peak across fork and exec into ru_maxrss, and this test process is big.
_WITH_PEAK = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as fh:
        sys.stderr.write(next(line for line in fh if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv[0] = "monitor"
runpy.run_module("monitor", run_name="__main__")
"""


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    store_history(folder / "history.db", ROWS, ["nato", "russia"], datetime(2026, 3, 1, tzinfo=timezone.utc),
                  text=TEXT)
    return make_config_dir(folder, f"sqlite:///{folder / 'history.db'}")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_peak_rss(benchmark, config_path, tmp_path, fmt):
    target = tmp_path / f"comments.{fmt}"

    def export() -> tuple[float, float]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _WITH_PEAK, "--config", str(config_path), "export",
                               "--format", fmt, "--output", str(target)], cwd=REPO, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 0, done.stderr
        peak = next(line for line in done.stderr.splitlines() if line.startswith("VmHWM:"))
        return time.perf_counter() - started, int(peak.split()[1]) / 1024  # KiB → MiB

    wall, peak = benchmark.pedantic(export, rounds=1, iterations=1)
    benchmark.extra_info.update(peak_rss_mib=round(peak), wall_s=round(wall, 2))
    print(f"\nexport {fmt} of {ROWS:,} comments: {wall:.1f} s, peak RSS {peak:.0f} MiB, "
          f"{target.stat().st_size / 2**20:.0f} MiB written")
