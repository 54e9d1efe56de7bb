"""`monitor status`, `monitor export` and `monitor db` on empty and filled databases, and bad stores."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest

from monitor.config import load_config
from tests.conftest import make_config_dir
from tests.helpers import fill_two_comments as _fill, run_cli



def test_status_and_export_on_an_empty_database(capsys, config_path):
    code, out, _ = run_cli(capsys, "--config", str(config_path), "status")
    assert code == 0
    assert "0 stored" in out and "No sources configured" in out and "[[source]]" in out
    code, out, _ = run_cli(capsys, "--config", str(config_path), "export", "--format", "csv")
    assert code == 0 and out.startswith("source,article_url") and len(out.splitlines()) == 1


def test_status_and_export_on_a_filled_database(capsys, config_path, tmp_path):
    config = load_config(config_path, environ={})
    _fill(config)
    code, out, _ = run_cli(capsys, "--config", str(config_path), "status")
    assert code == 0 and "2 stored, 1 scored, 1 waiting" in out and "blog" in out

    code, out, _ = run_cli(capsys, "--config", str(config_path), "export", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2
    scored = next(r for r in rows if r["external_id"] == "c1")
    assert scored["toxicity"] == 0.91 and scored["stance_nato"] == "against"
    assert scored["author"].startswith("a-") and "Birgit" not in out

    target = tmp_path / "out" / "comments.parquet"
    code, _, err = run_cli(capsys, "--config", str(config_path), "export", "--format", "parquet",
                        "--output", str(target), "--parents")
    assert code == 0 and "exported 2" in err
    assert pl.read_parquet(target).height == 2

    code, out, _ = run_cli(capsys, "--config", str(config_path), "export", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("source,") and len(out.splitlines()) == 3


def test_db_upgrade_is_repeatable(capsys, config_path):
    assert run_cli(capsys, "--config", str(config_path), "db", "upgrade")[0] == 0
    code, out, _ = run_cli(capsys, "--config", str(config_path), "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_db_purge_reports_what_it_removed(capsys, config_path):
    _fill(load_config(config_path, environ={}))
    code, out, _ = run_cli(capsys, "--config", str(config_path), "db", "purge", "--older-than", "0d")
    assert code == 0 and "purged 2 comment(s)" in out


def test_corrupt_sqlite_file_gives_one_clear_line(capsys, tmp_path):
    db = tmp_path / "data" / "monitor.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database at all" * 100)
    path = make_config_dir(tmp_path, f"sqlite:///{db}")
    code, _, err = run_cli(capsys, "--config", str(path), "status")
    assert code == 1 and "not an SQLite database" in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_directory_is_named(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    path = make_config_dir(tmp_path, f"sqlite:///{ro / 'monitor.db'}")
    code, _, err = run_cli(capsys, "--config", str(path), "status")
    assert code == 1 and "not writable" in err


def test_data_directory_that_is_a_file_is_named(capsys, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    path = make_config_dir(tmp_path, f"sqlite:///{blocker / 'sub' / 'monitor.db'}")
    code, _, err = run_cli(capsys, "--config", str(path), "status")
    assert code == 1 and "cannot create the data directory" in err


def test_unreachable_postgres_is_reported_without_traceback(capsys, tmp_path):
    path = make_config_dir(tmp_path, "postgresql+psycopg://nobody:secret@127.0.0.1:1/monitor")
    code, _, err = run_cli(capsys, "--config", str(path), "status")
    assert code == 1 and "cannot open the database" in err
    assert "secret" not in err and "Traceback" not in err
