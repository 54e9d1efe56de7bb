"""`monitor score`: JSON Lines of comments in, JSON Lines of scores out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any, Iterator

import click

from monitor.cli import AppContext, pass_app

__all__ = ["parse_line", "score"]


def parse_line(line: str) -> Any:
    """A ScoreInput from one JSON line; ValueError says what is wrong with it."""
    from monitor.score.base import ScoreInput

    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("expected an object like {\"id\": 1, \"text\": \"...\"}")
    if "id" not in obj:
        raise ValueError("missing \"id\"")
    if not isinstance(obj.get("text"), str):
        raise ValueError("\"text\" must be a string")
    lang = obj.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise ValueError("\"lang\" must be a string such as \"de\"")
    return ScoreInput(obj["id"], obj["text"], lang or None)


def _inputs(stream: IO[str], skipped: list[int]) -> Iterator[Any]:
    from monitor.text import one_line

    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield parse_line(line)
        except ValueError as exc:
            skipped.append(number)
            click.echo(f"line {number}: skipped: {one_line(str(exc))}", err=True)


@click.command()
@click.option("--input", "-i", "input_path", type=click.Path(dir_okay=False, exists=True,
              path_type=Path), default=None,
              help='JSON Lines to score, one {"id": …, "text": "…", "lang": optional} per line '
                   "(default: stdin).")
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the scores as JSON Lines (default: stdout).")
@click.option("--no-lexicon", is_flag=True, default=False,
              help="Do not match the slur lexicon (coined-slur discovery still runs).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Comments per model batch (default: scoring.batch_size).")
@click.option("--progress/--no-progress", default=None,
              help="Show model loading, a progress bar and a closing count on stderr "
                   "(default: when stderr is a terminal).")
@click.option("--processes", type=click.IntRange(0, 64), default=None,
              help="Scoring processes, each with its own models (default: scoring.processes; "
                   "0 = one per CPU core).")
@pass_app
def score(app: AppContext, input_path: Path | None, output_path: Path | None, no_lexicon: bool,
          batch_size: int | None, progress: bool | None, processes: int | None) -> int:
    """Score comments for toxicity (and stance and slurs) from JSON Lines.

    Each valid input line gives one output line, in input order. A malformed line gives none: it
    is reported on stderr with its number and skipped, and the exit status is then 1.
    """
    from monitor.score_pool import make_scorer

    config = app.config
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        click.echo("loading models …", err=True)
    scorer = make_scorer(config, processes, use_lexicon=not no_lexicon and config.scoring.use_lexicon)
    size = batch_size or config.scoring.batch_size
    skipped: list[int] = []
    source = input_path.open(encoding="utf-8") if input_path else sys.stdin
    sink = (output_path.open("w", encoding="utf-8") if output_path
            else sys.stdout)
    total = None
    written = 0
    if input_path and show:
        with input_path.open(encoding="utf-8") as fh:
            total = sum(1 for line in fh if line.strip())
    try:
        with _Progress(total, show) as advance:
            for result in _scored(scorer, _inputs(source, skipped), size):
                row = result.to_json()
                if not row.get("attributes"):
                    row.pop("attributes", None)
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
                advance()
        sink.flush()
    finally:
        scorer.close()
        if input_path:
            source.close()
        if output_path:
            sink.close()
    if show:
        click.echo(f"scored {written} comment(s)", err=True)
    if skipped:
        click.echo(f"{len(skipped)} line(s) skipped", err=True)
        return 1
    return 0


def _scored(scorer: Any, inputs: Iterator[Any], batch_size: int) -> Iterator[Any]:
    """Scores in input order, with up to one batch per scoring process in flight (and one more
    being read), so every process stays busy and memory stays bounded."""
    from collections import deque
    from itertools import islice

    pending: deque[Any] = deque()
    while True:
        while len(pending) <= scorer.width:
            batch = list(islice(inputs, batch_size))
            if not batch:
                break
            pending.append(scorer.submit(batch))
        if not pending:
            return
        yield from pending.popleft().result()


class _Progress:
    """A rich progress bar on stderr when asked for; otherwise nothing."""

    def __init__(self, total: int | None, show: bool) -> None:
        self.total = total
        self.show = show
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return lambda: None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("scoring", total=self.total)
        return lambda: self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
