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

    engine = open_engine(app.config)
    stats = agg.run(engine, app.config, full=full)
    click.echo(f"{stats.comments_read} comments read, {stats.windows_recomputed} windows recomputed, "
               f"{stats.rows_written} rows written in {stats.elapsed_s:.2f}s"
               + (" (full recompute)" if full else ""))
