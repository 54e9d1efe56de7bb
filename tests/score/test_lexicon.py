"""Lexicon files load, and a broken one fails with the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.score.lexicon import LexiconEntry, append_entry, load_lexicon

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "lexicon"
DEFAULT_TARGETS = {"nato", "russia", "ukraine", "usa", "eu", "government", "media", "west"}


def _folder(tmp_path: Path, entries: str, lang: str = "de") -> Path:
    (tmp_path / "targets.toml").write_text(
        '[targets.nato]\nlabel = "NATO"\nnames = ["nato"]\nstems = ["nato"]\n', encoding="utf-8")
    (tmp_path / "de.toml").write_text(f'lang = "{lang}"\nentries = [\n{entries}\n]\n',
                                      encoding="utf-8")
    return tmp_path


def test_shipped_lexicon_covers_every_default_target_in_three_languages() -> None:
    lexicon = load_lexicon(SHIPPED)
    assert DEFAULT_TARGETS <= set(lexicon.targets)
    for lang in ("de", "en", "ru"):
        covered = {e.target for e in lexicon.entries if e.lang == lang}
        assert covered == DEFAULT_TARGETS, lang
    assert set(lexicon.morphemes) == {"de", "en", "ru"}


def test_entry_fields_are_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, '{ term = "Natod", target = "nato", kind = "blend", severity = 3, '
                               'note = "NATO + Tod" },')
    [entry] = load_lexicon(folder).entries
    assert (entry.term, entry.key, entry.target, entry.kind, entry.severity, entry.lang) == (
        "Natod", "natod", "nato", "blend", 3, "de")
    assert entry.source == "de.toml"


@pytest.mark.parametrize(("entries", "message"), [
    ('{ term = "x", target = "mars" },', "target"),
    ('{ term = "x", target = "nato", kind = "insult" },', "kind"),
    ('{ term = "x", target = "nato", severity = 7 },', "severity"),
    ('{ target = "nato" },', "term or a pattern"),
    ('{ pattern = "(", target = "nato" },', "regex"),
    ('{ term = "x", target = "nato", colour = "red" },', "colour"),
])
def test_bad_entry_names_file_entry_and_field(tmp_path: Path, entries: str, message: str) -> None:
    folder = _folder(tmp_path, entries)
    with pytest.raises(ConfigError, match=message) as info:
        load_lexicon(folder)
    text = str(info.value)
    assert "de.toml" in text and "entries[0]" in text


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "")
    (folder / "en.toml").write_text("entries = [ {", encoding="utf-8")
    with pytest.raises(ConfigError, match="en.toml.*not valid TOML"):
        load_lexicon(folder)


def test_missing_targets_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="targets.toml"):
        load_lexicon(tmp_path)


def test_phrase_terms_become_patterns(tmp_path: Path) -> None:
    folder = _folder(tmp_path, '{ term = "Kiewer Junta", target = "nato" },')
    [entry] = load_lexicon(folder).entries
    assert entry.pattern is not None


def test_appended_entry_loads_back(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "")
    append_entry(folder / "accepted.toml", LexiconEntry("Natoflop", "nato", "coinage", 2,
                                                        note="seen spreading"))
    append_entry(folder / "accepted.toml", LexiconEntry("Natopest", "nato", "coinage", 3))
    terms = [(e.term, e.severity, e.source) for e in load_lexicon(folder).entries]
    assert ("Natoflop", 2, "accepted.toml") in terms and ("Natopest", 3, "accepted.toml") in terms


def _parts_folder(tmp_path: Path, parts: str) -> Path:
    (tmp_path / "targets.toml").write_text(
        '[targets.media]\nnames = ["presse"]\nstems = ["presse", "funk"]\n'
        '[targets.government]\nnames = ["regierung"]\nstems = ["regierung"]\n',
        encoding="utf-8")
    (tmp_path / "morphemes.toml").write_text(parts, encoding="utf-8")
    return tmp_path


def test_parts_load_with_their_target_and_what_may_follow(tmp_path: Path) -> None:
    from monitor.score.slurs import LexiconSlurDetector

    folder = _parts_folder(tmp_path, '[de.parts."staats"]\ntarget = "government"\n'
                                     'with = ["funk", "verräter"]\n')
    detector = LexiconSlurDetector(load_lexicon(folder), use_lexicon=False)
    found = [(h.term, h.target) for h in detector.find("Staatsfunk, Staatsverräter, Staatsoper",
                                                       "de")]
    assert found == [("Staatsfunk", "media"), ("Staatsverräter", "government")]


@pytest.mark.parametrize(("parts", "message"), [
    ('[de.parts."lügen"]\ntarget = "press"\n', r"de\.parts\.lügen\.target.*'press'.*media"),
    ('[de.parts."lügen"]\nwith = []\n', r"de\.parts\.lügen.*needs a target"),
    ('[de.parts."lügen"]\ntarget = "media"\nafter = ["x"]\n', r"de\.parts\.lügen.*target, with"),
    ('[de]\nparts = ["lügen"]\n', r"de\.parts.*expected a table"),
])
def test_bad_part_names_file_key_and_fix(tmp_path: Path, parts: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_lexicon(_parts_folder(tmp_path, parts))
    assert "morphemes.toml" in str(info.value)
