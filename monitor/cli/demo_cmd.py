"""`monitor demo`: the offline demo on 127.0.0.1 (demo blogs, daemon, mail sink, dashboard)."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import AppContext, pass_app

__all__ = ["demo"]


@click.command()
@click.option("--no-dashboard", is_flag=True,
              help="Print a progress line every few seconds instead of the full-screen dashboard "
                   "(for CI and terminals without full-screen support).")
@click.option("--duration", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Stop by itself after this many seconds (default: run until Ctrl-C).")
@click.option("--until-alert", is_flag=True,
              help="Stop as soon as the first alert email has arrived; exit status 1 when none "
                   "arrived (within --duration, if given). For CI smoke tests.")
@click.option("--dir", "demo_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the demo's config, database, log and mail; cleared of the previous "
                   "run's database and mail at start (default: DATA_DIR/demo).")
@click.option("--verbose", "-v", is_flag=True, help="Also show the daemon's job lines (they always go "
                                                    "to the demo's log file).")
@pass_app
def demo(app: AppContext, no_dashboard: bool, duration: float | None, until_alert: bool,
         demo_dir: Path | None, verbose: bool) -> int:
    """Run the offline demo: three blogs on 127.0.0.1 whose comments arrive over time, the daemon
    collecting and scoring them, a local mail sink receiving the alerts, and the dashboard.

    Within a minute comments, scores, aggregates, a fired alert and its email appear. Ctrl-C stops
    everything cleanly. Nothing leaves this machine: the blogs, the SMTP server and the database
    all live on 127.0.0.1 and in DATA_DIR/demo.
    """
    from monitor.demo.run import run_demo

    def echo(line: str) -> None:
        click.echo(line)

    summary = run_demo(app.config, demo_dir=demo_dir, dashboard=not no_dashboard, duration=duration,
                       until_alert=until_alert, verbose=verbose, echo=echo)
    if until_alert and not summary.mails:
        click.echo("no alert email arrived; see the demo's log file for what the daemon did", err=True)
        return 1
    return 0
