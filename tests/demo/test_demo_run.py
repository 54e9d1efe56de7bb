"""`monitor demo --no-dashboard`: the whole chain on 127.0.0.1, from demo blog to alert email."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from tests.conftest import make_config_dir
from tests.helpers import run_cli


@pytest.mark.slow
def test_demo_collects_scores_fires_an_alert_and_its_email_arrives(tmp_path, capsys):
    pytest.importorskip("monitor.score.pipeline", reason="the scoring pipeline is not in the tree yet")
    pytest.importorskip("monitor.alert.notify", reason="alert email is not in the tree yet")
    base = make_config_dir(tmp_path / "base")
    demo_dir = tmp_path / "demo"

    code, out, err = run_cli(capsys, "--config", str(base), "demo", "--no-dashboard", "--until-alert",
                             "--duration", "50", "--dir", str(demo_dir))

    assert code == 0, out + err + (demo_dir / "demo.log").read_text(encoding="utf-8")
    assert "alert fired: Demo:" in out
    done = re.search(r"demo stopped after \d+s: (\d+) comments collected, (\d+) scored", out)
    assert done and int(done.group(1)) >= 20 and int(done.group(2)) > 0, out
    mails = sorted((demo_dir / "mail").glob("*.eml"))
    assert mails
    message = message_from_bytes(mails[0].read_bytes(), policy=default_policy)
    assert "moderation@demo.localhost" in str(message["To"])
    assert "DemoToxicShare" in message.as_string()
    # Everything was stopped: the demo folder can be used again at once.
    assert (demo_dir / "monitor.db").exists()
    code, out, _ = run_cli(capsys, "--config", str(demo_dir / "monitor.toml"), "status")
    assert code == 0
