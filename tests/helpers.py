"""Test helpers shared across areas."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from monitor.cli import main

__all__ = ["run_cli", "start_within_this_hour"]


def start_within_this_hour(lasting: float = 60.0) -> datetime:
    """A demo script start such that every scripted comment (-1 to +5 minutes around it) falls in
    the current clock hour, which the demo's 1h rule evaluates, and the hour has `lasting` seconds
    left for the test to run in; near the end of an hour, wait for the next one."""
    now = datetime.now(timezone.utc)
    hour = now.replace(minute=0, second=0, microsecond=0)
    left = (hour + timedelta(hours=1) - now).total_seconds()
    if left < lasting:
        time.sleep(left + 1)
        return start_within_this_hour(lasting)
    return max(hour + timedelta(seconds=60), now - timedelta(seconds=270))


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `monitor ARGS` in-process through the real entry point: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), out, err
