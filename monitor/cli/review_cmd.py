"""`monitor review`: judge the comments most worth a human look, or browse sources → comments."""

from __future__ import annotations

import getpass
import json
import sys

import click

from monitor.cli import AppContext, pass_app

__all__ = ["review"]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "unknown"


@click.command()
@click.option("--reviewer", default=None,
              help="Name stored with each verdict (default: the operating-system user).")
@click.option("--browse", is_flag=True,
              help="Start on the drill-down: sources → articles → comments with scores and links.")
@click.option("--source", "source_name", default=None, help="Queue only this source's comments.")
@click.option("--limit", type=click.IntRange(1, 5000), default=200, show_default=True,
              help="Most comments in the queue.")
@click.option("--margin", type=click.FloatRange(0.0, 0.5), default=0.1, show_default=True,
              help="How close to the toxicity threshold a score must be to count as borderline.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the queue as JSON Lines (comment, reasons, scores, link) and exit.")
@pass_app
def review(app: AppContext, reviewer: str | None, browse: bool, source_name: str | None, limit: int,
           margin: float, as_json: bool) -> None:
    """Review queue: one key records a verdict (toxic or not, stance per target, slur yes or no).

    The queue puts first the comments whose signals disagree (a slur against a target the comment
    favours, toxic yet favouring), then unjudged coinages, scores near the threshold and each
    source's most toxic. Verdicts are stored with reviewer and time; `monitor export --labels`
    writes them out and training reads them (monitor.review.verdicts).
    """
    from sqlalchemy import select

    from monitor.review.queue import build_queue, default_threshold
    from monitor.store.db import open_engine
    from monitor.store.schema import sources

    config = app.config
    engine = open_engine(config)
    if source_name is not None:
        with engine.connect() as conn:
            known = conn.execute(select(sources.c.name).where(sources.c.name == source_name)).first()
        if known is None:
            raise click.BadParameter(f"no source named {source_name!r} in the database; see "
                                     "`monitor status`", param_hint="--source")
    threshold = default_threshold(config)
    targets = sorted(config.targets)
    items = [] if browse else build_queue(engine, threshold=threshold, targets=targets,
                                          margin=margin, limit=limit, source=source_name)
    if as_json:
        for item in items:
            click.echo(json.dumps({
                "comment_id": item.comment_id, "source": item.source, "reasons": list(item.reasons),
                "toxicity": item.toxicity, "toxic": item.toxic, "stance": item.stance,
                "slurs": [{"term": t, "target": g, "kind": k} for t, _, g, k in item.slurs],
                "lang": item.lang, "article_title": item.article_title, "link": item.link,
                "text": item.text}))  # ASCII escapes: no control or bidi character reaches a terminal
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("monitor review is interactive and needs a terminal; "
                               "use --json to print the queue instead")
    from monitor.review.app import ReviewApp
    from monitor.text import one_line

    name = (reviewer or _os_user()).strip()
    if not name:
        raise click.BadParameter("must not be empty", param_hint="--reviewer")
    tui = ReviewApp(engine, reviewer=name, targets=targets, threshold=threshold, items=items,
                    browse=browse)
    tui.run()
    click.echo(f"{tui.recorded} verdict(s) recorded by {one_line(name)}", err=True)
