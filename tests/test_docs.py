"""Docs are checked: every command has help text and appears in the README's CLI reference."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from monitor.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "monitor") -> list[tuple[str, click.Command]]:
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(cli)


def test_readme_starts_with_the_two_commands():
    lines = [line for line in README.splitlines()[:12] if line.strip().startswith("make ")]
    assert [line.split()[:2] for line in lines] == [["make", "run"], ["make", "test"]]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help_and_is_in_the_readme(path, command):
    assert (command.help or "").strip(), f"{path} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"{path} {param.opts[0]} has no help text"
    assert f"`{path}" in README, f"{path} is missing from the README's CLI reference"
