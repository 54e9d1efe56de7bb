"""A PostgreSQL restart under a running daemon and two `monitor worker` processes: nobody dies,
nothing is lost, nothing is scored twice, and no second daemon can start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select, text

from monitor.config import SourceConfig, load_config
from monitor.store.db import open_engine
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, get_state,
                                upsert_article, upsert_comments)
from monitor.store.schema import comments
from tests.conftest import make_config_dir

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FAST = '[schedule]\nscore = "1s"\naggregate = "2s"\nalerts = "2s"\njitter_s = 0\n'
TEXTS = ["Die NATO ist an allem schuld", "Putin ist ein Verbrecher", "Guter Artikel, danke.",
         "NATO keeps Europe safe", "Россия победит", "Natostan lügt wie immer"]
WAVE = 3000

# Every score row written and committed, so a comment scored twice shows up even though the
# second write would only update the first.
AUDIT = """
CREATE TABLE score_writes (comment_id bigint NOT NULL);
CREATE FUNCTION audit_score() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO score_writes VALUES (NEW.comment_id); RETURN NEW; END $$;
CREATE TRIGGER audit_score AFTER INSERT OR UPDATE ON scores FOR EACH ROW EXECUTE FUNCTION audit_score();
"""


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the server is restarting
            pass
        time.sleep(0.3)
    raise AssertionError(f"not reached in {timeout:.0f}s: {what}")


def _add_comments(config, start: int, count: int) -> None:
    engine = open_engine(config)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="forum", url="https://forum.example/"))
        aid = upsert_article(conn, sid, ArticleRecord("1", "https://forum.example/1"))
        upsert_comments(conn, sid, aid, [CommentRecord(str(i), f"{TEXTS[i % len(TEXTS)]} #{i}", f"user{i % 40}")
                                         for i in range(start, start + count)], privacy=Privacy(b"k"))
    engine.dispose()


def _query(config, sql: str) -> int:
    engine = open_engine(config, migrate=False)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _heartbeat(config) -> datetime | None:
    engine = open_engine(config, migrate=False)
    try:
        with engine.connect() as conn:
            beat = (get_state(conn, "daemon", {}) or {}).get("heartbeat")
    finally:
        engine.dispose()
    return datetime.fromisoformat(beat) if beat else None


def test_restart_loses_nothing_scores_nothing_twice_and_allows_no_second_daemon(
        tmp_path: Path, throwaway_postgres) -> None:
    config_path = make_config_dir(tmp_path, throwaway_postgres.url, extra=FAST)
    config = load_config(config_path, environ={})
    engine = open_engine(config)  # creates the schema
    with engine.begin() as conn:
        conn.exec_driver_sql(AUDIT)
    engine.dispose()
    _add_comments(config, 0, WAVE)

    base = [sys.executable, "-m", "monitor", "--config", str(config_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MONITOR_DATABASE_URL", None)
    logs = [tmp_path / f"{name}.log" for name in ("daemon", "worker1", "worker2")]
    commands = [base + ["run"]] + [base + ["worker", "--batch-size", "25", "--idle-sleep", "0.2"]] * 2
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
             for cmd, log in zip(commands, logs)]
    try:
        # Restart while the queue is being worked on: batches in flight are cut off.
        _wait_for(lambda: _query(config, "SELECT count(*) FROM score_writes") > 0, "scoring started")
        throwaway_postgres.restart()
        restarted = datetime.now(timezone.utc)
        _add_comments(config, WAVE, WAVE)

        _wait_for(lambda: _query(config, "SELECT count(*) FROM comments WHERE needs_scoring") == 0,
                  "every comment scored after the restart")
        # The daemon wrote a heartbeat after the restart: it holds its lock again.
        _wait_for(lambda: (_heartbeat(config) or restarted) > restarted, "a heartbeat after the restart")

        second = subprocess.Popen(base + ["run"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            _, second_err = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            pytest.fail("a second daemon started after the database restart")
        assert second.returncode == 1 and "another monitor daemon is already running" in second_err

        assert [p.poll() for p in procs] == [None, None, None], "a process died on the restart"
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0, 0], [t[-2000:] for t in texts]
    assert not any("Traceback" in t for t in texts), [t[-3000:] for t in texts]
    # The restart was felt (and survived) by the processes that were using the database.
    assert any("database connection lost" in t or "taking the lock again" in t for t in texts)

    engine = open_engine(config, migrate=False)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(comments)).scalar_one()
        writes = conn.execute(text("SELECT count(*), count(DISTINCT comment_id) FROM score_writes")).one()
    engine.dispose()
    assert stored == 2 * WAVE  # nothing lost
    assert tuple(writes) == (2 * WAVE, 2 * WAVE)  # each comment scored exactly once
