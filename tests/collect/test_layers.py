"""Layers point one way in monitor/collect: no import circle, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "monitor" / "collect"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("monitor.collect."):
                found.add(node.module.split(".")[2])
            elif node.module == "monitor.collect":
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith("monitor.collect."))
    return found - {path.stem}


def test_no_import_circle_in_the_collector():
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py")}
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in trail:
                circles.append(" → ".join(trail[trail.index(target):] + [target]))
            elif len(trail) < len(graph):
                visit(target, trail + [target])

    for module in sorted(graph):
        visit(module, [module])
    assert circles == [], "import circles: " + "; ".join(sorted(set(circles)))


def test_discovery_sits_below_the_platforms():
    platforms = {"wordpress_rest", "wordpress_html", "blogger", "disqus", "feed", "css"}
    assert not _imports(PACKAGE / "discovery.py") & platforms
