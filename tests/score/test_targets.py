"""Target mentions: aliases in three languages, inflections, compounds, obfuscation, spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import TargetConfig, load_targets
from monitor.errors import ConfigError
from monitor.score.targets import TargetMatcher

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def matcher() -> TargetMatcher:
    return TargetMatcher(load_targets(REPO / "config" / "targets.toml"))


def _surfaces(matcher: TargetMatcher, text: str) -> dict[str, list[str]]:
    return {key: [text[m.start:m.end] for m in mentions]
            for key, mentions in matcher.find(text).items()}


@pytest.mark.parametrize(("text", "expected"), [
    ("Die Nato-Staaten schweigen, und Russlands Kremlchef lacht.",
     {"nato": ["Nato-Staaten"], "russia": ["Russlands", "Kremlchef"]}),
    ("NATO's expansion made the Kremlin nervous.", {"nato": ["NATO's"], "russia": ["Kremlin"]}),
    ("Натовцы опять у границ России, а в Кремле молчат.",
     {"nato": ["Натовцы"], "russia": ["России", "Кремле"]}),
    ("Путина и его пророссийских друзей", {"russia": ["Путина", "пророссийских"]}),
    ("Rußland oder Russland, egal wie man es schreibt.", {"russia": ["Rußland", "Russland"]}),
    ("Ich bin froh, dass wir im Bündnis sind.", {"nato": ["im Bündnis"]}),
    ("РФ опять угрожает.", {"russia": ["РФ"]}),
])
def test_aliases_are_found_with_inflections_and_compounds(
        matcher: TargetMatcher, text: str, expected: dict[str, list[str]]) -> None:
    assert _surfaces(matcher, text) == expected


@pytest.mark.parametrize("text", [
    "Die Senatoren tagen heute.",                  # "nato" inside another word
    "Bündnis 90 stellt einen neuen Antrag.",        # the party, not the alliance
    "Die Allianz Arena war ausverkauft.",           # the stadium, not the alliance
    "рф в нижнем регистре ничего не значит",        # short abbreviations only in capitals
    "Ein schöner Tag im Park.",
])
def test_words_that_only_look_like_targets_are_not_mentions(matcher: TargetMatcher, text: str) -> None:
    assert matcher.find(text) == {}


@pytest.mark.parametrize(("text", "target", "surface"), [
    ("N4T0 = Krieg, sonst nichts.", "nato", "N4T0"),
    ("Die N.A.T.O. ist schuld.", "nato", "N.A.T.O"),
    ("P*tin ist ein Mörder.", "russia", "P*tin"),
    ("Pu.tin = Kriegsverbrecher", "russia", "Pu.tin"),
    ("Н@ТО = война", "nato", "Н@ТО"),
    ("NATOOO raus!", "nato", "NATOOO"),
])
def test_obfuscated_names_are_found_with_spans_in_the_original(
        matcher: TargetMatcher, text: str, target: str, surface: str) -> None:
    mentions = matcher.find(text)[target]
    assert [text[m.start:m.end] for m in mentions] == [surface]
    assert mentions[0].text == surface


def test_a_row_of_masks_is_not_a_name(matcher: TargetMatcher) -> None:
    assert matcher.find("Was für ein ***** Kommentar, p**** noch mal.") == {}


def test_a_target_added_in_config_is_matched_under_its_lower_case_key() -> None:
    targets = {"Ukraine": TargetConfig(key="ukraine", label="Ukraine",
                                       aliases={"de": ["Ukraine", "Kiew"], "en": ["Ukraine", "Kyiv"],
                                                "ru": ["Украина", "Киев"], "us": ["US"]})}
    matcher = TargetMatcher(targets)
    assert matcher.keys == ("ukraine",)
    text = "Kiews Führung und die ukrainischen Soldaten, Украины, US help, not us."
    assert [m.text for m in matcher.find(text)["ukraine"]] == ["Kiews", "Украины", "US"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Die Orks haben wieder Charkiw beschossen.", [("Orks", "against")]),
    ("Slava Ukraini! Heute mehr denn je.", [("Slava Ukraini", "against")]),
    ("Киевский режим обстреливает Донецк.", [("Киевский режим", "favor")]),
    ("Наши бойцы держатся!", [("Наши бойцы", "favor")]),
    ("The invaders blew up the dam.", [("invaders", "refer")]),
    ("СВО идёт третий год.", [("СВО", "refer")]),
    # A name and an indirect reference side by side stay two mentions of their own kind.
    ("Russian occupiers out!", [("Russian", "name"), ("occupiers", "refer")]),
])
def test_indirect_references_are_mentions_marked_with_their_kind(
        matcher: TargetMatcher, text: str, expected: list[tuple[str, str]]) -> None:
    mentions = matcher.find(text)["russia"]
    assert [(text[m.start:m.end], m.kind) for m in mentions] == expected
    assert [m.implicit for m in mentions] == [kind != "name" for _, kind in expected]


@pytest.mark.parametrize("text", [
    "Die Amerikaner sind die eigentlichen Besatzer.",   # someone else's occupiers
    "Der Aggressor ist die NATO.",
    "Heute spielt das Orchester Wagner.",               # the composer, not the mercenaries
    "Das Kalibrieren der Waage dauert.",
])
def test_indirect_references_about_someone_else_are_not_russia(matcher: TargetMatcher, text: str) -> None:
    assert "russia" not in matcher.find(text)


def test_an_unknown_implicit_kind_is_a_config_error_that_names_the_kinds() -> None:
    targets = {"russia": TargetConfig(key="russia", label="Russia", aliases={"de": ["Russland"]},
                                      implicit={"pro": ["Kiewer Regime"]})}
    with pytest.raises(ConfigError, match="refer, favor, against, unless"):
        TargetMatcher(targets)
