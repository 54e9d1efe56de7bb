"""The `monitor` command: a lazy click group; each command lives in its own module here."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from monitor import __version__
from monitor.errors import MonitorError

__all__ = ["COMMANDS", "AppContext", "main", "pass_app"]

# name -> "module:attribute". One line per command or command group: a new command is one
# new module plus one line here. Modules are imported only when their command is used or listed,
# so heavy libraries (torch, polars) must be imported inside the command functions.
COMMANDS: dict[str, str] = {
    "config": "monitor.cli.config_cmd:config",
    "db": "monitor.cli.db_cmd:db",
    "status": "monitor.cli.status_cmd:status",
    "export": "monitor.cli.export_cmd:export",
    "extract": "monitor.cli.extract_cmd:extract",
    "collect": "monitor.cli.collect_cmd:collect",
    "run": "monitor.cli.run_cmd:run",
    "worker": "monitor.cli.worker_cmd:worker",
    "dashboard": "monitor.cli.dashboard_cmd:dashboard",
    "demo": "monitor.cli.demo_cmd:demo",
    "aggregate": "monitor.cli.aggregate_cmd:aggregate",
    "rules": "monitor.cli.rules_cmd:rules",
    "alerts": "monitor.cli.alerts_cmd:alerts",
    "slurs": "monitor.cli.slurs_cmd:slurs",
    "score": "monitor.cli.score_cmd:score",
    "models": "monitor.cli.models_cmd:models",
    "review": "monitor.cli.review_cmd:review",
}


class AppContext:
    """What every command receives: the chosen config path, loaded on first use."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: Any = None

    @property
    def config(self) -> Any:
        if self._config is None:
            from monitor.config import load_config

            self._config = load_config(self.config_path)
        return self._config


pass_app = click.make_pass_decorator(AppContext)


class LazyGroup(click.Group):
    """A group whose subcommands are imported from `COMMANDS` on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    envvar="MONITOR_CONFIG", default=None,
    help="Main config file (default: the embedded config/monitor.toml). Env: MONITOR_CONFIG.",
)
@click.version_option(__version__, package_name="comment-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Watch reader comments for toxicity, stance toward NATO and Russia, and coined slurs."""
    ctx.obj = AppContext(config_path)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: expected errors become one line on stderr and an exit status.
    Always ends with SystemExit."""
    try:
        result = cli.main(args=argv, prog_name="monitor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MonitorError as exc:
        from monitor.text import terminal_safe

        click.echo(f"error: {terminal_safe(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    # A command may return an int: its exit status (e.g. 1 when some input lines were skipped).
    sys.exit(result if isinstance(result, int) else 0)
