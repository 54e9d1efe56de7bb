"""Loading and validating the slur lexicon: entries, target names and pejorative morphemes."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from monitor.errors import ConfigError

__all__ = [
    "KINDS",
    "LANGS",
    "Lexicon",
    "LexiconEntry",
    "Morphemes",
    "Part",
    "TargetNames",
    "append_entry",
    "fold",
    "load_lexicon",
]

KINDS = ("slur", "blend", "dog_whistle", "coinage")
LANGS = ("de", "en", "ru", "any")
# Files in the lexicon folder that are not entry files.
TARGETS_FILE = "targets.toml"
MORPHEMES_FILE = "morphemes.toml"

_FOLD = str.maketrans({"ß": "ss", "ё": "е", "Ё": "е", "’": "'"})


def fold(text: str) -> str:
    """Lower-case and fold spelling variants (ß → ss, ё → е) for lookups."""
    return text.lower().translate(_FOLD)


@dataclass(frozen=True)
class LexiconEntry:
    """One curated slur: a single word `term`, or a regex `pattern` searched in the comment."""

    term: str
    target: str
    kind: str
    severity: int
    lang: str = "any"
    note: str = ""
    pattern: str | None = None
    source: str = ""

    @property
    def key(self) -> str:
        return fold(self.term)


@dataclass(frozen=True)
class TargetNames:
    """What discovery knows of a target: names, compound stems, pejorative roots."""

    key: str
    label: str
    names: tuple[str, ...] = ()
    stems: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()
    roots_alone: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """A productive pejorative part (Lügen-, Staats-, укро-): the target a word built on it hits
    when the rest names none, and the words it may combine with (`with_`; empty: any word)."""

    part: str
    target: str = ""
    with_: tuple[str, ...] = ()


@dataclass(frozen=True)
class Morphemes:
    """Pejorative morphemes of one language (see config/lexicon/morphemes.toml)."""

    prefixes: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()
    short: frozenset[str] = frozenset()
    blends: frozenset[str] = frozenset()
    parts: tuple[Part, ...] = ()
    exceptions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lexicon:
    """Everything loaded from the lexicon folder."""

    directory: Path
    entries: tuple[LexiconEntry, ...] = ()
    targets: Mapping[str, TargetNames] = field(default_factory=dict)
    morphemes: Mapping[str, Morphemes] = field(default_factory=dict)

    def all_morphemes(self) -> Morphemes:
        """Every language's morphemes together: comments mix languages."""
        parts = list(self.morphemes.values())
        return Morphemes(
            prefixes=frozenset().union(*(m.prefixes for m in parts)),
            suffixes=frozenset().union(*(m.suffixes for m in parts)),
            short=frozenset().union(*(m.short for m in parts)),
            blends=frozenset().union(*(m.blends for m in parts)),
            parts=tuple(p for m in parts for p in m.parts),
            exceptions=frozenset().union(*(m.exceptions for m in parts)),
        )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read lexicon file: {exc.strerror}", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path),
                          fix="`monitor slurs check` validates the folder") from None


def _word_list(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError("expected a list of non-empty strings", file=str(path), key=key)
    return tuple(fold(v.strip()) for v in value)


def _load_targets(path: Path) -> dict[str, TargetNames]:
    raw = _read(path)
    tables = raw.get("targets")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError("no [targets.KEY] tables", file=str(path), key="targets",
                          fix="declare each slur target as [targets.KEY] with names and stems")
    targets: dict[str, TargetNames] = {}
    allowed = {"label", "names", "stems", "roots", "roots_alone"}
    for key, table in tables.items():
        where = f"targets.{key}"
        if not isinstance(table, dict):
            raise ConfigError("expected a table", file=str(path), key=where)
        unknown = set(table) - allowed
        if unknown:
            raise ConfigError(f"unknown field(s) {', '.join(sorted(unknown))}", file=str(path),
                              key=where, fix=f"allowed: {', '.join(sorted(allowed))}")
        lists = {name: _word_list(table.get(name, []), path, f"{where}.{name}")
                 for name in ("names", "stems", "roots", "roots_alone")}
        if not lists["names"] and not lists["stems"]:
            raise ConfigError("needs at least one of names or stems", file=str(path), key=where)
        label = table.get("label", key)
        if not isinstance(label, str):
            raise ConfigError("label must be a string", file=str(path), key=f"{where}.label")
        targets[key] = TargetNames(key=key, label=label, **lists)
    return targets


_MORPHEME_LISTS = ("prefixes", "suffixes", "short", "blends", "exceptions")


def _load_parts(value: Any, path: Path, where: str, targets: Mapping[str, TargetNames]
                ) -> tuple[Part, ...]:
    if not isinstance(value, dict):
        raise ConfigError("expected a table of part = { target, with }", file=str(path),
                          key=where)
    parts = []
    for name, spec in value.items():
        key = f"{where}.{name}"
        if not isinstance(spec, dict) or set(spec) - {"target", "with"}:
            raise ConfigError("expected { target = \"KEY\", with = [words] }", file=str(path),
                              key=key, fix="allowed fields: target, with")
        target = spec.get("target", "")
        if target and target not in targets:
            raise ConfigError(f"target {target!r} is not in {TARGETS_FILE}", file=str(path),
                              key=f"{key}.target", fix=f"use one of {', '.join(sorted(targets))}")
        with_ = _word_list(spec.get("with", []), path, f"{key}.with") if "with" in spec else ()
        if not target and not with_:
            raise ConfigError("needs a target, or a `with` list of target names", file=str(path),
                              key=key)
        parts.append(Part(fold(name), target, with_))
    return tuple(parts)


def _load_morphemes(path: Path, targets: Mapping[str, TargetNames]) -> dict[str, Morphemes]:
    raw = _read(path)
    result: dict[str, Morphemes] = {}
    for lang, table in raw.items():
        if lang not in LANGS or not isinstance(table, dict):
            raise ConfigError(f"unknown language table [{lang}]", file=str(path), key=lang,
                              fix=f"use one of {', '.join(LANGS[:-1])}")
        unknown = set(table) - {*_MORPHEME_LISTS, "parts"}
        if unknown:
            raise ConfigError(f"unknown field(s) {', '.join(sorted(unknown))}", file=str(path),
                              key=lang, fix=f"allowed: {', '.join(_MORPHEME_LISTS)}, parts")
        lists = {name: frozenset(_word_list(value, path, f"{lang}.{name}"))
                 for name, value in table.items() if name != "parts"}
        parts = _load_parts(table["parts"], path, f"{lang}.parts", targets) \
            if "parts" in table else ()
        result[lang] = Morphemes(**lists, parts=parts)
    return result


def _entry(raw: Any, path: Path, index: int, default_lang: str,
           targets: Iterable[str]) -> LexiconEntry:
    label = raw.get("term") or raw.get("pattern") if isinstance(raw, dict) else None
    where = f"entries[{index}]" + (f" ({label})" if label else "")

    def bad(message: str, fix: str | None = None) -> ConfigError:
        return ConfigError(message, file=str(path), key=where, fix=fix)

    if not isinstance(raw, dict):
        raise bad("expected a table with term, target, kind, severity")
    unknown = set(raw) - {"term", "pattern", "target", "kind", "severity", "lang", "note"}
    if unknown:
        raise bad(f"unknown field(s) {', '.join(sorted(unknown))}",
                  "allowed: term, pattern, target, kind, severity, lang, note")
    term, pattern = raw.get("term"), raw.get("pattern")
    if term is None and pattern is None:
        raise bad("needs a term or a pattern")
    if term is not None and (not isinstance(term, str) or not term.strip()):
        raise bad("field 'term' must be a non-empty string")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise bad("field 'pattern' must be a string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise bad(f"field 'pattern' is not a valid regex: {exc}") from None
    elif " " in term.strip():
        # Several words: matched as a phrase, inflection of the last word allowed.
        words = [re.escape(fold(w)) for w in term.split()]
        pattern = r"\b" + r"\s+".join(words) + r"\w{0,3}\b"
    target = raw.get("target")
    known = sorted(targets)
    if not isinstance(target, str) or target not in known:
        raise bad(f"field 'target' is {target!r}, not a known target",
                  f"use one of {', '.join(known)} or add it to {TARGETS_FILE}")
    kind = raw.get("kind", "slur")
    if kind not in KINDS:
        raise bad(f"field 'kind' is {kind!r}", f"use one of {', '.join(KINDS)}")
    severity = raw.get("severity", 2)
    if not isinstance(severity, int) or isinstance(severity, bool) or not 1 <= severity <= 3:
        raise bad(f"field 'severity' is {severity!r}", "use 1 (mild), 2 or 3 (severe)")
    lang = raw.get("lang", default_lang)
    if lang not in LANGS:
        raise bad(f"field 'lang' is {lang!r}", f"use one of {', '.join(LANGS)}")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise bad("field 'note' must be a string")
    return LexiconEntry(term=(term or pattern).strip(), target=target, kind=kind,
                        severity=severity, lang=lang, note=note, pattern=pattern,
                        source=path.name)


def _load_entries(path: Path, targets: Iterable[str]) -> list[LexiconEntry]:
    raw = _read(path)
    unknown = set(raw) - {"lang", "entries"}
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(sorted(unknown))}", file=str(path),
                          fix="an entry file holds `lang` and an `entries` list")
    default_lang = raw.get("lang", "any")
    if default_lang not in LANGS:
        raise ConfigError(f"lang is {default_lang!r}", file=str(path), key="lang",
                          fix=f"use one of {', '.join(LANGS)}")
    entries = raw.get("entries", [])
    if not isinstance(entries, list):
        raise ConfigError("expected a list of entries", file=str(path), key="entries")
    known = list(targets)
    return [_entry(item, path, i, default_lang, known) for i, item in enumerate(entries)]


def load_lexicon(directory: Path | str, extra_targets: Mapping[str, Any] | None = None) -> Lexicon:
    """Read the lexicon folder; `extra_targets` (config.targets) add their one-word aliases."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError("lexicon folder not found", file=str(directory),
                          fix="set paths.lexicon_dir to the folder holding targets.toml")
    targets_path = directory / TARGETS_FILE
    if not targets_path.is_file():
        raise ConfigError(f"missing {TARGETS_FILE}", file=str(directory),
                          fix="discovery needs the names and stems of each target")
    targets = _load_targets(targets_path)
    for key, target in (extra_targets or {}).items():
        aliases = [fold(a) for words in getattr(target, "aliases", {}).values() for a in words
                   if " " not in a and len(a) >= 4]
        if key in targets:
            old = targets[key]
            names = tuple(dict.fromkeys(old.names + tuple(aliases)))
            targets[key] = TargetNames(old.key, old.label, names, old.stems, old.roots,
                                       old.roots_alone)
        elif aliases:
            targets[key] = TargetNames(key, getattr(target, "label", key), tuple(aliases),
                                       tuple(aliases))
    morphemes_path = directory / MORPHEMES_FILE
    morphemes = _load_morphemes(morphemes_path, targets) if morphemes_path.is_file() else {}
    entries: list[LexiconEntry] = []
    for path in sorted(directory.glob("*.toml")):
        if path.name not in (TARGETS_FILE, MORPHEMES_FILE):
            entries.extend(_load_entries(path, targets))
    return Lexicon(directory=directory, entries=tuple(entries), targets=targets,
                   morphemes=morphemes)


def append_entry(path: Path, entry: LexiconEntry) -> None:
    """Add `entry` to an entry file (accepted.toml), creating it when missing."""
    import tomli_w

    data: dict[str, Any] = _read(path) if path.exists() else {
        "lang": "any", "entries": []}
    item: dict[str, Any] = {"term": entry.term, "target": entry.target, "kind": entry.kind,
                            "severity": entry.severity}
    if entry.lang != data.get("lang", "any"):
        item["lang"] = entry.lang
    if entry.note:
        item["note"] = entry.note
    data.setdefault("entries", []).append(item)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("# Terms accepted with `monitor slurs accept`; edit freely.\n"
                   + tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)
