"""One full cycle through real parts: loopback blogs → collect → score → aggregate → a rule fires →
the email reaches an aiosmtpd server → the dashboard frame shows the alert."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy import func, select

from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.demo.run import write_demo_config
from monitor.demo.site import DemoSite
from monitor.demo.smtp_sink import SmtpSink
from monitor.store.schema import aggregates, alert_states, comments, outbox, scores
from tests.helpers import run_cli, start_within_this_hour


def test_full_cycle_from_collection_to_email_and_dashboard(tmp_path: Path, capsys) -> None:
    clock = [0.0]
    site = DemoSite(clock=lambda: clock[0], started_at=start_within_this_hour())
    clock[0] = 3600.0  # the whole scripted comment stream is visible
    with site, SmtpSink(tmp_path / "mail") as sink:
        config_path = write_demo_config(tmp_path / "run", load_config(environ={}), site.urls, sink.port)
        config = load_config(config_path, environ={})
        config.alerts.group_wait = timedelta(0)
        daemon = Daemon(config)
        results = daemon.run_once()
        assert [r.job for r in results] == ["collect", "score", "slurs", "aggregate", "alerts", "purge"]
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]

        with daemon.engine.connect() as conn:
            n_comments = conn.execute(select(func.count()).select_from(comments)).scalar_one()
            n_scored = conn.execute(select(func.count(func.distinct(scores.c.comment_id)))).scalar_one()
            n_aggregates = conn.execute(select(func.count()).select_from(aggregates)).scalar_one()
            firing = conn.execute(select(alert_states.c.rule).where(alert_states.c.state == "firing")).scalars().all()
            sent = conn.execute(select(outbox.c.subject).where(outbox.c.status == "sent")).scalars().all()
        assert n_comments == len(site.released()) > 0
        assert n_scored == n_comments
        assert n_aggregates > 0
        assert any("DemoToxicShare" in rule for rule in firing)
        assert sent

    # The email really arrived at the SMTP server, as a file the sink wrote.
    mails = [message_from_bytes(p.read_bytes(), policy=default_policy)
             for p in sorted((tmp_path / "mail").glob("*.eml"))]
    assert mails and any("DemoToxicShare" in str(m["Subject"]) for m in mails)
    assert all(m["Message-ID"] for m in mails)

    code, out, _ = run_cli(capsys, "--config", str(config_path), "dashboard", "--once",
                           "--width", "120", "--height", "40")
    assert code == 0
    assert "FIRING" in out and "DemoToxicShare" in out
