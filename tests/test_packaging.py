"""What the code imports is what pyproject.toml declares, so a fresh `make setup` can run it."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# torch is installed before the package, pinned to the CPU build (see the Makefile); declaring it
# would let pip choose a CUDA build. Detoxify requires it anyway.
INSTALLED_BY_MAKEFILE = {"torch"}


def _imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "monitor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"monitor"} - INSTALLED_BY_MAKEFILE


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_canonical(re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0]) for dep in project["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    missing = {module: providers.get(module) for module in _imported_top_level_modules()
               if not any(_canonical(dist) in declared for dist in providers.get(module, [module]))}
    assert not missing, f"imported but not in pyproject.toml dependencies: {missing}"


def test_readme_puts_the_monitor_command_on_path_after_make():
    top = (REPO / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert ". .venv/bin/activate" in top
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "VENV := .venv" in makefile and "$(BIN)/monitor" in makefile  # where activate lives
