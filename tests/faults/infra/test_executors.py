"""Separate executors: collections stuck on servers that never answer do not hold back scoring
or the heartbeat."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from monitor.config import SourceConfig, load_config
from monitor.daemon import Daemon
from monitor.store.db import open_engine
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, get_state,
                                upsert_article, upsert_comments)
from monitor.store.schema import comments
from tests.conftest import make_config_dir

N_STUCK = 6  # more stuck sources than the old shared pool had threads


class SilentServer:
    """Accepts connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


def _heartbeat(engine) -> datetime | None:
    with engine.connect() as conn:
        beat = (get_state(conn, "daemon", {}) or {}).get("heartbeat")
    return datetime.fromisoformat(beat) if beat else None


def test_stuck_collections_do_not_starve_scoring_or_the_heartbeat(tmp_path: Path, caplog) -> None:
    servers = [SilentServer() for _ in range(N_STUCK)]
    sources = "".join(f'[[source]]\nname = "stuck{i}"\nurl = "http://127.0.0.1:{s.port}/"\n'
                      'platform = "feed"\ndiscovery = "feed"\n\n' for i, s in enumerate(servers))
    extra = ('[schedule]\nscore = "1s"\naggregate = "1h"\nalerts = "1h"\nslurs = "1h"\njitter_s = 0\n'
             '[collect]\ntimeout_s = 300\nmax_retries = 0\n')
    config = load_config(make_config_dir(tmp_path, extra=extra, sources=sources), environ={})
    engine = open_engine(config)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="forum", url="https://forum.example/"))
        aid = upsert_article(conn, sid, ArticleRecord("1", "https://forum.example/1"))
        upsert_comments(conn, sid, aid, [CommentRecord(str(i), f"Kommentar {i}", "a") for i in range(20)],
                        privacy=Privacy(b"k"))
    daemon = Daemon(config, engine=engine)
    caplog.set_level(logging.WARNING, logger="apscheduler")
    beats: set[datetime] = set()
    try:
        daemon.start()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            beat = _heartbeat(engine)
            if beat:
                beats.add(beat)
            with engine.connect() as conn:
                pending = conn.execute(select(func.count()).select_from(comments)
                                       .where(comments.c.needs_scoring.is_(True))).scalar_one()
            if pending == 0 and len(beats) >= 3:
                break
            time.sleep(0.5)
        # Every collection is still stuck on its silent server.
        stuck = [j for j in daemon.jobs if j.startswith("collect:")]
    finally:
        for server in servers:
            server.close()
        daemon.stop()
        engine.dispose()
    assert stuck == []
    assert pending == 0, "scoring never ran while collections were stuck"
    assert len(beats) >= 3, "the heartbeat stopped while collections were stuck"
    assert not [r for r in caplog.records if "heartbeat" in r.getMessage()
                and ("skipped" in r.getMessage() or "missed" in r.getMessage())]
