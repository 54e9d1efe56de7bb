"""Dates as sites print them: Russian written dates, and which zone a date without offset gets."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor.collect.markup import parse_date

UTC = timezone.utc


@pytest.mark.parametrize(("text", "expected"), [
    ("12 марта 2024 в 14:05", datetime(2024, 3, 12, 14, 5, tzinfo=UTC)),
    ("Опубликовано: 5 января 2023, 09:30", datetime(2023, 1, 5, 9, 30, tzinfo=UTC)),
    ("1 сентября 2022", datetime(2022, 9, 1, tzinfo=UTC)),
])
def test_russian_written_dates_are_read(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2 часа назад", "вчера в 14:05", "31 февраля 2024"])
def test_relative_or_impossible_russian_dates_are_none(text):
    assert parse_date(text) is None


def test_numeric_dates_are_utc_unless_the_text_is_german():
    assert parse_date("12.03.2024 14:05") == datetime(2024, 3, 12, 14, 5, tzinfo=UTC)
    berlin = parse_date("12.03.2024 um 14:05 Uhr")
    assert berlin == datetime(2024, 3, 12, 14, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.utcoffset().total_seconds() == 3600
