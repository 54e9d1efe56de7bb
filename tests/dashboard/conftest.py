"""Fixtures for dashboard tests: the current time and a database filled with example data."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import Engine

from tests.dashboard.example_data import fill


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def filled(engine: Engine, now: datetime) -> Engine:
    """The migrated test database with the example data written."""
    fill(engine, now)
    return engine
