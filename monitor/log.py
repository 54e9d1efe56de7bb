"""Log setup for the long-running commands: one line per event on stderr."""

from __future__ import annotations

import logging
import sys

from monitor.text import terminal_safe

__all__ = ["setup_logging"]


class _SafeFormatter(logging.Formatter):
    """Log lines carry text from the sites we read (errors, titles): no escape sequences pass."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                        datefmt="%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job start and end at INFO; the daemon logs its own line per job.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "alembic", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
