"""Normalisation undoes obfuscation and keeps a map back to the original characters."""

from __future__ import annotations

import pytest

from monitor.score.normalize import normalize


def _roundtrip_ok(original: str) -> None:
    result = normalize(original)
    assert len(result.offsets) == len(result.text)
    assert result.offsets == sorted(result.offsets)
    assert all(0 <= o < len(original) for o in result.offsets)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Die N4T0D schon wieder", "Die NATOD schon wieder"),
    ("n4t0d", "natod"),
    ("Put1n", "Putin"),
    ("Ru$$ia", "Russia"),
    ("Ukr@ine", "Ukraine"),
    ("NAT0 raus", "NATO raus"),
    ("€U-Diktatur", "EU-Diktatur"),
    ("Пут1н", "Путин"),
])
def test_leetspeak_is_undone(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", [
    "Seit 2022 und 1989", "G7 und G20", "F16, MH17, A400M, T-34", "5G und 3D", "Web3",
    "Covid19", "mail an hello@example.com", "siehe https://example.org/a1b2",
])
def test_real_numbers_and_addresses_stay_intact(raw: str) -> None:
    assert normalize(raw).text == raw


def test_cyrillic_lookalikes_inside_latin_word_become_latin() -> None:
    # "NАТО" with Cyrillic А and Т, "Russiа" with a Cyrillic а
    assert normalize("Die N\u0410\u0422O und Russi\u0430").text == "Die NATO und Russia"


def test_latin_lookalikes_inside_cyrillic_word_become_cyrillic() -> None:
    assert normalize("п\u0443тин и пyтин").text == "путин и путин"
    # all four letters are lookalikes: the comment's script decides
    assert normalize("Россия и HAТО").text == "Россия и НАТО"


def test_real_cyrillic_text_is_untouched() -> None:
    text = "НАТО расширяется, а Москва против. Россия и Украина."
    assert normalize(text).text == text


def test_greek_lookalikes_become_latin() -> None:
    assert normalize("\u039d\u0391TO").text == "NATO"


def test_zero_width_and_soft_hyphen_are_removed() -> None:
    assert normalize("NA\u200bTO\u00adD und N\ufeffATO").text == "NATOD und NATO"


def test_fullwidth_letters_are_folded() -> None:
    assert normalize("\uff2e\uff21\uff34\uff2f").text == "NATO"


@pytest.mark.parametrize(("raw", "expected"), [
    ("gaaanz schlimm", "ganz schlimm"),
    ("NATOOOO", "NATO"),
    ("Tooood", "Tod"),
    ("Hallooo", "Hallo"),
])
def test_stretched_letters_are_collapsed(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", ["Kaffee", "Boot", "Schifffahrt", "Kaffeeernte", "Russland", "Ссора"])
def test_legitimate_double_and_triple_letters_are_kept(raw: str) -> None:
    assert normalize(raw).text == raw


@pytest.mark.parametrize(("raw", "expected"), [
    ("N.A.T.O.D", "NATOD"),
    ("N-A-T-O", "NATO"),
    ("N A T O raus", "NATO raus"),
    ("die N. A. T. O. D. wieder", "die NATOD. wieder"),
    ("N_A_T_O", "NATO"),
    ("U S A", "USA"),
])
def test_separated_letters_are_joined(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", ["z.B. so", "1. 2. 3. Punkt", "я и в доме", "e-mail", "A und B"])
def test_prose_with_short_words_is_not_joined(raw: str) -> None:
    assert normalize(raw).text == raw


def test_offsets_map_a_normalised_span_back_to_the_original() -> None:
    raw = "Weg mit der N.4.T.0.D jetzt"
    result = normalize(raw)
    start = result.text.index("NATOD")
    a, b = result.span(start, start + len("NATOD"))
    assert raw[a:b] == "N.4.T.0.D"
    _roundtrip_ok(raw)


def test_offsets_skip_removed_invisible_characters() -> None:
    raw = "x NA\u200bTOD y"
    result = normalize(raw)
    start = result.text.index("NATOD")
    a, b = result.span(start, start + 5)
    assert raw[a:b] == "NA\u200bTOD"


def test_case_is_kept() -> None:
    assert normalize("Natod NATOD natod").text == "Natod NATOD natod"


@pytest.mark.parametrize("raw", [
    "", "!!!", "Ä Ö Ü ß", "ＮＡＴＯ\u200b", "a.b.c.d.e.f", "Ｎ.4.Т.0", "𝐍𝐀𝐓𝐎 🙂", "x\u0336y\u0336z",
])
def test_offsets_are_consistent_on_odd_input(raw: str) -> None:
    _roundtrip_ok(raw)
