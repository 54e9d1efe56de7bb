"""deploy/: the systemd unit is valid, and every `monitor` command the unit and the container run
is one the CLI accepts, with the settings it relies on."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from monitor.cli import cli

REPO = Path(__file__).resolve().parent.parent
UNIT = (REPO / "deploy" / "monitor.service").read_text(encoding="utf-8")
CONTAINER = (REPO / "deploy" / "Containerfile").read_text(encoding="utf-8")


def _unit_commands() -> list[list[str]]:
    return [shlex.split(line.split("=", 1)[1]) for line in UNIT.splitlines()
            if line.startswith(("ExecStart=", "ExecStartPre="))]


def _container_command() -> list[str]:
    [line] = [line for line in CONTAINER.splitlines() if line.startswith("CMD ")]
    return json.loads(line[4:])


def _parses(argv: list[str]) -> None:
    """Walk the subcommands and parse the last one's options as the real CLI would."""
    tokens = list(argv)
    command: click.Command = cli
    ctx = click.Context(cli)
    while isinstance(command, click.Group):
        name = tokens.pop(0)
        found = command.get_command(ctx, name)
        assert found is not None, f"no command {name!r}"
        command, ctx = found, click.Context(found, parent=ctx)
    command.make_context(command.name, tokens, parent=ctx.parent)


@pytest.mark.parametrize("argv", [*_unit_commands(), _container_command()], ids=" ".join)
def test_deploy_commands_are_accepted_by_the_cli(argv):
    assert Path(argv[0]).name == "monitor"
    _parses(argv[1:])


def test_the_unit_keeps_data_and_secrets_where_the_readme_says():
    assert "Environment=MONITOR_DATA_DIR=/var/lib/monitor" in UNIT and "StateDirectory=monitor" in UNIT
    assert "EnvironmentFile=-/etc/monitor/monitor.env" in UNIT
    assert not re.search(r"MONITOR_(SECRET|SMTP_PASSWORD|DATABASE_URL)=\S", UNIT.split("[Unit]", 1)[1])
    assert "MONITOR_DATA_DIR=/var/lib/monitor" in CONTAINER and 'VOLUME ["/var/lib/monitor"]' in CONTAINER


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_systemd_unit_verifies(tmp_path):
    monitor = Path(sys.executable).with_name("monitor")
    if not monitor.exists():
        pytest.skip("the monitor entry point is not installed beside this Python")
    unit = tmp_path / "monitor.service"
    unit.write_text(UNIT.replace("/opt/monitor/.venv/bin/monitor", str(monitor)), encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_monitor_data_dir_moves_the_database_and_the_data(tmp_path):
    from monitor.config import load_config
    from tests.conftest import make_config_dir

    config = load_config(make_config_dir(tmp_path), environ={"MONITOR_DATA_DIR": str(tmp_path / "state")})
    assert config.data_dir == tmp_path / "state"
    assert config.database.url == f"sqlite:///{tmp_path / 'state' / 'monitor.db'}"
    assert config.scoring.detoxify_dir == tmp_path / "state" / "models" / "detoxify"
