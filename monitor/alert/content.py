"""What a notification says: each alert with its article, trend and example comments, as neutralised data.

Every string taken from the database or from a web page (comment text, titles, URLs, label values)
passes through `monitor.text` here, once; receivers and templates only format these views. Examples
follow what the rule measures: a stance alert shows comments with that stance, a volume alert the
newest comments, a brigading alert the most active authors' comments, anything else the most toxic.
Links are kept only when they are plain http(s) URLs.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import urlsplit

from monitor.alert.evaluate import AlertState
from monitor.text import one_line, truncate

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["AlertView", "Example", "Group", "Point", "alert_view", "build_group", "safe_url",
           "silence_command"]

EXAMPLES = 3
TREND_WINDOWS = 12
_SPARK = "▁▂▃▄▅▆▇█"
# Metrics that count things: a window without an aggregate row had none of them.
_COUNTS = ("comment_count", "comments_per_hour", "slur_count", "slur_lexicon_count", "slur_coined_count",
           "new_coinages", "distinct_authors")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Example:
    """One comment shown as evidence, with where to read it."""

    source: str
    article_title: str
    url: str  # the comment's own link, else its article's; "" when neither is a safe http(s) URL
    author: str
    text: str
    score: str  # what made it an example, e.g. "toxicity 0.90" or "against nato 0.87"
    published_at: datetime | None = None


@dataclass
class Point:
    """The alert's metric in one earlier window (None: no comments to measure)."""

    start: datetime
    value: float | None


@dataclass
class AlertView:
    """One alert as a notification shows it; every string already neutralised."""

    status: str  # firing | resolved
    name: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]  # the rule's own annotations (summary, description …)
    value: str
    metric: str
    threshold: str
    window_start: datetime | None
    window_end: datetime | None
    span: str
    comment_count: str
    source: str
    article_title: str
    article_url: str
    starts_at: datetime | None
    ends_at: datetime | None
    trend: list[Point] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    examples_chosen: str = ""  # how the examples were picked, e.g. "most toxic"
    silence_command: str = ""

    @property
    def summary(self) -> str:
        return self.annotations.get("summary", "")

    @property
    def description(self) -> str:
        return self.annotations.get("description", "")

    @property
    def sparkline(self) -> str:
        return sparkline([p.value for p in self.trend])

    @property
    def trend_range(self) -> str:
        known = [p.value for p in self.trend if p.value is not None]
        return f"{fmt(known[0])} → {fmt(known[-1])}" if known else ""


@dataclass
class Group:
    """The alerts of one notification group, in the order they are shown."""

    key: str
    ident: str  # unique per notification: group digest, sequence number, time
    labels: dict[str, str]  # the group_by labels and their values
    alerts: list[AlertView]
    silence_command: str
    created_at: datetime

    @property
    def firing(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"

    def delivery_id(self, receiver: str) -> str:
        """The stable id of this notification at one receiver (an email's Message-ID)."""
        tag = hashlib.sha256(receiver.encode()).hexdigest()[:6]
        return f"<{self.ident}.{tag}@monitor.invalid>"


def fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def sparkline(values: Sequence[float | None]) -> str:
    """Bars scaled between the lowest and highest known value; a gap where nothing was measured."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(" " if v is None else _SPARK[int((v - low) / span * (len(_SPARK) - 1))] for v in values)


def safe_url(value: str | None) -> str:
    """`value` if it is a plain http(s) URL (no controls, no spaces), else ""."""
    if not value:
        return ""
    url = value.strip()
    if len(url) > 2000 or one_line(url) != url or " " in url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.hostname else ""


def silence_command(labels: Mapping[str, str], duration: str = "2h") -> str:
    """The exact `monitor alerts silence` command line that mutes alerts with these labels."""
    matches = " ".join(f"--match {shlex.quote(f'{k}={one_line(v)}')}" for k, v in labels.items() if v)
    return f"monitor alerts silence {matches} --for {duration}"


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _metric_name(notes: Mapping[str, str]) -> str:
    match = _NAME.match(notes.get("_metric", "").strip())
    return match.group(0) if match else ""


def _span(start: datetime | None, window: timedelta) -> tuple[datetime | None, str]:
    if start is None:
        return None, ""
    end = start + window
    end_fmt = "%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M"
    return end, f"{start:%Y-%m-%d %H:%M}–{end.strftime(end_fmt)} UTC"


def _trend(conn: Connection, labels: Mapping[str, str], key: str, metric: str, start: datetime,
           window: timedelta) -> list[Point]:
    """The metric over the TREND_WINDOWS windows up to and including the alert's, gaps included."""
    from sqlalchemy import select

    from monitor.store.schema import aggregates

    first = start - window * (TREND_WINDOWS - 1)
    rows = conn.execute(select(aggregates.c.window_start, aggregates.c.comment_count, aggregates.c.metrics)
                        .where(aggregates.c.window_s == int(window.total_seconds()),
                               aggregates.c.scope == labels.get("scope"), aggregates.c.scope_key == key,
                               aggregates.c.window_start >= first, aggregates.c.window_start <= start)).all()
    by_start: dict[datetime, float | None] = {}
    for window_start, count, metrics in rows:
        raw = count if metric == "comment_count" else (metrics or {}).get(metric)
        ok = isinstance(raw, (int, float)) and not isinstance(raw, bool)
        by_start[window_start] = float(raw) if ok else None
    empty = 0.0 if metric in _COUNTS else None
    points = [Point(first + window * i, by_start.get(first + window * i, empty)) for i in range(TREND_WINDOWS)]
    while points and points[0].value is None:  # before the source was watched
        points.pop(0)
    return points


def _examples(conn: Connection, labels: Mapping[str, str], metric: str, start: datetime,
              window: timedelta, targets: Sequence[str], top_authors: int) -> tuple[list[Example], str]:
    """Example comments of the alert's window, chosen by what its metric measures."""
    from sqlalchemy import Text, and_, cast, exists, func, or_, select

    from monitor.store.schema import articles, comments, scores, sources

    newer = scores.alias("newer")
    latest = ~exists().where(newer.c.comment_id == scores.c.comment_id, or_(
        newer.c.scored_at > scores.c.scored_at,
        and_(newer.c.scored_at == scores.c.scored_at, newer.c.id > scores.c.id)))
    ts = func.coalesce(comments.c.published_at, comments.c.first_seen_at)
    where = [latest, ts >= start, ts < start + window, comments.c.text.is_not(None)]
    if labels.get("source"):
        where.append(sources.c.name == labels["source"])
    if labels.get("article", "").isdigit():
        where.append(comments.c.article_id == int(labels["article"]))
    joined = (comments.join(scores, scores.c.comment_id == comments.c.id)
              .join(sources, sources.c.id == comments.c.source_id)
              .join(articles, articles.c.id == comments.c.article_id))
    score = scores.c.toxicity
    order: list[Any] = [scores.c.toxicity.desc()]
    chosen, label = "most toxic", "toxicity"
    stance = _stance_of(metric, targets)
    if stance is not None:
        target, wanted = stance
        where.append(scores.c.stance[(target, "label")].as_string() == wanted)
        score = scores.c.stance[(target, "score")].as_float()
        order = [score.desc(), ts.desc()]
        chosen, label = f"comments {wanted} {target}, most certain first", f"{wanted} {target}"
    elif metric in ("comments_per_hour", "comment_count"):
        order, chosen = [ts.desc()], "newest"
    elif metric in ("top_author_share", "distinct_authors"):
        authors = (select(comments.c.author_pseudonym).select_from(joined)
                   .where(*where, comments.c.author_pseudonym.is_not(None))
                   .group_by(comments.c.author_pseudonym)
                   .order_by(func.count().desc(), comments.c.author_pseudonym).limit(top_authors))
        where.append(comments.c.author_pseudonym.in_(list(conn.execute(authors).scalars())))
        order, chosen = [ts.desc()], f"newest by the {top_authors} most active authors"
    elif metric.startswith("slur") or metric == "new_coinages":
        where.append(func.nullif(cast(scores.c.slurs, Text), "[]").is_not(None))
        chosen = "with slurs, most toxic"
    query = (select(comments.c.text, comments.c.author_pseudonym, comments.c.url, comments.c.published_at,
                    sources.c.name, articles.c.title, articles.c.url, score)
             .select_from(joined).where(*where).order_by(*order, comments.c.id.desc()).limit(EXAMPLES * 3))
    examples: list[Example] = []
    seen: set[str] = set()
    for text, author, url, published, source, title, article_url, value in conn.execute(query):
        flat = truncate(one_line(text), 200)
        if flat in seen:
            continue
        seen.add(flat)
        shown = f"{label} {value:.2f}" if isinstance(value, (int, float)) else label
        examples.append(Example(source=one_line(source), article_title=truncate(one_line(title or ""), 120),
                                url=safe_url(url) or safe_url(article_url), author=(author or "anonymous")[:8],
                                text=flat, score=shown, published_at=published))
        if len(examples) == EXAMPLES:
            break
    return examples, chosen


def _stance_of(metric: str, targets: Sequence[str]) -> tuple[str, str] | None:
    """("nato", "against") for "stance_nato_against"; None for other metrics."""
    if not metric.startswith("stance_"):
        return None
    rest = metric[len("stance_"):]
    for target in sorted(targets, key=len, reverse=True):
        if rest.startswith(target + "_"):
            return target, rest[len(target) + 1:]
    target, _, wanted = rest.rpartition("_")
    return (target, wanted) if target else None


def alert_view(conn: Connection, alert: AlertState, status: str, *, targets: Sequence[str] = (),
               top_authors: int = 5) -> AlertView:
    """An alert with its article, trend and examples, read from the database and neutralised."""
    from sqlalchemy import select

    from monitor.config import parse_duration
    from monitor.store.schema import articles

    labels, notes = alert.labels, alert.annotations
    window = parse_duration(labels.get("window", "1h"))
    start = _parse(notes.get("_window_start"))
    metric = _metric_name(notes)
    end, span = _span(start, window)
    title = url = ""
    if labels.get("article", "").isdigit():
        row = conn.execute(select(articles.c.title, articles.c.url)
                           .where(articles.c.id == int(labels["article"]))).first()
        if row is not None:
            title, url = truncate(one_line(row.title or ""), 160), safe_url(row.url)
            title = title or truncate(one_line(row.url), 160)
    threshold = notes.get("_threshold", "")
    silence_labels = {k: labels[k] for k in ("alertname", "source", "article") if labels.get(k)}
    view = AlertView(
        status=status, name=one_line(labels.get("alertname", alert.rule)), fingerprint=alert.fingerprint,
        labels={one_line(k): one_line(v) for k, v in sorted(labels.items())},
        annotations={k: one_line(v) for k, v in notes.items() if not k.startswith("_")},
        value="" if alert.value is None else fmt(alert.value), metric=one_line(notes.get("_metric", "")),
        threshold=fmt(float(threshold)) if threshold else "", window_start=start, window_end=end, span=span,
        comment_count=one_line(notes.get("_comment_count", "?")), source=one_line(labels.get("source", "")),
        article_title=title, article_url=url, starts_at=alert.fired_at or alert.active_since,
        ends_at=alert.resolved_at if status == "resolved" else None,
        silence_command=silence_command(silence_labels))
    if start is not None and metric:
        view.trend = _trend(conn, labels, notes.get("_scope_key", ""), metric, start, window)
    if start is not None and status == "firing":
        view.examples, view.examples_chosen = _examples(conn, labels, metric, start, window, targets,
                                                        top_authors)
    return view


def build_group(conn: Connection, key: str, ident: str, group_labels: Mapping[str, str],
                shown: Sequence[tuple[AlertState, str]], now: datetime, *, targets: Sequence[str] = (),
                top_authors: int = 5) -> Group:
    """The notification group `key` with its alerts (state, 'firing' | 'resolved') as views."""
    views = [alert_view(conn, alert, status, targets=targets, top_authors=top_authors)
             for alert, status in shown]
    labels = {one_line(k): one_line(v) for k, v in group_labels.items()}
    command = silence_command(labels) if any(labels.values()) else (views[0].silence_command if views else "")
    return Group(key=key, ident=ident, labels=labels, alerts=views, silence_command=command, created_at=now)
