"""Opening the database (SQLite or PostgreSQL) and bringing its schema up to date with Alembic."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from monitor.errors import StoreError

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["MIGRATIONS_DIR", "current_revision", "engine_for_url", "head_revision", "open_engine",
           "safe_url", "scrub_secrets", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# Query parameters that carry a secret (libpq takes the password as ?password=… too).
_SECRET_PARAM = re.compile(r"(?i)([?&](?:password|passwd|pwd|pass|sslpassword|secret|token)=)[^&#]*")


def _raw(url: str | URL) -> str:
    return url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)


def _userinfo(raw: str) -> tuple[str, str, str] | None:
    """(scheme://, user info, the rest) split at the *last* @ before the query, so a password
    holding an unescaped @ is still all user info."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        return None
    head, qmark, query = rest.partition("?")
    at = head.rfind("@")
    if at < 0:
        return None
    return scheme + sep, head[:at], head[at + 1:] + qmark + query


def safe_url(url: str | URL) -> str:
    """The database URL for messages: passwords masked wherever they are (user info, ?password=),
    even when the URL does not parse; never raises."""
    raw = _raw(url)
    if "://" not in raw:
        return "<database.url not shown: it is not a URL>"
    parts = _userinfo(raw)
    if parts is not None:
        scheme, info, rest = parts
        user, colon, _ = info.partition(":")
        raw = f"{scheme}{user}{':***' if colon else ''}@{rest}"
    return _SECRET_PARAM.sub(r"\1***", raw)


def scrub_secrets(message: str, url: str | URL) -> str:
    """`message` (a driver error) without the URL's password or any piece of it: a password with
    an unescaped @ makes drivers report part of it as the host name."""
    raw = _raw(url)
    secrets = [m.group(0).split("=", 1)[1] for m in _SECRET_PARAM.finditer(raw)]
    parts = _userinfo(raw)
    if parts is not None and ":" in parts[1]:
        password = parts[1].split(":", 1)[1]
        secrets.append(password)
        pieces = password.split("@")
        # "p@ss@host": the driver may name the host "ss@host", or take "p" as the password.
        secrets += ["@".join(pieces[i:]) + "@" for i in range(1, len(pieces))]
        secrets += ["@".join(pieces[:i]) for i in range(1, len(pieces)) if len("@".join(pieces[:i])) >= 3]
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        message = message.replace(secret, "***@" if secret.endswith("@") else "***")
    return message


def _sqlite_pragmas(busy_timeout_s: float):
    def on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (pysqlite's implicit BEGIN
        # would defeat BEGIN IMMEDIATE below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    return on_connect


def _sqlite_begin(conn: Any) -> None:
    # One writer at a time: a writing transaction takes the write lock up front, so two writers
    # queue on busy_timeout instead of failing with "database is locked" when a read transaction
    # tries to upgrade. Readers (execution option readonly=True) start a plain deferred one.
    if conn.get_execution_options().get("readonly"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_sqlite_path(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {folder}: {exc.strerror}; "
                             "set paths.data_dir in monitor.toml to a writable folder") from None
    if not os.access(folder, os.W_OK):
        raise StoreError(f"the data directory {folder} is not writable; fix its permissions or set "
                         "paths.data_dir in monitor.toml to a writable folder")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise StoreError(f"{path} is not an SQLite database (corrupt or another file); move it "
                                 "away and run `monitor db upgrade` to create a new one")


def engine_for_url(url: str, *, busy_timeout_s: float = 30.0, pool_size: int = 5) -> Engine:
    """An engine with the monitor's connection settings; does not touch the schema."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(f"database.url {safe_url(url)} is not a database URL; expected sqlite:///PATH or "
                         "postgresql+psycopg://USER:PASSWORD@HOST/DB (escape @ : / in the password as "
                         "%40 %3A %2F)") from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(url)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s})
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_s))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=pool_size, pool_pre_ping=True,
                             connect_args={"connect_timeout": 10})
    raise StoreError(f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql")


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _describe(exc: Exception, url: str | URL) -> str:
    shown = safe_url(url)
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    reason = scrub_secrets(lines[0] if lines else type(exc).__name__, url)
    if "file is not a database" in reason or "malformed" in reason:
        return (f"{shown}: the database file is corrupt ({reason}); restore a backup or move it "
                "away and run `monitor db upgrade`")
    return (f"cannot open the database {shown}: {reason}; check database.url in monitor.toml "
            "or MONITOR_DATABASE_URL, and that the server is running")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after)."""
    from alembic import command

    try:
        before = current_revision(engine)
        if before != head_revision():
            command.upgrade(_alembic_config(engine), "head")
        return before, current_revision(engine) or ""
    except DBAPIError as exc:
        raise StoreError(_describe(exc, engine.url)) from None


def open_engine(config: Config, *, migrate: bool = True) -> Engine:
    """The configured database, migrated to the current schema unless `migrate` is False."""
    engine = engine_for_url(config.database.url, busy_timeout_s=config.database.busy_timeout_s,
                            pool_size=config.database.pool_size)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, ValueError) as exc:  # any driver complaint: its text may hold the URL's parts
        raise StoreError(_describe(exc, config.database.url)) from None
    if migrate:
        upgrade(engine)
    elif not inspect(engine).has_table("comments"):
        raise StoreError("the database has no monitor tables yet; run `monitor db upgrade`")
    return engine
