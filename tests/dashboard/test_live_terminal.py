"""The live dashboard in a real pseudo-terminal, read back through the pyte terminal emulator."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from typing import Callable

import pyte
import pytest

from monitor.store.schema import alert_states
from tests.conftest import REPO
from tests.dashboard.example_data import alert_row

TIMEOUT_S = 20.0  # generous: the machine running the tests may be busy


class Terminal:
    """`monitor ARGS` running on a pty of a given size, its screen emulated by pyte."""

    def __init__(self, args: list[str], width: int, height: int, env: dict[str, str]) -> None:
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become `monitor`
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
                os.chdir(REPO)
                os.execve(sys.executable, [sys.executable, "-c", "from monitor.cli import main; main()",
                                           *args], env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.status: int | None = None

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, timeout: float) -> bool:
        """Feed whatever the program writes within `timeout` to the emulator; False at its end."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.stream.feed(data)
        return bool(data)

    def wait_for(self, condition: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            alive = self.pump(0.1)
            if condition(self.text()):
                return self.text()
            if not alive:
                break
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{self.text()}")

    def resize(self, width: int, height: int) -> None:
        self.screen.resize(height, width)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self) -> int:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            self.pump(0.05)  # keep draining so the child never blocks on a full pty
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        self.kill()
        raise AssertionError("the dashboard did not quit")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def close(self) -> None:
        self.kill()
        os.close(self.fd)


@pytest.fixture
def terminal(config_path, filled):
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "NO_COLOR"}}
    env.update(TERM="xterm-256color", MONITOR_CONFIG=str(config_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    opened: list[Terminal] = []

    def start(width: int, height: int, *args: str) -> Terminal:
        term = Terminal(["dashboard", *args], width, height, env)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def full_frame(text: str) -> bool:
    """The whole frame is drawn: its last line is the bottom border of the lowest panel."""
    return text.split("\n")[-1].startswith("╰") and "most toxic comments" in text and "Panzerfreund" in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_live_at_80_by_24_refreshes_and_quits_on_q(terminal, filled, now):
    term = terminal(80, 24, "--refresh", "0.3s")
    text = term.wait_for(full_frame, "the first frame")
    lines = term.screen.display
    assert lines[0].startswith("monitor  daemon running") and lines[-1].startswith("╰")
    assert "FIRING" in text and "ToxicShareHigh" in text and "1 firing, 1 pending" in text
    # The hostile comment shows as typed; its clear-screen and set-title codes did nothing.
    assert "[bold red]x[/]" in text and term.screen.title == "monitor · Overview"

    with filled.begin() as conn:  # a new alert fires while the dashboard runs
        conn.execute(alert_states.insert(), [alert_row("community/SlurWave", "nordpost", "firing", 9.0,
                                                    now, "Slurs spreading")])
    term.wait_for(lambda t: "SlurWave" in t and "2 firing" in t, "the refreshed alerts")
    term.send(b"q")
    assert term.exit_code() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_live_at_200_by_50_follows_a_resize_and_quits_on_ctrl_c(terminal):
    term = terminal(200, 50, "--refresh", "1m")
    text = term.wait_for(full_frame, "the first frame")
    assert len(term.screen.display) == 50 and term.screen.display[-1].rstrip().endswith("╯")
    assert term.screen.display[0].startswith("monitor  daemon running")
    assert "pid 4242" in text and "3× HTTP 503" in text and "Toxic share on tagesblick is 42%" in text

    term.resize(80, 24)  # the kernel sends SIGWINCH; the frame is redrawn without waiting a minute
    text = term.wait_for(lambda t: full_frame(t) and "pid 4242" not in t, "the 80×24 redraw")
    assert "problem" not in text and term.screen.display[0].startswith("monitor  daemon running")
    term.send(b"\x03")
    assert term.exit_code() == 0
