"""Log setup for the long-running commands: one line per event on stderr, as text or JSON."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from monitor.text import terminal_safe

__all__ = ["JsonFormatter", "setup_logging"]


class _SafeFormatter(logging.Formatter):
    """Log lines carry text from the sites we read (errors, titles): no escape sequences pass."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line (time, level, logger, message, and the traceback if any), for log
    shippers (journald, Loki, Elasticsearch)."""

    def format(self, record: logging.LogRecord) -> str:
        from monitor.jsonfmt import dumps

        event = {"time": datetime.fromtimestamp(record.created, timezone.utc),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return dumps(event)  # escapes terminal controls, like every JSON the monitor prints


def setup_logging(verbose: bool = False, log_format: str = "text") -> None:
    """Log to stderr as `text` (time level logger: message) or `json` (one object per line)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                            datefmt="%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler logs every job start and end at INFO; the daemon logs its own line per job.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for noisy in ("httpx", "httpcore", "alembic", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
