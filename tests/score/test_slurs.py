"""Slur detection: the lexicon with inflection, compounds and obfuscation; discovery without it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from monitor.errors import NotConfigured
from monitor.score.lexicon import load_lexicon
from monitor.score.slurs import LexiconSlurDetector, detector_from_config
from monitor.score.translit import transliterations

LEXICON_DIR = Path(__file__).resolve().parents[2] / "config" / "lexicon"


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon(LEXICON_DIR)


@pytest.fixture(scope="module")
def with_lexicon(lexicon) -> LexiconSlurDetector:
    return LexiconSlurDetector(lexicon)


@pytest.fixture(scope="module")
def discovery_only(lexicon) -> LexiconSlurDetector:
    return LexiconSlurDetector(lexicon, use_lexicon=False)


def _found(detector: LexiconSlurDetector, text: str, lang: str = "de") -> list[tuple[str, str]]:
    return [(h.term, h.target) for h in detector.find(text, lang)]


def test_hit_carries_offsets_into_the_original_text(with_lexicon) -> None:
    text = "Die NATOD will Krieg"
    [hit] = with_lexicon.find(text, "de")
    assert (hit.term, hit.normalized, hit.target, hit.kind) == ("NATOD", "natod", "nato", "lexicon")
    assert text[hit.start:hit.end] == "NATOD"
    assert (hit.start, hit.end) == (4, 9)
    assert hit.severity == 3


@pytest.mark.parametrize(("text", "term"), [
    ("Die N4T0D schon wieder", "N4T0D"),
    ("Weg mit der N.A.T.O.D jetzt", "N.A.T.O.D"),
    ("Die N\u0410TOD lügt", "N\u0410TOD"),  # Cyrillic А
    ("Die NA\u200bTOD lügt", "NA\u200bTOD"),
    ("#NATOD raus", "NATOD"),
    ("Die Natod-Verbrecher", "Natod-Verbrecher"),
    ("Die Natods lügen", "Natods"),
])
def test_lexicon_matches_through_obfuscation_inflection_and_compounds(with_lexicon, text: str,
                                                                      term: str) -> None:
    hits = with_lexicon.find(text, "de")
    assert [(h.term, h.target, h.kind) for h in hits] == [(term, "nato", "lexicon")]
    assert text[hits[0].start:hits[0].end] == term


@pytest.mark.parametrize(("text", "lang", "term", "target"), [
    ("Die Lügenpresse schweigt", "de", "Lügenpresse", "media"),
    ("Putler lies again", "en", "Putler", "russia"),
    ("Гейропа замёрзнет", "ru", "Гейропа", "eu"),
    ("Пиндосы опять врут", "ru", "Пиндосы", "usa"),
    ("Укропов не жалко", "ru", "Укропов", "ukraine"),
    ("EUdSSR am Ende", "de", "EUdSSR", "eu"),
])
def test_lexicon_covers_every_language(with_lexicon, text: str, lang: str, term: str,
                                       target: str) -> None:
    assert _found(with_lexicon, text, lang) == [(term, target)]


@pytest.mark.parametrize(("text", "lang", "term", "target"), [
    ("Die NATOD und ihre Kriege", "de", "NATOD", "nato"),
    ("NATOT bringt nur Elend", "de", "NATOT", "nato"),
    ("Natostan gehorcht", "de", "Natostan", "nato"),
    ("Das Russenpack und die Russenbrut", "de", "Russenpack", "russia"),
    ("Putler hat Angst", "de", "Putler", "russia"),
    ("ruzzia lies", "en", "ruzzia", "russia"),
    ("The Ukronazis again", "en", "Ukronazis", "ukraine"),
    ("Amerikkka bombs", "en", "Amerikkka", "usa"),
    ("Die EUdSSR regelt alles", "de", "EUdSSR", "eu"),
    ("Die Lügenpresse lügt", "de", "Lügenpresse", "media"),
    ("Das Ampelpack muss weg", "de", "Ampelpack", "government"),
    ("Укронацисты стреляют", "ru", "Укронацисты", "ukraine"),
    ("Пиндостан развалится", "ru", "Пиндостан", "usa"),
    ("Натофашисты идут", "ru", "Натофашисты", "nato"),
    ("Die Kremlfaschos lügen", "de", "Kremlfaschos", "russia"),
])
def test_discovery_finds_invented_coinages_without_the_lexicon(discovery_only, text: str,
                                                               lang: str, term: str,
                                                               target: str) -> None:
    hits = discovery_only.find(text, lang)
    assert (hits[0].term, hits[0].target, hits[0].kind) == (term, target, "coined")


def test_discovery_attributes_a_never_listed_coinage_to_its_target(discovery_only) -> None:
    # None of these words is in any lexicon file: the target comes from the stem alone.
    assert _found(discovery_only, "Die Moskauknechte und Brüsselnazis") == [
        ("Moskauknechte", "russia"), ("Brüsselnazis", "eu")]


@pytest.mark.parametrize(("text", "lang"), [
    ("Die Natostaaten trafen sich auf dem NATO-Gipfel.", "de"),
    ("Meine Russlandreise nach Moskau war schön, Putins Rede nicht.", "de"),
    ("Die Nato-Osterweiterung und die Nato-Strategie werden diskutiert.", "de"),
    ("Der Pressesprecher der Bundesregierung und die Medienlandschaft.", "de"),
    ("Die Ukrainerinnen organisieren ein Fest; die EU-Kommission hilft.", "de"),
    ("Die Nato-Note an Moskau wurde veröffentlicht.", "de"),
    ("NATO's summit and the Kremlin's reply; Russell commented.", "en"),
    ("Natasha read about Kazakhstan and the Nazis in 1945.", "en"),
    ("Натовские учения, украинцы и россияне, Кремлёвская стена.", "ru"),
    ("Он добавил укроп в суп. Оркестр играл. Нато-стандарт.", "ru"),
    ("Seit 2022 sind G7 und F16 im Gespräch.", "de"),
])
def test_ordinary_words_names_and_compounds_are_not_slurs(with_lexicon, discovery_only,
                                                          text: str, lang: str) -> None:
    assert with_lexicon.find(text, lang) == []
    assert discovery_only.find(text, lang) == []


def test_no_lexicon_leaves_curated_non_coinages_unfound(lexicon) -> None:
    # "Hofberichterstatter" is in the lexicon but built on no target name or pejorative part:
    # only the lexicon knows it.
    text = "Die Hofberichterstatter lügen"
    assert _found(LexiconSlurDetector(lexicon), text) == [("Hofberichterstatter", "media")]
    assert _found(LexiconSlurDetector(lexicon, use_lexicon=False), text) == []


def test_lexicon_phrase_patterns_match_across_words(with_lexicon) -> None:
    text = "Die Kiewer Junta und die Lügen-Presse"
    found = _found(with_lexicon, text)
    assert ("Kiewer Junta", "ukraine") in found
    assert any(term.startswith("Lügen") and target == "media" for term, target in found)


def test_versions_differ_with_and_without_lexicon(with_lexicon, discovery_only) -> None:
    assert with_lexicon.version != discovery_only.version


def test_detector_from_config_honours_use_lexicon(lexicon) -> None:
    config = SimpleNamespace(lexicon_dir=LEXICON_DIR, targets={},
                             scoring=SimpleNamespace(use_lexicon=True))
    assert detector_from_config(config).find("Hofberichterstatter", "de")
    assert detector_from_config(config, use_lexicon=False).find("Hofberichterstatter", "de") == []
    config.scoring.use_lexicon = False
    assert detector_from_config(config).find("Hofberichterstatter", "de") == []


def test_detector_without_lexicon_folder_says_why(tmp_path: Path) -> None:
    config = SimpleNamespace(lexicon_dir=tmp_path / "missing", targets={}, scoring=None)
    with pytest.raises(NotConfigured, match="lexicon_dir"):
        detector_from_config(config)


def test_stance_targets_from_config_extend_discovery(tmp_path: Path) -> None:
    (tmp_path / "targets.toml").write_text(
        '[targets.nato]\nnames = ["nato"]\nstems = ["nato"]\n', encoding="utf-8")
    (tmp_path / "morphemes.toml").write_text('[de]\nsuffixes = ["pack"]\n', encoding="utf-8")
    extra = {"bundeswehr": SimpleNamespace(label="Bundeswehr", aliases={"de": ["Bundeswehr"]})}
    detector = LexiconSlurDetector(load_lexicon(tmp_path, extra), use_lexicon=False)
    assert _found(detector, "Das Bundeswehrpack") == [("Bundeswehrpack", "bundeswehr")]


def test_real_config_builds_a_working_detector() -> None:
    from monitor.config import load_config

    config = load_config(LEXICON_DIR.parent / "monitor.toml")
    assert _found(detector_from_config(config), "Die NATOD") == [("NATOD", "nato")]


def test_transliterations_cover_the_usual_latin_spellings() -> None:
    assert transliterations("путлер") == ("putler",)
    assert {"khokhol", "hohol"} <= set(transliterations("хохол"))
    assert transliterations("vatnik") == ("ватник",)
    assert transliterations("nato-d") == ()  # a hyphen or mixed scripts: nothing to offer


def _one_entry_lexicon(tmp_path: Path, lang: str, term: str) -> LexiconSlurDetector:
    (tmp_path / "targets.toml").write_text(
        '[targets.russia]\nnames = ["russland"]\nstems = ["russland"]\n', encoding="utf-8")
    (tmp_path / f"{lang}.toml").write_text(
        f'lang = "{lang}"\nentries = [{{ term = "{term}", target = "russia" }}]\n',
        encoding="utf-8")
    return LexiconSlurDetector(load_lexicon(tmp_path))


@pytest.mark.parametrize(("lang", "term", "text", "found"), [
    ("en", "putler", "Путлер боится, Путлера надо судить", ["Путлер", "Путлера"]),
    ("ru", "путлер", "Putler lies", ["Putler"]),
    ("ru", "ватники", "The vatniki cheer again", ["vatniki"]),
    ("ru", "хохлы", "chochly and khokhly", ["chochly", "khokhly"]),  # х written ch or kh
])
def test_an_entry_matches_in_the_other_script(tmp_path: Path, lang: str, term: str, text: str,
                                              found: list[str]) -> None:
    detector = _one_entry_lexicon(tmp_path, lang, term)
    assert [h.term for h in detector.find(text, "any")] == found


def test_the_other_script_never_turns_an_ordinary_word_into_a_slur(tmp_path: Path) -> None:
    # "vatnik" is only the slur in Latin letters; "ватник" is also a quilted jacket.
    detector = _one_entry_lexicon(tmp_path, "en", "vatnik")
    assert detector.find("Бабушка сшила ватник", "ru") == []
    assert [h.term for h in detector.find("Another vatnik", "en")] == ["vatnik"]


@pytest.mark.parametrize(("text", "term", "target"), [
    ("Der Staatsfunk sendet", "Staatsfunk", "media"),
    ("Die Staatspresse schweigt", "Staatspresse", "media"),
    ("Volksverräter alle", "Volksverräter", "government"),
    ("Diese Volksfeinde", "Volksfeinde", "government"),
    ("Das Volksverräterpack", "Volksverräterpack", "government"),
    ("Die Systemparteien", "Systemparteien", "government"),
    ("Der GEZ-Sender lügt", "GEZ-Sender", "media"),
    ("Im Gebührenfunk", "Gebührenfunk", "media"),
    ("Der Rotfunk", "Rotfunk", "media"),
    ("Die Merkelmedien", "Merkelmedien", "media"),
    ("Dieses Lügenblatt", "Lügenblatt", "media"),
    ("Die Habeckdiktatur", "Habeckdiktatur", "government"),
    ("Hilfe für Nazi-Ukraine", "Nazi-Ukraine", "ukraine"),
    ("Noch ein Kremlbot", "Kremlbot", "russia"),
    ("Another Natobot", "Natobot", "nato"),
    ("The Bidenregime", "Bidenregime", "usa"),
    ("Очередной кремлебот", "кремлебот", "russia"),
    ("Эти укропатриоты", "укропатриоты", "ukraine"),
    ("Опять укроСМИ врут", "укроСМИ", "ukraine"),
    ("Ватносми молчат", "Ватносми", "russia"),
    ("Путлерия воюет", "Путлерия", "russia"),
    ("Лимитрофы лают", "Лимитрофы", "west"),
])
def test_discovery_finds_words_built_on_productive_pejorative_parts(discovery_only, text: str,
                                                                    term: str,
                                                                    target: str) -> None:
    assert _found(discovery_only, text) == [(term, target)]


@pytest.mark.parametrize("text", [
    "Die Staatsmedien, das Staatsfernsehen und der Staatssender berichten.",
    "Die Staatsregierung und der Volksvertreter der Volkspartei.",
    "Der Systemadministrator fand einen Systemfehler.",
    "Das Putin-Regime und die Naziregierung von 1933, das Naziregime.",
    "Mobilfunk, Deutschlandfunk, US-Medien und die EU-Presse.",
    "Укромный уголок, Укрэнерго и Укроборонпром.",
    "Журналисты должны защищать свои источники.",
])
def test_productive_parts_leave_ordinary_compounds_alone(with_lexicon, discovery_only,
                                                         text: str) -> None:
    assert with_lexicon.find(text, "any") == []
    assert discovery_only.find(text, "any") == []


@pytest.mark.parametrize(("text", "term", "target"), [
    ("Die Amis wollen Krieg", "Amis", "usa"),
    ("Die BRD GmbH ist kein Staat", "BRD GmbH", "government"),
    ("Wir leben in der DDR 2.0", "DDR 2.0", "government"),
    ("Die Westler lügen", "Westler", "west"),
    ("Wladolf hat Angst", "Wladolf", "russia"),
    ("Этот ватник опять орёт", "ватник", "russia"),
    ("Укроп опять врёт", "Укроп", "ukraine"),
    ("Пыня боится", "Пыня", "russia"),
    ("Это Путин-хуйло", "Путин-хуйло", "russia"),
    ("коллективный запад проиграл", "коллективный запад", "west"),
    ("Let's go Brandon", "Let's go Brandon", "usa"),
    ("Kremlin shills everywhere", "Kremlin shills", "russia"),
    ("Die Flinten-Uschi in Brüssel", "Flinten-Uschi", "eu"),
    ("Госдура приняла закон", "Госдура", "government"),
])
def test_lexicon_covers_nicknames_and_metaphors(with_lexicon, text: str, term: str,
                                                target: str) -> None:
    assert _found(with_lexicon, text) == [(term, target)]


@pytest.mark.parametrize("text", [
    "Merci, mes amis!",
    "Die Amis haben im Basketball gewonnen.",
    "Was unterscheidet uns Westler noch?",
    "Бабушкин ватник очень тёплый.",
    "Суп с укропом. Добавьте укроп в салат.",
    "Живу на окраине Москвы, на северной окраине.",
])
def test_ordinary_uses_of_metaphor_words_are_not_slurs(with_lexicon, text: str) -> None:
    assert with_lexicon.find(text, "any") == []


def test_version_is_the_same_in_every_process() -> None:
    # The version tags stored scores: it must not change with Python's per-process hash seed.
    import os
    import subprocess
    import sys

    code = ("from monitor.score.lexicon import load_lexicon; "
            "from monitor.score.slurs import LexiconSlurDetector; "
            f"print(LexiconSlurDetector(load_lexicon({str(LEXICON_DIR)!r})).version)")
    versions = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, cwd=LEXICON_DIR.parents[1],
                               env={**os.environ, "PYTHONHASHSEED": seed}).stdout
                for seed in ("1", "2", "3")}
    assert len(versions) == 1 and next(iter(versions)).startswith("slurs-")
