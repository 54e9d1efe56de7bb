"""Fixtures for aggregation tests: a real SQLite database and a helper that stores scored comments."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

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
def engine(tmp_path: Path) -> Engine:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'monitor.db'}")
    metadata.create_all(engine)
    return engine


@pytest.fixture
def add_comment(engine: Engine) -> Callable[..., int]:
    """Store one comment with a score; returns the comment id."""
    return comment_adder(engine)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
