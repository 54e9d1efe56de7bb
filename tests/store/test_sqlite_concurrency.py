"""SQLite with one writer and many readers: nobody sees 'database is locked', readers never block."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from monitor.config import SourceConfig
from monitor.store.db import engine_for_url, upgrade
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, ensure_source, source_status,
                                upsert_article, upsert_comments)
from monitor.store.schema import comments


def test_one_writer_and_readers_in_other_connections_all_succeed(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    writer_engine = engine_for_url(url, busy_timeout_s=10)
    upgrade(writer_engine)
    errors: list[BaseException] = []
    done = threading.Event()
    reads = [0]

    def write() -> None:
        try:
            for batch in range(40):
                with writer_engine.begin() as conn:
                    sid = ensure_source(conn, SourceConfig(name="s", url="https://s.example/"))
                    aid = upsert_article(conn, sid, ArticleRecord(f"a{batch % 5}", "https://s.example/a"))
                    upsert_comments(conn, sid, aid, [CommentRecord(f"{batch}-{i}", f"text {batch} {i}")
                                                     for i in range(25)], privacy=Privacy(b"k"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        engine = engine_for_url(url, busy_timeout_s=10)
        try:
            while not done.is_set():
                with engine.connect().execution_options(readonly=True) as conn:
                    source_status(conn)
                    conn.execute(select(func.count()).select_from(comments)).scalar_one()
                reads[0] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with writer_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(comments)).scalar_one() == 40 * 25
    assert reads[0] > 0
