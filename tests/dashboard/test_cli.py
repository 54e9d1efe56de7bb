"""`monitor dashboard --once / --export` and its errors, through the real entry point."""

from __future__ import annotations

from tests.helpers import run_cli


def test_once_prints_a_frame_with_the_firing_alert(capsys, config_path, filled):
    code, out, _ = run_cli(capsys, "--config", str(config_path), "dashboard", "--once",
                           "--width", "80", "--height", "24")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 24
    assert "FIRING" in out and "ToxicShareHigh" in out and "tagesblick" in out
    assert "Panzerfreund" in out and "Diese Kommentarspalte" in out
    assert "Hartmut" not in out  # authors appear only as pseudonyms
    assert "\x1b" not in out  # hostile escape codes were neutralised


def test_once_with_the_source_layout(capsys, config_path, filled):
    code, out, _ = run_cli(capsys, "--config", str(config_path), "dashboard", "--once", "--layout",
                           "source", "--source", "nordpost", "--width", "100", "--height", "30")
    assert code == 0 and "monitor · nordpost" in out and "VolumeSpike" in out
    assert "ToxicShareHigh" not in out and "Wer das glaubt" in out


def test_a_per_source_layout_needs_a_known_source(capsys, config_path, filled):
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard", "--once", "--layout", "source")
    assert code == 1 and "add --source NAME (sources: nordpost, tagesblick, waldpost)" in err
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard", "--once", "--source", "nix")
    assert code == 1 and "unknown source 'nix'" in err


def test_export_saves_svg_and_html_pictures(capsys, config_path, filled, tmp_path):
    svg = tmp_path / "pictures" / "frame.svg"
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard", "--export", str(svg))
    assert code == 0 and "120×40" in err
    content = svg.read_text(encoding="utf-8")
    assert content.startswith("<svg") and "FIRING" in content and "monitor&#160;·&#160;Overview" in content
    html = tmp_path / "frame.html"
    code, _, _ = run_cli(capsys, "--config", str(config_path), "dashboard", "--export", str(html),
                         "--width", "80", "--height", "24")
    assert code == 0 and "FIRING" in html.read_text(encoding="utf-8")


def test_export_refuses_other_picture_types(capsys, config_path, tmp_path):
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard", "--export",
                           str(tmp_path / "frame.png"))
    assert code == 1 and "name the file *.svg or *.html" in err and not (tmp_path / "frame.png").exists()


def test_the_live_dashboard_asks_for_a_terminal(capsys, config_path):
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard")
    assert code == 1 and "needs a terminal; use --once" in err


def test_bad_options_are_refused(capsys, config_path):
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard", "--refresh", "0s", "--once")
    assert code == 2 and "longer than zero" in err
    code, _, err = run_cli(capsys, "--config", str(config_path), "dashboard", "--layout", "nope", "--once")
    assert code == 2 and "no dashboard layout 'nope'" in err and "overview, source" in err
