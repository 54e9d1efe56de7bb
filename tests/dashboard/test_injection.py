"""Hostile text from comments, sources, rules and errors cannot inject rich markup or escape codes."""

from __future__ import annotations

import re
from dataclasses import replace

import pyte
import pytest

from monitor.dashboard.data import AlertRow, CoinageRow
from monitor.dashboard.layout import build_layout, load_layout
from tests.conftest import REPO
from tests.dashboard.frames import HOSTILE, render_ansi, snapshot

SGR = re.compile(r"\x1b\[[0-9;]*m")


def hostile_snapshot():
    """Every string a frame shows replaced by hostile text."""
    snap = snapshot(focus=None)
    source = replace(snap.sources[0], name=HOSTILE, last_error=HOSTILE, top_slurs=(HOSTILE,))
    return replace(
        snap, database=HOSTILE, error=None,
        targets=(("nato", HOSTILE), ("russia", "Russia")),
        sources=(source, *snap.sources[1:]),
        alerts=(AlertRow(HOSTILE, "firing", {"source": HOSTILE}, HOSTILE, 1.0, snap.now),),
        coinages=(CoinageRow(HOSTILE, HOSTILE, 3, 2, snap.now),),
        toxic_comments=tuple(replace(c, source=HOSTILE, author=HOSTILE, text=HOSTILE)
                             for c in snap.toxic_comments),
    )


@pytest.mark.parametrize("layout", ["overview", "source"])
@pytest.mark.parametrize(("width", "height"), [(80, 24), (200, 50)])
def test_no_escape_sequence_but_colours_reaches_the_terminal(layout, width, height):
    snap = hostile_snapshot()
    if layout == "source":
        snap = replace(snap, focus=snap.sources[0].name)
    out = render_ansi(build_layout(load_layout(layout, REPO / "dashboards"), snap, width, height),
                      width, height)
    plain = SGR.sub("", out)
    assert "\x1b" not in plain and "\x07" not in plain  # only rich's own colour codes
    assert "[bold red]x[/]" in plain  # markup shown as typed, not applied
    assert ":skull:" in plain and "\N{SKULL}" not in plain  # no emoji codes either

    screen = pyte.Screen(width, height)
    # As a tty would (onlcr), and without the last newline that would scroll the top line away.
    pyte.ByteStream(screen).feed(out.removesuffix("\n").replace("\n", "\r\n").encode("utf-8"))
    shown = "\n".join(screen.display)
    assert "[bold red]x[/]" in shown and "most toxic comments" in shown
    assert screen.display[0].startswith("monitor")  # nothing cleared or moved the screen
    assert screen.title == ""  # the OSC title sequence was neutralised
    assert len(screen.display) == height


def test_an_error_message_in_the_header_is_neutralised():
    out = render_ansi(build_layout(load_layout("overview", REPO / "dashboards"),
                                   snapshot(error=HOSTILE), 80, 24), 80, 24)
    plain = SGR.sub("", out)
    assert "refresh failed: [bold red]x[/]" in plain and "\x1b" not in plain
