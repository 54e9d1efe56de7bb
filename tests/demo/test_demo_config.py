"""The config `monitor demo` writes loads, points at the demo's site and sink, and its rules are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alert.rules import load_rules, rule_files
from monitor.config import load_config
from monitor.demo.content import COMMENTS
from monitor.demo.run import SOURCE_NAMES, _DemoLock, run_demo, write_demo_config
from monitor.errors import InputError, StoreError
from tests.conftest import make_config_dir

URLS = {"rest": "http://127.0.0.1:40001", "wpdiscuz": "http://127.0.0.1:40002",
        "blogger": "http://127.0.0.1:40003"}


@pytest.fixture
def base(tmp_path: Path):
    return load_config(make_config_dir(tmp_path / "base"), environ={})


def test_demo_config_points_at_the_site_the_sink_and_its_own_folder(tmp_path, base):
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    config = load_config(write_demo_config(demo_dir, base, URLS, 2525), environ={})

    assert {s.name: s.url for s in config.sources} == {SOURCE_NAMES[k]: f"{u}/" for k, u in URLS.items()}
    assert {s.platform for s in config.sources} == {"wordpress", "wpdiscuz", "blogger"}
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == ("127.0.0.1", 2525, "none")
    assert config.smtp.recipients
    assert config.data_dir == demo_dir.resolve()
    assert config.database.url == f"sqlite:///{demo_dir.resolve() / 'monitor.db'}"
    assert config.schedule.collect.total_seconds() <= 5 and config.schedule.score.total_seconds() <= 2
    assert config.targets.keys() == base.targets.keys()


def test_demo_rules_are_the_default_rules_plus_a_valid_quick_demo_rule(tmp_path, base):
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    config = load_config(write_demo_config(demo_dir, base, URLS, 2525), environ={})

    files = rule_files(None, config.rules_dir)
    defaults = {p.name for p in rule_files(None, base.rules_dir)}
    assert {p.name for p in files} == defaults | {"demo.toml"}
    rules = load_rules(files, targets=list(config.targets), windows=config.aggregate.windows)
    demo = next(r for r in rules if r.name == "DemoToxicShare")
    assert demo.for_.total_seconds() == 0 and demo.min_comments <= 5


def test_script_is_toxic_enough_for_the_demo_alert_within_a_minute():
    first_minute = [c for c in COMMENTS if c.at_s <= 60]
    share = sum(c.toxic for c in first_minute) / len(first_minute)
    assert len(first_minute) >= 5 and share > 0.3
    present_at_start = [c for c in COMMENTS if c.at_s <= 0]
    assert len(present_at_start) >= 10
    by_id = {c.cid: c for c in COMMENTS}
    assert len(by_id) == len(COMMENTS)
    for c in COMMENTS:
        if c.parent is not None:  # a reply comes after its parent, on the same post
            assert by_id[c.parent].post == c.post and by_id[c.parent].at_s < c.at_s


def test_a_second_demo_in_the_same_folder_is_refused(tmp_path, base):
    demo_dir = tmp_path / "demo"
    with _DemoLock(demo_dir):
        with pytest.raises(StoreError, match="another `monitor demo`"):
            run_demo(base, demo_dir=demo_dir, dashboard=False, duration=1, echo=lambda line: None)


def test_demo_refuses_a_folder_holding_a_database_it_did_not_create(tmp_path, base):
    folder = tmp_path / "production"
    folder.mkdir()
    (folder / "monitor.db").write_bytes(b"precious")
    with pytest.raises(InputError, match="did not create"):
        run_demo(base, demo_dir=folder, dashboard=False, duration=1, echo=lambda line: None)
    with pytest.raises(InputError, match="did not create"):
        run_demo(base, demo_dir=base.data_dir, dashboard=False, duration=1, echo=lambda line: None)
    assert (folder / "monitor.db").read_bytes() == b"precious"
