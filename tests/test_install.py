"""`pip install` outside the checkout: the wheel carries the default configuration (config/, rules/,
dashboards/ as monitor/_defaults/) and `monitor` finds it there with importlib.resources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel installed; the dependencies come from this interpreter's
    site-packages through a path file (no network), the checkout is not on its path."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    # Built from a copy, so that the build leaves nothing behind in the checkout.
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "datasets", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".benchmarks", "tests"))
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    str(source), "-w", str(wheels)], check=True, capture_output=True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    *map(str, wheels.glob("*.whl"))], check=True, capture_output=True)
    return venv


def run_monitor(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "PYTHON"))}
    return subprocess.run([str(venv / "bin" / "monitor"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_installed_monitor_lists_its_defaults_outside_the_checkout(installed, tmp_path):
    result = run_monitor(installed, tmp_path, "config", "check", "--defaults")
    assert result.returncode == 0, result.stderr
    assert "[aggregate]" in result.stdout and "windows = " in result.stdout


def test_installed_monitor_checks_the_packaged_default_config(installed, tmp_path):
    result = run_monitor(installed, tmp_path, "config", "check")
    assert result.returncode == 0, result.stderr
    packaged = "site-packages/monitor/_defaults/"
    assert f"{packaged}config/monitor.toml" in result.stdout
    assert "targets:  nato, russia" in result.stdout
    assert "rule(s) in 2 file(s) in " in result.stdout and f"{packaged}rules" in result.stdout
    assert "layouts:  overview, source in " in result.stdout
    assert str(REPO) not in result.stdout


def test_the_installed_version_is_the_one_in_the_package(installed, tmp_path):
    from monitor import __version__

    result = run_monitor(installed, tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip().endswith(f"version {__version__}")
    metadata = subprocess.run([str(installed / "bin" / "python"), "-c",
                               "import importlib.metadata as m; print(m.version('comment-monitor'))"],
                              cwd=tmp_path, capture_output=True, text=True, check=True)
    assert metadata.stdout.strip() == __version__
