"""Pure functions from a Snapshot and a size to rich renderables; one function per dashboard widget.

Every value that came from the database is drawn through `Text` after `one_line`, never as a
markup string, so comment text cannot inject rich markup or terminal escape sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from monitor.dashboard.data import Snapshot, SourceRow
from monitor.text import one_line, truncate

__all__ = [
    "NATURAL_HEIGHT",
    "WIDGETS",
    "Widget",
    "age",
    "alerts_panel",
    "coinages_panel",
    "header",
    "source_summary",
    "sources_table",
    "sparkline",
    "stance_bar",
    "toxic_comments_panel",
    "trend_chart",
]

Widget = Callable[[Snapshot, int, int], RenderableType]

BLOCKS = " ▁▂▃▄▅▆▇█"
FAVOR, AGAINST, NEUTRAL = "█", "▓", "░"
STANCE_LEGEND = f"{FAVOR} favor  {AGAINST} against  {NEUTRAL} none"
WIDE = 100  # from this width on, widgets add columns and longer trends


def _safe(value: object, limit: int | None = None, style: str = "") -> Text:
    """Untrusted value → a one-line Text (controls replaced, never parsed as markup)."""
    flat = one_line(str(value)) if value is not None else ""
    return Text(truncate(flat, limit) if limit else flat, style=style)


def age(when: datetime | None, now: datetime) -> str:
    """'45s ago', '12m ago', '3h ago', '2d ago' or 'never'."""
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    # Days only from two on: "24h" reads better than "1d".
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0 and seconds >= (2 * size if unit == "d" else size):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _resample(values: Sequence[float | None], width: int) -> list[float | None]:
    """Average consecutive values into `width` bins (or keep them when they already fit)."""
    if len(values) <= width:
        return list(values)
    out: list[float | None] = []
    for i in range(width):
        chunk = [v for v in values[i * len(values) // width:(i + 1) * len(values) // width]
                 if v is not None]
        out.append(sum(chunk) / len(chunk) if chunk else None)
    return out


def sparkline(values: Sequence[float | None], width: int, style: str = "") -> Text:
    """One row of block characters scaled to the largest value; gaps (no data) stay blank."""
    points = _resample(values, max(1, width))
    top = max((v for v in points if v is not None), default=0.0)
    chars = []
    for v in points:
        if v is None:
            chars.append(" ")
        elif top <= 0:
            chars.append(BLOCKS[1])
        else:
            # A non-zero value always shows at least the lowest block.
            chars.append(BLOCKS[max(1, round(v / top * (len(BLOCKS) - 1)))])
    return Text("".join(chars), style=style)


def stance_bar(shares: tuple[float, float, float], width: int, numbers: bool = False) -> Text:
    """favor / against / none shares as a bar of `width` cells, optionally followed by percents."""
    favor, against, _ = shares
    cells_favor = round(favor * width)
    cells_against = min(width - cells_favor, round(against * width))
    bar = Text()
    bar.append(FAVOR * cells_favor, style="green")
    bar.append(AGAINST * cells_against, style="red")
    bar.append(NEUTRAL * (width - cells_favor - cells_against), style="grey50")
    if numbers:
        bar.append(f" {favor * 100:>3.0f}/{against * 100:<3.0f}")
    return bar


# --- header --------------------------------------------------------------------------------------

_DAEMON_STYLE = {"running": "bold green", "stopped": "yellow", "stale": "bold red", "unknown": "grey50"}


def header(snap: Snapshot, width: int, height: int) -> RenderableType:
    """Daemon state, last collection and the database; a refresh error replaces the second line."""
    d = snap.daemon
    first = Text(no_wrap=True, overflow="ellipsis")
    first.append("monitor", style="bold")
    if snap.focus:
        first.append(" · ")
        first.append(_safe(snap.focus, 40, "bold cyan"))
    first.append("  daemon ")
    first.append(d.state, style=_DAEMON_STYLE.get(d.state, ""))
    if d.pid is not None and width >= WIDE:
        first.append(f" pid {d.pid}")
    if d.heartbeat is not None and d.state != "unknown":
        first.append(f" ({age(d.heartbeat, snap.now)})", style="grey50")
    first.append("  last collection ")
    first.append(age(snap.last_collection, snap.now),
                 style="" if snap.last_collection else "yellow")
    first.append(f"  {snap.now:%H:%M} UTC", style="grey50")
    second = Text(no_wrap=True, overflow="ellipsis")
    if snap.error:
        second.append("refresh failed: ", style="bold red")
        second.append(_safe(snap.error))
    else:
        second.append("db ", style="grey50")
        second.append(_safe(snap.database))
        second.append(f"  {snap.pending_scores} waiting for scores  span {_duration(snap.span)}",
                      style="grey50")
    return Group(first, second) if height >= 2 else first


# --- sources -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _SourceColumns:
    """Which optional columns fit a sources table of a given width, and how wide trend and bars are."""

    counts: bool  # comment count and last collection
    details: bool  # stance percentages and the collection problem
    trend: int
    bar: int

    @classmethod
    def fit(cls, width: int, n_targets: int, points: int) -> _SourceColumns:
        counts, details = width >= 120, width >= 160
        columns = 5 + n_targets + (2 if counts else 0) + (1 if details else 0)
        fixed = 27 + (17 if counts else 0) + (20 + 8 * n_targets if details else 0)
        room = width - 4 - fixed - 3 * (columns - 1)  # what is left for the trend and the bars
        trend = min(points, 24, max(6, room - 10 * n_targets))
        return cls(counts, details, trend, max(4, min(12, (room - trend) // n_targets)))


def _source_cells(row: SourceRow, snap: Snapshot, cols: _SourceColumns) -> list[Text]:
    toxic_style = "bold red" if (row.toxic_share or 0) >= 0.3 else ""
    cells = [_safe(row.name, 24, "cyan"), Text(f"{row.comments_per_hour:.1f}")]
    if cols.counts:
        cells.append(Text(str(row.comments)))
    cells += [Text(_percent(row.toxic_share), style=toxic_style),
              sparkline(row.toxic_trend, cols.trend, "red")]
    cells += [stance_bar(row.stance.get(key, (0.0, 0.0, 0.0)), cols.bar, numbers=cols.details)
              for key, _ in snap.targets]
    cells.append(Text(str(row.slur_count), style="magenta" if row.slur_count else ""))
    if cols.counts:
        cells.append(Text(age(row.last_success_at, snap.now)))
    if cols.details:
        problem = Text()
        if row.consecutive_failures:
            problem.append(f"{row.consecutive_failures}× ", style="bold red")
            problem.append(_safe(row.last_error, 200, "red"))
        cells.append(problem)
    return cells


def sources_table(snap: Snapshot, width: int, height: int) -> RenderableType:
    """Per source over the span: comments per hour, toxic share with its trend, stance bars, slurs."""
    cols = _SourceColumns.fit(width, max(1, len(snap.targets)), len(snap.window_starts))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=True,
                  padding=(0, 1), header_style="bold")
    table.add_column("source", no_wrap=True, max_width=24, overflow="ellipsis")
    table.add_column("c/h", justify="right", no_wrap=True)
    if cols.counts:
        table.add_column("comments", justify="right", no_wrap=True)
    table.add_column("toxic", justify="right", no_wrap=True)
    table.add_column(f"trend {_duration(snap.span)}", no_wrap=True, min_width=cols.trend)
    for _, label in snap.targets:
        table.add_column(_safe(label, 12), no_wrap=True, min_width=cols.bar + (8 if cols.details else 0))
    table.add_column("slurs", justify="right", no_wrap=True)
    if cols.counts:
        table.add_column("collected", no_wrap=True)
    if cols.details:
        table.add_column("problem", no_wrap=True, overflow="ellipsis", ratio=1)
    room = max(1, height - 4)  # panel border and table header
    rows = list(snap.sources)
    shown = rows if len(rows) <= room else rows[:room - 1]
    for row in shown:
        table.add_row(*_source_cells(row, snap, cols))
    if len(shown) < len(rows):
        table.add_row(Text(f"… {len(rows) - len(shown)} more", style="grey50"))
    body: RenderableType = table
    if not rows:
        body = Text("No sources yet: add [[source]] tables to sources.toml and start the daemon.",
                    style="grey50")
    return Panel(body, title=f"sources · last {_duration(snap.span)}", title_align="left",
                 subtitle=STANCE_LEGEND, subtitle_align="right", box=box.ROUNDED, padding=(0, 1))


# --- alerts, coinages, toxic comments ------------------------------------------------------------

def alerts_panel(snap: Snapshot, width: int, height: int) -> RenderableType:
    """Firing alerts first, then pending ones, with the source, value, age and summary."""
    firing = sum(a.state == "firing" for a in snap.alerts)
    title = Text("alerts", style="bold red" if firing else "")
    title.append(f" · {firing} firing, {len(snap.alerts) - firing} pending")
    if not snap.alerts:
        return Panel(Text("no firing or pending alerts", style="green"), title=title,
                     title_align="left", box=box.ROUNDED)
    # One space between columns: narrow panels need the room for rule names.
    table = Table(box=None, show_header=False, pad_edge=False, expand=True, padding=(0, 1, 0, 0))
    table.add_column("state", no_wrap=True)
    table.add_column("rule", no_wrap=True, overflow="ellipsis", ratio=3, min_width=min(22, max(8, width // 4)))
    table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("since", no_wrap=True)
    if width >= 70:
        table.add_column("summary", no_wrap=True, overflow="ellipsis", ratio=3)
    room = max(1, height - 2)
    for alert in snap.alerts[:room]:
        state = (Text("FIRING", style="bold white on red") if alert.state == "firing"
                 else Text("pending", style="yellow"))
        value = "" if alert.value is None else f"{alert.value:.3g}"
        cells = [state, _safe(alert.rule.rsplit("/", 1)[-1], 60, "bold"),
                 _safe(alert.labels.get("source", ""), 16, "cyan"), Text(value),
                 Text(age(alert.since, snap.now).removesuffix(" ago"))]
        if width >= 70:
            cells.append(_safe(alert.summary, 200))
        table.add_row(*cells)
    return Panel(table, title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


def coinages_panel(snap: Snapshot, width: int, height: int) -> RenderableType:
    """Candidate coined slurs awaiting review, best-ranked first, with counts."""
    title = f"new coinages · {len(snap.coinages)} to review"
    if not snap.coinages:
        return Panel(Text("nothing awaiting review", style="grey50"), title=title,
                     title_align="left", box=box.ROUNDED)
    table = Table(box=None, pad_edge=False, expand=True, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("term", no_wrap=True, overflow="ellipsis", ratio=1, min_width=12)
    table.add_column("target", no_wrap=True, overflow="ellipsis", max_width=10)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("authors" if width >= 40 else "auth", justify="right", no_wrap=True)
    if width >= 60:
        table.add_column("first seen", no_wrap=True)
    room = max(1, height - 3)
    for c in snap.coinages[:room]:
        cells = [_safe(c.term, 40, "magenta"), _safe(c.target, 10), Text(str(c.count)),
                 Text(str(c.distinct_authors))]
        if width >= 60:
            cells.append(Text(age(c.first_seen, snap.now)))
        table.add_row(*cells)
    return Panel(table, title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


def toxic_comments_panel(snap: Snapshot, width: int, height: int) -> RenderableType:
    """The most toxic recent comments: score, source, pseudonymous author and neutralised text."""
    title = f"most toxic comments · last {_duration(snap.span)}"
    if not snap.toxic_comments:
        return Panel(Text("no toxic comments in this span", style="green"), title=title,
                     title_align="left", box=box.ROUNDED)
    wide = width >= WIDE
    table = Table(box=None, show_header=False, pad_edge=False, expand=True, padding=(0, 1))
    table.add_column("toxicity", justify="right", no_wrap=True)
    if not snap.focus:
        table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=14 if wide else 10)
    table.add_column("author", no_wrap=True, overflow="ellipsis", max_width=16 if wide else 9)
    if wide:
        table.add_column("when", no_wrap=True)
    table.add_column("text", no_wrap=True, overflow="ellipsis", ratio=1)
    room = max(1, height - 2)
    for c in snap.toxic_comments[:room]:
        cells = [Text(f"{c.toxicity:.2f}", style="bold red" if c.toxicity >= 0.8 else "red")]
        if not snap.focus:
            cells.append(_safe(c.source, 24, "cyan"))
        cells.append(_safe(c.author or "anonymous", 24, "grey50"))
        if wide:
            cells.append(Text(age(c.at, snap.now)))
        cells.append(_safe(c.text, max(20, width)))  # no more than a row can show: faster to measure
        table.add_row(*cells)
    return Panel(table, title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


# --- per-source view -----------------------------------------------------------------------------

def _focused(snap: Snapshot) -> SourceRow | None:
    return next((r for r in snap.sources if r.name == snap.focus), snap.sources[0] if snap.sources else None)


def source_summary(snap: Snapshot, width: int, height: int) -> RenderableType:
    """One source in detail: volume, toxic share, stance toward each target, slurs, collection."""
    row = _focused(snap)
    if row is None:
        return Panel(Text("no data for this source yet", style="grey50"), box=box.ROUNDED)
    grid = Table.grid(padding=(0, 2), expand=True)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    grid.add_row("comments", Text(f"{row.comments} in {_duration(snap.span)}, "
                                  f"{row.comments_per_hour:.1f} per hour"))
    grid.add_row("toxic", Text(_percent(row.toxic_share),
                               style="bold red" if (row.toxic_share or 0) >= 0.3 else ""))
    bar = max(10, min(40, width - 30))
    grid.add_row("trend", sparkline(row.toxic_trend, min(len(row.toxic_trend), bar), "red"))
    for key, label in snap.targets:
        line = stance_bar(row.stance.get(key, (0.0, 0.0, 0.0)), bar, numbers=True)
        grid.add_row(_safe(label, 16), line)
    slurs = Text(str(row.slur_count), style="magenta" if row.slur_count else "")
    if row.top_slurs:
        slurs.append("  ")
        slurs.append(_safe(", ".join(row.top_slurs), 200, "magenta"))
    grid.add_row("slurs", slurs)
    collected = Text(age(row.last_success_at, snap.now))
    if row.consecutive_failures:
        collected.append(f"  {row.consecutive_failures} failures: ", style="bold red")
        collected.append(_safe(row.last_error, 300, "red"))
    grid.add_row("collected", collected)
    return Panel(grid, title=_safe(row.name, 40, "bold cyan"), title_align="left",
                 subtitle=STANCE_LEGEND, subtitle_align="right", box=box.ROUNDED, padding=(0, 1))


def _bars(values: Sequence[float | None], width: int, rows: int, style: str) -> list[Text]:
    """A column chart `rows` high: each column is one value, drawn with eighth blocks."""
    points = _resample(values, width)
    if points and len(points) < width:  # widen each column to use the room
        points = [v for v in points for _ in range(width // len(points))]
    top = max((v for v in points if v is not None), default=0.0) or 1.0
    eighths = [0 if v is None else max(1 if v > 0 else 0, round(v / top * rows * 8)) for v in points]
    lines = []
    for level in range(rows - 1, -1, -1):
        chars = []
        for e in eighths:
            fill = e - level * 8
            chars.append(BLOCKS[8] if fill >= 8 else BLOCKS[fill] if fill > 0 else " ")
        lines.append(Text("".join(chars), style=style))
    return lines


def trend_chart(snap: Snapshot, width: int, height: int) -> RenderableType:
    """Toxic share and comment volume per window over the span, as column charts."""
    row = _focused(snap)
    title = f"trend · {_duration(snap.window)} windows over {_duration(snap.span)}"
    if row is None or not any(row.volume_trend):
        return Panel(Text("no aggregated windows in this span yet", style="grey50"), title=title,
                     title_align="left", box=box.ROUNDED)
    inner = max(4, width - 4)
    chart_rows = max(1, (height - 4) // 2)
    peak_share = max((v for v in row.toxic_trend if v is not None), default=0.0)
    parts: list[RenderableType] = [Text(f"toxic share (peak {_percent(peak_share)})", style="bold")]
    parts += _bars(row.toxic_trend, inner, chart_rows, "red")
    parts.append(Text(f"comments (peak {max(row.volume_trend)} per window)", style="bold"))
    parts += _bars([float(v) for v in row.volume_trend], inner, chart_rows, "cyan")
    return Panel(Group(*parts), title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


WIDGETS: dict[str, Widget] = {
    "header": header,
    "sources": sources_table,
    "alerts": alerts_panel,
    "coinages": coinages_panel,
    "toxic_comments": toxic_comments_panel,
    "source_summary": source_summary,
    "trend": trend_chart,
}

# Lines a widget needs to show all it has (for regions with size = "auto").
NATURAL_HEIGHT: dict[str, Callable[[Snapshot], int]] = {
    "header": lambda s: 2,
    "sources": lambda s: max(1, len(s.sources) + (1 if not s.sources else 2)) + 2,
    "alerts": lambda s: max(1, len(s.alerts)) + 2,
    "coinages": lambda s: (len(s.coinages) + 1 if s.coinages else 1) + 2,
    "toxic_comments": lambda s: max(1, len(s.toxic_comments)) + 2,
    "source_summary": lambda s: 7 + len(s.targets),
    "trend": lambda s: 8,
}
