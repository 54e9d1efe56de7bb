"""`monitor export`: comments with their latest scores as CSV, Parquet or JSON Lines (polars)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import AppContext, pass_app
from monitor.cli.params import DURATION

__all__ = ["export"]


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "jsonl"]), default="csv",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: stdout; required for parquet).")
@click.option("--source", "source_name", default=None,
              help="Only this source (exit 2 when no such source is configured or stored).")
@click.option("--since", type=DURATION, default=None, help="Only comments published within, e.g. 7d.")
@click.option("--labels", is_flag=True,
              help="Export reviewers' verdicts from `monitor review` instead (csv or jsonl).")
@pass_app
def export(app: AppContext, fmt: str, output: Path | None, source_name: str | None, since,
           labels: bool) -> None:
    """Export comments with their latest scores (pseudonymous authors).

    The columns are the same in every format and on every result, empty ones included: stance
    columns for each configured target, slurs as a list of {term, target} (a JSON array in CSV),
    timestamps as 2026-11-20T08:30:00Z (native UTC timestamps in Parquet)."""
    from monitor.errors import InputError
    from monitor.export import export_frame, known_sources
    from monitor.store.db import open_engine

    if labels:
        from monitor.review.export import export_labels

        export_labels(open_engine(app.config), fmt, output)
        return

    if fmt == "parquet" and output is None:
        raise InputError("parquet is binary: give --output FILE.parquet")
    engine = open_engine(app.config)
    if source_name is not None:
        known = sorted({s.name for s in app.config.sources} | set(known_sources(engine)))
        if source_name not in known:
            from monitor.text import one_line

            raise click.BadParameter(f"no source {one_line(source_name)!r} (known: "
                                     f"{', '.join(known) or 'none'})", param_hint="--source")
    frame = export_frame(engine, source=source_name, since=since, targets=list(app.config.targets))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".part")
        _write(frame, fmt, tmp)
        tmp.replace(output)  # a failed export never leaves a half-written file behind
        click.echo(f"exported {frame.height} comment(s) to {output}", err=True)
    else:
        _write(frame, fmt, sys.stdout)


def _write(frame, fmt: str, target) -> None:
    from monitor.export import for_text

    if fmt == "csv":
        for_text(frame, csv=True).write_csv(target)
    elif fmt == "jsonl":
        for_text(frame, csv=False).write_ndjson(target)
    else:
        frame.write_parquet(target)
