"""`monitor config check`: load everything the daemon would load and report what it found."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from monitor.errors import ConfigError, RuleError
from monitor.store.db import safe_url

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["CHECKS", "check_all"]


def _lexicon(config: Config) -> str:
    from monitor.score.lexicon import lexicon_for

    lexicon = lexicon_for(config)
    return (f"lexicon:  {len(lexicon.entries)} entries, {len(lexicon.targets)} slur targets "
            f"from {config.lexicon_dir}")


def _rules(config: Config) -> str:
    from monitor.alert.rules import load_rules, rule_files

    files = rule_files([], config.rules_dir)
    try:
        rules = load_rules(files, targets=sorted(config.targets), windows=list(config.aggregate.windows))
    except RuleError as exc:
        raise ConfigError(str(exc)) from None
    return f"rules:    {len(rules)} rule(s) in {len(files)} file(s) in {config.rules_dir}"


def _dashboards(config: Config) -> str:
    from monitor.dashboard.layout import available_layouts, load_layout

    names = available_layouts(config.dashboards_dir)
    for name in names:
        load_layout(name, config.dashboards_dir)
    return f"layouts:  {', '.join(names) or 'none'} in {config.dashboards_dir}"


def _receivers(config: Config) -> str:
    from monitor.alert.receivers import build_receivers
    from monitor.alert.render import check_templates

    check_templates(config.alerts.templates_dir)  # even while email is off
    enabled, disabled = build_receivers(config)
    shown = [f"{name} ({receiver.describe()})" for name, receiver in enabled.items()]
    shown += [f"{name} off: {why}" for name, why in disabled.items()]
    return f"receivers: {'; '.join(shown)}"


# Component checks beyond monitor.toml itself; each returns one summary line and raises
# ConfigError when its files are invalid.
CHECKS: list[Callable[[Config], str]] = [_lexicon, _rules, _dashboards, _receivers]


def check_all(config: Config) -> list[str]:
    """Summary lines for a valid configuration; raises on the first invalid file."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = safe_url(config.database.url)
    try:
        make_url(config.database.url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"{url} is not a database URL", file=str(config.source_file),
                          key="database.url (or MONITOR_DATABASE_URL)",
                          fix="expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB, "
                              "with @ : / in the password written %40 %3A %2F") from None
    lines = [
        f"config OK: {config.source_file}",
        f"  database: {url}",
        f"  data dir: {config.data_dir}",
        f"  sources:  {len(config.sources)} in {config.paths.sources}"
        + (" (none configured yet)" if not config.sources else ""),
        f"  targets:  {', '.join(config.targets)} from {config.paths.targets}",
    ]
    lines.extend("  " + check(config) for check in CHECKS)
    return lines
