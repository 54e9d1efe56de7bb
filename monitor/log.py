"""Log setup for the long-running commands: one line per event on stderr."""

from __future__ import annotations

import logging
import sys

__all__ = ["setup_logging"]


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                           datefmt="%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job start and end at INFO; the daemon logs its own line per job.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "alembic", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
