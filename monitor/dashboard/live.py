"""The full-screen refresh loop: reload the snapshot every interval, redraw on resize, q or Ctrl-C quits."""

from __future__ import annotations

import os
import select
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator, TextIO

from rich.console import Console
from rich.live import Live

from monitor.dashboard.data import Snapshot
from monitor.dashboard.layout import DashboardSpec, build_layout

__all__ = ["Keyboard", "run_live"]

# How often keys and the terminal size are checked between data refreshes.
POLL_S = 0.1


class Keyboard:
    """Single key presses from a terminal in cbreak mode (Ctrl-C still raises KeyboardInterrupt);
    without a terminal on stdin it only waits."""

    def __init__(self, stream: TextIO) -> None:
        try:
            self.fd: int | None = stream.fileno() if stream.isatty() else None
        except (AttributeError, ValueError, OSError):
            self.fd = None

    def read(self, timeout: float) -> str:
        """The next key pressed within `timeout` seconds, or '' when none was."""
        if self.fd is None:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return ""
        return os.read(self.fd, 32).decode("utf-8", "replace")

    @contextmanager
    def cbreak(self) -> Iterator[Keyboard]:
        if self.fd is None:
            yield self
            return
        import termios
        import tty

        saved = termios.tcgetattr(self.fd)
        try:
            tty.setcbreak(self.fd)
            yield self
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)


def run_live(spec: DashboardSpec, load: Callable[[], Snapshot], *, refresh_s: float,
             console: Console | None = None, keyboard: Keyboard | None = None) -> None:
    """Show the dashboard full screen until q, Q or Ctrl-C. A failed reload keeps the last data
    on screen and shows the error in the header; `r` reloads at once."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.errors import MonitorError

    console = console or Console()
    keyboard = keyboard or Keyboard(sys.stdin)
    snap = load()
    console.set_window_title(f"monitor · {spec.title}")
    try:
        with keyboard.cbreak(), Live(console=console, screen=True, auto_refresh=False,
                                     redirect_stdout=False, redirect_stderr=False) as live:
            size = console.size
            live.update(build_layout(spec, snap, size.width, size.height), refresh=True)
            due = time.monotonic() + refresh_s
            while True:
                key = keyboard.read(min(POLL_S, refresh_s))
                if key and key[0] in "qQ":
                    return
                redraw = False
                if time.monotonic() >= due or (key and key[0] in "rR"):
                    try:
                        snap = load()
                    except (SQLAlchemyError, MonitorError) as exc:
                        snap = replace(snap, error=str(exc).splitlines()[0])
                    due = time.monotonic() + refresh_s
                    redraw = True
                if console.size != size:
                    size = console.size
                    redraw = True
                if redraw:
                    live.update(build_layout(spec, snap, size.width, size.height), refresh=True)
    except KeyboardInterrupt:
        return
