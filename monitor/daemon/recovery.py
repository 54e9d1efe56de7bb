"""A clean restart: collection runs left `running` by a process that died are closed with a note."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, update

from monitor.store.schema import collection_runs

__all__ = ["INTERRUPTED_NOTE", "close_interrupted_runs"]

log = logging.getLogger("monitor.daemon")

INTERRUPTED_NOTE = ("interrupted: the process collecting stopped before the run finished "
                    "(closed when the daemon started again)")


def close_interrupted_runs(conn: Connection, before: datetime) -> int:
    """Mark runs still `running` that started before `before` as failed, with a note. Called with
    the single-daemon lock held; a `monitor collect` finishing later still writes its own outcome
    over this. `finished_at` stays the start time: when the process died is unknown."""
    closed = conn.execute(update(collection_runs).where(
        collection_runs.c.status == "running", collection_runs.c.started_at < before).values(
        status="failed", finished_at=collection_runs.c.started_at, error=INTERRUPTED_NOTE)).rowcount
    if closed:
        log.warning("closed %d collection run(s) left running by a stopped process", closed)
    return closed
