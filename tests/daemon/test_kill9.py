"""kill -9 at random moments loses nothing and duplicates nothing after a restart."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config import load_config
from monitor.demo.run import write_demo_config
from monitor.demo.site import DemoSite
from monitor.demo.smtp_sink import SmtpSink
from monitor.store.db import open_engine
from monitor.store.schema import aggregates, comments, outbox, scores
from tests.helpers import start_within_this_hour

pytestmark = pytest.mark.slow


def _daemon(config_path: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config_path), "run", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _aggregate_rows(engine) -> set[tuple]:
    with engine.connect() as conn:
        return {(r.window_s, r.window_start, r.scope, r.scope_key, r.comment_count,
                 round(r.metrics.get("toxic_share") or 0, 6))
                for r in conn.execute(select(aggregates))}


def test_random_kills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("MONITOR_TEST_SEED", "9")))
    clock = [0.0]
    # Three rounds of up to 9 s and a final pass: the alert's hour must last that long.
    site = DemoSite(clock=lambda: clock[0], started_at=start_within_this_hour(lasting=180))
    with site, SmtpSink(tmp_path / "mail") as sink:
        config_path = write_demo_config(tmp_path / "run", load_config(environ={}), site.urls, sink.port)
        clock[0] = 3600  # the whole comment stream is on the site from the start
        for round_ in range(3):
            proc = _daemon(config_path)
            time.sleep(rng.uniform(2.0, 9.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL, f"round {round_}: daemon ended early"
        final = _daemon(config_path, "--once")
        _, err = final.communicate(timeout=300)
        assert final.returncode == 0, err.decode()[-2000:]

        config = load_config(config_path, environ={})
        engine = open_engine(config)
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(comments)).scalar_one()
            distinct_ext = conn.execute(select(func.count(func.distinct(comments.c.external_id)))).scalar_one()
            pending = conn.execute(select(func.count()).select_from(comments)
                                   .where(comments.c.needs_scoring.is_(True))).scalar_one()
            per_comment = conn.execute(select(scores.c.comment_id, scores.c.model_version, func.count())
                                       .group_by(scores.c.comment_id, scores.c.model_version)).all()
            sent_ids = conn.execute(select(outbox.c.message_id).where(outbox.c.status == "sent")).scalars().all()
            unsent = conn.execute(select(func.count()).select_from(outbox)
                                  .where(outbox.c.status != "sent")).scalar_one()

        # Nothing lost: every comment on the site is stored and scored; nothing duplicated.
        assert stored == distinct_ext == len(site.released())
        assert pending == 0
        assert len(per_comment) == stored and all(n == 1 for *_, n in per_comment)

        # Every alert email was delivered, each Message-ID exactly once.
        received = [message_from_bytes(p.read_bytes(), policy=default_policy)["Message-ID"]
                    for p in sorted((tmp_path / "mail").glob("*.eml"))]
        assert sent_ids and unsent == 0
        assert sorted(received) == sorted(f"<{m.strip('<>')}>" for m in sent_ids)

        # The incrementally maintained aggregates equal a full recompute.
        incremental = _aggregate_rows(engine)
        subprocess.run([sys.executable, "-m", "monitor", "--config", str(config_path), "aggregate",
                        "--full"], check=True, capture_output=True, timeout=120)
        assert _aggregate_rows(engine) == incremental
