"""`monitor config`: validate the configuration, or list every setting with its default and help."""

from __future__ import annotations

import click

from monitor.cli import AppContext, pass_app

__all__ = ["config"]


@click.group()
def config() -> None:
    """Check the configuration files."""


@config.command("check")
@click.option("--defaults", is_flag=True, help="Print every monitor.toml setting with its default and help, as TOML.")
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
    """Every setting as commented TOML: the output is itself a valid monitor.toml."""
    from pydantic import BaseModel

    from monitor.config import Config

    def table(heading: str, model: type[BaseModel]) -> None:
        click.echo(f"[{heading}]")
        nested: list[tuple[str, type[BaseModel]]] = []
        for name, setting in model.model_fields.items():
            default = setting.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):  # a sub-table, printed after this one's keys
                nested.append((f"{heading}.{name}", type(default)))
                continue
            click.echo(f"# {setting.description}")
            value = _toml_value(default)
            click.echo(f"{name} = {value}" if value is not None else f"# {name} =   (unset)")
        click.echo("")
        for sub_heading, sub_model in nested:
            table(sub_heading, sub_model)

    for section, field in Config.model_fields.items():
        if not field.exclude:
            table(section, field.annotation)  # type: ignore[arg-type]


def _toml_value(value: object) -> str | None:
    """One default as a TOML value: durations as '15m', paths as strings; None has no TOML form."""
    from datetime import timedelta
    from pathlib import PurePath

    import tomli_w

    if value is None:
        return None
    if isinstance(value, timedelta):
        from monitor.alert.rules import format_duration

        return _toml_value(format_duration(value))
    if isinstance(value, PurePath):
        return _toml_value(str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) or '""' for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")

