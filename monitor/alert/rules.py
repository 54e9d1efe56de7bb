"""Alert rule files (rules/*.toml): parsing, validation with file:line errors, and the expression language.

A rule file holds groups of rules, in the shape of Prometheus alerting rules::

    [[groups]]
    name = "toxicity"

    [[groups.rules]]
    alert = "ToxicShareHigh"                 # the alert's name (label alertname)
    expr = "toxic_share > 0.4"               # see below
    scope = "source"                         # overall | source | article
    window = "1h"                            # which aggregate window the metrics come from
    min_comments = 20                        # windows with fewer comments never match
    sources = ["daily-news"]                 # optional: only these sources (default: all)
    for = "15m"                              # the condition must hold this long before firing
    keep_firing_for = "30m"                  # keep firing this long after it stops holding
    labels = { severity = "warning", team = "moderation" }
    annotations.summary = "{{ source }}: toxic share {{ value }} > {{ threshold }} ({{ window }})"

`expr` is a small expression language over the metric names of `monitor.aggregate` (numbers
only): arithmetic (+ - * /), comparisons (> >= < <= == !=), `and`, `or`, `not`, and functions
over the previous windows of the same scope and key (the current window excluded):
`median_over_time(m, "7d")`, `avg_over_time(m, "7d")`, `stddev_over_time(m, "7d")`,
`min_over_time(m, "7d")`, `max_over_time(m, "7d")`. The first comparison's left side is the
alert's value and its right side the threshold shown in notifications.
Annotation templates substitute `{{ name }}`: alertname, source, article, scope_key, window,
value, threshold, comment_count, any label, and any metric of the window.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Iterable, Sequence

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator

from monitor.durations import format_duration, parse_duration
from monitor.errors import RuleError
from monitor import validation
from monitor.validation import Invalid, TomlModel, duration, whole_number

__all__ = [
    "FUNCTIONS",
    "Lookback",
    "Rule",
    "RuleGroup",
    "RuleProblem",
    "check_files",
    "first_comparison",
    "format_duration",
    "load_rules",
    "lookback_of",
    "numeric_metrics",
    "parse_expr",
    "render_template",
    "rule_files",
]

FUNCTIONS = ("median_over_time", "avg_over_time", "stddev_over_time", "min_over_time", "max_over_time")
SCOPES = ("overall", "source", "article")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL_VALUE_MAX = 200
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def numeric_metrics(targets: Iterable[str] = ("nato", "russia")) -> list[str]:
    """Metric names usable in expressions (all but list-valued ones such as top_slurs)."""
    from monitor.aggregate.metrics import numeric_metric_names

    return numeric_metric_names(targets)


@dataclass(frozen=True)
class Lookback:
    """One `*_over_time(metric, range)` call; `column` is where its value is joined in."""

    func: str
    metric: str
    range: timedelta

    @property
    def column(self) -> str:
        return f"__{self.func}__{self.metric}__{int(self.range.total_seconds())}"


@dataclass
class Rule:
    """One validated alerting rule."""

    group: str
    name: str
    expr: str
    scope: str
    window: timedelta
    min_comments: int = 0
    for_: timedelta = timedelta(0)
    keep_firing_for: timedelta = timedelta(0)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    file: str = ""
    line: int = 0
    tree: ast.expr | None = None
    metrics: tuple[str, ...] = ()
    lookbacks: tuple[Lookback, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.group}/{self.name}"


@dataclass
class RuleGroup:
    name: str
    rules: list[Rule]
    interval: timedelta | None = None
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class RuleProblem:
    """One validation error: where it is and what would fix it."""

    file: str
    line: int
    group: str
    rule: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [where]
        if self.group:
            parts.append(f"group {self.group!r}")
        if self.rule:
            parts.append(f"rule {self.rule!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts) + f": {self.message}"


# --- the expression language ---------------------------------------------------------------------

_ALLOWED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_ALLOWED_CMPOPS = (ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq)


def parse_expr(text: str, metrics: Sequence[str]) -> tuple[ast.expr, tuple[str, ...], tuple[Lookback, ...]]:
    """Parse and check an expression; returns its tree, the metrics and the lookbacks it uses.

    Raises ValueError with a message that says what to change.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not a valid expression near column {exc.offset}: {exc.msg}; write e.g. "
                         "'toxic_share > 0.4 and comment_count >= 20'") from None
    used: list[str] = []
    lookbacks: list[Lookback] = []
    known = set(metrics)

    def check(node: ast.AST, *, boolean: bool) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                check(value, boolean=True)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            check(node.operand, boolean=True)
        elif isinstance(node, ast.Compare):
            if not all(isinstance(op, _ALLOWED_CMPOPS) for op in node.ops):
                raise ValueError("only > >= < <= == != compare values")
            for part in (node.left, *node.comparators):
                check(part, boolean=False)
        elif boolean:
            raise ValueError(f"{ast.unparse(node)!r} is a number, not a condition; compare it, "
                             f"e.g. '{ast.unparse(node)} > 0.5'")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _ALLOWED_BINOPS):
            check(node.left, boolean=False)
            check(node.right, boolean=False)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            check(node.operand, boolean=False)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            pass
        elif isinstance(node, ast.Name):
            if node.id not in known:
                hint = _closest(node.id, known)
                raise ValueError(f"unknown metric {node.id!r}" + (f"; did you mean {hint!r}?" if hint else
                                 "; see the metric list in `monitor rules check --help`"))
            used.append(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            lookbacks.append(_check_call(node, known))
            used.append(lookbacks[-1].metric)
        else:
            raise ValueError(f"{ast.unparse(node)!r} is not allowed; use metric names, numbers, "
                             "+ - * /, comparisons, and/or/not, and " + ", ".join(FUNCTIONS))

    check(tree, boolean=True)
    return tree, tuple(dict.fromkeys(used)), tuple(dict.fromkeys(lookbacks))


def _check_call(node: ast.Call, known: set[str]) -> Lookback:
    name = node.func.id  # type: ignore[attr-defined]
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; available: {', '.join(FUNCTIONS)}")
    if node.keywords or len(node.args) != 2 or not isinstance(node.args[0], ast.Name) \
            or not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
        raise ValueError(f"{name} takes a metric and a quoted range, e.g. {name}(toxic_share, \"7d\")")
    metric = node.args[0].id
    if metric not in known:
        raise ValueError(f"unknown metric {metric!r} in {name}()")
    try:
        span = parse_duration(node.args[1].value)
    except ValueError as exc:
        raise ValueError(f"{name}(): {exc}") from None
    if span <= timedelta(0):
        raise ValueError(f"{name}(): the range must be positive")
    return Lookback(name, metric, span)


def lookback_of(node: ast.Call) -> Lookback:
    """The Lookback of a call that `parse_expr` accepted."""
    return Lookback(node.func.id, node.args[0].id, parse_duration(node.args[1].value))  # type: ignore[attr-defined]


def _closest(name: str, known: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(known), n=1)
    return found[0] if found else None


def first_comparison(tree: ast.expr) -> ast.Compare | None:
    """The comparison whose sides give an alert's value and threshold."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            return node
    return None


def render_template(template: str, context: dict[str, Any]) -> str:
    """Substitute `{{ name }}`; numbers are shown with up to 3 significant digits."""

    def sub(match: re.Match[str]) -> str:
        value = context.get(match.group(1), "")
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    return _TEMPLATE.sub(sub, template)


# --- files ---------------------------------------------------------------------------------------

def rule_files(paths: Sequence[Path] | None, rules_dir: Path) -> list[Path]:
    """The rule files to use: the given files/folders, else every *.toml directly in rules_dir."""
    if not paths:
        if not rules_dir.is_dir():
            return []
        paths = [rules_dir]
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.glob("*.toml") if p.is_file())
        else:
            found.append(path)
    return found


class _Lines:
    """Finds the line of a group, rule or field by scanning the file text (tomllib has no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, pattern: str, start: int = 0, stop: int | None = None) -> int:
        regex = re.compile(pattern)
        for i in range(start, len(self.lines) if stop is None else stop):
            if regex.search(self.lines[i]):
                return i + 1
        return 0

    def block_end(self, line: int) -> int:
        """The line index where the table starting at `line` (1-based) ends."""
        for i in range(line, len(self.lines)):
            if self.lines[i].lstrip().startswith("[["):
                return i
        return len(self.lines)


def _alert_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid('every rule needs alert = "Name"')
    if not _NAME.match(value):
        raise Invalid("use letters, digits and _ only, starting with a letter (e.g. ToxicShareHigh)")
    return value


def _scope(value: Any) -> str:
    if value not in SCOPES:
        raise Invalid(f"expected one of {', '.join(SCOPES)}, got {value!r}")
    return value


def _span(value: Any) -> timedelta:
    try:
        result = parse_duration(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    if result < timedelta(0):
        raise Invalid("must not be negative")
    return result


def _window(value: Any) -> timedelta:
    if _span(value) <= timedelta(0):
        raise Invalid('must be positive and one of aggregate.windows, e.g. "1h" or "1d"')
    return _span(value)


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Invalid('expected a table of strings, e.g. labels = { severity = "warning" }')
    for key, text in value.items():
        if not _NAME.match(key):
            raise Invalid(f"label name {key!r}: use letters, digits and _")
        if key in ("alertname", "scope", "window", "source", "article"):
            raise Invalid(f"label {key!r} is set by the monitor itself; choose another name")
        if len(text) > _LABEL_VALUE_MAX:
            raise Invalid(f"label {key!r} is longer than {_LABEL_VALUE_MAX} characters")
    return value


def _annotations(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Invalid('expected a table of strings, e.g. annotations.summary = "…"')
    return value


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid('expected a list of names, e.g. ["daily-news"]')
    return tuple(value)


class _RuleTable(TomlModel):
    """A [[groups.rules]] table as written; `expr` is checked against the metrics in the context."""

    alert: Annotated[str, BeforeValidator(_alert_name)] = Field("", validate_default=True)
    expr: str = Field("", validate_default=True)
    scope: Annotated[str, BeforeValidator(_scope)] = "source"
    window: Annotated[timedelta, BeforeValidator(_window)] = timedelta(hours=1)
    min_comments: Annotated[int, whole_number(0)] = 0
    sources: Annotated[tuple[str, ...], BeforeValidator(_names)] = ()
    articles: Annotated[tuple[str, ...], BeforeValidator(_names)] = ()
    for_: Annotated[timedelta, BeforeValidator(_span)] = Field(timedelta(0), alias="for")
    keep_firing_for: Annotated[timedelta, BeforeValidator(_span)] = timedelta(0)
    labels: Annotated[dict[str, str], BeforeValidator(_labels)] = Field(default_factory=dict)
    annotations: Annotated[dict[str, str], BeforeValidator(_annotations)] = Field(default_factory=dict)

    @field_validator("expr", mode="before")
    @classmethod
    def _expression(cls, value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Invalid('must be set, e.g. expr = "toxic_share > 0.4"')
        try:
            parse_expr(value, (info.context or {}).get("metrics", ()))
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        return value


def _rules_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise Invalid("the group has no [[groups.rules]]")
    return value


def _group_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid('every group needs a name = "…"')
    return value


class _GroupTable(TomlModel):
    """A [[groups]] table as written; its rules are checked one by one (`_RuleTable`)."""

    name: Annotated[str, BeforeValidator(_group_name)] = Field("", validate_default=True)
    interval: Annotated[timedelta | None, duration()] = None
    rules: Annotated[list[Any], BeforeValidator(_rules_list)] = Field(default_factory=list, validate_default=True)


def _groups_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise Invalid("no [[groups]] table; add one with a name and [[groups.rules]]")
    return value


class _RuleFile(TomlModel):
    """A rule file: [[groups]] tables only."""

    groups: Annotated[list[Any], BeforeValidator(_groups_list)] = Field(default_factory=list,
                                                                         validate_default=True)


def _field_problems(exc: ValidationError, model: type[TomlModel], unknown: str) -> list[tuple[str, str]]:
    """(field, message) of each error; an unknown key's message is `unknown` plus the accepted keys."""
    return [(key.split(".")[0].split("[")[0], message)
            for key, message, _ in validation.problems(exc, model, lambda accepted: (
                f"{unknown}; accepted: {', '.join(accepted)}", None))]


def _parse_file(path: Path, metrics: Sequence[str]) -> tuple[list[RuleGroup], list[RuleProblem]]:
    file = str(path)
    problems: list[RuleProblem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [], [RuleProblem(file, 0, "", "", "", f"cannot read: {exc.strerror}")]
    except UnicodeDecodeError as exc:
        return [], [RuleProblem(file, 0, "", "", "", f"not UTF-8 text (byte {exc.start}); save it as UTF-8")]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or 0
        return [], [RuleProblem(file, line, "", "", "", f"not valid TOML: {exc}")]
    lines = _Lines(text)

    def problem(line: int, group: str, rule: str, fld: str, message: str) -> None:
        problems.append(RuleProblem(file, line, group, rule, fld, message))

    try:
        groups_raw = _RuleFile.model_validate(raw).groups
    except ValidationError as exc:
        for fld, message in _field_problems(exc, _RuleFile, "unknown top-level key"):
            if fld == "groups":
                problem(0, "", "", fld, message)
            else:
                problem(lines.find(rf"^\s*\[*\s*{re.escape(fld)}\b"), "", "", fld,
                        "unknown top-level key; rule files hold [[groups]] tables only")
        groups_raw = raw.get("groups") if isinstance(raw.get("groups"), list) else []
        if not groups_raw:
            return [], problems

    groups: list[RuleGroup] = []
    cursor = 0
    for gi, graw in enumerate(groups_raw):
        gline = lines.find(r"^\s*\[\[\s*groups\s*\]\]", cursor) or cursor
        cursor = gline
        try:
            table = _GroupTable.model_validate(graw)
            gname, interval, rules_raw = table.name, table.interval, table.rules
        except ValidationError as exc:
            # Reported, and the group's rules are still checked.
            gname = graw.get("name") if isinstance(graw, dict) and isinstance(graw.get("name"), str) \
                and graw.get("name") else f"#{gi + 1}"
            interval = None
            rules_raw = graw.get("rules") if isinstance(graw, dict) and isinstance(graw.get("rules"), list) else []
            for fld, message in _field_problems(exc, _GroupTable, "unknown group key"):
                at = gline if fld in ("name", "rules") else lines.find(rf"^\s*{re.escape(fld)}\s*=", gline) or gline
                problem(at, gname, "", fld, message)
        group = RuleGroup(gname, [], interval, file, gline)
        for ri, rraw in enumerate(rules_raw):
            rule, rule_problems, cursor = _parse_rule(rraw, ri, gname, lines, cursor, file, metrics)
            problems += rule_problems
            if rule is not None:
                if any(r.name == rule.name for r in group.rules):
                    problem(rule.line, gname, rule.name, "alert", "duplicate alert name in this group; "
                            "rename one")
                group.rules.append(rule)
        groups.append(group)
    return groups, problems


def _parse_rule(raw: Any, index: int, group: str, lines: _Lines, cursor: int, file: str,
                metrics: Sequence[str]) -> tuple[Rule | None, list[RuleProblem], int]:
    problems: list[RuleProblem] = []
    if not isinstance(raw, dict):
        line = lines.find(r"^\s*rules\s*=", cursor) or cursor
        return None, [RuleProblem(file, line, group, f"#{index + 1}", "", "expected a [[groups.rules]] table")], cursor
    name = raw.get("alert") if isinstance(raw.get("alert"), str) else ""
    if name:
        line = lines.find(rf"^\s*alert\s*=\s*[\"']{re.escape(name)}[\"']", cursor) or \
            lines.find(r"^\s*\[\[\s*groups\.rules\s*\]\]", cursor)
    else:
        line = lines.find(r"^\s*\[\[\s*groups\.rules\s*\]\]", cursor)
    cursor = max(cursor, line)
    end = lines.block_end(line) if line else None
    label = name or f"#{index + 1}"

    def problem(fld: str, message: str) -> None:
        at = lines.find(rf"^\s*{re.escape(fld)}\s*[=.]", max(line - 1, 0), end) or line
        problems.append(RuleProblem(file, at, group, label, fld, message))

    try:
        table = _RuleTable.model_validate(raw, context={"metrics": metrics})
    except ValidationError as exc:
        for fld, message in _field_problems(exc, _RuleTable, "unknown rule key"):
            problem(fld, message)
        return None, problems, cursor
    if table.articles and table.scope != "article":
        problem("articles", 'an article filter needs scope = "article"')
        return None, problems, cursor
    tree, used, lookbacks = parse_expr(table.expr, metrics)
    return Rule(group=group, name=name, expr=table.expr, scope=table.scope, window=table.window,
                min_comments=table.min_comments, for_=table.for_, keep_firing_for=table.keep_firing_for,
                labels=dict(table.labels), annotations=dict(table.annotations), sources=table.sources,
                articles=table.articles, file=file, line=line, tree=tree, metrics=used,
                lookbacks=lookbacks), problems, cursor


def check_files(files: Sequence[Path], *, targets: Iterable[str] = ("nato", "russia"),
                windows: Sequence[timedelta] | None = None) -> tuple[list[RuleGroup], list[RuleProblem]]:
    """Parse and validate rule files; returns the groups and every problem found."""
    metrics = numeric_metrics(targets)
    groups: list[RuleGroup] = []
    problems: list[RuleProblem] = []
    seen_groups: dict[str, str] = {}
    for path in files:
        file_groups, file_problems = _parse_file(path, metrics)
        problems += file_problems
        for group in file_groups:
            if group.name in seen_groups:
                problems.append(RuleProblem(str(path), group.line, group.name, "", "name",
                                            f"group name already used in {seen_groups[group.name]}; rename it"))
            seen_groups[group.name] = str(path)
            if windows is not None:
                for rule in group.rules:
                    if rule.window not in windows:
                        problems.append(RuleProblem(
                            rule.file, rule.line, group.name, rule.name, "window",
                            f"no aggregates are computed for {format_duration(rule.window)}; use one of "
                            + ", ".join(format_duration(w) for w in windows) + " or add it to aggregate.windows"))
        groups += file_groups
    return groups, problems


def load_rules(files: Sequence[Path], *, targets: Iterable[str] = ("nato", "russia"),
               windows: Sequence[timedelta] | None = None) -> list[Rule]:
    """All rules of these files; raises RuleError listing every problem when any is invalid."""
    groups, problems = check_files(files, targets=targets, windows=windows)
    if problems:
        raise RuleError("invalid alert rules (run `monitor rules check`):\n"
                        + "\n".join(str(p) for p in problems))
    return [rule for group in groups for rule in group.rules]
