"""Alert receivers, registered by their config `type`: a new one is one module plus one line in RECEIVERS.

Configured instances come from `alerts.receivers` (name → {type = …, options}); the receiver
named "email" exists without configuration and mails `smtp.recipients`. A route's `to = [...]`
is shorthand for an email receiver with those addresses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor.alert.receivers.email import EmailReceiver
from monitor.alert.receivers.webhook import WebhookReceiver
from monitor.errors import ConfigError, NotConfigured

if TYPE_CHECKING:
    from monitor.alert.receiver import Receiver
    from monitor.config import Config

__all__ = ["DEFAULT_RECEIVER", "RECEIVERS", "build_receivers", "route_receiver_name"]

RECEIVERS: dict[str, type[Receiver]] = {
    "email": EmailReceiver,
    "webhook": WebhookReceiver,
}

DEFAULT_RECEIVER = "email"


def route_receiver_name(index: int) -> str:
    """The name of the email receiver a route's `to = [...]` stands for."""
    return f"route-{index}-email"


def _declared(config: Config) -> dict[str, dict[str, Any]]:
    declared: dict[str, dict[str, Any]] = {DEFAULT_RECEIVER: {"type": "email"}}
    declared.update({name: dict(options) for name, options in config.alerts.receivers.items()})
    for i, entry in enumerate(config.alerts.routes):
        if entry.to:
            declared[route_receiver_name(i)] = {"type": "email", "to": list(entry.to)}
    return declared


def build_receivers(config: Config) -> tuple[dict[str, Receiver], dict[str, str]]:
    """(enabled receivers by name, disabled ones with the reason); a bad option raises ConfigError
    naming `alerts.receivers.NAME.KEY`."""
    enabled: dict[str, Receiver] = {}
    disabled: dict[str, str] = {}
    declared = _declared(config)
    for i, entry in enumerate(config.alerts.routes):
        for name in entry.receivers:
            if name not in declared:
                raise ConfigError(f"unknown receiver {name!r}", file=str(config.source_file or "") or None,
                                  key=f"alerts.routes[{i}].receivers",
                                  fix=f"declare it as [alerts.receivers.{name}] with a type "
                                      f"({', '.join(sorted(RECEIVERS))}); known: {', '.join(sorted(declared))}")
    for name, options in declared.items():
        kind = options.get("type")
        cls = RECEIVERS.get(str(kind))
        if cls is None:
            raise ConfigError(f"unknown receiver type {kind!r}; accepted: {', '.join(sorted(RECEIVERS))}",
                              file=str(config.source_file or "") or None, key=f"alerts.receivers.{name}.type")
        try:
            enabled[name] = cls.from_config(name, {k: v for k, v in options.items() if k != "type"},
                                            config)
        except NotConfigured as exc:
            disabled[name] = exc.reason
    return enabled, disabled
