"""Rule evaluation over the aggregates and the alert state machine (inactive → pending → firing → resolved).

Each rule is evaluated against the window that contains `now` (the one in progress) for its
window length and scope; every matching scope key (source, article or overall) is one alert,
identified by a fingerprint of the rule and its labels, so re-evaluation never duplicates it.
Metrics are taken as stored: in the window in progress, `comments_per_hour` counts the comments
so far over the whole window length, so it only grows as a burst goes on (never overstates).

States, as in Prometheus: a matching alert is `pending` until it has matched for the rule's `for`,
then `firing`; when it stops matching it keeps firing for `keep_firing_for`, then is `resolved`;
a pending alert that stops matching becomes `inactive`. Silences do not change states: they
mute notifications (see `notify`), as in Alertmanager.
"""

from __future__ import annotations

import ast
import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from monitor.alert.rules import Rule, first_comparison, format_duration, lookback_of, render_template

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

    from monitor.config import Config

__all__ = [
    "AggregateView",
    "AlertState",
    "EvalStats",
    "Sample",
    "active_silence",
    "evaluate_rule",
    "fingerprint",
    "load_aggregates",
    "load_states",
    "metrics_frame",
    "partition",
    "run",
    "save_states",
    "step",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Resolved alerts stay listed (and can be notified) this long, then their rows are dropped.
RESOLVED_RETENTION = timedelta(days=7)


@dataclass
class Sample:
    """One scope key for which a rule's expression holds at an evaluation."""

    labels: dict[str, str]
    value: float | None
    threshold: float | None
    annotations: dict[str, str]


@dataclass
class AlertState:
    """One alert (rule + label set) and where it is in the state machine."""

    fingerprint: str
    rule: str
    labels: dict[str, str]
    state: str = "inactive"
    annotations: dict[str, str] = field(default_factory=dict)
    value: float | None = None
    active_since: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_true_at: datetime | None = None
    last_eval_at: datetime | None = None
    last_notified_at: datetime | None = None


@dataclass
class EvalStats:
    """What one evaluation did."""

    rules: int = 0
    matched: int = 0
    pending: int = 0
    firing: int = 0
    resolved: int = 0
    elapsed_s: float = 0.0


def fingerprint(rule_key: str, labels: Mapping[str, str]) -> str:
    """A stable id of an alert: its rule and its label set."""
    data = json.dumps([rule_key, sorted(labels.items())], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def _floor(ts: datetime, size: timedelta) -> datetime:
    step = int(size.total_seconds())
    return _EPOCH + timedelta(seconds=int((ts - _EPOCH).total_seconds()) // step * step)


def _to_polars(node: ast.AST, rule: Rule) -> Any:
    import polars as pl

    if isinstance(node, ast.BoolOp):
        exprs = [_to_polars(v, rule) for v in node.values]
        out = exprs[0]
        for e in exprs[1:]:
            out = (out & e) if isinstance(node.op, ast.And) else (out | e)
        return out
    if isinstance(node, ast.UnaryOp):
        inner = _to_polars(node.operand, rule)
        return ~inner if isinstance(node.op, ast.Not) else -inner
    if isinstance(node, ast.Compare):
        parts = [_to_polars(p, rule) for p in (node.left, *node.comparators)]
        ops = {ast.Gt: "__gt__", ast.GtE: "__ge__", ast.Lt: "__lt__", ast.LtE: "__le__",
               ast.Eq: "__eq__", ast.NotEq: "__ne__"}
        checks = [getattr(parts[i], ops[type(op)])(parts[i + 1]) for i, op in enumerate(node.ops)]
        out = checks[0]
        for c in checks[1:]:
            out = out & c
        return out
    if isinstance(node, ast.BinOp):
        left, right = _to_polars(node.left, rule), _to_polars(node.right, rule)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        return left * right if isinstance(node.op, ast.Mult) else left / right
    if isinstance(node, ast.Constant):
        return pl.lit(float(node.value))
    if isinstance(node, ast.Name):
        return pl.col(node.id).cast(pl.Float64)
    if isinstance(node, ast.Call):
        return pl.col(lookback_of(node).column)
    raise ValueError(f"cannot evaluate {ast.unparse(node)!r}")  # parse_expr rejects these first


_AGG = {"median_over_time": "median", "avg_over_time": "mean", "stddev_over_time": "std",
        "min_over_time": "min", "max_over_time": "max"}


def metrics_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Aggregate rows (window_s, window_start, scope, scope_key, source, comment_count, metrics)
    → one column per numeric metric."""
    import polars as pl

    records = []
    for row in rows:
        metrics = row.get("metrics") or {}
        rec = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        rec.update(window_s=row["window_s"], window_start=row["window_start"], scope=row["scope"],
                   scope_key=row["scope_key"], source=row.get("source") or "",
                   comment_count=row["comment_count"])
        records.append(rec)
    if not records:
        return pl.DataFrame(schema={"window_s": pl.Int64, "window_start": pl.Datetime("us", "UTC"),
                                    "scope": pl.Utf8, "scope_key": pl.Utf8, "source": pl.Utf8,
                                    "comment_count": pl.Int64})
    frame = pl.from_dicts(records, infer_schema_length=None)
    return frame.with_columns(pl.col("window_start").dt.convert_time_zone("UTC")
                              if frame.schema["window_start"].time_zone else
                              pl.col("window_start").dt.replace_time_zone("UTC"))


def partition(frame: pl.DataFrame) -> dict[tuple[int, str], pl.DataFrame]:
    """Split an aggregates frame by (window_s, scope) once, for many rules and evaluations."""
    if frame.is_empty():
        return {}
    return {(int(k[0]), str(k[1])): part for k, part in
            frame.partition_by(["window_s", "scope"], as_dict=True).items()}


class AggregateView:
    """The aggregates as seen at one evaluation time, with what several rules share computed once:
    the current window per (window, scope), and every lookback statistic per (window, scope, range)
    in a single group-by."""

    def __init__(self, frame: pl.DataFrame | dict[tuple[int, str], pl.DataFrame], now: datetime,
                 rules: Sequence[Rule]) -> None:
        self.parts = frame if isinstance(frame, dict) else partition(frame)
        self.now = now
        self._current: dict[tuple[int, str], pl.DataFrame | None] = {}
        self._stats: dict[tuple[int, str, timedelta], pl.DataFrame] = {}
        self._wanted: dict[tuple[int, str, timedelta], set[Any]] = {}
        for rule in rules:
            for lookback in rule.lookbacks:
                key = (int(rule.window.total_seconds()), rule.scope, lookback.range)
                self._wanted.setdefault(key, set()).add(lookback)

    def current(self, rule: Rule) -> pl.DataFrame | None:
        import polars as pl

        key = (int(rule.window.total_seconds()), rule.scope)
        if key not in self._current:
            scoped = self.parts.get(key)
            self._current[key] = None if scoped is None else scoped.filter(
                pl.col("window_start") == _floor(self.now, rule.window))
        return self._current[key]

    def stats(self, rule: Rule, span: timedelta) -> pl.DataFrame:
        import polars as pl

        size = int(rule.window.total_seconds())
        key = (size, rule.scope, span)
        if key not in self._stats:
            start = _floor(self.now, rule.window)
            scoped = self.parts[(size, rule.scope)]
            history = scoped.filter((pl.col("window_start") >= start - span) & (pl.col("window_start") < start))
            wanted = self._wanted.get(key) or {lb for lb in rule.lookbacks if lb.range == span}
            exprs = [getattr(pl.col(lb.metric).cast(pl.Float64), _AGG[lb.func])().alias(lb.column)
                     if lb.metric in history.columns else pl.lit(None, dtype=pl.Float64).alias(lb.column)
                     for lb in wanted]
            self._stats[key] = history.group_by("scope_key").agg(exprs)
        return self._stats[key]


def evaluate_rule(rule: Rule, frame: pl.DataFrame | dict[tuple[int, str], pl.DataFrame] | AggregateView,
                  now: datetime) -> list[Sample]:
    """The scope keys for which `rule` holds at `now`, with value, threshold and annotations.

    `frame` is an aggregates frame (see `metrics_frame`), its `partition`, or an `AggregateView`."""
    import polars as pl

    view = frame if isinstance(frame, AggregateView) else AggregateView(frame, now, [rule])
    current = view.current(rule)
    if current is None:
        return []
    current_start = _floor(now, rule.window)
    if rule.sources:
        current = current.filter(pl.col("source").is_in(list(rule.sources)))
    if rule.articles:
        current = current.filter(pl.col("scope_key").is_in(list(rule.articles)))
    if rule.min_comments:
        current = current.filter(pl.col("comment_count") >= rule.min_comments)
    if current.is_empty():
        return []
    missing = [m for m in rule.metrics if m not in current.columns]
    if missing:
        current = current.with_columns(pl.lit(None, dtype=pl.Float64).alias(m) for m in missing)
    for span in dict.fromkeys(lb.range for lb in rule.lookbacks):
        stats = view.stats(rule, span)
        current = current.join(stats.select("scope_key", *(lb.column for lb in rule.lookbacks if lb.range == span)),
                               on="scope_key", how="left")
    compare = first_comparison(rule.tree) if rule.tree is not None else None
    exprs = [_to_polars(rule.tree, rule).fill_null(False).alias("__match")]
    if compare is not None:
        exprs += [_to_polars(compare.left, rule).alias("__value"),
                  _to_polars(compare.comparators[0], rule).alias("__threshold")]
    hits = current.with_columns(exprs).filter(pl.col("__match"))
    samples = []
    window = format_duration(rule.window)
    fixed = {"_expr": rule.expr, "_metric": ast.unparse(compare.left) if compare else "",
             "_window_start": current_start.isoformat()}
    for row in hits.iter_rows(named=True):
        labels = {"alertname": rule.name, "scope": rule.scope, "window": window}
        if rule.scope != "overall":
            labels["source"] = row["source"]
        if rule.scope == "article":
            labels["article"] = row["scope_key"]
        labels.update(rule.labels)
        value, threshold = row.get("__value"), row.get("__threshold")
        context = {**row, **labels, "value": value, "threshold": threshold}
        annotations = {k: render_template(t, context) for k, t in rule.annotations.items()}
        annotations.update(fixed, _threshold="" if threshold is None else repr(float(threshold)),
                           _scope_key=row["scope_key"], _comment_count=str(row["comment_count"]))
        samples.append(Sample(labels, None if value is None else float(value),
                              None if threshold is None else float(threshold), annotations))
    return samples


def step(states: Mapping[str, AlertState], rules: Sequence[Rule],
         frame: pl.DataFrame | dict[tuple[int, str], pl.DataFrame], now: datetime) -> dict[str, AlertState]:
    """One evaluation: every rule against `frame` at `now`; returns the new state of every alert."""
    view = AggregateView(frame, now, rules)
    out: dict[str, AlertState] = {fp: replace(s) for fp, s in states.items()}
    known_rules = {rule.key: rule for rule in rules}
    active: set[str] = set()
    for rule in rules:
        for sample in evaluate_rule(rule, view, now):
            fp = fingerprint(rule.key, sample.labels)
            active.add(fp)
            state = out.get(fp)
            if state is None or state.state in ("inactive", "resolved"):
                state = AlertState(fp, rule.key, sample.labels, "pending", active_since=now,
                                   last_notified_at=state.last_notified_at if state else None)
            state.labels, state.annotations, state.value = sample.labels, sample.annotations, sample.value
            state.last_true_at = now
            if state.state == "pending" and now - state.active_since >= rule.for_:
                state.state, state.fired_at = "firing", now
            state.last_eval_at = now
            out[fp] = state
    for fp, state in out.items():
        if fp in active or state.state in ("inactive", "resolved"):
            continue
        rule = known_rules.get(state.rule)
        keep = rule.keep_firing_for if rule else timedelta(0)
        if state.state == "firing" and state.last_true_at and now - state.last_true_at < keep:
            pass  # keep_firing_for: hold the alert through a short dip
        elif state.state == "firing":
            state.state, state.resolved_at = "resolved", now
        else:
            state.state = "inactive"
        state.last_eval_at = now
    return out


def active_silence(labels: Mapping[str, str], silences: Iterable[Mapping[str, Any]],
                   now: datetime) -> Mapping[str, Any] | None:
    """The first silence in effect at `now` whose matchers all equal the alert's labels."""
    for silence in silences:
        if silence["starts_at"] <= now < silence["ends_at"] and all(
                labels.get(k) == v for k, v in (silence["matchers"] or {}).items()):
            return silence
    return None


# --- the database side ---------------------------------------------------------------------------

def load_states(conn: Connection) -> dict[str, AlertState]:
    from sqlalchemy import select

    from monitor.store.schema import alert_states

    out = {}
    for r in conn.execute(select(alert_states)):
        out[r.fingerprint] = AlertState(
            r.fingerprint, r.rule, dict(r.labels), r.state, dict(r.annotations or {}), r.value,
            r.active_since, r.fired_at, r.resolved_at, r.last_true_at, r.last_eval_at, r.last_notified_at)
    return out


def save_states(conn: Connection, before: Mapping[str, AlertState], after: Mapping[str, AlertState],
                now: datetime) -> None:
    """Write changed alerts; forget inactive ones and long-resolved ones."""
    from sqlalchemy import delete, insert, update

    from monitor.store.schema import alert_states

    for fp, state in after.items():
        stale = state.state == "resolved" and state.resolved_at and now - state.resolved_at > RESOLVED_RETENTION
        if state.state == "inactive" or stale:
            if fp in before:
                conn.execute(delete(alert_states).where(alert_states.c.fingerprint == fp))
            continue
        values = {"rule": state.rule, "labels": state.labels, "annotations": state.annotations,
                  "state": state.state, "value": state.value, "active_since": state.active_since,
                  "fired_at": state.fired_at, "resolved_at": state.resolved_at,
                  "last_true_at": state.last_true_at, "last_eval_at": state.last_eval_at or now,
                  "last_notified_at": state.last_notified_at}
        if fp in before:
            conn.execute(update(alert_states).where(alert_states.c.fingerprint == fp).values(**values))
        else:
            conn.execute(insert(alert_states).values(fingerprint=fp, **values))


def load_aggregates(conn: Connection, rules: Sequence[Rule], now: datetime) -> pl.DataFrame:
    """The aggregates the rules need: their windows and scopes, back to their longest lookback."""
    import polars as pl
    from sqlalchemy import Text, and_, cast, or_, select

    from monitor.store.schema import aggregates

    wanted: dict[tuple[int, str], timedelta] = {}
    for rule in rules:
        back = max([lb.range for lb in rule.lookbacks], default=timedelta(0)) + rule.window
        key = (int(rule.window.total_seconds()), rule.scope)
        wanted[key] = max(wanted.get(key, timedelta(0)), back)
    if not wanted:
        return metrics_frame([])
    # The metrics JSON is fetched as text and decoded by polars in one go: decoding it row by row
    # in Python costs seconds for a week of hourly windows over many sources.
    query = select(aggregates.c.window_s, aggregates.c.window_start, aggregates.c.scope,
                   aggregates.c.scope_key, aggregates.c.source, aggregates.c.comment_count,
                   cast(aggregates.c.metrics, Text).label("metrics")).where(or_(*(
                       and_(aggregates.c.window_s == size, aggregates.c.scope == scope,
                            aggregates.c.window_start >= now - back, aggregates.c.window_start <= now)
                       for (size, scope), back in wanted.items())))
    rows = conn.execute(query).all()
    if not rows:
        return metrics_frame([])
    names = sorted({m for rule in rules for m in rule.metrics} - {"comment_count"})
    columns = list(zip(*rows))
    frame = pl.DataFrame({
        "window_s": pl.Series(columns[0], dtype=pl.Int64),
        "window_start": pl.Series(columns[1], dtype=pl.Datetime("us", "UTC")),
        "scope": pl.Series(columns[2], dtype=pl.Utf8), "scope_key": pl.Series(columns[3], dtype=pl.Utf8),
        "source": pl.Series(columns[4], dtype=pl.Utf8), "comment_count": pl.Series(columns[5], dtype=pl.Int64),
    })
    if not names:
        return frame
    decoded = pl.Series(columns[6], dtype=pl.Utf8).str.json_decode(
        pl.Struct({name: pl.Float64 for name in names})).struct.unnest()
    return pl.concat([frame, decoded], how="horizontal")


def run(engine: Engine, config: Config, now: datetime | None = None) -> EvalStats:
    """Evaluate the rules in config.rules_dir against the stored aggregates and save alert states."""
    from monitor.alert.rules import load_rules, rule_files

    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    rules = load_rules(rule_files(None, config.rules_dir), targets=sorted(config.targets),
                       windows=list(config.aggregate.windows))
    with engine.begin() as conn:
        frame = load_aggregates(conn, rules, now)
        before = load_states(conn)
        after = step(before, rules, frame, now)
        save_states(conn, before, after, now)
    stats = EvalStats(rules=len(rules))
    for state in after.values():
        if state.last_eval_at == now and state.last_true_at == now:
            stats.matched += 1
        if state.state in ("pending", "firing"):
            setattr(stats, state.state, getattr(stats, state.state) + 1)
        elif state.state == "resolved" and state.resolved_at == now:
            stats.resolved += 1
    stats.elapsed_s = time.perf_counter() - started
    return stats
