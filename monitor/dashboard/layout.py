"""Dashboard layouts: dashboards/*.toml validated into a `DashboardSpec`, and a spec laid out as a
rich `Layout` for one terminal size.

A layout file holds `title`, `span` (period the tables summarise), `refresh`, `per_source` and a
list of `[[region]]` tables. A region shows one `widget` or splits into child `[[region.region]]`
tables (`split = "column"` stacks them, `"row"` puts them side by side). Sizes: `size` (lines or
columns; `"auto"` = as many lines as the content needs, capped by `max_size`), else a share
by `ratio` of what is left, never below `minimum_size`. `min_width` / `min_height` hide a region
on terminals smaller than that.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.layout import Layout
from rich.text import Text

from monitor.config import parse_duration
from monitor.dashboard.data import Snapshot
from monitor.dashboard.widgets import NATURAL_HEIGHT, WIDGETS
from monitor.errors import ConfigError

__all__ = ["DashboardSpec", "Region", "available_layouts", "build_layout", "load_layout",
           "parse_layout"]

_TOP_KEYS = {"title", "span", "refresh", "per_source", "region"}
_REGION_KEYS = {"name", "widget", "region", "split", "size", "max_size", "ratio", "minimum_size",
                "min_width", "min_height"}


@dataclass(frozen=True)
class Region:
    name: str
    widget: str | None = None
    children: tuple[Region, ...] = ()
    split: str = "column"
    size: int | None = None
    auto: bool = False
    max_size: int | None = None
    ratio: int = 1
    minimum_size: int = 1
    min_width: int = 0
    min_height: int = 0

    def shows_on(self, width: int, height: int) -> bool:
        return width >= self.min_width and height >= self.min_height


@dataclass(frozen=True)
class DashboardSpec:
    """A validated layout file."""

    name: str
    path: Path
    title: str
    span: timedelta
    refresh: timedelta
    per_source: bool
    root: Region


def _fail(path: Path, key: str, message: str, fix: str | None = None) -> ConfigError:
    return ConfigError(message, file=str(path), key=key, fix=fix)


def _int(path: Path, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(path, key, f"expected a whole number ≥ {minimum}, got {value!r}")
    return value


def _region(path: Path, key: str, raw: Any, names: set[str]) -> Region:
    if not isinstance(raw, dict):
        raise _fail(path, key, "expected a table", "write regions as [[region]] tables")
    unknown = sorted(set(raw) - _REGION_KEYS)
    if unknown:
        raise _fail(path, f"{key}.{unknown[0]}", "unknown key",
                    "accepted: " + ", ".join(sorted(_REGION_KEYS)))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(path, f"{key}.name", "every region needs a name", 'e.g. name = "alerts"')
    if name in names:
        raise _fail(path, f"{key}.name", f"duplicate region name {name!r}", "names must be unique")
    names.add(name)
    widget = raw.get("widget")
    children_raw = raw.get("region")
    if (widget is None) == (children_raw is None):
        raise _fail(path, key, "a region needs exactly one of `widget` or child [[…region]] tables")
    if widget is not None and widget not in WIDGETS:
        raise _fail(path, f"{key}.widget", f"unknown widget {widget!r}",
                    "accepted: " + ", ".join(sorted(WIDGETS)))
    children: tuple[Region, ...] = ()
    if children_raw is not None:
        if not isinstance(children_raw, list) or not children_raw:
            raise _fail(path, f"{key}.region", "expected one or more [[…region]] tables")
        children = tuple(_region(path, f"{key}.region[{i}]", child, names)
                         for i, child in enumerate(children_raw))
    split = raw.get("split", "column")
    if split not in ("column", "row"):
        raise _fail(path, f"{key}.split", f"expected 'column' or 'row', got {split!r}")
    size = raw.get("size")
    auto = size == "auto"
    if size is not None and not auto:
        size = _int(path, f"{key}.size", size, 1)
    return Region(
        name=name, widget=widget, children=children, split=split,
        size=None if auto else size, auto=auto,
        max_size=_int(path, f"{key}.max_size", raw["max_size"], 1) if "max_size" in raw else None,
        ratio=_int(path, f"{key}.ratio", raw.get("ratio", 1), 1),
        minimum_size=_int(path, f"{key}.minimum_size", raw.get("minimum_size", 1), 1),
        min_width=_int(path, f"{key}.min_width", raw.get("min_width", 0), 0),
        min_height=_int(path, f"{key}.min_height", raw.get("min_height", 0), 0),
    )


def _duration(path: Path, key: str, value: Any, default: timedelta) -> timedelta:
    if value is None:
        return default
    try:
        result = parse_duration(value)
    except ValueError as exc:
        raise _fail(path, key, str(exc)) from None
    if result.total_seconds() <= 0:
        raise _fail(path, key, f"expected a positive duration, got {value!r}")
    return result


def parse_layout(raw: dict[str, Any], path: Path) -> DashboardSpec:
    """Validate a parsed layout file; errors name the file and the key."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise _fail(path, unknown[0], "unknown key", "accepted: " + ", ".join(sorted(_TOP_KEYS)))
    regions = raw.get("region")
    if not isinstance(regions, list) or not regions:
        raise _fail(path, "region", "no [[region]] tables", "a layout needs at least one region")
    title = raw.get("title", path.stem)
    if not isinstance(title, str):
        raise _fail(path, "title", f"expected a string, got {title!r}")
    per_source = raw.get("per_source", False)
    if not isinstance(per_source, bool):
        raise _fail(path, "per_source", f"expected true or false, got {per_source!r}")
    names: set[str] = set()
    children = tuple(_region(path, f"region[{i}]", r, names) for i, r in enumerate(regions))
    return DashboardSpec(
        name=path.stem, path=path, title=title,
        span=_duration(path, "span", raw.get("span"), timedelta(hours=24)),
        refresh=_duration(path, "refresh", raw.get("refresh"), timedelta(seconds=5)),
        per_source=per_source, root=Region(name="root", children=children),
    )


def available_layouts(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_layout(name: str, folder: Path) -> DashboardSpec:
    """A layout by name (dashboards/NAME.toml) or by path to a .toml file."""
    path = Path(name) if name.endswith(".toml") else folder / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(available_layouts(folder)) or "none"
        raise ConfigError(f"no dashboard layout {name!r}", file=str(path),
                          fix=f"layouts in {folder}: {known}; or set paths.dashboards_dir")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path), fix="fix the syntax at that line") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path), fix="save it as UTF-8") from None
    return parse_layout(raw, path)


def _allocate(total: int, wants: list[tuple[int | None, int, int]]) -> list[int]:
    """Split `total` cells among (fixed size or None, ratio, minimum) entries; fixed sizes first,
    then the rest by ratio. When space runs out, later entries shrink first."""
    sizes = [0] * len(wants)
    left = total - sum(minimum for fixed, _, minimum in wants if fixed is None)
    for i, (fixed, _, _) in enumerate(wants):
        if fixed is not None:
            sizes[i] = max(0, min(fixed, left))
            left -= sizes[i]
    flexible = [i for i, (fixed, _, _) in enumerate(wants) if fixed is None]
    spare = max(0, left)
    ratios = sum(wants[i][1] for i in flexible)
    given = 0
    for i in flexible:
        share = spare * wants[i][1] // ratios
        sizes[i] = wants[i][2] + share
        given += share
    for i in flexible[:spare - given]:  # rounding leftovers
        sizes[i] += 1
    over = sum(sizes) - total
    for i in reversed(range(len(sizes))):  # a terminal too small for the minimums
        if over <= 0:
            break
        cut = min(over, sizes[i])
        sizes[i] -= cut
        over -= cut
    return sizes


def _natural_height(region: Region, snap: Snapshot, term: tuple[int, int]) -> int:
    """Lines a region needs for all its content, capped by its max_size."""
    if region.widget is not None:
        lines = NATURAL_HEIGHT[region.widget](snap)
    else:
        heights = [_natural_height(c, snap, term) if c.auto or c.widget else (c.size or c.minimum_size)
                   for c in region.children if c.shows_on(*term)]
        lines = (sum(heights) if region.split == "column" else max(heights, default=0))
    return min(lines, region.max_size) if region.max_size is not None else lines


def _layout(region: Region, snap: Snapshot, width: int, height: int, term: tuple[int, int]) -> Layout:
    if region.widget is not None:
        return Layout(WIDGETS[region.widget](snap, width, height), name=region.name)
    visible = [c for c in region.children if c.shows_on(*term)]
    along = height if region.split == "column" else width
    wants = []
    for child in visible:
        fixed = child.size
        if child.auto and region.split == "column":
            fixed = _natural_height(child, snap, term)
        wants.append((fixed, child.ratio, child.minimum_size))
    sizes = _allocate(along, wants)
    parts = []
    for child, size in zip(visible, sizes):
        if size <= 0:
            continue
        w, h = (width, size) if region.split == "column" else (size, height)
        part = _layout(child, snap, w, h, term)
        part.size = size
        parts.append(part)
    layout = Layout(name=region.name)
    if not parts:
        layout.update(Text(""))  # not rich's placeholder box
        return layout
    if region.split == "column":
        layout.split_column(*parts)
    else:
        layout.split_row(*parts)
    return layout


def build_layout(spec: DashboardSpec, snap: Snapshot, width: int, height: int) -> Layout:
    """The spec's regions sized for a `width`×`height` terminal, each holding its widget."""
    return _layout(spec.root, snap, width, height, (width, height))
