"""`monitor aggregate`: recompute windowed metrics into the aggregates table."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["aggregate"]


@click.command()
@click.option("--full", is_flag=True, help="Recompute every window from all scored comments, "
                                           "not only the windows touched since the last run.")
@pass_app
def aggregate(app: AppContext, full: bool) -> None:
    """Compute per-window metrics (overall, per source, per article) for the dashboard and rules."""
    from monitor import aggregate as agg
    from monitor.store.db import open_engine

    from rich.console import Console

    engine = open_engine(app.config)
    # Steps go to stderr (a spinner on a terminal, one line each otherwise); the summary to stdout.
    console = Console(stderr=True, highlight=False)
    if console.is_terminal:
        with console.status("aggregating") as status:
            stats = agg.run(engine, app.config, full=full, progress=lambda step: status.update(f"{step} …"))
    else:
        stats = agg.run(engine, app.config, full=full, progress=lambda step: console.print(f"{step} …"))
    click.echo(f"{stats.comments_read} comments read, {stats.windows_recomputed} windows recomputed, "
               f"{stats.rows_written} rows written in {stats.elapsed_s:.2f}s"
               + (" (full recompute)" if full else ""))
