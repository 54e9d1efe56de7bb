"""A clean restart: collection runs a killed process left `running` are closed when the daemon
starts again, with a note saying why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from monitor.config import SourceConfig, load_config
from monitor.daemon import Daemon
from monitor.store.db import open_engine
from monitor.store.repo import ensure_source
from monitor.store.schema import collection_runs
from tests.conftest import make_config_dir


def test_runs_left_running_by_a_crash_are_closed_at_start(tmp_path: Path) -> None:
    config = load_config(make_config_dir(tmp_path), environ={})
    engine = open_engine(config)
    crashed_at = datetime.now(timezone.utc) - timedelta(hours=3)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
        conn.execute(insert(collection_runs).values(
            source_id=sid, started_at=crashed_at, status="running", articles_checked=0,
            comments_new=0, comments_updated=0, comments_deleted=0, requests=0))

    Daemon(config, engine=engine).run_once()

    with engine.connect() as conn:
        [run] = conn.execute(select(collection_runs)).all()
    engine.dispose()
    assert run.status == "failed"
    assert run.finished_at is not None
    assert "interrupted" in run.error and "daemon started" in run.error
