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
from typing import Any, Iterable, Sequence

from monitor.config import parse_duration
from monitor.errors import RuleError

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
_RULE_KEYS = {"alert", "expr", "scope", "window", "min_comments", "sources", "articles", "for",
              "keep_firing_for", "labels", "annotations"}
_GROUP_KEYS = {"name", "interval", "rules"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL_VALUE_MAX = 200
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def numeric_metrics(targets: Iterable[str] = ("nato", "russia")) -> list[str]:
    """Metric names usable in expressions (all but the list-valued top_slurs)."""
    from monitor.aggregate import metric_names

    return [m for m in metric_names(targets) if m != "top_slurs"]


def format_duration(value: timedelta) -> str:
    """1h, 90m, 7d … the shortest exact spelling."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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

    for key in sorted(set(raw) - {"groups"}):
        problem(lines.find(rf"^\s*\[*\s*{re.escape(key)}\b"), "", "", key,
                "unknown top-level key; rule files hold [[groups]] tables only")
    groups_raw = raw.get("groups", [])
    if not isinstance(groups_raw, list) or not groups_raw:
        problem(0, "", "", "groups", "no [[groups]] table; add one with a name and [[groups.rules]]")
        return [], problems

    groups: list[RuleGroup] = []
    cursor = 0
    for gi, graw in enumerate(groups_raw):
        gline = lines.find(r"^\s*\[\[\s*groups\s*\]\]", cursor) or cursor
        cursor = gline
        gname = graw.get("name") if isinstance(graw.get("name"), str) else ""
        if not gname:
            problem(gline, f"#{gi + 1}", "", "name", "every group needs a name = \"…\"")
            gname = f"#{gi + 1}"
        for key in sorted(set(graw) - _GROUP_KEYS):
            problem(lines.find(rf"^\s*{re.escape(key)}\s*=", gline) or gline, gname, "", key,
                    f"unknown group key; accepted: {', '.join(sorted(_GROUP_KEYS))}")
        interval = None
        if "interval" in graw:
            try:
                interval = parse_duration(graw["interval"])
            except ValueError as exc:
                problem(lines.find(r"^\s*interval\s*=", gline) or gline, gname, "", "interval", str(exc))
        group = RuleGroup(gname, [], interval, file, gline)
        rules_raw = graw.get("rules", [])
        if not isinstance(rules_raw, list) or not rules_raw:
            problem(gline, gname, "", "rules", "the group has no [[groups.rules]]")
        for ri, rraw in enumerate(rules_raw if isinstance(rules_raw, list) else []):
            rule, rule_problems, cursor = _parse_rule(rraw, ri, gname, lines, cursor, file, metrics)
            problems += rule_problems
            if rule is not None:
                if any(r.name == rule.name for r in group.rules):
                    problem(rule.line, gname, rule.name, "alert", "duplicate alert name in this group; "
                            "rename one")
                group.rules.append(rule)
        groups.append(group)
    return groups, problems


def _parse_rule(raw: dict[str, Any], index: int, group: str, lines: _Lines, cursor: int, file: str,
                metrics: Sequence[str]) -> tuple[Rule | None, list[RuleProblem], int]:
    problems: list[RuleProblem] = []
    name = raw.get("alert") if isinstance(raw.get("alert"), str) else ""
    if name:
        line = lines.find(rf"^\s*alert\s*=\s*[\"']{re.escape(name)}[\"']", cursor) or \
            lines.find(r"^\s*\[\[\s*groups\.rules\s*\]\]", cursor)
    else:
        line = lines.find(r"^\s*\[\[\s*groups\.rules\s*\]\]", cursor)
    cursor = max(cursor, line)
    end = lines.block_end(line) if line else None
    label = name or f"#{index + 1}"

    def at(fld: str) -> int:
        return lines.find(rf"^\s*{re.escape(fld)}\s*[=.]", max(line - 1, 0), end) or line

    def problem(fld: str, message: str) -> None:
        problems.append(RuleProblem(file, at(fld), group, label, fld, message))

    if not name:
        problem("alert", "every rule needs alert = \"Name\"")
    elif not _NAME.match(name):
        problem("alert", "use letters, digits and _ only, starting with a letter (e.g. ToxicShareHigh)")
    for key in sorted(set(raw) - _RULE_KEYS):
        problem(key, f"unknown rule key; accepted: {', '.join(sorted(_RULE_KEYS))}")

    expr = raw.get("expr")
    tree = None
    used: tuple[str, ...] = ()
    lookbacks: tuple[Lookback, ...] = ()
    if not isinstance(expr, str) or not expr.strip():
        problem("expr", "must be set, e.g. expr = \"toxic_share > 0.4\"")
    else:
        try:
            tree, used, lookbacks = parse_expr(expr, metrics)
        except ValueError as exc:
            problem("expr", str(exc))

    scope = raw.get("scope", "source")
    if scope not in SCOPES:
        problem("scope", f"expected one of {', '.join(SCOPES)}, got {scope!r}")

    def duration(fld: str, default: timedelta | None) -> timedelta:
        if fld not in raw:
            if default is None:
                problem(fld, "must be set, e.g. \"1h\"")
                return timedelta(hours=1)
            return default
        try:
            value = parse_duration(raw[fld])
        except ValueError as exc:
            problem(fld, str(exc))
            return default or timedelta(hours=1)
        if value < timedelta(0):
            problem(fld, "must not be negative")
        return value

    window = duration("window", timedelta(hours=1))
    if window <= timedelta(0):
        problem("window", "must be positive and one of aggregate.windows, e.g. \"1h\" or \"1d\"")
    for_ = duration("for", timedelta(0))
    keep = duration("keep_firing_for", timedelta(0))
    min_comments = raw.get("min_comments", 0)
    if not isinstance(min_comments, int) or isinstance(min_comments, bool) or min_comments < 0:
        problem("min_comments", f"expected a whole number ≥ 0, got {min_comments!r}")
        min_comments = 0

    labels = raw.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        problem("labels", "expected a table of strings, e.g. labels = { severity = \"warning\" }")
        labels = {}
    for key, value in labels.items():
        if not _NAME.match(key):
            problem("labels", f"label name {key!r}: use letters, digits and _")
        if key in ("alertname", "scope", "window", "source", "article"):
            problem("labels", f"label {key!r} is set by the monitor itself; choose another name")
        if len(value) > _LABEL_VALUE_MAX:
            problem("labels", f"label {key!r} is longer than {_LABEL_VALUE_MAX} characters")
    annotations = raw.get("annotations", {})
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        problem("annotations", "expected a table of strings, e.g. annotations.summary = \"…\"")
        annotations = {}

    filters: dict[str, tuple[str, ...]] = {}
    for fld in ("sources", "articles"):
        value = raw.get(fld, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problem(fld, "expected a list of names, e.g. [\"daily-news\"]")
            value = []
        filters[fld] = tuple(value)
    if filters["articles"] and scope != "article":
        problem("articles", "an article filter needs scope = \"article\"")

    if problems:
        return None, problems, cursor
    return Rule(group=group, name=name, expr=expr, scope=scope, window=window, min_comments=min_comments,
                for_=for_, keep_firing_for=keep, labels=dict(labels), annotations=dict(annotations),
                sources=filters["sources"], articles=filters["articles"], file=file, line=line, tree=tree,
                metrics=used, lookbacks=lookbacks), problems, cursor


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
