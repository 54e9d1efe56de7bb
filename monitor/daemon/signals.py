"""Signals for the daemon's main thread: SIGTERM and SIGINT stop it, SIGHUP reloads the config."""

from __future__ import annotations

import signal
import threading
from typing import Callable

__all__ = ["SignalLoop"]


class SignalLoop:
    """Blocks the main thread until `stop` is set; handlers only set events, the work (reload,
    stop) happens here in the loop, outside the signal handler."""

    def __init__(self, stop: threading.Event, on_reload: Callable[[], None]) -> None:
        self.stop = stop
        self.on_reload = on_reload
        self.wake = threading.Event()
        self.hup = threading.Event()

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals can only be handled there (tests run the daemon in a thread)
        signal.signal(signal.SIGTERM, lambda *_: (self.stop.set(), self.wake.set()))
        signal.signal(signal.SIGINT, lambda *_: (self.stop.set(), self.wake.set()))
        signal.signal(signal.SIGHUP, lambda *_: (self.hup.set(), self.wake.set()))

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.wait(1.0)
            self.wake.clear()
            if self.hup.is_set():
                self.hup.clear()
                self.on_reload()
