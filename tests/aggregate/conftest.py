"""Fixtures for aggregation tests: a real database (SQLite, and PostgreSQL in CI) and a helper that
stores scored comments."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine

from monitor.config import load_config
from monitor.store.db import engine_for_url
from monitor.store.schema import metadata
from tests.helpers import comment_adder


@pytest.fixture
def config() -> Any:
    return load_config(None, environ={})


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An empty database: SQLite, and PostgreSQL where MONITOR_TEST_POSTGRES_URL is set."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for_url(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def add_comment(engine: Engine) -> Callable[..., int]:
    """Store one comment with a score; returns the comment id."""
    return comment_adder(engine)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
