"""`monitor collect`: one collection pass over the configured sources into the database."""

from __future__ import annotations

import sys
from typing import Any

import click

from monitor.cli import AppContext, pass_app
from monitor.errors import InputError

__all__ = ["collect"]


class _RichProgress:
    """A bar for the whole pass and one per source while it runs (hosts run side by side), on
    stderr; summaries are printed by the command."""

    def __init__(self, sources: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.tasks: dict[str, Any] = {}
        self.total = self.progress.add_task("sources", total=sources)

    def __enter__(self) -> _RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: str, name: str, **details: Any) -> None:
        from rich.markup import escape

        from monitor.text import one_line

        if event == "start":
            self.tasks[name] = self.progress.add_task(escape(one_line(name)), total=details["total"] or 1)
        elif event == "article":
            self.progress.advance(self.tasks[name])
        elif event == "done":
            self.progress.remove_task(self.tasks.pop(name))
            self.progress.advance(self.total)


@click.command("collect")
@click.option("--source", "names", multiple=True, metavar="NAME",
              help="Collect only this source (repeatable); default: every enabled source.")
@click.option("--once", is_flag=True,
              help="One pass and exit: what `collect` always does (continuous collection is "
                   "`monitor run`); accepted for scripts that spell it out.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress display (default: when stderr is a terminal).")
@click.option("--concurrency", type=click.IntRange(1, 256), default=None, metavar="N",
              help="Hosts collected side by side (default: collect.concurrency); each host still "
                   "gets one request at a time.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per source (JSON Lines) instead of summary lines.")
@pass_app
def collect(app: AppContext, names: tuple[str, ...], once: bool, progress: bool | None,
            concurrency: int | None, as_json: bool) -> int:
    """Collect new and changed comments from the configured sources into the database, once.

    Prints one summary line per source; exits 1 if any source failed. `monitor run` collects on
    a schedule.
    """
    from monitor.collect.runner import collect_all
    from monitor.store.db import open_engine

    config = app.config
    sources = config.sources
    if names:
        known = {s.name: s for s in sources}
        missing = [n for n in names if n not in known]
        if missing:
            raise InputError(f"unknown source(s): {', '.join(missing)} "
                             f"(configured: {', '.join(sorted(known)) or 'none'}; see {config.paths.sources})")
        sources = [known[n] for n in names]
    enabled = [s for s in sources if s.enabled or names]
    if not enabled:
        click.echo(f"No enabled sources in {config.paths.sources}; add a [[source]] table.", err=True)
        return 0
    engine = open_engine(config)
    show = sys.stderr.isatty() if progress is None else progress
    try:
        if show:
            with _RichProgress(len(enabled)) as bar:
                outcomes = collect_all(engine, config, _force_enabled(enabled), progress=bar,
                                       concurrency=concurrency)
        else:
            outcomes = collect_all(engine, config, _force_enabled(enabled), concurrency=concurrency)
    finally:
        engine.dispose()
    for outcome in outcomes:
        if as_json:
            from dataclasses import asdict

            from monitor.jsonfmt import dumps

            click.echo(dumps({**asdict(outcome), "seconds": round(outcome.seconds, 3)}))
        else:
            click.echo(outcome.summary())
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _force_enabled(sources: list[Any]) -> list[Any]:
    # A source named on the command line is collected even when disabled in the config.
    return [s if s.enabled else s.model_copy(update={"enabled": True}) for s in sources]
