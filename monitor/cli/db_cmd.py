"""`monitor db`: schema migrations and the retention purge."""

from __future__ import annotations

from datetime import timedelta

import click

from monitor.cli import AppContext, pass_app
from monitor.cli.params import DURATION

__all__ = ["db"]


@click.group()
def db() -> None:
    """Create or migrate the database, and purge old comment text."""


@db.command("upgrade")
@pass_app
def upgrade_cmd(app: AppContext) -> None:
    """Create the database or apply pending migrations (safe to repeat)."""
    from monitor.store.db import engine_for_url, upgrade

    cfg = app.config
    engine = engine_for_url(cfg.database.url, busy_timeout_s=cfg.database.busy_timeout_s)
    before, after = upgrade(engine)
    if before == after:
        click.echo(f"database is up to date (revision {after})")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db.command("purge")
@click.option("--older-than", "older_than", type=DURATION, default=None,
              help="Age past which comment text and pseudonyms are removed, e.g. 90d "
                   "(default: retention.comments).")
@click.option("--dry-run", is_flag=True, help="Count what would be purged and change nothing.")
@pass_app
def purge_cmd(app: AppContext, older_than: timedelta | None, dry_run: bool) -> None:
    """Remove comment text, names and pseudonyms past retention; scores and aggregates stay."""
    from monitor.alert.rules import format_duration
    from monitor.store.db import open_engine
    from monitor.store.repo import purge_older_than

    cfg = app.config
    age = cfg.retention.comments if older_than is None else older_than
    with open_engine(cfg).begin() as conn:
        n = purge_older_than(conn, age)
        if dry_run:
            conn.rollback()  # the same selection as a real purge, undone
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} {n} comment(s) older than {format_duration(age)}")
