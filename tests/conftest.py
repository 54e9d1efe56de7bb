"""Shared fixtures: a config in a temporary folder, and a migrated database on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from monitor.config import Config, load_config
from monitor.store.db import engine_for_url, upgrade

REPO = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL", "")


def make_config_dir(tmp_path: Path, database_url: str = "", extra: str = "", sources: str = "") -> Path:
    """A config folder like the shipped one, with its own data dir; returns monitor.toml's path."""
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "targets.toml", cfg_dir / "targets.toml")
    if (REPO / "config" / "lexicon").is_dir():
        shutil.copytree(REPO / "config" / "lexicon", cfg_dir / "lexicon", dirs_exist_ok=True)
    (cfg_dir / "sources.toml").write_text(sources, encoding="utf-8")
    main = cfg_dir / "monitor.toml"
    main.write_text(
        f'[database]\nurl = "{database_url}"\n\n[paths]\ndata_dir = "{tmp_path / "data"}"\n'
        f'rules_dir = "{REPO / "rules"}"\ndashboards_dir = "{REPO / "dashboards"}"\n{extra}',
        encoding="utf-8")
    return main


def _fresh_postgres_database() -> tuple[str, Callable[[], None]]:
    admin_url = make_url(POSTGRES_URL)
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: SQLite in tmp_path, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI is set but MONITOR_TEST_POSTGRES_URL is not: PostgreSQL tests must run in CI")
        pytest.skip("set MONITOR_TEST_POSTGRES_URL to run the PostgreSQL variant")
    url, drop = _fresh_postgres_database()
    yield url
    drop()


@pytest.fixture
def config_path(tmp_path: Path, database_url: str) -> Path:
    return make_config_dir(tmp_path, database_url)


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path, environ={})


@pytest.fixture
def engine(config: Config) -> Iterator[Engine]:
    """A migrated database for the parametrised backend."""
    eng = engine_for_url(config.database.url)
    upgrade(eng)
    yield eng
    eng.dispose()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say plainly whether the PostgreSQL variants ran, so CI output shows it."""
    passed = [r for r in terminalreporter.stats.get("passed", []) if "[postgres" in r.nodeid]
    failed = [r for r in terminalreporter.stats.get("failed", []) if "[postgres" in r.nodeid]
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "[postgres" in r.nodeid]
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        terminalreporter.write_line(f"PostgreSQL tests against {url}: {len(passed)} passed, "
                                    f"{len(failed)} failed, {len(skipped)} skipped")
    else:
        terminalreporter.write_line(f"PostgreSQL tests skipped ({len(skipped)}): "
                                    "set MONITOR_TEST_POSTGRES_URL to run them")
