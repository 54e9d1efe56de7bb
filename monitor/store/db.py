"""Opening the database (SQLite or PostgreSQL) and bringing its schema up to date with Alembic."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from monitor.errors import StoreError

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["MIGRATIONS_DIR", "current_revision", "engine_for_url", "head_revision", "open_engine",
           "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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
    except ArgumentError:
        raise StoreError(f"database.url {url!r} is not a database URL; expected sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/DB") from None
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


def _describe(exc: Exception, url: str) -> str:
    safe_url = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if "file is not a database" in reason or "malformed" in reason:
        return (f"{safe_url}: the database file is corrupt ({reason}); restore a backup or move it "
                "away and run `monitor db upgrade`")
    return (f"cannot open the database {safe_url}: {reason}; check database.url in monitor.toml "
            "or MONITOR_DATABASE_URL, and that the server is running")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after)."""
    from alembic import command

    try:
        before = current_revision(engine)
        if before != head_revision():
            command.upgrade(_alembic_config(engine), "head")
        return before, current_revision(engine) or ""
    except (OperationalError, DatabaseError) as exc:
        raise StoreError(_describe(exc, str(engine.url))) from None


def open_engine(config: Config, *, migrate: bool = True) -> Engine:
    """The configured database, migrated to the current schema unless `migrate` is False."""
    engine = engine_for_url(config.database.url, busy_timeout_s=config.database.busy_timeout_s,
                            pool_size=config.database.pool_size)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DatabaseError) as exc:
        raise StoreError(_describe(exc, config.database.url)) from None
    if migrate:
        upgrade(engine)
    elif not inspect(engine).has_table("comments"):
        raise StoreError("the database has no monitor tables yet; run `monitor db upgrade`")
    return engine
