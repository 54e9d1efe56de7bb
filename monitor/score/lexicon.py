"""Loading and validating the slur lexicon: entries, target names and pejorative morphemes."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Mapping, Sequence

from pydantic import (BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from monitor.errors import ConfigError
from monitor.validation import Invalid, TomlModel, problems, strict

__all__ = [
    "KINDS",
    "LANGS",
    "Lexicon",
    "LexiconEntry",
    "Morphemes",
    "Part",
    "TargetNames",
    "accepted_path",
    "append_entry",
    "fold",
    "lexicon_for",
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
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path), fix="save it as UTF-8") from None


def _words(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Invalid("expected a list of non-empty strings")
    return tuple(fold(v.strip()) for v in value)


_Words = Annotated[tuple[str, ...], BeforeValidator(_words)]


def _table(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise Invalid(f"expected a table{what}")
        return value

    return check


def _fail(exc: ValidationError, model: type[TomlModel], path: Path,
          unknown: Callable[[list[str]], tuple[str, str | None]]) -> ConfigError:
    """The first problem of a lexicon file as a ConfigError (file: key: message (fix))."""
    key, message, fix = next(problems(exc, model, unknown))
    return ConfigError(message, file=str(path), key=key or None, fix=fix)


class _TargetTable(TomlModel):
    """A [targets.KEY] table of targets.toml."""

    label: Annotated[str | None, strict(str, "a string for label")] = None
    names: _Words = ()
    stems: _Words = ()
    roots: _Words = ()
    roots_alone: _Words = ()

    @model_validator(mode="after")
    def _named(self) -> _TargetTable:
        if not self.names and not self.stems:
            raise Invalid("needs at least one of names or stems")
        return self


class _TargetsFile(TomlModel):
    model_config = ConfigDict(extra="ignore")

    targets: dict[str, Annotated[_TargetTable, BeforeValidator(_table(""))]] = Field(
        default_factory=dict, validate_default=True)

    @field_validator("targets", mode="before")
    @classmethod
    def _some(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            raise Invalid("no [targets.KEY] tables",
                          "declare each slur target as [targets.KEY] with names and stems")
        return value


def _load_targets(path: Path) -> dict[str, TargetNames]:
    try:
        parsed = _TargetsFile.model_validate(_read(path))
    except ValidationError as exc:
        raise _fail(exc, _TargetsFile, path, lambda allowed: (
            "unknown field", f"allowed: {', '.join(allowed)}")) from None
    return {key: TargetNames(key=key, label=key if table.label is None else table.label,
                             names=table.names, stems=table.stems, roots=table.roots,
                             roots_alone=table.roots_alone)
            for key, table in parsed.targets.items()}


class _PartTable(TomlModel):
    """A [LANG.parts."PART"] table of morphemes.toml."""

    target: str = ""
    with_: _Words = Field((), alias="with")

    @field_validator("target", mode="before")
    @classmethod
    def _known_target(cls, value: Any, info: ValidationInfo) -> Any:
        known = sorted((info.context or {}).get("targets", ()))
        if not isinstance(value, str) or value not in known:
            raise Invalid(f"target {value!r} is not in {TARGETS_FILE}", f"use one of {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _aimed(self) -> _PartTable:
        if not self.target and not self.with_:
            raise Invalid("needs a target, or a `with` list of target names")
        return self


class _MorphemeTable(TomlModel):
    prefixes: _Words = ()
    suffixes: _Words = ()
    short: _Words = ()
    blends: _Words = ()
    exceptions: _Words = ()
    parts: Annotated[dict[str, Annotated[_PartTable, BeforeValidator(_table(""))]],
                     BeforeValidator(_table(" of part = { target, with }"))] = {}


_Morphemes = Annotated[_MorphemeTable | None, BeforeValidator(_table(""))]


class _MorphemesFile(TomlModel):
    """morphemes.toml: one table per language."""

    de: _Morphemes = None
    en: _Morphemes = None
    ru: _Morphemes = None
    any: _Morphemes = None


def _load_morphemes(path: Path, targets: Iterable[str]) -> dict[str, Morphemes]:
    raw = _read(path)
    try:
        parsed = _MorphemesFile.model_validate(raw, context={"targets": list(targets)})
    except ValidationError as exc:
        raise _fail(exc, _MorphemesFile, path, lambda allowed: (
            ("unknown language table", f"use one of {', '.join(LANGS[:-1])}") if allowed == sorted(LANGS)
            else ("unknown field", f"allowed: {', '.join(allowed)}"))) from None
    return {lang: Morphemes(**{name: frozenset(words) for name, words in table if name != "parts"},
                            parts=tuple(Part(fold(name), part.target, part.with_)
                                        for name, part in table.parts.items()))
            for lang in raw if (table := getattr(parsed, lang)) is not None}


def _non_empty(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise Invalid("field 'term' must be a non-empty string")
    return value


def _regex(value: Any) -> Any:
    if value is None:
        return value
    if not isinstance(value, str):
        raise Invalid("field 'pattern' must be a string")
    try:
        re.compile(value)
    except re.error as exc:
        raise Invalid(f"field 'pattern' is not a valid regex: {exc}") from None
    return value


def _one_of(name: str, allowed: Iterable[Any], fix: str) -> Callable[[Any], Any]:
    allowed = tuple(allowed)

    def check(value: Any) -> Any:
        if value is not None and (value not in allowed or isinstance(value, bool)):
            raise Invalid(f"field {name!r} is {value!r}", fix)
        return value

    return check


def _note(value: Any) -> Any:
    if not isinstance(value, str):
        raise Invalid("field 'note' must be a string")
    return value


class _EntryTable(TomlModel):
    """One inline table of an entry file's `entries` list."""

    term: Annotated[str | None, BeforeValidator(_non_empty)] = None
    pattern: Annotated[str | None, BeforeValidator(_regex)] = None
    target: str | None = Field(None, validate_default=True)
    kind: Annotated[str, BeforeValidator(_one_of("kind", KINDS, f"use one of {', '.join(KINDS)}"))] = "slur"
    severity: Annotated[int, BeforeValidator(_one_of("severity", (1, 2, 3), "use 1 (mild), 2 or 3 (severe)"))] = 2
    lang: Annotated[str | None, BeforeValidator(_one_of("lang", LANGS, f"use one of {', '.join(LANGS)}"))] = None
    note: Annotated[str, BeforeValidator(_note)] = ""

    @field_validator("target", mode="before")
    @classmethod
    def _known_target(cls, value: Any, info: ValidationInfo) -> Any:
        known = sorted((info.context or {}).get("targets", ()))
        if not isinstance(value, str) or value not in known:
            raise Invalid(f"field 'target' is {value!r}, not a known target",
                          f"use one of {', '.join(known)} or add it to {TARGETS_FILE}")
        return value

    @model_validator(mode="after")
    def _term_or_pattern(self) -> _EntryTable:
        if self.term is None and self.pattern is None:
            raise Invalid("needs a term or a pattern")
        return self


class _EntryFile(TomlModel):
    """An entry file: a default `lang` and the `entries` list."""

    lang: Annotated[str, BeforeValidator(_one_of("lang", LANGS, f"use one of {', '.join(LANGS)}"))] = "any"
    entries: list[Annotated[_EntryTable, BeforeValidator(
        _table(" with term, target, kind, severity"))]] = []

    @field_validator("entries", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise Invalid("expected a list of entries")
        return value


def _load_entries(path: Path, targets: Iterable[str]) -> list[LexiconEntry]:
    raw = _read(path)
    try:
        parsed = _EntryFile.model_validate(raw, context={"targets": list(targets)})
    except ValidationError as exc:
        key, message, fix = next(problems(exc, _EntryFile, lambda allowed: (
            "unknown field", f"allowed: {', '.join(allowed)}")))
        found = re.match(r"entries\[(\d+)\]\.?(.*)", key)
        if found:
            # Entries are found by their term: entries[12] (Natod), and the field in the message.
            item = raw["entries"][int(found.group(1))]
            label = item.get("term") or item.get("pattern") if isinstance(item, dict) else None
            field_name = found.group(2)
            key = f"entries[{found.group(1)}]" + (f" ({label})" if label else "")
            if message in ("unknown field", "required value is missing"):
                message = f"{message} {field_name!r}"
        elif message == "unknown field":
            message, fix = f"unknown key {key!r}", "an entry file holds `lang` and an `entries` list"
            key = ""
        raise ConfigError(message, file=str(path), key=key or None, fix=fix) from None
    entries = []
    for table in parsed.entries:
        term, pattern = table.term, table.pattern
        if pattern is None and " " in term.strip():  # type: ignore[union-attr]
            # Several words: matched as a phrase, inflection of the last word allowed.
            words = [re.escape(fold(w)) for w in term.split()]  # type: ignore[union-attr]
            pattern = r"\b" + r"\s+".join(words) + r"\w{0,3}\b"
        entries.append(LexiconEntry(term=(term or pattern).strip(), target=table.target,  # type: ignore[arg-type]
                                    kind=table.kind, severity=table.severity,
                                    lang=table.lang or parsed.lang, note=table.note, pattern=pattern,
                                    source=path.name))
    return entries


def load_lexicon(directory: Path | str, extra_targets: Mapping[str, Any] | None = None,
                 extra_files: Sequence[Path] = ()) -> Lexicon:
    """Read the lexicon folder; `extra_targets` (config.targets) add their one-word aliases and
    `extra_files` are entry files kept elsewhere (the data directory's accepted.toml)."""
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
    for path in extra_files:
        if path.is_file() and path.resolve().parent != directory.resolve():
            entries.extend(_load_entries(path, targets))
    return Lexicon(directory=directory, entries=tuple(entries), targets=targets,
                   morphemes=morphemes)


def accepted_path(config: Any) -> Path:
    """Where `monitor slurs accept` writes: the data directory, so the checkout's config stays as
    shipped; the lexicon of `config` reads it after the lexicon folder."""
    return Path(config.data_dir) / "lexicon" / "accepted.toml"


def lexicon_for(config: Any) -> Lexicon:
    """The lexicon `config` scores with: its lexicon folder, its targets and the accepted terms."""
    extra = [accepted_path(config)] if getattr(config, "data_dir", None) else []
    return load_lexicon(config.lexicon_dir, getattr(config, "targets", None), extra_files=extra)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("# Terms accepted with `monitor slurs accept`; edit freely.\n"
                   + tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)
