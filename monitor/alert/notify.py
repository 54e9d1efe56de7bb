"""Alert notification: grouping, repeat and resolved notices, the outbox, delivery to receivers with retries.

Alerts are routed (first `alerts.routes` entry whose `match` labels all equal the alert's; its
`receivers` and `to` name where it goes; unmatched alerts go to the receiver "email", which mails
`smtp.recipients`) and grouped by the values of `alerts.group_by` labels. A group's first
notification waits `group_wait` after its first alert fired; later ones go out when alerts were
added or resolved, at most every `group_interval`, and at least every `repeat_interval` while
anything fires. Silenced alerts are left out.

Delivery is at-least-once with a stable id per notification and receiver (an email's Message-ID):
each receiver's rendered payload is written to the outbox (in the same transaction that records
the group as notified) before any attempt to send it; a row is marked 'sending' before the attempt
and 'sent' after it. A crash between the two leaves 'sending', and the next run sends the row again
with the SAME id, which is how the receiving side recognises the duplicate. While a destination is
down, rows are retried with exponential backoff (30 s doubling up to 1 h) and are never dropped.

What reached whom is recorded per target (`outcome`): recipients an SMTP server refused are
retried (4xx) or, refused for good (5xx), leave the row 'failed' with the server's answer, and
`monitor alerts retry` sends it again to them only. A permanent refusal of the whole notification (a
5xx reply, a refused login, an HTTP 4xx) marks the row 'failed' too: retrying cannot help until
someone fixes the cause. Copies are bounded: an attempt that may have delivered without a
confirmation (connection lost after the message was handed over, or a crash mid-send) counts
against `alerts.max_uncertain_copies`; at that count the row is marked 'failed' instead of being
sent again. Nothing is deleted either way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from monitor.alert.content import build_group
from monitor.alert.evaluate import AlertState, active_silence, load_states
from monitor.alert.receiver import DeliveryError
from monitor.alert.receivers import DEFAULT_RECEIVER, build_receivers, route_receiver_name
from monitor.alert.receivers.email import EmailReceiver
from monitor.alert.smtp import Transport

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

    from monitor.alert.receiver import Receiver
    from monitor.config import Config, RouteSettings

__all__ = ["NotifyStats", "backoff", "deliver", "queue", "retry_failed", "route", "run"]

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


@dataclass
class NotifyStats:
    """What one notification run did."""

    queued: int = 0
    sent: int = 0
    failed_attempts: int = 0
    failed: int = 0  # refused for good this run (status 'failed')
    partial: int = 0  # delivered to some targets; the others wait or failed
    waiting: int = 0
    elapsed_s: float = 0.0
    email_enabled: bool = True  # any receiver enabled (the name predates webhooks)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def route(labels: Mapping[str, str], routes: Sequence[RouteSettings]) -> tuple[int, list[str]]:
    """(route index, receiver names) for an alert; index -1 is the default route."""
    for i, entry in enumerate(routes):
        if all(labels.get(k) == v for k, v in entry.match.items()):
            names = list(entry.receivers) + ([route_receiver_name(i)] if entry.to else [])
            return i, names or [DEFAULT_RECEIVER]
    return -1, [DEFAULT_RECEIVER]


def _group_key(index: int, labels: Mapping[str, str], group_by: Sequence[str]) -> str:
    return json.dumps([index, [[k, labels.get(k, "")] for k in group_by]], ensure_ascii=False)


def _state_key(group_key: str) -> str:
    return "notify.group." + hashlib.sha256(group_key.encode()).hexdigest()[:24]


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- queueing and delivery ------------------------------------------------------------------------

def queue(conn: Connection, config: Config, now: datetime, receivers: Mapping[str, Receiver]) -> int:
    """Write the notifications that are due now to the outbox, one row per receiver; how many."""
    from sqlalchemy import insert, select, update

    from monitor.store.repo import get_state, put_state
    from monitor.store.schema import alert_states, outbox, silences

    settings = config.alerts
    active_silences = [dict(r._mapping) for r in conn.execute(
        select(silences).where(silences.c.starts_at <= now, silences.c.ends_at > now))]
    groups: dict[str, list[AlertState]] = {}
    destinations: dict[str, list[str]] = {}
    group_labels: dict[str, dict[str, str]] = {}
    for alert in load_states(conn).values():
        if alert.state not in ("firing", "resolved") or active_silence(alert.labels, active_silences, now):
            continue
        index, names = route(alert.labels, settings.routes)
        names = [n for n in names if n in receivers]
        if not names:
            continue
        key = _group_key(index, alert.labels, settings.group_by)
        groups.setdefault(key, []).append(alert)
        destinations[key] = names
        group_labels[key] = {k: alert.labels.get(k, "") for k in settings.group_by}
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
        group["seq"] += 1
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        view = build_group(conn, key, f"{digest}.{group['seq']}.{int(now.timestamp())}", group_labels[key],
                           shown, now, targets=sorted(config.targets), top_authors=config.aggregate.top_authors)
        for name in destinations[key]:
            receiver = receivers[name]
            payload = receiver.render(view)
            conn.execute(insert(outbox).values(
                message_id=view.delivery_id(name), group_key=key, receiver=name,
                subject=receiver.summary(payload), payload=payload, created_at=now, status="pending",
                attempts=0, next_attempt_at=now))
            queued += 1
        group["last_sent"] = now.isoformat()
        group["sent"] = {a.fingerprint: "firing" for a in firing}
        put_state(conn, _state_key(key), group)
        conn.execute(update(alert_states).where(
            alert_states.c.fingerprint.in_([a.fingerprint for a, _ in shown])).values(last_notified_at=now))
    return queued


def _mark(engine: Engine, row_id: int, **values: Any) -> None:
    from sqlalchemy import update

    from monitor.store.schema import outbox

    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


def deliver(engine: Engine, config: Config, now: datetime, receivers: Mapping[str, Receiver],
            disabled: Mapping[str, str] | None = None) -> NotifyStats:
    """Send every due outbox row through its receiver; failures are rescheduled with backoff,
    permanent refusals and too many uncertain attempts are marked 'failed'; nothing is dropped."""
    from sqlalchemy import func, select

    from monitor.store.schema import outbox

    cap = config.alerts.max_uncertain_copies
    stats = NotifyStats()
    with engine.connect() as conn:
        due = conn.execute(select(outbox).where(outbox.c.status.in_(("pending", "sending")),
                                                outbox.c.next_attempt_at <= now)
                           .order_by(outbox.c.id)).all()
        conn.rollback()
    for row in due:
        outcome: dict[str, Any] = dict(row.outcome or {})
        receiver = receivers.get(row.receiver)
        if receiver is None:
            why = (disabled or {}).get(row.receiver, "it is not in alerts.receivers")
            stats.failed += 1
            _mark(engine, row.id, status="failed", last_error=f"receiver {row.receiver!r} is off: {why}; "
                  "enable it again, then run `monitor alerts retry`")
            continue
        if row.status == "sending":  # the process died during an attempt: it may have arrived
            outcome["uncertain"] = outcome.get("uncertain", 0) + 1
        if outcome.get("uncertain", 0) >= cap:
            stats.failed += 1
            _mark(engine, row.id, status="failed", outcome=outcome, last_error=_capped(outcome, cap, row.last_error))
            continue
        _mark(engine, row.id, status="sending", attempts=row.attempts + 1, outcome=outcome)
        try:
            delivery = receiver.send(row.payload)
        except DeliveryError as exc:
            stats.failed_attempts += 1
            status, error = ("failed" if exc.permanent else "pending"), str(exc)
            if exc.uncertain:
                outcome["uncertain"] = outcome.get("uncertain", 0) + 1
                if outcome["uncertain"] >= cap:
                    status, error = "failed", _capped(outcome, cap, error)
            if status == "failed":
                stats.failed += 1
                if "monitor alerts retry" not in error:
                    error += "; fix the cause, then run `monitor alerts retry`"
                log.error("notification %s (%s) refused for good: %s", row.message_id, row.receiver, error)
            _mark(engine, row.id, status=status, outcome=outcome, last_error=error[:1000],
                  next_attempt_at=now + backoff(row.attempts + 1))
            continue
        at = datetime.now(timezone.utc)
        targets = dict(outcome.get("targets") or {})
        targets.update({t: {"outcome": o, "at": at.isoformat()} for t, o in delivery.outcomes.items()})
        outcome["targets"] = targets
        if delivery.remaining is None:
            stats.sent += 1
            _mark(engine, row.id, status="sent", sent_at=at, outcome=outcome, last_error=None)
            continue
        stats.partial += 1
        refused = {t: o for t, o in delivery.outcomes.items() if not o.startswith("delivered")}
        reached = sorted(t for t, o in targets.items() if o["outcome"].startswith("delivered"))
        error = (f"delivered to {', '.join(reached) or 'nobody'}; "
                 + "; ".join(f"{t} {o}" for t, o in sorted(refused.items())))
        if delivery.permanent:
            stats.failed += 1
            error += "; fix the recipients, then `monitor alerts retry` sends it to them only"
            log.error("notification %s (%s) partly refused: %s", row.message_id, row.receiver, error)
        _mark(engine, row.id, status="failed" if delivery.permanent else "pending", payload=delivery.remaining,
              outcome=outcome, last_error=error[:1000], next_attempt_at=now + backoff(row.attempts + 1))
    with engine.connect() as conn:
        stats.waiting = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.status.in_(("pending", "sending")))).scalar_one()
    return stats


def _capped(outcome: Mapping[str, Any], cap: int, error: str | None) -> str:
    return (f"{error or 'interrupted'}; it may have arrived up to {outcome.get('uncertain', 0)} times "
            f"without a confirmation, so it is not sent again (alerts.max_uncertain_copies = {cap}); "
            "check the receiving server, then `monitor alerts retry` sends it once more")


def retry_failed(conn: Connection, now: datetime, ids: Sequence[int] = ()) -> int:
    """Queue 'failed' outbox rows (all, or those in `ids`) for sending again now; how many.

    The count of uncertain attempts starts again, so a row capped by it gets its attempts back."""
    from sqlalchemy import select, update

    from monitor.store.schema import outbox

    query = select(outbox.c.id, outbox.c.outcome).where(outbox.c.status == "failed")
    if ids:
        query = query.where(outbox.c.id.in_(list(ids)))
    rows = conn.execute(query).all()
    for row_id, outcome in rows:
        conn.execute(update(outbox).where(outbox.c.id == row_id).values(
            status="pending", next_attempt_at=now, outcome={**(outcome or {}), "uncertain": 0}))
    return len(rows)


def run(engine: Engine, config: Config, now: datetime | None = None,
        transport: Transport | None = None) -> NotifyStats:
    """Queue the notifications that are due and send the outbox (the daemon's notification job).

    Without any enabled receiver (no smtp.host or recipients, no webhook), notification is off:
    nothing is queued (`email_enabled` False). `transport` replaces SMTP for email receivers."""
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    receivers, disabled = build_receivers(config)
    if not receivers:
        # Off (the daemon says why once, at start): queue nothing, so that nothing old floods out
        # the day it is switched on.
        return NotifyStats(email_enabled=False)
    if transport is not None:
        for receiver in receivers.values():
            if isinstance(receiver, EmailReceiver):
                receiver.transport = transport
    with engine.begin() as conn:
        queued = queue(conn, config, now, receivers)
    stats = deliver(engine, config, now, receivers, disabled)
    stats.queued = queued
    stats.elapsed_s = time.perf_counter() - started
    return stats
