"""What every alert receiver implements: the `Receiver` protocol, a delivery's outcome and its errors.

A receiver turns a notification group into a JSON-able payload (`render`), which the outbox stores
before any attempt, and later hands that payload to its destination (`send`). A send may reach
some targets (recipients, endpoints) and not others: `Delivery.remaining` is the payload still to
send, so the outbox retries only what did not arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Protocol

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from monitor.alert.content import Group
    from monitor.config import Config

__all__ = ["Delivery", "DeliveryError", "Receiver", "options_error"]


class DeliveryError(Exception):
    """Nothing could be delivered this attempt.

    `permanent`: retrying cannot help until someone fixes the cause. `uncertain`: the other side
    may have received it anyway (a connection lost after the message was handed over), so the
    outbox caps how many such attempts it makes."""

    def __init__(self, message: str, *, permanent: bool = False, uncertain: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.uncertain = uncertain


@dataclass
class Delivery:
    """What one send achieved: per-target outcome, and what is left to send (None: nothing)."""

    outcomes: dict[str, str] = field(default_factory=dict)  # target → "delivered" or the refusal
    remaining: dict[str, Any] | None = None
    permanent: bool = False  # what remains was refused for good (needs an operator)


class Receiver(Protocol):
    """A notification destination; one configured instance per `alerts.receivers` entry."""

    kind: ClassVar[str]  # the `type` in config, e.g. "email"
    name: str  # the configured name, used by routes and stored in the outbox

    @classmethod
    def from_config(cls, name: str, options: Mapping[str, Any], config: Config) -> Receiver:
        """Build from `alerts.receivers.NAME`; raises NotConfigured(reason) or ConfigError."""
        ...

    def describe(self) -> str:
        """One line for the daemon's start log and `config check`, e.g. "webhook to https://…"."""
        ...

    def render(self, group: Group) -> dict[str, Any]:
        """The JSON-able payload for one notification group, stored in the outbox."""
        ...

    def summary(self, payload: Mapping[str, Any]) -> str:
        """One line for `monitor alerts list` (an email's subject)."""
        ...

    def send(self, payload: Mapping[str, Any]) -> Delivery:
        """Deliver a stored payload; raises DeliveryError when nothing got through."""
        ...


def options_error(exc: ValidationError, config: Config, name: str) -> ConfigError:
    """A receiver's first bad option as one line naming alerts.receivers.NAME.KEY."""
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    return ConfigError(first["msg"].removeprefix("Value error, "), file=str(config.source_file or "") or None,
                       key=f"alerts.receivers.{name}" + (f".{key}" if key else ""))
