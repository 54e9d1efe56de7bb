"""dashboards/*.toml: validation errors naming file and key, and frames that fill the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from monitor.config import load_config
from monitor.dashboard.layout import available_layouts, build_layout, load_layout
from monitor.errors import ConfigError
from tests.conftest import REPO
from tests.dashboard.frames import render_text, snapshot

DASHBOARDS = REPO / "dashboards"


def frame(name: str, width: int, height: int, **changes) -> list[str]:
    spec = load_layout(name, DASHBOARDS)
    return render_text(build_layout(spec, snapshot(**changes), width, height), width, height).splitlines()


def test_the_shipped_layouts_load():
    assert {"overview", "source"} <= set(available_layouts(DASHBOARDS))
    assert load_layout("overview", DASHBOARDS).per_source is False
    assert load_layout("source", DASHBOARDS).per_source is True


def test_overview_fits_80_by_24_with_every_panel():
    lines = frame("overview", 80, 24)
    assert len(lines) == 24 and max(cell_len(line) for line in lines) == 80
    text = "\n".join(lines)
    for title in ("daemon running", "sources · last 24h", "alerts · 1 firing", "new coinages",
                  "most toxic comments"):
        assert title in text
    assert "FIRING" in text and "Panzerfreund" in text and "0.93" in text


def test_overview_uses_the_room_of_a_200_by_50_terminal():
    lines = frame("overview", 200, 50)
    assert len(lines) == 50 and max(cell_len(line) for line in lines) == 200
    text = "\n".join(lines)
    assert "pid 4242" in text and "problem" in text and "3× HTTP 503 from upstream" in text
    assert "Toxic share on tagesblick is 42%" in text and "first seen" in text


def test_regions_below_their_minimum_terminal_size_are_hidden():
    narrow = "\n".join(frame("source", 80, 24, focus="tagesblick"))
    wide = "\n".join(frame("source", 200, 50, focus="tagesblick"))
    assert "trend · 1h windows" not in narrow and "trend · 1h windows" in wide
    assert "new coinages" not in narrow and "new coinages" in wide
    assert "480 in 24h" in narrow and "480 in 24h" in wide


def test_a_tiny_terminal_still_gets_a_frame_of_its_size():
    lines = frame("overview", 40, 10)
    assert len(lines) == 10 and max(cell_len(line) for line in lines) <= 40


def test_auto_sized_regions_grow_with_their_content():
    few = frame("overview", 120, 40)
    sources = tuple(snapshot().sources[0].__class__(f"site{i}") for i in range(10))
    many = frame("overview", 120, 40, sources=sources)
    top = lambda lines: next(i for i, line in enumerate(lines) if "alerts ·" in line)  # noqa: E731
    assert top(many) == top(few) + 7  # ten source rows instead of three


def test_layouts_can_be_given_by_path_and_found_through_the_config(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[[region]]\nname = "only"\nwidget = "alerts"\n', encoding="utf-8")
    spec = load_layout(str(path), DASHBOARDS)
    assert spec.title == "mine" and spec.span.total_seconds() == 86_400
    assert "FIRING" in render_text(build_layout(spec, snapshot(), 80, 6), 80, 6)
    config = load_config(REPO / "config" / "monitor.toml", environ={})
    assert load_layout("overview", config.dashboards_dir).title == "Overview"


BAD = [
    ('colour = "red"\n[[region]]\nname = "a"\nwidget = "header"\n', "colour", "unknown key"),
    ('title = "x"\n', "region", "no [[region]] tables"),
    ('[[region]]\nname = "a"\nwidget = "pie"\n', "region[0].widget", "unknown widget 'pie'"),
    ('[[region]]\nname = "a"\n', "region[0]", "exactly one of `widget`"),
    ('[[region]]\nname = "a"\nwidget = "header"\n[[region]]\nname = "a"\nwidget = "alerts"\n',
     "region[1].name", "duplicate region name 'a'"),
    ('[[region]]\nname = "a"\nsplit = "row"\n[[region.region]]\nname = "b"\nwidget = "alerts"\n'
     'size = 0\n', "region[0].region[0].size", "whole number ≥ 1"),
    ('[[region]]\nname = "a"\nsplit = "diagonal"\n[[region.region]]\nname = "b"\nwidget = "alerts"\n',
     "region[0].split", "'column' or 'row'"),
    ('span = "soon"\n[[region]]\nname = "a"\nwidget = "header"\n', "span", "expected a duration"),
    ('[[region]]\nname = "a"\nwidget = "header"\nmin_width = "wide"\n', "region[0].min_width", "got 'wide'"),
    ('[[region]]\nname = "a"\nwidget = "header"\nheight = 3\n', "region[0].height", "accepted: "),
    ('[[region]\nname = "a"\n', "", "not valid TOML"),
]


@pytest.mark.parametrize(("content", "key", "message"), BAD)
def test_invalid_layouts_name_file_and_key(tmp_path: Path, content: str, key: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_layout("bad", tmp_path)
    assert str(exc.value).startswith(f"{path}: {key}" if key else str(path))
    assert message in str(exc.value)


def test_an_unknown_layout_lists_the_known_ones():
    with pytest.raises(ConfigError, match="layouts in .*overview, source"):
        load_layout("nope", DASHBOARDS)
