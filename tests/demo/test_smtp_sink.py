"""The demo's SMTP sink stores what a real SMTP client sends, one .eml file per message."""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from monitor.demo.smtp_sink import SmtpSink


def _message(subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "monitor@localhost"
    msg["To"] = "moderation@demo.localhost"
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def test_message_sent_with_smtplib_is_saved_as_an_eml_file(tmp_path):
    seen = []
    with SmtpSink(tmp_path / "mail", on_message=seen.append) as sink:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            smtp.send_message(_message("[FIRING] Anteil toxischer Kommentare", "Schwelle 0,3 überschritten"))

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    saved = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert saved["Subject"] == "[FIRING] Anteil toxischer Kommentare"
    assert "Schwelle 0,3 überschritten" in saved.get_content()
    assert [m.path for m in seen] == files
    assert seen[0].rcpt_tos == ["moderation@demo.localhost"]
    assert seen[0].mail_from == "monitor@localhost"


def test_each_message_gets_its_own_file_in_arrival_order(tmp_path):
    with SmtpSink(tmp_path / "mail") as sink:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            for n in (1, 2, 3):
                smtp.send_message(_message(f"alert {n}", f"body {n}"))
        subjects = [m.subject for m in sink.received]

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert subjects == ["alert 1", "alert 2", "alert 3"]
    assert [message_from_bytes(f.read_bytes())["Subject"] for f in files] == subjects
    assert not list((tmp_path / "mail").glob("*.part"))
