"""Loading and validating config/*.toml; every setting is declared once here with type, default and help.

Errors name the file, the key and what would be accepted, e.g.
``config/monitor.toml: scoring.toxic_threshold: expected a number between 0 and 1, got 'high'``.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr,
                      ValidationError, ValidatorFunctionWrapHandler, field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

from monitor.durations import parse_duration
from monitor.errors import ConfigError

__all__ = [
    "AggregateSettings",
    "AlertSettings",
    "CollectSettings",
    "Config",
    "DEFAULT_CONFIG",
    "Duration",
    "EmailAddress",
    "ScheduleSettings",
    "RouteSettings",
    "ScoringSettings",
    "SmtpSettings",
    "SourceConfig",
    "TargetConfig",
    "default_config_path",
    "load_config",
    "load_targets",
    "parse_address",
    "parse_duration",
]



def default_config_path() -> Path:
    """The config used without --config / MONITOR_CONFIG: in an installed package, the copy of
    config/ that packaging puts into it (setup.py, found with importlib.resources); in a checkout,
    the top-level config/ itself, which is what operators edit."""
    packaged = resources.files("monitor").joinpath("_defaults", "config", "monitor.toml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "config" / "monitor.toml"


DEFAULT_CONFIG = default_config_path()


# The longest duration any setting takes (ten years): beyond it, schedulers and date arithmetic
# overflow, and no monitoring interval means anything.
MAX_DURATION = timedelta(days=3650)


def _bounded(minimum: timedelta, strict: bool) -> Any:
    def check(value: timedelta) -> timedelta:
        low = value <= minimum if strict else value < minimum
        if low or value > MAX_DURATION:
            floor = "more than 0s" if strict else "0s or more"
            raise ValueError(f"expected a duration of {floor} and at most {MAX_DURATION.days}d, "
                             f"like '30s', '15m', '1h' or '90d'")
        return value

    return AfterValidator(check)


# Intervals, ages and windows: positive and at most MAX_DURATION.
Duration = Annotated[timedelta, BeforeValidator(parse_duration), _bounded(timedelta(0), strict=True)]
# Waits that may be zero ("at once").
WaitDuration = Annotated[timedelta, BeforeValidator(parse_duration), _bounded(timedelta(0), strict=False)]
# Plain numbers of seconds (timeouts, delays): finite, and at most a day.
_DAY_S = 86_400.0

_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


def _address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        raise ValueError(f"expected an email address like 'name@example.org', got {value!r}")
    return value.strip()


EmailAddress = Annotated[str, BeforeValidator(_address)]

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=False)


class DatabaseSettings(_Section):
    url: str = Field("", description="SQLAlchemy URL; empty = sqlite:///<data_dir>/monitor.db. "
                                     "Env MONITOR_DATABASE_URL overrides. PostgreSQL: postgresql+psycopg://…")
    busy_timeout_s: float = Field(30.0, gt=0, le=_DAY_S, description="SQLite busy timeout in seconds.")
    pool_size: int = Field(5, ge=1, le=1000, description="Connection pool size (PostgreSQL).")


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
    min_delay_s: float = Field(1.0, ge=0, le=_DAY_S, description="Minimum delay between requests to one host.")
    timeout_s: float = Field(20.0, gt=0, le=_DAY_S, description="Per-request timeout.")
    max_response_bytes: int = Field(10_000_000, gt=0, le=2**40, description="Largest (decompressed) body accepted.")
    max_retries: int = Field(4, ge=0, le=100, description="Retries on 429/5xx/timeouts, exponential backoff.")
    respect_robots: bool = Field(True, description="Honour robots.txt.")
    concurrency: int = Field(8, ge=1, le=256, description="Hosts collected side by side (each host "
                                                          "still gets one request at a time).")
    retry_budget_s: float = Field(300.0, gt=0, le=86_400, description="Seconds one source's pass may spend "
                                  "on retries (waits and failed attempts); then errors wait for the next pass.")
    since: Duration = Field(timedelta(days=30), description="How far back to discover articles.")
    recheck_until: Duration = Field(timedelta(days=14),
                                    description="Stop re-checking an article this long after publication.")


class SecondTierSettings(_Section):
    groups: list[Literal["stance", "toxicity"]] = Field(
        default_factory=lambda: ["stance", "toxicity"],
        description="Fine-tuned e5 checkpoints to run (monitor/score/models/second-tier-<group>.npz).")
    weight: float = Field(0.5, ge=0, le=1, description="Share of the second tier's probabilities "
                                                       "in the combined ones (0 = fast tier only).")
    uncertain_below: float = Field(1.0, gt=0, le=1, description="Rescore a mentioned target only "
                                   "when the fast tier's top stance probability is below this; "
                                   "1.0 = every mention.")
    toxicity_band: float = Field(0.1, ge=0, le=1, description="Rescore toxicity within this "
                                 "distance of the language's threshold.")
    threads: int = Field(0, ge=0, le=64, description="Torch threads per scoring process; 0 = the "
                                                     "cores divided among the scoring processes.")
    model_dir: Path | None = Field(None, description="Folder holding second-tier-<group>.npz; empty "
                                   "= the shipped checkpoints; relative to data_dir.")


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
    pipeline: list[str] = Field(default_factory=lambda: ["toxicity", "slurs", "stance"],
                                description="Scoring components in run order (toxicity always "
                                            "runs); see `monitor.score.components.COMPONENTS`.")

    @field_validator("pipeline")
    @classmethod
    def _known_components(cls, value: list[str]) -> list[str]:
        from monitor.score.registry import COMPONENTS

        for name in value:
            if name not in COMPONENTS:
                raise ValueError(f"unknown scoring component {name!r}; accepted: "
                                 f"{', '.join(sorted(COMPONENTS))}")
        if len(set(value)) != len(value):
            raise ValueError("a component is listed twice")
        return value
    processes: int = Field(0, ge=0, le=64, description="Scoring processes for the daemon, `monitor "
                           "score` and `monitor worker`; 0 = one per CPU core, 1 = in the calling process.")
    second_tier: SecondTierSettings = Field(default_factory=SecondTierSettings,
                                            description="The \"second-tier\" component's settings.")

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
    jitter_s: float = Field(10.0, ge=0, le=_DAY_S, description="Random jitter added to collection jobs.")
    misfire_grace_s: float = Field(300.0, gt=0, le=_DAY_S, description="How late a job may still start.")


class SmtpSettings(_Section):
    host: str = Field("", description="SMTP server; empty disables email.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    security: Literal["none", "starttls", "tls"] = Field("starttls", description="Transport security.")
    username: str = Field("", description="Login name; the password comes from MONITOR_SMTP_PASSWORD.")
    password: str = Field("", description="Prefer the env var MONITOR_SMTP_PASSWORD.", repr=False)
    sender: str = Field("monitor@localhost", description="From address.")
    recipients: list[EmailAddress] = Field(default_factory=list, description="Default recipients.")
    timeout_s: float = Field(20.0, gt=0, le=_DAY_S, description="SMTP timeout.")


class PrivacySettings(_Section):
    store_author_names: bool = Field(False, description="Store raw author names (default: pseudonyms only).")
    secret: str = Field("", description="HMAC key for pseudonyms; prefer env MONITOR_SECRET. Empty = a "
                                        "random key kept in <data_dir>/secret.key.", repr=False)


class RetentionSettings(_Section):
    comments: Duration = Field(timedelta(days=90), description="Keep comment text and pseudonyms this long.")


class AggregateSettings(_Section):
    windows: list[Duration] = Field(default_factory=lambda: [timedelta(hours=1), timedelta(days=1)],
                                    description="Window sizes, e.g. ['1h', '1d'].")
    top_authors: int = Field(5, ge=1, le=10_000, description="Most active authors counted in the brigading share.")
    top_slurs: int = Field(5, ge=1, le=10_000, description="Slurs listed per window.")


class RouteSettings(_Section):
    match: dict[str, str] = Field(default_factory=dict, description="Labels that must all be equal.")
    receivers: list[str] = Field(default_factory=list, description="Receiver names (alerts.receivers).")
    to: list[EmailAddress] = Field(default_factory=list, description="Shorthand: email to these addresses.")

    @field_validator("match", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else value


class AlertSettings(_Section):
    group_wait: WaitDuration = Field(timedelta(seconds=30), description="Wait before the first email of a group.")
    group_interval: Duration = Field(timedelta(minutes=5), description="Minimum time between emails of a group.")
    repeat_interval: Duration = Field(timedelta(hours=4), description="Resend a still-firing alert after this.")
    send_resolved: bool = Field(True, description="Email when an alert resolves.")
    group_by: list[str] = Field(default_factory=lambda: ["alertname"], description="Labels whose values make one notification group (one email per group and interval).")
    routes: list[RouteSettings] = Field(default_factory=list, description="First match wins: [{match = "
                                        "{severity = 'critical'}, receivers = ['chat'], to = ['a@b']}]; "
                                        "unmatched alerts go to the 'email' receiver (smtp.recipients).")
    receivers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Named receivers: {chat = {type = 'webhook', url = 'https://…'}}; "
                                          "types: email (to = [...]), webhook (url, timeout_s).")
    templates_dir: Path | None = Field(None, description="Folder whose email_subject.j2, email.txt.j2, "
                                       "email.html.j2 replace the built-in templates; relative to this file.")
    max_uncertain_copies: int = Field(3, ge=1, le=100, description="Attempts that may have delivered "
                                      "(connection lost after the message was handed over) before a "
                                      "notification is marked failed instead of sent again.")

    @field_validator("routes")
    @classmethod
    def _route_recipients(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, route in enumerate(value):
            to = route.get("to", [])
            if not isinstance(to, list):
                raise ValueError(f"route {i}: `to` must be a list of addresses, e.g. to = ['ops@example.org']")
            for address in to:
                _address(address)
        return value


class DaemonSettings(_Section):
    stop_timeout_s: float = Field(10.0, gt=1, le=3600, description="How long a clean stop may take.")
    metrics_address: str = Field("", description="HOST:PORT where `monitor run` serves Prometheus "
                                                 "/metrics, e.g. 127.0.0.1:9187; empty = off.")
    log_format: Literal["text", "json"] = Field("text", description="Daemon log lines: text or json "
                                                                   "(one object per line).")

    @field_validator("metrics_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            parse_address(value)
        return value


def parse_address(value: str) -> tuple[str, int]:
    """'127.0.0.1:9187', '[::1]:9187' or ':9187' (every interface) → (host, port)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT such as 127.0.0.1:9187, got {value!r}")
    return (host.strip("[]") or "0.0.0.0"), int(port)


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
    url: str = Field(pattern=r"^https?://", description="Site root or feed URL (http or https).")
    platform: str = Field("auto", description="Comment platform (wordpress, wpdiscuz, blogger, disqus, "
                                                "feed, css or a registered one); auto detects it.")
    enabled: bool = Field(True, description="Collect this source.")
    interval: Duration | None = Field(None, description="Collection interval; default schedule.collect.")
    since: Duration | None = Field(None, description="Discovery horizon; default collect.since.")
    recheck_until: Duration | None = Field(None, description="Default collect.recheck_until.")
    discovery: Literal["auto", "feed", "sitemap", "rest", "urls"] = Field(
        "auto", description="How articles are found.")
    articles: list[str] = Field(default_factory=list,
                                description="Article URLs to watch (discovery = 'urls'; with 'auto' "
                                            "a non-empty list is used instead of the feed).")
    max_articles: int = Field(200, ge=1, le=1_000_000, description="Most articles considered per pass.")
    # The options of platforms (Platform.options), validated at load, by platform name.
    _options: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        from monitor.collect.base import platform_names  # the platform registry, read at load

        accepted = ("auto", *platform_names())
        if value not in accepted:
            raise ValueError(f"unknown platform {value!r}; accepted: {', '.join(accepted)}")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _with_platform_options(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> SourceConfig:
        """Keys beyond the shared ones belong to the platform: its options model validates them,
        and their errors are reported beside the shared ones, under the same key names."""
        if not isinstance(data, dict):
            return handler(data)
        own = {k: v for k, v in data.items() if k not in cls.model_fields}
        errors: list[Any] = []
        source: SourceConfig | None = None
        try:
            source = handler({k: v for k, v in data.items() if k in cls.model_fields})
        except ValidationError as exc:
            errors = exc.errors()
        platform = source.platform if source is not None else data.get("platform", "auto")
        options: dict[str, BaseModel] = {}
        if source is not None or not any(e["loc"] == ("platform",) for e in errors):
            options, option_errors = _platform_options(platform, own)
            errors += option_errors
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, [_details(e) for e in errors])
        assert source is not None
        source._options = options
        return source

    @property
    def options(self) -> dict[str, BaseModel]:
        """The platform options this source's table sets, by platform (with `auto`, those of
        every platform whose keys it uses)."""
        return dict(self._options)

    def options_for(self, platform: str) -> BaseModel | None:
        """The source's options for `platform` (the one it names, or the one `auto` detected);
        the model's defaults when the table sets none; None for a platform without options."""
        if platform not in self._options:
            from monitor.collect.base import get_platform

            model = get_platform(platform).options
            if model is None:
                return None
            try:
                self._options[platform] = model.model_validate({})
            except ValidationError as exc:
                raise ConfigError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()),
                                  key=f"source {self.name}") from None
        return self._options[platform]

    @model_validator(mode="after")
    def _urls_need_articles(self) -> "SourceConfig":
        if self.discovery == "urls" and not self.articles:
            raise ValueError('discovery = "urls" watches the pages listed in articles = ["https://…"]; '
                             "list at least one")
        for url in self.articles:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"articles: {url!r} is not an http(s) URL")
        return self


def _platform_options(platform: str, own: dict[str, Any]) -> tuple[dict[str, BaseModel], list[Any]]:
    """Validate a source's platform keys: against the named platform's options model, or, for
    `auto`, each key against the platform that declares it. Returns the models and the errors."""
    from monitor.collect.base import get_platform, option_owners

    if platform == "auto":
        if not own:
            return {}, []
        accepts = option_owners()  # each key some platform declares → that platform
        groups: dict[str, dict[str, Any]] = {}
    else:
        model = get_platform(platform).options
        accepts = dict.fromkeys(model.model_fields if model is not None else (), platform)
        groups = {platform: {}}  # validated even when empty: the model's defaults may not do
    errors: list[Any] = []
    for key, value in own.items():
        owner = accepts.get(key) or option_owners().get(key)
        if owner is None:
            errors.append({"type": "extra_forbidden", "loc": (key,), "input": value, "msg": "unknown key"})
        elif owner != platform and platform != "auto":
            errors.append({"type": "value_error", "loc": (key,), "input": value,
                           "msg": f"an option of platform {owner!r}, not of {platform!r}: set "
                                  f"platform = {owner!r} or remove the key"})
        else:
            groups.setdefault(owner, {})[key] = value
    options: dict[str, BaseModel] = {}
    for name, values in groups.items():
        declared = get_platform(name).options
        if declared is None:
            continue
        try:
            options[name] = declared.model_validate(values)
        except ValidationError as exc:
            errors += exc.errors()
    return options, errors


def _details(error: Any) -> InitErrorDetails:
    """A reported error as pydantic takes it back, to raise the shared and platform errors together
    (type and message kept, so `_format_errors` words them as it words the rest)."""
    return {"type": PydanticCustomError(error["type"], error["msg"]), "loc": tuple(error["loc"]),
            "input": error["input"]}


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
            got = repr(err.get("input"))
            got = got if len(got) <= 80 else got[:79] + "…"
            shown = ", got " in msg or not err["loc"]  # a whole-table check names its own problem
            lines.append(f"{file}: {key}: {msg}" + ("" if shown else f" (got {got})"))
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
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path), fix="save it as UTF-8") from None
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
    if env.get("MONITOR_DATA_DIR"):  # containers and service units point it at their volume
        p.data_dir = Path(env["MONITOR_DATA_DIR"])
    p.data_dir = _resolve(base, p.data_dir)
    for name in ("sources", "targets", "lexicon_dir", "rules_dir", "dashboards_dir"):
        setattr(p, name, _resolve(base, getattr(p, name)))
    config.scoring.detoxify_dir = _resolve(p.data_dir, config.scoring.detoxify_dir)
    if config.scoring.second_tier.model_dir is not None:
        config.scoring.second_tier.model_dir = _resolve(p.data_dir,
                                                        config.scoring.second_tier.model_dir)
    if config.alerts.templates_dir is not None:
        config.alerts.templates_dir = _resolve(base, config.alerts.templates_dir)

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
