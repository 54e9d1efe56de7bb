"""`monitor export --labels`: reviewers' verdicts as CSV or JSON Lines, streamed row by row."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click
from sqlalchemy import Engine

from monitor.store.verdicts import verdict_history

__all__ = ["LABEL_COLUMNS", "export_labels", "write_labels"]

# Always these columns in this order, whatever the data. `current` marks the verdict that counts
# (the newest for its comment and kind); `text` is the judged revision, empty once purged.
LABEL_COLUMNS = ("verdict_id", "comment_id", "source", "article_url", "comment_url", "kind", "value",
                 "reviewer", "created_at", "current", "lang", "text")


def _row(row: Any) -> dict[str, Any]:
    values = dict(zip(LABEL_COLUMNS, row))
    stamp = values["created_at"]
    values["created_at"] = stamp.isoformat() if isinstance(stamp, datetime) else stamp
    values["current"] = bool(values["current"])
    return values


def write_labels(engine: Engine, fmt: str, out: IO[str], *, current_only: bool = False) -> int:
    """Write every verdict (or only those that count) to `out` as csv or jsonl; returns the count."""
    count = 0
    writer = csv.DictWriter(out, LABEL_COLUMNS, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            verdict_history(current_only=current_only))
        for row in result:
            values = _row(row)
            if writer is not None:
                writer.writerow(values)
            else:
                out.write(json.dumps(values, ensure_ascii=False) + "\n")
            count += 1
    return count


def export_labels(engine: Engine, fmt: str, output: Path | None) -> None:
    """The CLI's `--labels` path: to stdout, or atomically to a file with a count on stderr."""
    if fmt not in ("csv", "jsonl"):
        raise click.UsageError(f"--labels writes csv or jsonl, not {fmt}; pass --format csv or "
                               "--format jsonl")
    if output is None:
        write_labels(engine, fmt, sys.stdout)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        count = write_labels(engine, fmt, fh)
    tmp.replace(output)
    click.echo(f"exported {count} verdict(s) to {output}", err=True)
