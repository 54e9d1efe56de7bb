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
from typing import Annotated, Any

from rich.layout import Layout
from rich.text import Text

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from monitor.dashboard.data import Snapshot
from monitor.dashboard.widgets import NATURAL_HEIGHT, WIDGETS
from monitor.errors import ConfigError
from monitor.validation import Invalid, TomlModel, duration, problems, strict, whole_number

__all__ = ["DashboardSpec", "Region", "available_layouts", "build_layout", "load_layout",
           "parse_layout"]


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


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("every region needs a name", 'e.g. name = "alerts"')
    return value


def _widget(value: Any) -> Any:
    if value is not None and value not in WIDGETS:
        raise Invalid(f"unknown widget {value!r}", "accepted: " + ", ".join(sorted(WIDGETS)))
    return value


def _children(value: Any) -> Any:
    if value is not None and (not isinstance(value, list) or not value):
        raise Invalid("expected one or more [[…region]] tables")
    return value


def _table(value: Any) -> Any:
    if not isinstance(value, dict):
        raise Invalid("expected a table", "write regions as [[region]] tables")
    return value


def _split(value: Any) -> str:
    if value not in ("column", "row"):
        raise Invalid(f"expected 'column' or 'row', got {value!r}")
    return value


def _size(value: Any) -> int | str | None:
    return value if value is None or value == "auto" else whole_number(1).func(value)


_AtLeast1 = Annotated[int, whole_number(1)]
_AtLeast0 = Annotated[int, whole_number(0)]


class RegionTable(TomlModel):
    """A `[[region]]` table as written."""

    name: Annotated[str, BeforeValidator(_name)] = Field("", validate_default=True)
    widget: Annotated[str | None, BeforeValidator(_widget)] = None
    region: Annotated[list[Annotated[RegionTable, BeforeValidator(_table)]] | None,
                      BeforeValidator(_children)] = None
    split: Annotated[str, BeforeValidator(_split)] = "column"
    size: Annotated[int | str | None, BeforeValidator(_size)] = None
    max_size: _AtLeast1 | None = None
    ratio: _AtLeast1 = 1
    minimum_size: _AtLeast1 = 1
    min_width: _AtLeast0 = 0
    min_height: _AtLeast0 = 0

    @model_validator(mode="after")
    def _one_content(self) -> RegionTable:
        if (self.widget is None) == (self.region is None):
            raise Invalid("a region needs exactly one of `widget` or child [[…region]] tables")
        return self

    def spec(self) -> Region:
        return Region(
            name=self.name, widget=self.widget, children=tuple(r.spec() for r in self.region or ()),
            split=self.split, size=None if self.size == "auto" else self.size,  # type: ignore[arg-type]
            auto=self.size == "auto", max_size=self.max_size, ratio=self.ratio,
            minimum_size=self.minimum_size, min_width=self.min_width, min_height=self.min_height)


class LayoutFile(TomlModel):
    """A dashboards/*.toml file as written."""

    title: Annotated[str | None, strict(str, "a string")] = None
    span: Annotated[timedelta, duration(positive=True)] = timedelta(hours=24)
    refresh: Annotated[timedelta, duration(positive=True)] = timedelta(seconds=5)
    per_source: Annotated[bool, strict(bool, "true or false")] = False
    region: list[Annotated[RegionTable, BeforeValidator(_table)]] = Field(default_factory=list,
                                                                           validate_default=True)

    @field_validator("region")
    @classmethod
    def _some_regions(cls, value: list[RegionTable]) -> list[RegionTable]:
        if not value:
            raise Invalid("no [[region]] tables", "a layout needs at least one region")
        return value


def _duplicate_name(regions: list[RegionTable], key: str, names: set[str]) -> tuple[str, str] | None:
    """The key and name of the first region whose name an earlier one already has, if any."""
    for i, region in enumerate(regions):
        here = f"{key}[{i}]"
        if region.name in names:
            return f"{here}.name", region.name
        names.add(region.name)
        found = _duplicate_name(region.region or [], f"{here}.region", names)
        if found:
            return found
    return None


def parse_layout(raw: dict[str, Any], path: Path) -> DashboardSpec:
    """Validate a parsed layout file; errors name the file and the key."""
    try:
        layout = LayoutFile.model_validate(raw)
    except ValidationError as exc:
        key, message, fix = next(problems(exc, LayoutFile))
        raise ConfigError(message, file=str(path), key=key, fix=fix) from None
    duplicate = _duplicate_name(layout.region, "region", set())
    if duplicate:
        raise ConfigError(f"duplicate region name {duplicate[1]!r}", file=str(path), key=duplicate[0],
                          fix="names must be unique")
    return DashboardSpec(
        name=path.stem, path=path, title=path.stem if layout.title is None else layout.title,
        span=layout.span, refresh=layout.refresh, per_source=layout.per_source,
        root=Region(name="root", children=tuple(r.spec() for r in layout.region)),
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
