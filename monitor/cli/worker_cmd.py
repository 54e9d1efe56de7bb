"""`monitor worker`: extra scoring capacity on a shared PostgreSQL database."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["worker"]


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
@pass_app
def worker(app: AppContext, once: bool, batch_size: int | None, idle_sleep: float, processes: int | None,
           verbose: bool) -> int:
    """Claim batches of unscored comments, score them and write the results.

    Run any number of workers, on this or other machines, against the daemon's PostgreSQL database
    (database.url / MONITOR_DATABASE_URL): batches are claimed with FOR UPDATE SKIP LOCKED, so each
    comment is scored once. SIGTERM or Ctrl-C stops after the batch in hand.
    """
    import logging
    import signal
    import threading

    from monitor.errors import ConfigError
    from monitor.log import setup_logging
    from monitor.score_pool import make_scorer
    from monitor.store.db import open_engine
    from monitor.worker import score_pending

    setup_logging(verbose)
    log = logging.getLogger("monitor.worker")
    cfg = app.config
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
    total = 0
    while not stop.is_set():
        stats = score_pending(engine, pipeline, batch_size=size, stop=stop)
        total += stats.scored
        if stats.scored:
            log.info("scored=%d batches=%d total=%d", stats.scored, stats.batches, total)
        if once:
            break
        stop.wait(idle_sleep)
    pipeline.close()
    log.info("worker stopped after scoring %d comment(s)", total)
    return 0
