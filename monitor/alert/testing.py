"""Rule unit tests (the idea of `promtool test rules`): input series of aggregates → expected alerts.

A test file (rules/tests/*.toml)::

    rule_files = ["../toxicity.toml"]        # relative to the test file
    evaluation_interval = "1m"               # how often the rules are evaluated (default 1m)

    [[tests]]
    name = "a toxic hour fires after `for`"
    start = "2026-03-02T00:00:00Z"           # time of the first window (default 2026-01-01T00:00Z)

    [[tests.series]]                         # one series = one scope key of one window length
    scope = "source"                         # overall | source | article
    source = "daily-news"
    article = ""                             # for scope = "article"
    window = "1h"
    comment_count = "40x170"                 # one value per window from `start`
    toxic_share = "0.1x168 0.5 0.5"          # "vxN" repeats v N times, "_" leaves a window out

    [[tests.alerts]]
    eval_time = "7d10m"                      # offset from start (d h m s combined)
    alertname = "ToxicShareHigh"
    exp_alerts = [{ labels = { source = "daily-news", severity = "warning" } }]

At each eval_time the firing alerts with that name must match exp_alerts one to one: each
expected alert's labels (and annotations, when given) must equal those of one firing alert.
`exp_alerts = []` expects none. Series without comment_count get 100 comments per window, and
comments_per_hour defaults to comment_count over the window length, as in the aggregation.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Sequence

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from monitor.alert.evaluate import AlertState, metrics_frame, partition, step
from monitor.alert.rules import SCOPES, check_files
from monitor.durations import parse_duration
from monitor.validation import Invalid, TomlModel, duration, problems, strict

__all__ = ["TestResult", "parse_offset", "parse_values", "run_file", "run_files"]

_DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
_OFFSET = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_SERIES_KEYS = {"scope", "source", "article", "window"}


@dataclass
class TestResult:
    """One [[tests]] entry: passed, or the reasons it failed."""

    file: str
    name: str
    failures: list[str] = field(default_factory=list)

    __test__ = False  # not a pytest class

    @property
    def passed(self) -> bool:
        return not self.failures


def parse_offset(text: str) -> timedelta:
    """'7d10m', '90m', '1h30m' → timedelta."""
    text = str(text).replace(" ", "")
    if not text or _OFFSET.sub("", text):
        raise ValueError(f"expected an offset like '90m', '7d10m' or '1h30m', got {text!r}")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _OFFSET.findall(text)))


def parse_values(spec: Any) -> list[float | None]:
    """'0.1x3 0.5 _' → [0.1, 0.1, 0.1, 0.5, None]; a list of numbers is taken as is."""
    if isinstance(spec, list):
        return [None if v is None else float(v) for v in spec]
    if isinstance(spec, (int, float)):
        return [float(spec)]
    values: list[float | None] = []
    for token in str(spec).split():
        value, _, times = token.partition("x")
        count = int(times) if times else 1
        values += [None if value == "_" else float(value)] * count
    return values


def _series_rows(series: dict[str, Any], start: datetime) -> list[dict[str, Any]]:
    scope = series.get("scope", "source")
    window = parse_duration(series.get("window", "1h"))
    source = series.get("source", "") if scope != "overall" else ""
    key = {"overall": "", "source": source, "article": series.get("article", "")}[scope]
    columns = {name: parse_values(spec) for name, spec in series.items() if name not in _SERIES_KEYS}
    length = max((len(v) for v in columns.values()), default=0)
    counts = columns.pop("comment_count", None)
    rows = []
    for i in range(length):
        metrics = {name: values[i] for name, values in columns.items() if i < len(values) and values[i] is not None}
        if counts is not None:
            count = counts[i] if i < len(counts) else None
        else:
            count = 100.0 if metrics else None
        if count is None:
            continue  # "_": no aggregate row for this window
        # As the aggregation does: the rate over the whole window unless the series gives one.
        metrics.setdefault("comments_per_hour", count / (window.total_seconds() / 3600))
        rows.append({"window_s": int(window.total_seconds()), "window_start": start + i * window,
                     "scope": scope, "scope_key": key, "source": source,
                     "comment_count": int(count), "metrics": {**metrics, "comment_count": int(count)}})
    return rows


def _matches(expected: dict[str, Any], state: AlertState) -> bool:
    labels = expected.get("labels", {})
    annotations = expected.get("annotations", {})
    return all(state.labels.get(k) == v for k, v in labels.items()) and all(
        state.annotations.get(k) == v for k, v in annotations.items())


def _offset(value: Any) -> str:
    try:
        parse_offset(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return str(value)


def _scope(value: Any) -> str:
    if value not in SCOPES:
        raise Invalid(f"expected one of {', '.join(SCOPES)}, got {value!r}")
    return value


def _when(value: Any) -> datetime:
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(f"expected a time like '2026-03-02T00:00:00Z', got {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


class _Expected(TomlModel):
    """One expected firing alert: the labels (and annotations) it must carry."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class _Check(TomlModel):
    """A [[tests.alerts]] table: which alerts fire at `eval_time`."""

    eval_time: Annotated[str, BeforeValidator(_offset)]
    alertname: Annotated[str, strict(str, "a string")]
    exp_alerts: list[_Expected] = Field(default_factory=list)


class _Series(TomlModel):
    """A [[tests.series]] table: its scope key and window, and one value list per metric."""

    model_config = ConfigDict(extra="allow")

    scope: Annotated[str, BeforeValidator(_scope)] = "source"
    source: Annotated[str, strict(str, "a string")] = ""
    article: Annotated[str, strict(str, "a string")] = ""
    window: Annotated[timedelta, duration(positive=True)] = timedelta(hours=1)

    @model_validator(mode="after")
    def _values(self) -> _Series:
        for name, spec in (self.model_extra or {}).items():
            try:
                parse_values(spec)
            except (TypeError, ValueError):
                raise Invalid(f"{name}: expected values like '0.1x3 0.5 _' or a list of numbers, "
                              f"got {spec!r}") from None
        return self


class _Test(TomlModel):
    """A [[tests]] table."""

    name: Annotated[str, strict(str, "a string")] = ""
    start: Annotated[datetime, BeforeValidator(_when)] = _DEFAULT_START
    series: list[_Series] = Field(default_factory=list)
    alerts: list[_Check] = Field(default_factory=list)


class _TestFile(TomlModel):
    """A rule test file; its [[tests]] are validated one by one, so that each reports its own errors."""

    rule_files: list[str] = Field(default_factory=list)
    evaluation_interval: Annotated[timedelta, duration(positive=True)] = timedelta(minutes=1)
    tests: list[dict[str, Any]] = Field(default_factory=list)


def _errors(exc: ValidationError, model: type[TomlModel]) -> list[str]:
    return [(f"{key}: {message}" if key else message) + (f" ({fix})" if fix else "")
            for key, message, fix in problems(exc, model)]


def run_file(path: Path) -> list[TestResult]:
    """Run every test of one test file."""
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [TestResult(file, "(file)", [f"cannot read the test file: {exc}"])]
    try:
        parsed = _TestFile.model_validate(raw)
    except ValidationError as exc:
        return [TestResult(file, "(file)", _errors(exc, _TestFile))]
    rule_paths = [(path.parent / p).resolve() for p in parsed.rule_files]
    if not rule_paths:
        return [TestResult(file, "(file)", ["rule_files is empty; list the rule files under test"])]
    groups, rule_problems = check_files(rule_paths)
    if rule_problems:
        return [TestResult(file, "(file)", [f"rule file error: {p}" for p in rule_problems])]
    rules = [rule for group in groups for rule in group.rules]
    results = [_run_test(file, test, i, rules, parsed.evaluation_interval) for i, test in enumerate(parsed.tests)]
    if not results:
        results.append(TestResult(file, "(file)", ["no [[tests]] in this file"]))
    return results


def _run_test(file: str, raw: dict[str, Any], index: int, rules: Sequence[Any],
              interval: timedelta) -> TestResult:
    name = raw.get("name")
    result = TestResult(file, name if isinstance(name, str) and name else f"test #{index + 1}")
    try:
        test = _Test.model_validate(raw)
    except ValidationError as exc:
        result.failures += [f"bad test definition: {error}" for error in _errors(exc, _Test)]
        return result
    start = test.start
    rows = [row for series in test.series for row in _series_rows(
        {**(series.model_extra or {}), "scope": series.scope, "source": series.source,
         "article": series.article, "window": series.window}, start)]
    checks = sorted(((parse_offset(c.eval_time), {
        "alertname": c.alertname, "eval_time": c.eval_time,
        "exp_alerts": [e.model_dump(exclude_unset=True) for e in c.exp_alerts]}) for c in test.alerts),
        key=lambda item: item[0])
    if not checks:
        result.failures.append("no [[tests.alerts]] checks")
        return result
    frame = partition(metrics_frame(rows))
    # Whether an alert fires at a check depends only on the last `for` + `keep_firing_for` of
    # evaluations, so the (long) history before that needs no evaluation steps.
    horizon = max((r.for_ + r.keep_firing_for for r in rules), default=timedelta(0)) + interval
    first = max(timedelta(0), checks[0][0] - horizon)
    times = {start + first + interval * k for k in range(int((checks[-1][0] - first) / interval) + 1)}
    times |= {start + offset for offset, _ in checks}
    states: dict[str, AlertState] = {}
    pending_checks = list(checks)
    for now in sorted(times):
        states = step(states, rules, frame, now)
        while pending_checks and start + pending_checks[0][0] == now:
            offset, check = pending_checks.pop(0)
            _compare(result, offset, check, states)
    return result


def _compare(result: TestResult, offset: timedelta, check: dict[str, Any],
             states: dict[str, AlertState]) -> None:
    name = check.get("alertname", "")
    firing = [s for s in states.values() if s.state == "firing" and s.labels.get("alertname") == name]
    expected = list(check.get("exp_alerts", []))
    unmatched = list(firing)
    missing = []
    for exp in expected:
        hit = next((s for s in unmatched if _matches(exp, s)), None)
        if hit is None:
            missing.append(exp)
        else:
            unmatched.remove(hit)
    where = f"{name} at {check.get('eval_time')}"
    for exp in missing:
        result.failures.append(f"{where}: expected firing {exp}, got "
                               + (", ".join(str(s.labels) for s in firing) or "no firing alert"))
    for extra in unmatched:
        result.failures.append(f"{where}: unexpected firing alert {extra.labels} (value {extra.value})")


def run_files(paths: Sequence[Path]) -> list[TestResult]:
    """Run every test file given."""
    return [result for path in paths for result in run_file(path)]
