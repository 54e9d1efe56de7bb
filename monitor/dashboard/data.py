"""Everything one dashboard frame shows, read from the database into plain data (`load_snapshot`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, func, select

from monitor.store.db import safe_url
from monitor.store.schema import aggregates, alert_states, comments, scores, slur_candidates, sources

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = [
    "AlertRow",
    "CoinageRow",
    "DaemonInfo",
    "STALE_AFTER",
    "Snapshot",
    "SourceRow",
    "ToxicComment",
    "load_snapshot",
]

# A heartbeat older than this means the daemon died without writing "stopped".
STALE_AFTER = timedelta(minutes=5)
# Enough rows for the tallest terminal; widgets cut to what fits.
ROW_LIMIT = 60


@dataclass(frozen=True)
class DaemonInfo:
    """The daemon's last word: state is running | stopped | stale | unknown."""

    state: str
    pid: int | None = None
    heartbeat: datetime | None = None


@dataclass(frozen=True)
class SourceRow:
    """One source summarised over the snapshot's span; trends hold one value per window, oldest first."""

    name: str
    comments: int = 0
    comments_per_hour: float = 0.0
    toxic_share: float | None = None
    toxic_trend: tuple[float | None, ...] = ()
    volume_trend: tuple[int, ...] = ()
    stance: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # favor, against, none
    slur_count: int = 0
    top_slurs: tuple[str, ...] = ()
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class AlertRow:
    rule: str
    state: str  # firing | pending
    labels: dict[str, str]
    summary: str
    value: float | None
    since: datetime | None


@dataclass(frozen=True)
class CoinageRow:
    term: str
    target: str
    count: int
    distinct_authors: int
    first_seen: datetime | None


@dataclass(frozen=True)
class ToxicComment:
    source: str
    author: str | None  # the pseudonym, never a raw name
    toxicity: float
    text: str
    at: datetime | None


@dataclass(frozen=True)
class Snapshot:
    """Plain data for one frame; every string in it is untrusted and must be drawn as `Text`."""

    now: datetime
    database: str
    daemon: DaemonInfo
    last_collection: datetime | None
    span: timedelta
    window: timedelta
    targets: tuple[tuple[str, str], ...]  # (key, label)
    sources: tuple[SourceRow, ...]
    alerts: tuple[AlertRow, ...]
    coinages: tuple[CoinageRow, ...]
    toxic_comments: tuple[ToxicComment, ...]
    pending_scores: int = 0
    focus: str | None = None  # the source of a per-source view
    error: str | None = None  # set by the live loop when a refresh failed

    @property
    def window_starts(self) -> tuple[datetime, ...]:
        """Start of each trend bucket, oldest first."""
        return _buckets(self.now, self.window, self.span)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str):
        try:
            return _aware(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _latest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return max(present) if present else None


def _buckets(now: datetime, window: timedelta, span: timedelta) -> tuple[datetime, ...]:
    # Aggregation windows are aligned to the Unix epoch (see monitor.aggregate).
    size = int(window.total_seconds())
    current = datetime.fromtimestamp(int(now.timestamp()) // size * size, timezone.utc)
    count = max(1, int(span.total_seconds()) // size)
    return tuple(current - window * i for i in range(count - 1, -1, -1))


def _pick_window(windows: list[timedelta], span: timedelta) -> timedelta:
    """The smallest configured window: the finest trend the aggregates can give."""
    usable = sorted(w for w in windows if w.total_seconds() > 0)
    if not usable:
        return min(span, timedelta(hours=1))
    return usable[0]


def _daemon(value: Any, now: datetime) -> DaemonInfo:
    if not isinstance(value, dict) or not value:
        return DaemonInfo("unknown")
    heartbeat = _parse_time(value.get("heartbeat"))
    state = str(value.get("state") or "unknown")
    if state == "running" and (heartbeat is None or now - heartbeat > STALE_AFTER):
        state = "stale"
    pid = value.get("pid")
    return DaemonInfo(state, pid if isinstance(pid, int) else None, heartbeat)


def _source_rows(conn: Any, config: Config, starts: tuple[datetime, ...], window: timedelta,
                 targets: list[str], focus: str | None) -> list[SourceRow]:
    size = int(window.total_seconds())
    query = (select(aggregates.c.window_start, aggregates.c.scope_key, aggregates.c.comment_count,
                    aggregates.c.metrics)
             .where(aggregates.c.scope == "source", aggregates.c.window_s == size,
                    aggregates.c.window_start >= starts[0]))
    if focus is not None:
        query = query.where(aggregates.c.scope_key == focus)
    index = {start: i for i, start in enumerate(starts)}
    per_source: dict[str, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
    for row in conn.execute(query):
        slot = index.get(_aware(row.window_start))
        if slot is not None:
            per_source[row.scope_key].append((slot, int(row.comment_count or 0), row.metrics or {}))

    known = {r.name: r for r in conn.execute(select(
        sources.c.name, sources.c.last_success_at, sources.c.consecutive_failures, sources.c.last_error))}
    names = set(known) | set(per_source) | {s.name for s in config.sources if s.enabled}
    if focus is not None:
        names = {focus}
    hours = len(starts) * size / 3600
    rows = []
    for name in names:
        volume = [0] * len(starts)
        toxic: list[float | None] = [None] * len(starts)
        total = 0
        toxic_sum = 0.0
        stance_sum = {t: [0.0, 0.0, 0.0] for t in targets}
        slurs = 0
        slur_counts: dict[str, int] = defaultdict(int)
        for slot, count, metrics in per_source.get(name, []):
            volume[slot] = count
            share = metrics.get("toxic_share")
            if count and isinstance(share, (int, float)):
                toxic[slot] = float(share)
                toxic_sum += float(share) * count
            total += count
            for target in targets:
                for i, label in enumerate(("favor", "against", "none")):
                    value = metrics.get(f"stance_{target}_{label}")
                    if isinstance(value, (int, float)):
                        stance_sum[target][i] += float(value) * count
            slurs += int(metrics.get("slur_count") or 0)
            # top_slurs is ranked per window; a rank-weighted tally ranks them over the span.
            for rank, term in enumerate(metrics.get("top_slurs") or []):
                slur_counts[str(term)] += 10 - min(rank, 9)
        src = known.get(name)
        rows.append(SourceRow(
            name=name, comments=total, comments_per_hour=total / hours if hours else 0.0,
            toxic_share=toxic_sum / total if total else None, toxic_trend=tuple(toxic),
            volume_trend=tuple(volume),
            stance={t: tuple(v / total for v in s) if total else (0.0, 0.0, 0.0)  # type: ignore[misc]
                    for t, s in stance_sum.items()},
            slur_count=slurs,
            top_slurs=tuple(sorted(slur_counts, key=lambda t: (-slur_counts[t], t))[:5]),
            last_success_at=_aware(src.last_success_at) if src else None,
            consecutive_failures=int(src.consecutive_failures or 0) if src else 0,
            last_error=src.last_error if src else None,
        ))
    # The busiest sources first: those are where trouble shows.
    rows.sort(key=lambda r: (-r.comments, r.name))
    return rows


def _alerts(conn: Any, focus: str | None) -> list[AlertRow]:
    rows = []
    for r in conn.execute(select(alert_states).where(alert_states.c.state.in_(("firing", "pending")))):
        labels = {str(k): str(v) for k, v in (r.labels or {}).items()}
        if focus is not None and labels.get("source") != focus:
            continue
        notes = r.annotations or {}
        summary = str(notes.get("summary") or notes.get("description") or "")
        rows.append(AlertRow(rule=r.rule, state=r.state, labels=labels, summary=summary,
                             value=r.value, since=_aware(r.fired_at or r.active_since)))
    far_past = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda a: (a.state != "firing", a.since or far_past, a.rule))
    return rows


def _coinages(conn: Any) -> list[CoinageRow]:
    query = (select(slur_candidates.c.term, slur_candidates.c.target, slur_candidates.c.count,
                    slur_candidates.c.distinct_authors, slur_candidates.c.first_seen)
             .where(slur_candidates.c.status == "pending")
             .order_by(slur_candidates.c.score.desc(), slur_candidates.c.count.desc(),
                       slur_candidates.c.normalized)
             .limit(ROW_LIMIT))
    return [CoinageRow(r.term, r.target, int(r.count or 0), int(r.distinct_authors or 0),
                       _aware(r.first_seen)) for r in conn.execute(query)]


def _toxic_comments(conn: Any, since: datetime, focus: str | None) -> list[ToxicComment]:
    when = func.coalesce(comments.c.published_at, comments.c.first_seen_at)
    # Only a comment's most recent score counts (it may have been re-scored by a newer model).
    other = scores.alias("other")
    newest = (select(func.max(other.c.scored_at)).where(other.c.comment_id == comments.c.id)
              .correlate(comments).scalar_subquery())
    query = (select(sources.c.name, comments.c.author_pseudonym, comments.c.text, when.label("at"),
                    scores.c.toxicity)
             .select_from(comments.join(sources, sources.c.id == comments.c.source_id)
                          .join(scores, and_(scores.c.comment_id == comments.c.id,
                                             scores.c.scored_at == newest)))
             # A comment is scored after it is first seen, so scored_at >= since is implied by
             # when >= since; stating it lets the database use the scored_at index.
             .where(scores.c.scored_at >= since, scores.c.toxic.is_(True),
                    comments.c.text.is_not(None), comments.c.deleted_at.is_(None), when >= since)
             .order_by(scores.c.toxicity.desc(), comments.c.id.desc())
             .limit(ROW_LIMIT))
    if focus is not None:
        query = query.where(sources.c.name == focus)
    return [ToxicComment(r.name, r.author_pseudonym, float(r.toxicity), r.text, _aware(r.at))
            for r in conn.execute(query)]


def load_snapshot(engine: Engine, config: Config, now: datetime | None = None, *,
                  span: timedelta = timedelta(hours=24), source: str | None = None) -> Snapshot:
    """Read one frame's data: sources summarised over `span` before `now`, alerts, coinages and
    the most toxic recent comments; `source` narrows everything source-specific to one source."""
    from monitor.store.repo import get_state

    now = now or datetime.now(timezone.utc)
    window = _pick_window(list(config.aggregate.windows), span)
    starts = _buckets(now, window, span)
    targets = sorted(config.targets)
    with engine.connect().execution_options(readonly=True) as conn:
        daemon_state = get_state(conn, "daemon")
        daemon = _daemon(daemon_state, now)
        last_ok = conn.execute(select(func.max(sources.c.last_success_at))).scalar()
        pending = conn.execute(select(func.count()).select_from(comments).where(
            comments.c.needs_scoring.is_(True), comments.c.text.is_not(None))).scalar_one()
        source_rows = _source_rows(conn, config, starts, window, targets, source)
        alerts = _alerts(conn, source)
        coinages = _coinages(conn)
        toxic = _toxic_comments(conn, now - span, source)
        conn.rollback()
    return Snapshot(
        now=now,
        database=safe_url(engine.url),
        daemon=daemon,
        last_collection=_latest(_aware(last_ok), _parse_time(
            daemon_state.get("last_collect") if isinstance(daemon_state, dict) else None)),
        span=span,
        window=window,
        targets=tuple((t, config.targets[t].label) for t in targets),
        sources=tuple(source_rows),
        alerts=tuple(alerts),
        coinages=tuple(coinages),
        toxic_comments=tuple(toxic),
        pending_scores=int(pending),
        focus=source,
    )
