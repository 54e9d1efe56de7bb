"""Untrusted text is neutralised before it reaches a terminal, a log line or an email header."""

from __future__ import annotations

import logging

from monitor.log import setup_logging
from monitor.text import header_safe, one_line, terminal_safe


def test_escape_sequences_and_bidi_overrides_are_replaced():
    hostile = "ok\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c\nnext"
    safe = terminal_safe(hostile)
    assert "\x1b" not in safe and "\x07" not in safe and "\u202e" not in safe
    assert "\n" in safe and "ok" in safe and "next" in safe


def test_header_values_are_one_line_and_bounded():
    value = header_safe("Subject\r\nBcc: victim@example.org" + "x" * 500)
    assert "\r" not in value and "\n" not in value and len(value) <= 200
    assert one_line(" a \t b \n c ") == "a b c"


def test_log_lines_cannot_carry_terminal_escapes(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging()
        logging.getLogger("monitor.test").error("fetch failed: %s", "bad\x1b[31mred\x1b[0m")
        err = capsys.readouterr().err
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    assert "fetch failed" in err and "\x1b" not in err
