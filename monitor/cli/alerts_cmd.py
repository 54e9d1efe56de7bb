"""`monitor alerts`: list alerts, silences and the email outbox; add and end silences; retry emails."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import click

from monitor.cli import AppContext, pass_app
from monitor.cli.params import POSITIVE_DURATION

__all__ = ["alerts"]


def _matchers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, wanted = value.partition("=")
        if not sep or not name.strip() or not wanted:
            raise click.BadParameter(f"{value!r}: expected LABEL=VALUE, e.g. source=daily-news")
        out[name.strip()] = wanted
    if not out:
        raise click.BadParameter("give at least one --match LABEL=VALUE")
    return out


@click.group()
def alerts() -> None:
    """Show firing and pending alerts, and silence them."""


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also show resolved alerts and sent emails.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (alerts, silences, outbox) instead of tables.")
@pass_app
def list_cmd(app: AppContext, show_all: bool, as_json: bool) -> None:
    """Alerts by state, active silences and emails waiting in the outbox."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from monitor.alert.evaluate import active_silence, load_states
    from monitor.store.db import open_engine
    from monitor.store.schema import outbox, silences
    from monitor.text import one_line

    now = datetime.now(timezone.utc)
    engine = open_engine(app.config)
    with engine.connect() as conn:
        states = load_states(conn)
        active = [dict(r._mapping) for r in conn.execute(
            select(silences).where(silences.c.ends_at > now).order_by(silences.c.id))]
        mails = conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(20)).all()
    # Stored strings (SMTP replies, labels) are data: markup=False keeps a "[/x]" in them literal.
    console = Console(highlight=False, markup=False)
    order = {"firing": 0, "pending": 1, "resolved": 2}
    shown = sorted((s for s in states.values() if show_all or s.state != "resolved"),
                   key=lambda s: (order.get(s.state, 3), s.rule, sorted(s.labels.items())))
    if as_json:
        from monitor.jsonfmt import dumps

        current = [x for x in active if x["starts_at"] <= now]
        alerts_out = []
        for s in shown:
            silence = active_silence(s.labels, current, now)
            alerts_out.append({
                "state": s.state, "alertname": s.labels.get("alertname", s.rule), "rule": s.rule,
                "labels": s.labels, "annotations": s.annotations, "value": s.value,
                "active_since": s.active_since, "fired_at": s.fired_at, "resolved_at": s.resolved_at,
                "silenced_by": silence["id"] if silence else None})
        click.echo(dumps({
            "alerts": alerts_out,
            "silences": [{"id": x["id"], "matchers": x["matchers"], "starts_at": x["starts_at"],
                          "ends_at": x["ends_at"], "comment": x["comment"]} for x in active],
            "outbox": [{"id": m.id, "status": m.status, "attempts": m.attempts, "subject": m.subject,
                        "next_attempt_at": m.next_attempt_at, "last_error": m.last_error}
                       for m in mails if show_all or m.status != "sent"],
        }, indent=2))
        return
    table = Table(title="Alerts", title_justify="left")
    for col in ("state", "alert", "labels", "value", "since", "silenced"):
        table.add_column(col)
    for s in shown:
        labels = " ".join(f"{k}={one_line(v)}" for k, v in sorted(s.labels.items()) if k != "alertname")
        since = s.fired_at if s.state == "firing" else s.resolved_at if s.state == "resolved" else s.active_since
        silence = active_silence(s.labels, [x for x in active if x["starts_at"] <= now], now)
        table.add_row(s.state, one_line(s.labels.get("alertname", s.rule)), labels,
                      "" if s.value is None else f"{s.value:.3g}",
                      f"{since:%Y-%m-%d %H:%M}" if since else "", f"#{silence['id']}" if silence else "",
                      style={"firing": "bold red", "pending": "yellow"}.get(s.state))
    console.print(table if shown else "No alerts.")
    if active:
        stable = Table(title="Silences", title_justify="left")
        for col in ("id", "matchers", "from", "until", "comment"):
            stable.add_column(col)
        for x in active:
            stable.add_row(str(x["id"]), " ".join(f"{k}={one_line(v)}" for k, v in x["matchers"].items()),
                           f"{x['starts_at']:%Y-%m-%d %H:%M}", f"{x['ends_at']:%Y-%m-%d %H:%M}",
                           one_line(x["comment"] or ""))
        console.print(stable)
    waiting = [m for m in mails if show_all or m.status != "sent"]
    if waiting:
        mtable = Table(title="Outbox", title_justify="left")
        for col in ("id", "receiver", "status", "attempts", "subject", "next try", "last error"):
            mtable.add_column(col)
        for m in waiting:
            mtable.add_row(str(m.id), one_line(m.receiver), m.status, str(m.attempts), one_line(m.subject),
                           "" if m.status == "sent" else "on retry" if m.status == "failed"
                           else f"{m.next_attempt_at:%H:%M:%S}",
                           one_line(m.last_error or "")[:80])
        console.print(mtable)


@alerts.command("silence")
@click.option("--match", "matchers", multiple=True, callback=_matchers, metavar="LABEL=VALUE",
              help="Label that must equal VALUE (repeatable; all must match), e.g. source=daily-news.")
@click.option("--for", "duration", type=POSITIVE_DURATION, default="2h", show_default=True,
              help="How long the silence lasts, e.g. 30m, 2h, 1d.")
@click.option("--comment", default="", help="Why (shown in `monitor alerts list`).")
@pass_app
def silence(app: AppContext, matchers: dict[str, str], duration: timedelta, comment: str) -> None:
    """Mute notifications for alerts whose labels match, for a while."""
    from sqlalchemy import insert

    from monitor.store.db import open_engine
    from monitor.store.schema import silences
    from monitor.text import one_line

    now = datetime.now(timezone.utc)
    engine = open_engine(app.config)
    known = _known_labels(app.config, engine)
    for name in matchers:
        if name not in known:
            import difflib

            hint = next(iter(difflib.get_close_matches(name, sorted(known), n=1)), None)
            raise click.BadParameter(
                f"no alert has the label {one_line(name)!r}"
                + (f" (did you mean {hint!r}?)" if hint else "")
                + f"; labels in use: {', '.join(sorted(known))}", param_hint="--match")
    with engine.begin() as conn:
        new_id = conn.execute(insert(silences).values(
            matchers=matchers, starts_at=now, ends_at=now + duration, comment=comment or None,
            created_at=now)).inserted_primary_key[0]
    shown = " ".join(f"{k}={one_line(v)}" for k, v in matchers.items())
    click.echo(f"silence #{new_id}: {shown} until {now + duration:%Y-%m-%d %H:%M} UTC")


def _known_labels(config: Any, engine: Any) -> set[str]:
    """Label names a silence can match: the monitor's own, the rules' and the stored alerts'."""
    from monitor.alert.evaluate import load_states
    from monitor.alert.rules import check_files, rule_files

    known = {"alertname", "scope", "window", "source", "article"}
    groups, _ = check_files(rule_files([], config.rules_dir), targets=sorted(config.targets))
    known.update(name for group in groups for rule in group.rules for name in rule.labels)
    with engine.connect() as conn:
        known.update(name for state in load_states(conn).values() for name in state.labels)
    return known


@alerts.command("unsilence")
@click.argument("silence_id", type=int)
@pass_app
def unsilence(app: AppContext, silence_id: int) -> None:
    """End silence SILENCE_ID now (see `monitor alerts list` for ids)."""
    from sqlalchemy import update

    from monitor.errors import InputError
    from monitor.store.db import open_engine
    from monitor.store.schema import silences

    now = datetime.now(timezone.utc)
    with open_engine(app.config).begin() as conn:
        done = conn.execute(update(silences).where(silences.c.id == silence_id, silences.c.ends_at > now)
                            .values(ends_at=now)).rowcount
    if not done:
        raise InputError(f"no active silence #{silence_id}; `monitor alerts list` shows the active ones")
    click.echo(f"silence #{silence_id} ended")


@alerts.command("retry")
@click.argument("email_ids", type=int, nargs=-1)
@pass_app
def retry(app: AppContext, email_ids: tuple[int, ...]) -> None:
    """Send notifications refused for good again (all, or EMAIL_IDS from `monitor alerts list`).

    Run it after fixing what the refusal named (login, recipients, smtp.security, a webhook URL);
    the daemon sends them on its next notification run, with their original Message-ID, to the
    recipients that have not got them yet. Notifications stopped after alerts.max_uncertain_copies
    attempts that may have arrived get another round."""
    from monitor.alert.notify import retry_failed
    from monitor.store.db import open_engine

    with open_engine(app.config).begin() as conn:
        queued = retry_failed(conn, datetime.now(timezone.utc), email_ids)
    if email_ids and queued < len(email_ids):
        click.echo(f"{len(email_ids) - queued} of the given emails are not in the 'failed' state; "
                   "see `monitor alerts list --all`", err=True)
    click.echo(f"{queued} email{'s' if queued != 1 else ''} queued to be sent again")
