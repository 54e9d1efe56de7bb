"""Loading and validating config/*.toml; every setting is declared once here with type, default and help.

Errors name the file, the key and what would be accepted, e.g.
``config/monitor.toml: scoring.toxic_threshold: expected a number between 0 and 1, got 'high'``.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      field_validator)

from monitor.errors import ConfigError

__all__ = [
    "AggregateSettings",
    "AlertSettings",
    "CollectSettings",
    "Config",
    "DEFAULT_CONFIG",
    "Duration",
    "ScheduleSettings",
    "ScoringSettings",
    "SmtpSettings",
    "SourceConfig",
    "TargetConfig",
    "load_config",
    "load_targets",
    "parse_duration",
]

# The embedded defaults: the repository's own config folder.
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "monitor.toml"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '1h', '90d', '2w' (or a number of seconds) → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected a duration like '30s', '15m', '1h', '90d' or '2w', got {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=False)


class DatabaseSettings(_Section):
    url: str = Field("", description="SQLAlchemy URL; empty = sqlite:///<data_dir>/monitor.db. "
                                     "Env MONITOR_DATABASE_URL overrides. PostgreSQL: postgresql+psycopg://…")
    busy_timeout_s: float = Field(30.0, gt=0, description="SQLite busy timeout in seconds.")
    pool_size: int = Field(5, ge=1, description="Connection pool size (PostgreSQL).")


class PathSettings(_Section):
    data_dir: Path = Field(Path("../data"), description="Data directory (database, model bundles, "
                                                         "state); relative to this file.")
    sources: Path = Field(Path("sources.toml"), description="Watched sites.")
    targets: Path = Field(Path("targets.toml"), description="Stance and slur targets.")
    lexicon_dir: Path = Field(Path("lexicon"), description="Folder of slur lexicon *.toml files.")
    rules_dir: Path = Field(Path("../rules"), description="Folder of alert rule files.")
    dashboards_dir: Path = Field(Path("../dashboards"), description="Folder of dashboard layouts.")


class CollectSettings(_Section):
    contact: str = Field("ops@example.invalid", description="Operator contact put in the User-Agent.")
    min_delay_s: float = Field(1.0, ge=0, description="Minimum delay between requests to one host.")
    timeout_s: float = Field(20.0, gt=0, description="Per-request timeout.")
    max_response_bytes: int = Field(10_000_000, gt=0, description="Largest (decompressed) body accepted.")
    max_retries: int = Field(4, ge=0, description="Retries on 429/5xx/timeouts, exponential backoff.")
    respect_robots: bool = Field(True, description="Honour robots.txt.")
    since: Duration = Field(timedelta(days=30), description="How far back to discover articles.")
    recheck_until: Duration = Field(timedelta(days=14),
                                    description="Stop re-checking an article this long after publication.")


class ScoringSettings(_Section):
    toxic_threshold: float | None = Field(None, ge=0, le=1, description="Toxicity at or above which a "
                                          "comment counts as toxic; empty = the model's CV-chosen default.")
    routing: dict[str, str] = Field(
        default_factory=lambda: {"de": "builtin", "en": "builtin", "ru": "builtin", "other": "builtin"},
        description="Language → toxicity backend: builtin | detoxify-original | detoxify-multilingual.")
    detoxify_dir: Path = Field(Path("models/detoxify"), description="Detoxify offline bundle; "
                                                                     "relative to data_dir.")
    batch_size: int = Field(256, ge=1, le=100_000, description="Comments per scoring batch.")
    use_lexicon: bool = Field(True, description="Match the slur lexicon (discovery always runs).")
    processes: int = Field(0, ge=0, le=64, description="Scoring processes for the daemon, `monitor "
                           "score` and `monitor worker`; 0 = one per CPU core, 1 = in the calling process.")

    @field_validator("routing")
    @classmethod
    def _known_backends(cls, value: dict[str, str]) -> dict[str, str]:
        allowed = {"builtin", "detoxify-original", "detoxify-multilingual"}
        for lang, backend in value.items():
            if backend not in allowed:
                raise ValueError(f"language {lang!r}: unknown backend {backend!r}; "
                                 f"accepted: {', '.join(sorted(allowed))}")
        return value


class ScheduleSettings(_Section):
    collect: Duration = Field(timedelta(minutes=15), description="Default collection interval per source.")
    score: Duration = Field(timedelta(seconds=30), description="Scoring of pending comments.")
    aggregate: Duration = Field(timedelta(minutes=1), description="Aggregation of touched windows.")
    alerts: Duration = Field(timedelta(minutes=1), description="Rule evaluation and notification.")
    slurs: Duration = Field(timedelta(minutes=10), description="Slur candidate statistics.")
    purge: Duration = Field(timedelta(days=1), description="Retention purge.")
    jitter_s: float = Field(10.0, ge=0, description="Random jitter added to collection jobs.")
    misfire_grace_s: float = Field(300.0, gt=0, description="How late a job may still start.")


class SmtpSettings(_Section):
    host: str = Field("", description="SMTP server; empty disables email.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    security: Literal["none", "starttls", "tls"] = Field("starttls", description="Transport security.")
    username: str = Field("", description="Login name; the password comes from MONITOR_SMTP_PASSWORD.")
    password: str = Field("", description="Prefer the env var MONITOR_SMTP_PASSWORD.", repr=False)
    sender: str = Field("monitor@localhost", description="From address.")
    recipients: list[str] = Field(default_factory=list, description="Default recipients.")
    timeout_s: float = Field(20.0, gt=0, description="SMTP timeout.")


class PrivacySettings(_Section):
    store_author_names: bool = Field(False, description="Store raw author names (default: pseudonyms only).")
    secret: str = Field("", description="HMAC key for pseudonyms; prefer env MONITOR_SECRET. Empty = a "
                                        "random key kept in <data_dir>/secret.key.", repr=False)


class RetentionSettings(_Section):
    comments: Duration = Field(timedelta(days=90), description="Keep comment text and pseudonyms this long.")


class AggregateSettings(_Section):
    windows: list[Duration] = Field(default_factory=lambda: [timedelta(hours=1), timedelta(days=1)],
                                    description="Window sizes, e.g. ['1h', '1d'].")
    top_authors: int = Field(5, ge=1, description="Most active authors counted in the brigading share.")
    top_slurs: int = Field(5, ge=1, description="Slurs listed per window.")


class AlertSettings(_Section):
    group_wait: Duration = Field(timedelta(seconds=30), description="Wait before the first email of a group.")
    group_interval: Duration = Field(timedelta(minutes=5), description="Minimum time between emails of a group.")
    repeat_interval: Duration = Field(timedelta(hours=4), description="Resend a still-firing alert after this.")
    send_resolved: bool = Field(True, description="Email when an alert resolves.")
    group_by: list[str] = Field(default_factory=lambda: ["alertname"], description="Labels whose values make one notification group (one email per group and interval).")
    routes: list[dict[str, Any]] = Field(default_factory=list,
                                         description="[{match = {severity = 'critical'}, to = ['a@b']}]")


class DaemonSettings(_Section):
    stop_timeout_s: float = Field(10.0, gt=0, description="How long a clean stop may take.")


class Config(_Section):
    """The whole configuration; paths are resolved absolute after loading."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    collect: CollectSettings = Field(default_factory=CollectSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    aggregate: AggregateSettings = Field(default_factory=AggregateSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)

    # Filled by load_config, not read from monitor.toml.
    source_file: Path | None = Field(None, exclude=True)
    sources: list["SourceConfig"] = Field(default_factory=list, exclude=True)
    targets: dict[str, "TargetConfig"] = Field(default_factory=dict, exclude=True)

    @property
    def data_dir(self) -> Path:
        return self.paths.data_dir

    @property
    def lexicon_dir(self) -> Path:
        return self.paths.lexicon_dir

    @property
    def rules_dir(self) -> Path:
        return self.paths.rules_dir

    @property
    def dashboards_dir(self) -> Path:
        return self.paths.dashboards_dir

    @property
    def database_url(self) -> str:
        return self.database.url


class SourceConfig(_Section):
    """One watched site from sources.toml."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                      description="Unique short name (letters, digits, _ . -).")
    url: str = Field(pattern=r"^(https?://|file:)", description="Site root or feed URL.")
    platform: Literal["auto", "wordpress", "wpdiscuz", "blogger", "disqus", "feed", "css"] = Field(
        "auto", description="Comment platform; auto detects it.")
    enabled: bool = Field(True, description="Collect this source.")
    interval: Duration | None = Field(None, description="Collection interval; default schedule.collect.")
    since: Duration | None = Field(None, description="Discovery horizon; default collect.since.")
    recheck_until: Duration | None = Field(None, description="Default collect.recheck_until.")
    discovery: Literal["auto", "feed", "sitemap", "rest", "urls"] = Field(
        "auto", description="How articles are found.")
    articles: list[str] = Field(default_factory=list, description="Fixed article URLs (discovery = 'urls').")
    max_articles: int = Field(200, ge=1, description="Most articles considered per pass.")
    disqus_forum: str = Field("", description="Disqus forum shortname (platform disqus).")
    disqus_api_key_env: str = Field("MONITOR_DISQUS_API_KEY",
                                    description="Env var holding the Disqus public API key.")
    selectors: dict[str, str] = Field(default_factory=dict,
                                      description="CSS selectors for platform css: comment, author, "
                                                  "text, date, id, parent.")


class TargetConfig(_Section):
    """A stance/slur target from targets.toml."""

    key: str = ""
    label: str = Field(description="Display name.")
    aliases: dict[str, list[str]] = Field(description="Aliases per language code (de, en, ru).")
    implicit: dict[str, list[str]] = Field(default_factory=dict, description="Indirect references by kind: refer, favor, against, unless (see targets.toml).")


def _format_errors(exc: ValidationError, file: Path, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        if err["type"] == "extra_forbidden":
            lines.append(f"{file}: {key}: unknown key (check the spelling; see `monitor config check --defaults`)")
        elif err["type"] == "missing":
            lines.append(f"{file}: {key}: required value is missing")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{file}: {key}: {msg} (got {err.get('input')!r})")
    return "\n".join(lines)


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=str(path),
                          fix="create it, or point --config / MONITOR_CONFIG at the right file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path), fix="fix the syntax at that line") from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None


def load_targets(path: Path) -> dict[str, TargetConfig]:
    """Read targets.toml: `[targets.KEY]` tables with label and aliases per language."""
    raw = _read_toml(path, "targets file")
    unknown = set(raw) - {"targets"}
    if unknown:
        raise ConfigError("unknown top-level key(s): " + ", ".join(sorted(unknown)), file=str(path),
                          fix="targets are declared as [targets.KEY] tables")
    tables = raw.get("targets")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError("no [targets.KEY] tables", file=str(path), key="targets",
                          fix="declare at least one target, e.g. [targets.nato]")
    targets: dict[str, TargetConfig] = {}
    for key, table in tables.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ConfigError("target keys are lower-case letters, digits and _", file=str(path),
                              key=f"targets.{key}")
        if not isinstance(table, dict):
            raise ConfigError("expected a table", file=str(path), key=f"targets.{key}")
        try:
            targets[key] = TargetConfig(key=key, **table)
        except ValidationError as exc:
            raise ConfigError(_format_errors(exc, path, f"targets.{key}")) from None
    return targets


def _load_sources(path: Path) -> list[SourceConfig]:
    if not path.exists():
        return []
    raw = _read_toml(path, "sources file")
    unknown = set(raw) - {"source"}
    if unknown:
        raise ConfigError("unknown top-level key(s): " + ", ".join(sorted(unknown)), file=str(path),
                          fix="declare each site as a [[source]] table")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for i, table in enumerate(raw.get("source", [])):
        try:
            source = SourceConfig(**table)
        except ValidationError as exc:
            raise ConfigError(_format_errors(exc, path, f"source[{i}]")) from None
        if source.name in seen:
            raise ConfigError(f"duplicate source name {source.name!r}", file=str(path),
                              key=f"source[{i}].name", fix="names must be unique")
        seen.add(source.name)
        sources.append(source)
    return sources


def _resolve(base: Path, path: Path) -> Path:
    path = Path(os.path.expandvars(os.path.expanduser(str(path))))
    return path if path.is_absolute() else (base / path).resolve()


def load_config(path: Path | str | None = None, *, environ: dict[str, str] | None = None) -> Config:
    """Load the main config file (default: MONITOR_CONFIG, else the embedded config/monitor.toml),
    the sources and targets it names, and the secrets from the environment."""
    env = os.environ if environ is None else environ
    if path is None:
        path = env.get("MONITOR_CONFIG") or DEFAULT_CONFIG
    path = Path(path).expanduser().resolve()
    raw = _read_toml(path, "config file")
    try:
        config = Config(**raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, path)) from None

    base = path.parent
    p = config.paths
    p.data_dir = _resolve(base, p.data_dir)
    for name in ("sources", "targets", "lexicon_dir", "rules_dir", "dashboards_dir"):
        setattr(p, name, _resolve(base, getattr(p, name)))
    config.scoring.detoxify_dir = _resolve(p.data_dir, config.scoring.detoxify_dir)

    if env.get("MONITOR_DATABASE_URL"):
        config.database.url = env["MONITOR_DATABASE_URL"]
    if not config.database.url:
        config.database.url = f"sqlite:///{p.data_dir / 'monitor.db'}"
    if env.get("MONITOR_SMTP_PASSWORD"):
        config.smtp.password = env["MONITOR_SMTP_PASSWORD"]
    if env.get("MONITOR_SECRET"):
        config.privacy.secret = env["MONITOR_SECRET"]

    config.source_file = path
    config.sources = _load_sources(p.sources)
    config.targets = load_targets(p.targets)
    return config


Config.model_rebuild()
