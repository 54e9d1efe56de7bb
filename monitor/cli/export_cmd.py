"""`monitor export`: comments with their latest scores as CSV, Parquet or JSON Lines, streamed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from monitor.cli import AppContext, pass_app
from monitor.cli.db_cmd import DURATION

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
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option("--since", type=DURATION, default=None, help="Only comments published within, e.g. 7d.")
@pass_app
def export(app: AppContext, fmt: str, output: Path | None, parents: bool, source_name: str | None,
           since) -> None:
    """Export comments with their latest scores (pseudonymous authors).

    Rows are streamed in batches, so memory stays flat however many comments there are. A write
    error (a full disk, a closed pipe) exits with status 1 and leaves no partial file behind.
    """
    from monitor.errors import InputError
    from monitor.export import (ExportWriteError, export_batches, export_schema, open_target,
                                stance_targets, write_export)
    from monitor.store.db import open_engine

    if fmt == "parquet" and output is None:
        raise InputError("parquet is binary: give --output FILE.parquet")
    engine = open_engine(app.config)
    targets = stance_targets(engine)
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
