"""`monitor run`: the daemon (or one full cycle with --once)."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["run"]


@click.command()
@click.option("--once", is_flag=True, help="Run one full cycle (collect, score, slurs, aggregate, "
                                           "alerts, purge) and exit; for cron and tests.")
@click.option("--verbose", "-v", is_flag=True, help="Debug logging.")
@click.option("--metrics-address", default=None, metavar="HOST:PORT",
              help="Serve Prometheus metrics at http://HOST:PORT/metrics while the daemon runs "
                   "(default: daemon.metrics_address; empty = off; not with --once).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or as one JSON object each (default: daemon.log_format).")
@pass_app
def run(app: AppContext, once: bool, verbose: bool, metrics_address: str | None,
        log_format: str | None) -> int:
    """Run the daemon: scheduled collection, scoring, aggregation and alerts.

    SIGTERM or Ctrl-C stops it cleanly; SIGHUP reloads the configuration. Only one daemon may run
    per database; after a database restart the daemon takes its lock again, or stops with exit
    status 1 when another daemon got it first. Exit status 1 from --once when any stage failed.
    """
    from monitor.config import load_config
    from monitor.daemon import Daemon
    from monitor.log import setup_logging

    setup_logging(verbose, log_format or app.config.daemon.log_format)
    daemon = Daemon(app.config, config_loader=lambda: load_config(app.config_path))
    address = app.config.daemon.metrics_address if metrics_address is None else metrics_address
    server = None
    if address and not once:
        from monitor.metrics import start_metrics_server

        server = start_metrics_server(address, daemon)
    try:
        if once:
            results = daemon.run_once()
            return 0 if all(r.ok for r in results) else 1
        return daemon.run_forever()
    finally:
        if server is not None:
            server.close()
