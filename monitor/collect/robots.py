"""robots.txt rules per host (RFC 9309 through `protego`: wildcards, longest match), kept for a day.
Only a robots.txt that was actually read can disallow; a failed fetch is the caller's error."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from protego import Protego

__all__ = ["RobotsCache", "RobotsRules"]

_KEEP_S = 24 * 3600.0  # RFC 9309 §2.4: a cached robots.txt should not be used for more than 24 hours
_MAX_CRAWL_DELAY_S = 60.0


@dataclass(frozen=True)
class RobotsRules:
    """One host's rules; `parser` is None when the host has no robots.txt (everything allowed)."""

    parser: Protego | None

    @classmethod
    def parse(cls, text: str) -> RobotsRules:
        return cls(Protego.parse(text))

    @classmethod
    def allow_all(cls) -> RobotsRules:
        return cls(None)

    def allowed(self, url: str, user_agent: str) -> bool:
        return self.parser is None or self.parser.can_fetch(url, user_agent)

    def crawl_delay(self, user_agent: str) -> float:
        if self.parser is None:
            return 0.0
        delay = self.parser.crawl_delay(user_agent)
        return min(float(delay), _MAX_CRAWL_DELAY_S) if delay else 0.0


class RobotsCache:
    """Host → rules, each kept for a day; `clear()` (SIGHUP) forgets them all."""

    def __init__(self, keep_s: float = _KEEP_S) -> None:
        self.keep_s = keep_s
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[float, RobotsRules]] = {}

    def get(self, host: str) -> RobotsRules | None:
        with self._lock:
            entry = self._rules.get(host)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, host: str, rules: RobotsRules) -> None:
        with self._lock:
            self._rules[host] = (time.monotonic() + self.keep_s, rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
