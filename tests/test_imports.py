"""The import graph of `monitor/` has no circles: every import statement, including those inside
functions and under TYPE_CHECKING, read with `ast` (an import circle is a missing lower module)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "monitor"

# Circles being removed elsewhere, tolerated until then: a circle all of whose modules sit in one of
# these packages. monitor.collect: discovery.py and feed.py import each other, and the WordPress
# collectors join in (issue 16, item 3, which empties this set).
KNOWN_IN: set[str] = set()


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    names = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The monitor modules that `name` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from package import module` imports that module; `from module import name` the module.
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # outside the package: dropped  # `import monitor.x.y` of a name inside a module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(package: Path = PACKAGE) -> set[tuple[str, ...]]:
    """Each strongly connected group of modules (Tarjan), as a sorted tuple of its members."""
    modules = module_names(package)
    graph = {name: imports_of(name, path, set(modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.add(tuple(sorted(members)))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_the_walk_sees_imports_inside_functions():
    modules = module_names()
    # monitor.alert.rules reads the metric table from inside a function.
    assert "monitor.aggregate.metrics" in imports_of("monitor.alert.rules", modules["monitor.alert.rules"],
                                                     set(modules))


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    pkg = tmp_path / "monitor"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import low\n")
    (pkg / "sub" / "low.py").write_text("import os\n\ndef f():\n    from monitor.high import g\n")
    (pkg / "high.py").write_text("from monitor.sub.low import f\n")
    (pkg / "other.py").write_text("import monitor.high\n")
    assert circles(pkg) == {("monitor.high", "monitor.sub.low")}


def tolerated(circle: tuple[str, ...]) -> bool:
    return any(all(member.startswith(package + ".") for member in circle) for package in KNOWN_IN)


def test_no_import_circles_beyond_the_known_ones():
    found = sorted(circles())
    assert [c for c in found if not tolerated(c)] == [], f"import circles: {found}"


def test_no_test_module_imports_another_test_module():
    """Shared test code lives in helper modules (tests/helpers.py, tests/<area>/<name>.py) or conftest."""
    tests = PACKAGE.parent / "tests"
    found = []
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(tests)}: {name}" for name in names
                      if name.rpartition(".")[2].startswith("test_")]
    assert found == []
