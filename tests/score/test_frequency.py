"""The compact word-frequency table answers exactly as wordfreq does (slur discovery's
'is this an ordinary word' test depends on it)."""

from __future__ import annotations

import re

import pytest
from wordfreq import zipf_frequency

from monitor.score.frequency import zipf
from tests.score.equivalence_texts import equivalence_texts

WORDS = {
    "de": ["haus", "Haus", "krieg", "osterweiterung", "natoschergen", "russland", "und", "der",
           "vollidiot", "2014", "covid19", "e-mail", "hab's", "straße", "strasse", "", "  ",
           "xqzvbn", "bündnis", "verteidigungsbündnis", "natod", "öl", "1.000", "3d"],
    "en": ["house", "the", "Alliance", "don't", "ruzzia", "orcs", "moron", "5g", "covid-19",
           "mother-in-law", "qwxzt", "kremlin", "", "h3ll0", "café", "naïve", "100,000"],
    "ru": ["дом", "россия", "кремль", "ватник", "ватники", "укроп", "рашисты", "ёлка", "елка",
           "2022", "что-то", "жжж", "хохол", "khokhol", "путлер"],
}


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_zipf_equals_wordfreq(lang: str) -> None:
    for word in WORDS[lang]:
        assert zipf(word, lang) == zipf_frequency(word, lang), word


def test_zipf_equals_wordfreq_on_every_word_of_the_mixed_texts() -> None:
    words = {w.lower() for text in equivalence_texts() for w in re.findall(r"[\w'-]+", text)}
    for lang in ("de", "en", "ru"):
        assert [zipf(w, lang) for w in sorted(words)] == \
            [zipf_frequency(w, lang) for w in sorted(words)], lang


def test_other_languages_are_answered_by_wordfreq() -> None:
    assert zipf("casa", "es") == zipf_frequency("casa", "es") > 3
