"""`monitor status`: the database, comment counts and collection health per source."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["status"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Show the database, comment counts per source, last collection and last error."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    from sqlalchemy import func, select

    from monitor.store.db import current_revision, open_engine, safe_url
    from monitor.store.repo import get_state, source_status
    from monitor.store.schema import comments, scores
    from monitor.text import one_line, truncate

    cfg = app.config
    engine = open_engine(cfg)
    with engine.connect() as conn:
        rows = source_status(conn)
        total = conn.execute(select(func.count()).select_from(comments)).scalar_one()
        scored = conn.execute(select(func.count(func.distinct(scores.c.comment_id)))).scalar_one()
        pending = conn.execute(select(func.count()).select_from(comments)
                               .where(comments.c.needs_scoring.is_(True),
                                      comments.c.text.is_not(None))).scalar_one()
        daemon = get_state(conn, "daemon", {})
    url = safe_url(cfg.database.url)
    if as_json:
        from monitor.jsonfmt import dumps

        click.echo(dumps({"database": url, "revision": current_revision(engine),
                          "comments": total, "scored": scored, "pending": pending,
                          "daemon": daemon, "sources": rows}, indent=2))
        return

    console = Console(highlight=False)
    console.print(Text(f"database  {url} (revision {current_revision(engine)})"))
    console.print(Text(f"comments  {total} stored, {scored} scored, {pending} waiting for scores"))
    if daemon:
        console.print(Text(f"daemon    {daemon.get('state', '?')} (pid {daemon.get('pid', '?')}, "
                           f"heartbeat {daemon.get('heartbeat', '?')})"))
    configured = {s.name for s in cfg.sources}
    missing = sorted(configured - {r["name"] for r in rows})
    if not rows and not missing:
        console.print(Text(f"No sources configured yet: add [[source]] tables to "
                           f"{cfg.paths.sources} (see README)."))
        return
    table = Table(title="sources", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("platform", no_wrap=True)
    # Short headers: the table fits 80 columns; `monitor status --json` has the long names.
    for col in ("posts", "cmts", "del", "queue"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("last ok", no_wrap=True)
    table.add_column("fail", justify="right", no_wrap=True)
    if any(r["last_error"] for r in rows):
        table.add_column("last error", overflow="fold", ratio=1, min_width=20)
    for r in rows:
        last_ok = r["last_success_at"].strftime("%m-%d %H:%M") if r["last_success_at"] else "never"
        error = truncate(one_line(r["last_error"] or ""), 120)
        cells = [Text(r["name"]), Text(r["platform"]), str(r["articles"]), str(r["comments"]),
                 str(r["deleted"]), str(r["pending"]), last_ok, str(r["consecutive_failures"])]
        if len(table.columns) > len(cells):
            cells.append(Text(error, style="red" if error else ""))
        table.add_row(*cells)
    for name in missing:
        table.add_row(Text(name), "", "0", "0", "0", "0", "never", "0",
                      *(["not collected yet"] if len(table.columns) > 8 else []))
    console.print(table)
