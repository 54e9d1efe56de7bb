"""Packaging hook: the top-level config/, rules/ and dashboards/ (what operators edit in a checkout)
are copied into the wheel as monitor/_defaults/, where `monitor.config.default_config_path` finds
them with importlib.resources once installed. Everything else is declared in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DEFAULTS = ("config", "rules", "dashboards")


class BuildWithDefaults(build_py):
    """build_py that also copies the default configuration folders into the built package."""

    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "monitor" / "_defaults"
        for name in DEFAULTS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(root / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithDefaults})
