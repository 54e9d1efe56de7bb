"""Each widget rendered to text: what it shows, what it leaves out, how it adapts to width."""

from __future__ import annotations

from datetime import timedelta

from monitor.dashboard.data import DaemonInfo
from monitor.dashboard.widgets import (AGAINST, FAVOR, NEUTRAL, alerts_panel, coinages_panel,
                                       header, source_summary, sources_table, sparkline, stance_bar,
                                       toxic_comments_panel, trend_chart)
from tests.dashboard.frames import NOW, render_text, snapshot


def test_sparkline_scales_to_the_peak_and_leaves_gaps_blank():
    assert sparkline([0.0, 0.5, 1.0, None, 0.25], 5).plain == "▁▄█ ▂"
    assert len(sparkline([float(i) for i in range(48)], 12).plain) == 12  # averaged into bins
    assert sparkline([0.001, 1.0], 2).plain[0] == "▁"  # a small non-zero value stays visible


def test_stance_bar_splits_favor_against_none():
    bar = stance_bar((0.2, 0.5, 0.3), 10)
    assert bar.plain == FAVOR * 2 + AGAINST * 5 + NEUTRAL * 3
    assert stance_bar((0.2, 0.5, 0.3), 10, numbers=True).plain.endswith(" 20/50 ")


def test_header_shows_daemon_collection_and_database():
    text = render_text(header(snapshot(), 80, 2), 80)
    assert "daemon running (20s ago)" in text and "last collection 4m ago" in text
    assert "db sqlite:////srv/monitor/monitor.db" in text and "12 waiting for scores" in text
    stale = render_text(header(snapshot(daemon=DaemonInfo("stale", 1, NOW - timedelta(hours=2))), 80, 2), 80)
    assert "daemon stale (2h ago)" in stale


def test_header_shows_a_failed_refresh_instead_of_the_database():
    text = render_text(header(snapshot(error="database is locked"), 80, 2), 80)
    assert "refresh failed: database is locked" in text and "db sqlite" not in text


def test_sources_table_at_80_columns():
    text = render_text(sources_table(snapshot(), 80, 10), 80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    row = next(line for line in lines if "tagesblick" in line)
    trend = "".join(ch for ch in row if ch in "▁▂▃▄▅▆▇")  # stance bars use only █ ▓ ░
    assert "20.0" in row and "30%" in row
    assert len(trend) >= 8 and list(trend) == sorted(trend)  # the rising toxic share
    assert FAVOR in row and AGAINST in row and row.rstrip(" │").endswith("6")
    assert "waldpost" in text and "HTTP 503" not in text  # problems need a wider terminal
    assert "█ favor  ▓ against  ░ none" in text


def test_sources_table_at_120_columns_adds_counts_and_collection_time():
    text = render_text(sources_table(snapshot(), 120, 10), 120)
    row = next(line for line in text.splitlines() if "tagesblick" in line)
    assert "480" in row and "4m ago" in row and "…" not in text
    assert "HTTP 503" not in text and "10/60" not in text


def test_sources_table_on_a_wide_terminal_adds_counts_collection_and_problems():
    text = render_text(sources_table(snapshot(), 200, 10), 200)
    row = next(line for line in text.splitlines() if "tagesblick" in line)
    assert "480" in row and "4m ago" in row and "10/60" in row
    assert "3× HTTP 503 from upstream" in text


def test_sources_table_cuts_rows_to_the_height_and_says_how_many_are_hidden():
    text = render_text(sources_table(snapshot(), 80, 6), 80)
    assert "tagesblick" in text and "… 2 more" in text and "waldpost" not in text


def test_alerts_panel_lists_firing_before_pending():
    text = render_text(alerts_panel(snapshot(), 80, 6), 80)
    assert "1 firing, 1 pending" in text
    assert text.index("FIRING") < text.index("pending VolumeSpike")
    assert "ToxicShareHigh" in text and "tagesblick" in text and "12m" in text
    assert "no firing or pending alerts" in render_text(alerts_panel(snapshot(alerts=()), 80, 6), 80)


def test_coinages_panel_shows_terms_with_counts():
    text = render_text(coinages_panel(snapshot(), 60, 6), 60)
    row = next(line for line in text.splitlines() if "Panzerfreund" in line)
    assert "nato" in row and "17" in row and "9" in row
    assert "2 to review" in text


def test_toxic_comments_show_pseudonyms_and_one_line_truncated_text():
    text = render_text(toxic_comments_panel(snapshot(), 80, 8), 80)
    lines = text.splitlines()
    assert "0.93" in lines[1] and "a-600cc" in lines[1]
    assert "Wer das glaubt, ist selbst schuld" in text  # newline flattened
    assert "anonymous" in text
    assert all(len(line) <= 80 for line in lines) and "…" in text


def test_source_view_widgets_show_one_source_in_detail():
    snap = snapshot(focus="tagesblick")
    text = render_text(source_summary(snap, 80, 10), 80)
    assert "480 in 24h, 20.0 per hour" in text and "panzerfreund" in text and "10/60" in text
    chart = render_text(trend_chart(snap, 100, 10), 100)
    assert "toxic share (peak 50%)" in chart and "comments (peak 20 per window)" in chart
