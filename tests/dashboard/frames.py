"""Helpers for dashboard tests: a hand-made Snapshot and rendering to plain text or ANSI."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from io import StringIO
from typing import Any

from rich.console import Console, RenderableType

from monitor.dashboard.data import (AlertRow, CoinageRow, DaemonInfo, Snapshot, SourceRow,
                                    ToxicComment)

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=timezone.utc)
HOSTILE = "[bold red]x[/] \x1b[2J\x1b]0;pwned\x07 :skull: Verräter \x1b[31mrot"


def snapshot(**changes: Any) -> Snapshot:
    """A frame's data without a database: three sources, two alerts, two coinages, three comments."""
    trend = tuple(0.1 + 0.4 * h / 23 for h in range(24))
    base = Snapshot(
        now=NOW, database="sqlite:////srv/monitor/monitor.db",
        daemon=DaemonInfo("running", 4242, NOW - timedelta(seconds=20)),
        last_collection=NOW - timedelta(minutes=4), span=timedelta(hours=24),
        window=timedelta(hours=1), targets=(("nato", "NATO"), ("russia", "Russia")),
        sources=(
            SourceRow("tagesblick", 480, 20.0, 0.3, trend, (20,) * 24,
                      {"nato": (0.1, 0.6, 0.3), "russia": (0.3, 0.2, 0.5)}, 6, ("panzerfreund",),
                      NOW - timedelta(minutes=4)),
            SourceRow("nordpost", 4, 4 / 24, 0.25, (None,) * 22 + (0.25, None), (0,) * 22 + (4, 0),
                      {"nato": (0.5, 0.0, 0.5), "russia": (0.0, 0.0, 1.0)}, 0),
            SourceRow("waldpost", consecutive_failures=3, last_error="HTTP 503 from upstream"),
        ),
        alerts=(
            AlertRow("community/ToxicShareHigh", "firing", {"source": "tagesblick"},
                     "Toxic share on tagesblick is 42%", 0.42, NOW - timedelta(minutes=12)),
            AlertRow("community/VolumeSpike", "pending", {"source": "nordpost"},
                     "Comment volume tripled", 3.0, NOW - timedelta(minutes=30)),
        ),
        coinages=(CoinageRow("Panzerfreund", "nato", 17, 9, NOW - timedelta(days=2)),
                  CoinageRow("Kremlknecht", "russia", 11, 6, NOW - timedelta(days=1))),
        toxic_comments=(
            ToxicComment("tagesblick", "a-600ccbee121754", 0.93,
                         "Diese Kommentarspalte ist ein Irrenhaus, ihr Schafe", NOW - timedelta(hours=1)),
            ToxicComment("tagesblick", "a-5ab9913fe3ed9c", 0.88, HOSTILE, NOW - timedelta(hours=2)),
            ToxicComment("nordpost", None, 0.71, "Wer das glaubt,\nist selbst schuld", NOW - timedelta(hours=3)),
        ),
        pending_scores=12,
    )
    return replace(base, **changes)


def render_text(renderable: RenderableType, width: int, height: int = 50) -> str:
    """What a user sees: the renderable as plain text lines."""
    console = Console(file=StringIO(), width=width, height=height, color_system=None,
                      legacy_windows=False, _environ={})
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def render_ansi(renderable: RenderableType, width: int, height: int = 50) -> str:
    """The bytes a colour terminal receives."""
    console = Console(file=StringIO(), width=width, height=height, force_terminal=True,
                      color_system="truecolor", legacy_windows=False, _environ={})
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]
