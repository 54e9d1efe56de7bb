"""`monitor export`: the same columns on every result, slurs as objects, one timestamp spelling."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import polars as pl
import pytest

from monitor.config import load_config
from monitor.store.db import open_engine
from tests.conftest import make_config_dir
from tests.helpers import comment_adder, run_cli

AT = datetime(2026, 11, 20, 8, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
def config_path(tmp_path):
    return make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")


def _export(capsys, config_path, *args):
    code, out, err = run_cli(capsys, "--config", str(config_path), "export", *args)
    assert code == 0, err
    return out


def test_an_empty_export_has_every_column(capsys, config_path):
    targets = sorted(load_config(config_path, environ={}).targets)
    header = _export(capsys, config_path, "--format", "csv").splitlines()[0].split(",")
    assert {f"stance_{t}" for t in targets} | {f"stance_{t}_score" for t in targets} <= set(header)
    # A filled export has exactly the same columns, in the same order.
    add = comment_adder(open_engine(load_config(config_path, environ={})))
    add(at=AT, toxicity=0.9, stance={"nato": "against"})
    assert _export(capsys, config_path, "--format", "csv").splitlines()[0].split(",") == header


def test_slurs_are_objects_and_timestamps_read_the_same_in_every_format(capsys, config_path, tmp_path):
    add = comment_adder(open_engine(load_config(config_path, environ={})))
    add(at=AT, toxicity=0.9, slurs=[("natod", "lexicon")])
    [row] = [json.loads(line) for line in _export(capsys, config_path, "--format", "jsonl").splitlines()]
    assert row["slurs"] == [{"term": "natod", "target": "nato"}]
    assert row["published_at"] == "2026-11-20T08:30:15Z"
    [record] = list(csv.DictReader(io.StringIO(_export(capsys, config_path, "--format", "csv"))))
    assert json.loads(record["slurs"]) == row["slurs"]
    assert record["published_at"] == row["published_at"] and record["first_seen_at"] == row["first_seen_at"]
    target = tmp_path / "out.parquet"
    _export(capsys, config_path, "--format", "parquet", "--output", str(target))
    frame = pl.read_parquet(target)
    assert frame.schema["published_at"] == pl.Datetime("us", "UTC")
    assert frame["slurs"].to_list() == [[{"term": "natod", "target": "nato"}]]


def test_an_unknown_source_is_an_error(capsys, config_path):
    code, out, err = run_cli(capsys, "--config", str(config_path), "export", "--source", "nope")
    assert code == 2 and out == "" and "no source 'nope'" in err
