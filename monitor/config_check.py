"""`monitor config check`: load everything the daemon would load and report what it found."""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy.engine import make_url

__all__ = ["CHECKS", "check_all"]

# Component checks beyond monitor.toml itself: "module:function", each taking the config and
# returning one summary line, raising ConfigError (or another MonitorError) when invalid.
CHECKS: list[str] = []


def check_all(config: Any) -> list[str]:
    """Summary lines for a valid configuration; raises on the first invalid file."""
    url = make_url(config.database.url).render_as_string(hide_password=True)
    lines = [
        f"config OK: {config.source_file}",
        f"  database: {url}",
        f"  data dir: {config.data_dir}",
        f"  sources:  {len(config.sources)} in {config.paths.sources}"
        + (" (none configured yet)" if not config.sources else ""),
        f"  targets:  {', '.join(config.targets)} from {config.paths.targets}",
    ]
    for target in CHECKS:
        module_name, attr = target.split(":")
        lines.append("  " + getattr(importlib.import_module(module_name), attr)(config))
    return lines
