"""`monitor collect --json`: one JSON object per source, for scripts."""

from __future__ import annotations

import json

from tests.collect.wordpress_site import WordPressSite
from tests.conftest import make_config_dir
from tests.helpers import run_cli


def test_collect_json_gives_one_object_per_source(site, tmp_path, capsys):
    WordPressSite(site)
    sources_toml = f'[[source]]\nname = "harbour"\nurl = "{site.url}/"\nplatform = "wordpress"\n'
    cfg = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'data' / 'monitor.db'}",
                          extra="\n[collect]\nmin_delay_s = 0\n", sources=sources_toml)
    code, out, err = run_cli(capsys, "--config", str(cfg), "collect", "--json")
    assert code == 0, err
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["name"] == "harbour" and row["status"] == "ok"
    assert row["articles_checked"] == 2 and row["new"] > 0 and row["errors"] == []
