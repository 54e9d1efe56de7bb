"""The monitor's exception tree; every expected failure is one of these.

    MonitorError                 base; the CLI prints its message, no traceback
     ├── ConfigError             bad or missing configuration (file, key, fix); exit status 2
     ├── NotConfigured           a component switched off, with the reason (missing key, weights …)
     ├── StoreError              the database cannot be opened, migrated or written
     ├── CollectError            a source could not be fetched or read
     │    ├── FetchError         HTTP-level failure (status, timeout, size limit, robots.txt)
     │    └── ExtractError       a page was fetched but no comment markup was recognised
     ├── ModelError              model weights missing, unreadable or of the wrong shape
     ├── RuleError               an alert rule file is invalid
     └── InputError              bad user input on the command line (a file, a JSON line …)
"""

from __future__ import annotations

__all__ = [
    "CollectError",
    "ConfigError",
    "ExtractError",
    "FetchError",
    "InputError",
    "ModelError",
    "MonitorError",
    "NotConfigured",
    "RuleError",
    "StoreError",
]


class MonitorError(Exception):
    """Base of all expected errors; `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(MonitorError):
    """A configuration file is missing, malformed or holds a bad value."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 fix: str | None = None) -> None:
        self.file = file
        self.key = key
        self.fix = fix
        where = ": ".join(part for part in (file, key) if part)
        text = f"{where}: {message}" if where else message
        if fix:
            text = f"{text} ({fix})"
        super().__init__(text)


class NotConfigured(MonitorError):
    """A component is disabled; the message says why and how to enable it."""

    def __init__(self, component: str, reason: str) -> None:
        self.component = component
        self.reason = reason
        super().__init__(f"{component} is not configured: {reason}")


class StoreError(MonitorError):
    """The database cannot be opened, migrated or written."""


class CollectError(MonitorError):
    """A source could not be collected."""


class FetchError(CollectError):
    """An HTTP request failed for good (after retries) or was refused by policy."""


class ExtractError(CollectError):
    """No comments could be extracted from a document."""


class ModelError(MonitorError):
    """Model weights are missing or unusable."""


class RuleError(MonitorError):
    """An alert rule file is invalid."""


class InputError(MonitorError):
    """Bad input given on the command line."""
