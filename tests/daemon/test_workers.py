"""Scale-out: three `monitor worker` processes and the daemon share one PostgreSQL queue, and every
comment is scored exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config import SourceConfig, load_config
from monitor.store.db import open_engine
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, upsert_article,
                                upsert_comments)
from monitor.store.schema import comments, scores
from tests.conftest import make_config_dir
from tests.helpers import run_cli

N_COMMENTS = 1200
TEXTS = ["Die NATO ist an allem schuld, ihr Idioten", "Putin ist ein Verbrecher", "Guter Artikel, danke.",
         "NATO keeps Europe safe", "Россия победит", "Natostan lügt wie immer", "Wetter ist schön heute"]


def _fill(config) -> None:
    engine = open_engine(config)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="forum", url="https://forum.example/"))
        aid = upsert_article(conn, sid, ArticleRecord("1", "https://forum.example/1"))
        upsert_comments(conn, sid, aid, [CommentRecord(str(i), f"{TEXTS[i % len(TEXTS)]} #{i}", f"user{i % 50}")
                                         for i in range(N_COMMENTS)], privacy=Privacy(b"k"))
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_three_workers_and_the_daemon_score_each_comment_once(tmp_path: Path, database_url: str) -> None:
    config_path = make_config_dir(tmp_path, database_url)
    _fill(load_config(config_path, environ={}))
    base = [sys.executable, "-m", "monitor", "--config", str(config_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen(base + ["worker", "--once", "--batch-size", "20"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    procs.append(subprocess.Popen(base + ["run", "--once"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True))
    logs = []
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        logs.append(err)

    # What each process says it scored adds up to the number of comments: nobody scored one twice.
    worker_counts = [int(re.search(r"worker stopped after scoring (\d+)", log).group(1)) for log in logs[:3]]
    daemon_count = sum(int(n) for n in re.findall(r"job=score .*?scored=(\d+)", logs[3]))
    assert sum(worker_counts) + daemon_count == N_COMMENTS, (worker_counts, daemon_count)

    engine = open_engine(load_config(config_path, environ={}))
    with engine.connect() as conn:
        n_scores = conn.execute(select(func.count()).select_from(scores)).scalar_one()
        scored_comments = conn.execute(select(func.count(func.distinct(scores.c.comment_id)))).scalar_one()
        pending = conn.execute(select(func.count()).select_from(comments)
                               .where(comments.c.needs_scoring.is_(True))).scalar_one()
    engine.dispose()
    assert n_scores == scored_comments == N_COMMENTS and pending == 0


def test_worker_refuses_sqlite_with_the_fix(capsys, tmp_path: Path) -> None:
    config_path = make_config_dir(tmp_path)
    code, _, err = run_cli(capsys, "--config", str(config_path), "worker", "--once")
    assert code == 2 and "database.url" in err and "postgresql+psycopg://" in err
