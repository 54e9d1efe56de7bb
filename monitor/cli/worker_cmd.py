"""`monitor worker`: extra scoring capacity on a shared PostgreSQL database."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["worker"]

# `--once` gives up after this many dropped connections in a row (1 s, 2 s … 30 s apart);
# without it the worker waits for the database as long as it takes.
ONCE_RETRIES = 8


@click.command()
@click.option("--once", is_flag=True, help="Score what is pending now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=None,
              help="Comments claimed per batch (default: scoring.batch_size).")
@click.option("--idle-sleep", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True,
              help="Seconds to wait when the queue is empty.")
@click.option("--processes", type=click.IntRange(0, 64), default=None,
              help="Scoring processes, each with its own models (default: scoring.processes; "
                   "0 = one per CPU core).")
@click.option("--verbose", "-v", is_flag=True, help="Debug logging.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or as one JSON object each (default: daemon.log_format).")
@pass_app
def worker(app: AppContext, once: bool, batch_size: int | None, idle_sleep: float,
           processes: int | None, verbose: bool, log_format: str | None) -> int:
    """Claim batches of unscored comments, score them and write the results.

    Run any number of workers, on this or other machines, against the daemon's PostgreSQL database
    (database.url / MONITOR_DATABASE_URL): batches are claimed with FOR UPDATE SKIP LOCKED, so each
    comment is scored once. SIGTERM or Ctrl-C stops after the batch in hand. When the database
    restarts, the batch in hand is rolled back and claimed again after a reconnect (with backoff).
    """
    import logging
    import signal
    import threading

    from monitor.errors import ConfigError, StoreError
    from monitor.log import setup_logging
    from monitor.score_pool import make_scorer
    from monitor.store.db import open_engine
    from monitor.store.reconnect import Backoff, is_disconnect, short_reason
    from monitor.worker import score_pending

    cfg = app.config
    setup_logging(verbose, log_format or cfg.daemon.log_format)
    log = logging.getLogger("monitor.worker")
    engine = open_engine(cfg)
    if engine.dialect.name != "postgresql":
        raise ConfigError("workers share the queue through PostgreSQL; SQLite allows one writer",
                          file=str(cfg.source_file), key="database.url",
                          fix="set it (or MONITOR_DATABASE_URL) to a postgresql+psycopg:// URL")
    pipeline = make_scorer(cfg, processes)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    size = batch_size or cfg.scoring.batch_size
    log.info("worker started: batch size %d, pipeline %s", size, pipeline.describe())
    scored = [0]  # counted per committed batch, so a pass cut short by a disconnect still counts
    backoff = Backoff()
    failures = 0

    def committed(ids: list[int]) -> None:
        scored[0] += len(ids)
        backoff.reset()

    while not stop.is_set():
        try:
            stats = score_pending(engine, pipeline, batch_size=size, stop=stop, on_batch=committed)
        except Exception as exc:
            # A restarted or unreachable database rolled back the batch in hand: wait, reconnect
            # (the pool pings before use) and claim again. Anything else is a real error.
            if not is_disconnect(exc):
                raise
            failures += 1
            if once and failures > ONCE_RETRIES:
                raise StoreError(f"database unreachable after {failures} attempts: {short_reason(exc)}; "
                                 "check that the server is running") from None
            delay = backoff.next()
            log.warning("database connection lost (%s); retrying in %.0fs", short_reason(exc), delay)
            stop.wait(delay)
            continue
        failures = 0
        if stats.scored:
            log.info("scored=%d batches=%d total=%d", stats.scored, stats.batches, scored[0])
        if once:
            break
        stop.wait(idle_sleep)
    pipeline.close()
    log.info("worker stopped after scoring %d comment(s)", scored[0])
    return 0
