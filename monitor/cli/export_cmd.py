"""`monitor export`: comments with their latest scores as CSV, Parquet or JSON Lines, streamed."""

from __future__ import annotations

import os
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
              help="Output file (default: stdout; required for parquet). Must be a regular file or "
                   "not exist yet: symlinks, devices and FIFOs are refused. Written to a temporary "
                   "file beside it and renamed over it when complete.")
@click.option("--parents", is_flag=True, default=False,
              help="Create the output file's missing folders (otherwise a missing folder is an error).")
@click.option("--source", "source_name", default=None,
              help="Only this source (exit 2 when no such source is configured or stored).")
@click.option("--since", type=DURATION, default=None, help="Only comments published within, e.g. 7d.")
@click.option("--labels", is_flag=True,
              help="Export reviewers' verdicts from `monitor review` instead (csv or jsonl).")
@pass_app
def export(app: AppContext, fmt: str, output: Path | None, parents: bool, source_name: str | None,
           since, labels: bool) -> None:
    """Export comments with their latest scores (pseudonymous authors).

    The columns are the same in every format and on every result, empty ones included: stance
    columns for each configured target, slurs as a list of {term, target} (a JSON array in CSV),
    timestamps as 2026-11-20T08:30:00Z (native UTC timestamps in Parquet). Rows are streamed in
    batches, so memory stays flat however many comments there are; a write error (a full disk, a
    closed pipe) exits with status 1 and leaves no partial file behind."""
    from monitor.errors import InputError
    from monitor.export import (ExportWriteError, export_batches, export_schema, known_sources,
                                open_target, stance_targets, write_export)
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
    targets = list(app.config.targets) + [t for t in stance_targets(engine)
                                          if t not in app.config.targets]
    batches = export_batches(engine, source=source_name, since=since, targets=targets)
    schema = export_schema(targets)
    if output is None:
        try:
            write_export(batches, schema, fmt, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except OSError as exc:
            raise ExportWriteError(f"cannot write to stdout: {exc.strerror or exc}") from None
        return
    sink, tmp = open_target(output, parents=parents)
    try:
        with sink:
            total = write_export(batches, schema, fmt, sink)
            sink.flush()
            os.fsync(sink.fileno())
        tmp.replace(output)  # a failed export never leaves a half-written file behind
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportWriteError(f"cannot write {output}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    click.echo(f"exported {total} comment(s) to {output}", err=True)
