"""`monitor config`: validate the configuration, or list every setting with its default and help."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["config"]


@click.group()
def config() -> None:
    """Check the configuration files."""


@config.command("check")
@click.option("--defaults", is_flag=True, help="List every monitor.toml setting with type, default and help.")
@pass_app
def check(app: AppContext, defaults: bool) -> None:
    """Validate monitor.toml and the files it names, without starting anything.

    Exit status 0 when valid, 2 with the file, key and fix when not.
    """
    if defaults:
        _print_defaults()
        return
    from monitor.config_check import check_all

    for line in check_all(app.config):
        click.echo(line)


def _print_defaults() -> None:
    from monitor.config import Config

    for section, field in Config.model_fields.items():
        if field.exclude:
            continue
        model = field.annotation
        click.echo(f"[{section}]")
        for name, setting in model.model_fields.items():  # type: ignore[union-attr]
            default = setting.get_default(call_default_factory=True)
            click.echo(f"  {name} = {default!r}  — {setting.description}")
