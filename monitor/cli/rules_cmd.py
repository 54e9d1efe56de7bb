"""`monitor rules`: validate alert rule files and run their unit tests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import AppContext, pass_app

__all__ = ["rules"]

_FILES = click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
_JSON = click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON object instead of text (same exit status).")


@click.group()
def rules() -> None:
    """Check alert rule files and run rule unit tests (like promtool)."""


@rules.command("check")
@_FILES
@_JSON
@pass_app
def check(app: AppContext, files: tuple[Path, ...], as_json: bool) -> None:
    """Validate rule FILES (default: every *.toml in paths.rules_dir); exit 1 on any error.

    Each error names file:line, group, rule and field, and what would fix it. Expressions use the
    aggregate metrics (comment_count, toxic_share, toxicity_p90, stance_<target>_against …),
    + - * /, comparisons, and/or/not, and median_over_time / avg_over_time / stddev_over_time /
    min_over_time / max_over_time(metric, "7d") over the previous windows.
    """
    from monitor.alert.rules import check_files, rule_files
    from monitor.text import terminal_safe

    config = app.config
    paths = rule_files(list(files), config.rules_dir)
    if not paths:
        click.echo(f"no rule files found in {config.rules_dir}", err=True)
        sys.exit(1)
    groups, problems = check_files(paths, targets=sorted(config.targets), windows=list(config.aggregate.windows))
    if as_json:
        from dataclasses import asdict

        from monitor.jsonfmt import dumps

        click.echo(dumps({"ok": not problems, "files": paths, "groups": len(groups),
                          "rules": [{"group": g.name, "name": r.name, "file": r.file, "line": r.line}
                                    for g in groups for r in g.rules],
                          "problems": [asdict(p) for p in problems]}, indent=2))
        if problems:
            sys.exit(1)
        return
    for problem in problems:
        click.echo(terminal_safe(str(problem)), err=True)
    if problems:
        click.echo(f"{len(problems)} error(s) in {len(paths)} file(s)", err=True)
        sys.exit(1)
    count = sum(len(g.rules) for g in groups)
    click.echo(f"{len(paths)} file(s), {len(groups)} group(s), {count} rule(s): OK")


@rules.command("test")
@_FILES
@_JSON
@pass_app
def test(app: AppContext, files: tuple[Path, ...], as_json: bool) -> None:
    """Run rule unit tests in FILES (default: <rules_dir>/tests/*.toml); exit 1 if any fails."""
    from monitor.alert.rules import rule_files
    from monitor.alert.testing import run_files
    from monitor.text import terminal_safe

    paths = rule_files(list(files), app.config.rules_dir / "tests")
    if not paths:
        click.echo(f"no rule test files found in {app.config.rules_dir / 'tests'}", err=True)
        sys.exit(1)
    results = run_files(paths)
    failed = [r for r in results if not r.passed]
    if as_json:
        from monitor.jsonfmt import dumps

        click.echo(dumps({"passed": len(results) - len(failed), "failed": len(failed), "tests": [
            {"file": r.file, "name": r.name, "passed": r.passed, "failures": r.failures}
            for r in results]}, indent=2))
        if failed:
            sys.exit(1)
        return
    for result in results:
        click.echo(f"{'PASS' if result.passed else 'FAIL'}  {result.file}: {terminal_safe(result.name)}")
        for failure in result.failures:
            click.echo(f"      {terminal_safe(failure)}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)
