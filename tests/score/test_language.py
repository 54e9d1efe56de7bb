"""Language identification of short comments: de, en, ru or other."""

from __future__ import annotations

import pytest

from monitor.score.language import detect_language, detect_languages, script_counts


@pytest.mark.parametrize(("text", "expected"), [
    ("Ich verstehe nicht, warum die Regierung so lange gewartet hat.", "de"),
    ("Gute Besserung an alle Betroffenen, schlimme Sache.", "de"),
    ("I really don't see why the government waited so long.", "en"),
    ("Thoughts go out to everyone affected, terrible news.", "en"),
    ("Не понимаю, почему правительство так долго тянуло.", "ru"),
    ("Сочувствую всем пострадавшим, ужасная новость.", "ru"),
    ("Je ne comprends pas pourquoi le gouvernement a attendu si longtemps.", "other"),
    ("No entiendo por qué el gobierno esperó tanto tiempo.", "other"),
    ("Не розумію, чому уряд так довго чекав і нічого не робив.", "other"),
])
def test_common_comments_get_their_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_homoglyph_obfuscated_german_stays_german() -> None:
    # "Regierung" and "Idioten" written with Cyrillic е, о, р, а that look Latin.
    text = "Diе Rеgiеrung bеstеht nur аus Idiоtеn, dаs wеiß jеdеr."
    assert any(ch in text for ch in "еоа")
    assert detect_language(text) == "de"


def test_russian_with_latin_names_stays_russian() -> None:
    assert detect_language("Опять этот Macron со своими заявлениями про NATO, надоело уже.") == "ru"


def test_mixed_script_word_counts_for_its_majority_script() -> None:
    cyr, lat, cyr_words, lat_words = script_counts("Pутин")  # Latin P, Cyrillic rest
    assert cyr_words == ["Pутин"] and lat_words == []
    assert cyr == 5 and lat == 0


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "12345 !!!", "ok"])
def test_too_little_text_is_other(text: str) -> None:
    assert detect_language(text) == "other"


def test_batch_keeps_order() -> None:
    texts = ["Das ist eine ganz normale Meinung zum Thema.", "Это вполне обычное мнение по теме.",
             "This is a perfectly ordinary opinion on the topic."]
    assert detect_languages(texts) == ["de", "ru", "en"]
