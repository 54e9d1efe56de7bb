"""Alert notification: grouping into emails, repeat and resolved notices, the outbox, delivery with retries.

Alerts are routed (first `alerts.routes` entry whose `match` labels all equal the alert's, else
`smtp.recipients`) and grouped by the values of `alerts.group_by` labels. A group's first email
waits `group_wait` after its first alert fired; later emails go out when alerts were added or
resolved, at most every `group_interval`, and at least every `repeat_interval` while anything
fires. Silenced alerts are left out.

Delivery is at-least-once with a stable Message-ID: an email is written to the outbox (in the
same transaction that records the group as notified) before any attempt to send it; a row is
marked 'sending' before the SMTP transaction and 'sent' after it. A crash between the two leaves
'sending', and the next run resends the row with the SAME Message-ID, which is how the receiving
side (mail clients, list servers, deduplicating filters) recognises the duplicate. While the server
is down, rows are retried with exponential backoff (30 s doubling up to 1 h) and are never dropped.
A permanent refusal (a 5xx reply, a refused login, every recipient refused) marks the row 'failed'
with the server's answer instead: retrying cannot help until someone fixes the cause, and then
`monitor alerts retry` queues it again. Nothing is deleted either way.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from monitor.alert.evaluate import AlertState, active_silence, load_states
from monitor.alert.smtp import DeliveryError, SmtpTarget, Transport, build_message
from monitor.errors import NotConfigured
from monitor.text import one_line, truncate

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

    from monitor.config import Config

__all__ = ["NotifyStats", "backoff", "deliver", "queue", "retry_failed", "route", "run"]

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
EXAMPLES = 3
TREND_WINDOWS = 12
_SPARK = "▁▂▃▄▅▆▇█"


@dataclass
class NotifyStats:
    """What one notification run did."""

    queued: int = 0
    sent: int = 0
    failed_attempts: int = 0
    failed: int = 0  # refused for good this run (status 'failed')
    waiting: int = 0
    elapsed_s: float = 0.0
    email_enabled: bool = True


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def route(labels: Mapping[str, str], routes: Sequence[Mapping[str, Any]],
          default: Sequence[str]) -> tuple[int, list[str]]:
    """(route index, recipients) for an alert; index -1 is the default route."""
    for i, entry in enumerate(routes):
        match = entry.get("match") or {}
        if all(labels.get(k) == str(v) for k, v in match.items()):
            return i, list(entry.get("to") or default)
    return -1, list(default)


def _group_key(index: int, labels: Mapping[str, str], group_by: Sequence[str]) -> str:
    return json.dumps([index, [[k, labels.get(k, "")] for k in group_by]], ensure_ascii=False)


def _state_key(group_key: str) -> str:
    return "notify.group." + hashlib.sha256(group_key.encode()).hexdigest()[:24]


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- building the email ----------------------------------------------------------------------------

def _sparkline(values: Sequence[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(_SPARK[int((v - low) / span * (len(_SPARK) - 1))] for v in values)


def _details(conn: Connection, alert: AlertState) -> dict[str, Any]:
    """Trend of the alert's metric and the most toxic example comments of its window."""
    from sqlalchemy import func, select

    from monitor.durations import parse_duration
    from monitor.store.schema import aggregates, comments, scores, sources

    labels, notes = alert.labels, alert.annotations
    window = parse_duration(labels.get("window", "1h"))
    start = _parse(notes.get("_window_start"))
    key = notes.get("_scope_key", "")
    metric = notes.get("_metric", "")
    trend: list[float] = []
    if start is not None:
        rows = conn.execute(select(aggregates.c.metrics).where(
            aggregates.c.window_s == int(window.total_seconds()), aggregates.c.scope == labels.get("scope"),
            aggregates.c.scope_key == key, aggregates.c.window_start <= start)
            .order_by(aggregates.c.window_start.desc()).limit(TREND_WINDOWS)).scalars().all()
        trend = [float(m[metric]) for m in reversed(rows)
                 if isinstance(m.get(metric), (int, float)) and not isinstance(m.get(metric), bool)]
    examples: list[dict[str, Any]] = []
    if start is not None:
        ts = func.coalesce(comments.c.published_at, comments.c.first_seen_at)
        query = (select(comments.c.text, comments.c.author_pseudonym, scores.c.toxicity)
                 .select_from(comments.join(scores, scores.c.comment_id == comments.c.id)
                              .join(sources, sources.c.id == comments.c.source_id))
                 .where(ts >= start, ts < start + window, comments.c.text.is_not(None))
                 .order_by(scores.c.toxicity.desc()).limit(EXAMPLES * 3))
        if labels.get("source"):
            query = query.where(sources.c.name == labels["source"])
        if labels.get("article", "").isdigit():
            query = query.where(comments.c.article_id == int(labels["article"]))
        seen: set[str] = set()
        for text, author, toxicity in conn.execute(query):
            flat = truncate(one_line(text), 200)
            if flat in seen:  # the same comment under several model versions
                continue
            seen.add(flat)
            examples.append({"text": flat, "author": (author or "anonymous")[:8], "toxicity": toxicity})
            if len(examples) == EXAMPLES:
                break
    return {"trend": trend, "examples": examples, "window_start": start, "window": window}


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _render(alerts: Sequence[tuple[AlertState, dict[str, Any], str]]) -> tuple[str, str, str]:
    """(subject, text, html) for one group email; `status` per alert is 'firing' or 'resolved'."""
    firing = [a for a, _, status in alerts if status == "firing"]
    resolved = [a for a, _, status in alerts if status == "resolved"]
    names = sorted({a.labels.get("alertname", "") for a, _, _ in alerts})
    where = sorted({a.labels.get("source", "") for a, _, _ in alerts} - {""})
    head = f"[FIRING:{len(firing)}]" if firing else f"[RESOLVED:{len(resolved)}]"
    subject = f"{head} {', '.join(names)}" + (f" ({', '.join(where[:3])}{'…' if len(where) > 3 else ''})"
                                              if where else "")
    text_parts: list[str] = []
    html_parts: list[str] = []
    for alert, info, status in alerts:
        labels, notes = alert.labels, alert.annotations
        shown = " ".join(f"{k}={one_line(v)}" for k, v in sorted(labels.items()))
        summary = one_line(notes.get("summary", ""))
        start = info["window_start"]
        span = ""
        if start is not None:
            end = start + info["window"]
            end_fmt = "%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M"
            span = f"{start:%Y-%m-%d %H:%M}–{end.strftime(end_fmt)} UTC"
        value = "" if alert.value is None else _fmt(alert.value)
        threshold = notes.get("_threshold", "")
        threshold = _fmt(float(threshold)) if threshold else ""
        trend = info["trend"]
        lines = [f"{status.upper()}  {labels.get('alertname', '')}  ({shown})"]
        if summary:
            lines.append(f"  {summary}")
        if notes.get("description"):
            lines.append(f"  {one_line(notes['description'])}")
        lines.append(f"  value {value} ({notes.get('_metric', '')}), threshold {threshold}; "
                     f"window {span}; {notes.get('_comment_count', '?')} comments")
        if trend:
            lines.append(f"  trend over the last {len(trend)} windows: {_sparkline(trend)} "
                         f"{_fmt(trend[0])} → {_fmt(trend[-1])}")
        if info["examples"] and status == "firing":
            lines.append("  examples:")
            lines += [f"    [{e['toxicity']:.2f}] {e['author']}: {e['text']}" for e in info["examples"]]
        text_parts.append("\n".join(lines))

        esc = html.escape
        examples_html = "".join(
            f"<li><b>{e['toxicity']:.2f}</b> <code>{esc(e['author'])}</code>: {esc(e['text'])}</li>"
            for e in info["examples"]) if status == "firing" else ""
        html_parts.append(
            f"<h3>{esc(status.upper())}: {esc(labels.get('alertname', ''))}</h3>"
            f"<p>{esc(summary)}</p>"
            f"<table><tr><td>labels</td><td>{esc(shown)}</td></tr>"
            f"<tr><td>value</td><td>{esc(value)} ({esc(notes.get('_metric', ''))})</td></tr>"
            f"<tr><td>threshold</td><td>{esc(threshold)}</td></tr>"
            f"<tr><td>window</td><td>{esc(span)}</td></tr>"
            + (f"<tr><td>trend</td><td>{esc(_sparkline(trend))} {esc(_fmt(trend[0]))} → "
               f"{esc(_fmt(trend[-1]))}</td></tr>" if trend else "")
            + "</table>" + (f"<ul>{examples_html}</ul>" if examples_html else ""))
    footer = "Sent by monitor. Authors are pseudonyms; comment text is shortened and neutralised."
    text = "\n\n".join(text_parts) + f"\n\n-- \n{footer}\n"
    body = ("<html><body>" + "<hr>".join(html_parts) + f"<p><small>{html.escape(footer)}</small></p>"
            "</body></html>")
    return subject, text, body


# --- queueing and delivery ------------------------------------------------------------------------

def queue(conn: Connection, config: Config, now: datetime) -> int:
    """Write the emails that are due now to the outbox; returns how many."""
    from sqlalchemy import insert, select, update

    from monitor.store.repo import get_state, put_state
    from monitor.store.schema import alert_states, outbox, silences

    settings = config.alerts
    active_silences = [dict(r._mapping) for r in conn.execute(
        select(silences).where(silences.c.starts_at <= now, silences.c.ends_at > now))]
    groups: dict[str, list[AlertState]] = {}
    recipients: dict[str, list[str]] = {}
    for alert in load_states(conn).values():
        if alert.state not in ("firing", "resolved") or active_silence(alert.labels, active_silences, now):
            continue
        index, to = route(alert.labels, settings.routes, config.smtp.recipients)
        if not to:
            continue
        key = _group_key(index, alert.labels, settings.group_by)
        groups.setdefault(key, []).append(alert)
        recipients[key] = to
    queued = 0
    for key, alerts in sorted(groups.items()):
        group = get_state(conn, _state_key(key)) or {"key": key, "seq": 0, "last_sent": None, "sent": {}}
        sent: dict[str, str] = group["sent"]
        firing = [a for a in alerts if a.state == "firing"]
        resolved = [a for a in alerts if a.state == "resolved" and sent.get(a.fingerprint) == "firing"]
        last_sent = _parse(group["last_sent"])
        if last_sent is None:
            first_fired = min((a.fired_at for a in firing if a.fired_at), default=None)
            due = first_fired is not None and now - first_fired >= settings.group_wait
        else:
            added = any(sent.get(a.fingerprint) != "firing" for a in firing)
            changed = added or (bool(resolved) and settings.send_resolved)
            due = (changed and now - last_sent >= settings.group_interval) or \
                  (bool(firing) and now - last_sent >= settings.repeat_interval)
        if not due:
            if resolved and not settings.send_resolved:
                # No resolved notice will be sent: forget them, so a new firing counts as new.
                group["sent"] = {fp: st for fp, st in sent.items()
                                 if fp not in {a.fingerprint for a in resolved}}
                put_state(conn, _state_key(key), group)
            continue
        shown = [(a, "firing") for a in firing]
        if settings.send_resolved:
            shown += [(a, "resolved") for a in resolved]
        if not shown:
            continue
        subject, text, body = _render([(a, _details(conn, a), status) for a, status in shown])
        group["seq"] += 1
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        message_id = f"<{digest}.{group['seq']}.{int(now.timestamp())}@monitor.invalid>"
        conn.execute(insert(outbox).values(
            message_id=message_id, group_key=key, recipients=recipients[key], subject=subject,
            body_text=text, body_html=body, created_at=now, status="pending", attempts=0,
            next_attempt_at=now))
        group["last_sent"] = now.isoformat()
        group["sent"] = {a.fingerprint: "firing" for a in firing}
        put_state(conn, _state_key(key), group)
        conn.execute(update(alert_states).where(
            alert_states.c.fingerprint.in_([a.fingerprint for a, _ in shown])).values(last_notified_at=now))
        queued += 1
    return queued


def deliver(engine: Engine, config: Config, now: datetime, transport: Transport) -> NotifyStats:
    """Send every due outbox row; failures are rescheduled with backoff, permanent refusals are
    marked 'failed'; nothing is dropped."""
    from sqlalchemy import func, select, update

    from monitor.store.schema import outbox

    stats = NotifyStats()
    with engine.connect() as conn:
        due = conn.execute(select(outbox).where(outbox.c.status.in_(("pending", "sending")),
                                                outbox.c.next_attempt_at <= now)
                           .order_by(outbox.c.id)).all()
        conn.rollback()
    for row in due:
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(
                status="sending", attempts=outbox.c.attempts + 1))
        message = build_message(sender=config.smtp.sender, recipients=row.recipients, subject=row.subject,
                                text=row.body_text, html=row.body_html, message_id=row.message_id,
                                date=row.created_at)
        try:
            transport.send(message)
        except DeliveryError as exc:
            stats.failed_attempts += 1
            if exc.permanent:
                stats.failed += 1
                log.error("email %s refused for good: %s; fix the cause, then run `monitor alerts retry`",
                          row.message_id, exc)
            with engine.begin() as conn:
                conn.execute(update(outbox).where(outbox.c.id == row.id).values(
                    status="failed" if exc.permanent else "pending", last_error=str(exc)[:1000],
                    next_attempt_at=now + backoff(row.attempts + 1)))
            continue
        with engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(
                status="sent", sent_at=datetime.now(timezone.utc), last_error=None))
        stats.sent += 1
    with engine.connect() as conn:
        stats.waiting = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.status.in_(("pending", "sending")))).scalar_one()
    return stats


def retry_failed(conn: Connection, now: datetime, ids: Sequence[int] = ()) -> int:
    """Queue 'failed' outbox rows (all, or those in `ids`) for sending again now; how many."""
    from sqlalchemy import update

    from monitor.store.schema import outbox

    query = update(outbox).where(outbox.c.status == "failed")
    if ids:
        query = query.where(outbox.c.id.in_(list(ids)))
    return conn.execute(query.values(status="pending", next_attempt_at=now)).rowcount


def run(engine: Engine, config: Config, now: datetime | None = None,
        transport: Transport | None = None) -> NotifyStats:
    """Queue the emails that are due and send the outbox (the daemon's notification job).

    Without smtp.host or any recipient, email is off: nothing is queued (`email_enabled` False)."""
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    if not config.smtp.recipients and not any(r.get("to") for r in config.alerts.routes):
        # Email is off (the daemon says why once, at start): queue nothing, so that nothing old
        # floods out the day it is switched on.
        return NotifyStats(email_enabled=False)
    if transport is None:
        try:
            transport = SmtpTarget.from_config(config.smtp)
        except NotConfigured:
            return NotifyStats(email_enabled=False)
    with engine.begin() as conn:
        queued = queue(conn, config, now)
    stats = deliver(engine, config, now, transport)
    stats.queued = queued
    stats.elapsed_s = time.perf_counter() - started
    return stats
