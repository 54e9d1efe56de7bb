"""`monitor export` writes only regular files, never creates folders unasked, and fails loudly
(exit 1, no partial file) when the disk or a file size limit stops it."""

from __future__ import annotations

import json

import os
import resource
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from monitor.config import SourceConfig, load_config
from monitor.score.base import CommentScore, SlurHit, StanceResult
from monitor.store.db import open_engine
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, claim_pending, ensure_source,
                                upsert_article, upsert_comments, write_scores)
from tests.conftest import REPO
from tests.helpers import run_cli


def _fill(config_path: Path, n: int = 3) -> None:
    engine = open_engine(load_config(config_path, environ={}))
    t = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)
    with engine.begin() as conn:
        sid = ensure_source(conn, SourceConfig(name="blog", url="https://blog.example/"))
        aid = upsert_article(conn, sid, ArticleRecord("1", "https://blog.example/1", "Post"))
        upsert_comments(conn, sid, aid, [CommentRecord(f"c{i}", f"Kommentar Nummer {i} " * 5, f"R{i}",
                                                       published_at=t) for i in range(n)], privacy=Privacy(b"k"))
        hit = SlurHit("Putler", "putler", "russia", "lexicon", 0, 6)
        write_scores(conn, [(p, CommentScore(None, "de", 0.7, True, "m", stance={"nato": StanceResult("favor", 0.6)},
                                             slurs=[hit, hit] if p.id == 1 else []))
                            for p in claim_pending(conn, n)])
    engine.dispose()


def test_every_format_streams_the_same_rows(capsys, config_path, tmp_path):
    _fill(config_path, 5)
    frames = {}
    for fmt in ("csv", "jsonl", "parquet"):
        target = tmp_path / f"out.{fmt}"
        code, _, err = run_cli(capsys, "--config", str(config_path), "export", "--format", fmt, "-o", str(target))
        assert code == 0 and "exported 5" in err
        frames[fmt] = (pl.read_csv(target) if fmt == "csv" else pl.read_ndjson(target) if fmt == "jsonl"
                       else pl.read_parquet(target))
    putler = {"term": "putler", "target": "russia"}
    for fmt, frame in frames.items():
        assert frame.height == 5 and frame["stance_nato"].to_list() == ["favor"] * 5
        slurs = frame["slurs"].to_list()[0]
        assert (json.loads(slurs) if fmt == "csv" else slurs) == [putler, putler]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_symlink_target_is_refused_and_left_alone(capsys, config_path, tmp_path):
    _fill(config_path)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    link = tmp_path / "export.csv"
    link.symlink_to(precious)
    code, _, err = run_cli(capsys, "--config", str(config_path), "export", "-o", str(link))
    assert code == 2 and "symbolic link" in err
    assert link.is_symlink() and precious.read_text() == "keep me"


def test_a_device_target_is_refused(capsys, config_path):
    code, _, err = run_cli(capsys, "--config", str(config_path), "export", "-o", "/dev/null")
    assert code == 2 and "device" in err
    assert Path("/dev/null").is_char_device()


def test_a_missing_folder_is_created_only_when_asked(capsys, config_path, tmp_path):
    _fill(config_path)
    target = tmp_path / "new" / "deeper" / "comments.csv"
    code, _, err = run_cli(capsys, "--config", str(config_path), "export", "-o", str(target))
    assert code == 2 and "--parents" in err and not target.parent.exists()
    code, _, _ = run_cli(capsys, "--config", str(config_path), "export", "-o", str(target), "--parents")
    assert code == 0 and pl.read_csv(target).height == 3


def _export_process(config_path: Path, *args: str, stdout=subprocess.PIPE, fsize: int | None = None):
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(config_path), "export", *args],
                          cwd=REPO, stdout=stdout, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)


def test_a_file_size_limit_fails_the_export_and_keeps_the_old_file(config_path, tmp_path):
    _fill(config_path, 2000)  # ~0.5 MB of CSV
    target = tmp_path / "comments.csv"
    target.write_text("the previous export\n")
    # The kernel refuses writes past 64 KiB (EFBIG), as a full disk would (ENOSPC).
    done = _export_process(config_path, "-o", str(target), fsize=64 * 1024)
    assert done.returncode == 1, done.stderr
    assert "cannot write" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_full_disk_on_stdout_exits_1(config_path):
    _fill(config_path, 2000)
    with open("/dev/full", "w") as full:
        done = _export_process(config_path, "--format", "jsonl", stdout=full)
    assert done.returncode == 1, done.stderr
    assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
