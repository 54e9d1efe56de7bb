"""Finding mentions of stance targets (NATO, Russia …) in a comment, with character spans.

A mention is a name (an alias: "Russland", "P*tin") or an indirect reference from the target's
`implicit` lists ("the invaders", "орки", "Kiev regime"); `Mention.kind` says which, so a span
over "Slava Ukraini" is never mistaken for a name of Russia.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from monitor.errors import ConfigError
from monitor.score.normalize import Normalized, normalize

__all__ = ["IMPLICIT_KINDS", "Mention", "TargetMatcher", "alias_pattern", "anchor_heads",
           "masked_heads", "masked_pattern"]

# Kinds of indirect reference in targets.toml `implicit`: a plain reference, framing that sides
# with the target, framing that sides against it; `unless` words void a nearby plain reference.
IMPLICIT_KINDS = ("refer", "favor", "against")
_UNLESS = "unless"
# How many words either side of a plain indirect reference an `unless` word may stand
# ("die Amerikaner sind die eigentlichen Besatzer").
_UNLESS_WORDS = 4

_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
# Russian noun/adjective endings stripped from an alias to get the stem that all cases share
# ("Россия" → "Росси" matches России, Россию, Россией; "Кремль" → "Кремл" matches Кремля).
_RU_ENDING = re.compile(r"(?:ий|ый|ой|ая|яя|ое|ее|ие|ые|а|я|о|е|ы|и|ь|й|ія)$", re.IGNORECASE)
_ARTICLES = {
    "der": "der|die|das|des|dem|den|dieses|dieser|diesem|diesen|unser|unserem|unseres|euer|eurem",
    "die": "der|die|das|des|dem|den|dieses|dieser|diesem|diesen|unser|unserer|unsere",
    "das": "der|die|das|des|dem|den|dieses|dieser|diesem|diesen|unser|unserem|unseres|euer|eurem"
           "|im|ins|vom|zum|beim",
    "the": "the|this|that|our|your|their",
}
# Prefixes glued to a name that keep it a mention of the target ("antirussisch", "pro-NATO",
# "пророссийский", "Ex-Kremlchef").
_PREFIX = r"(?:(?:anti|pro|ex|anti-|pro-|ex-|анти|про|анти-|про-))?"
# Latin tail: inflections and compounds ("Russlands", "Nato-Staaten", "Kremlchef", "NATO's").
_LATIN_TAIL = r"(?:[\w]*(?:-\w+)*(?:'s)?)"
# Cyrillic tail: case endings, suffixes and compounds ("НАТОвский", "натовцы", "путинский").
_CYRILLIC_TAIL = r"(?:[а-яёіїєґ]{0,6}(?:-[а-яёіїєґ]+)?)"


@dataclass(frozen=True)
class Mention:
    """One reference to a target; start/end are character offsets into the original text.

    kind is "name" for an alias, or the implicit kind ("refer", "favor", "against").
    """

    target: str
    start: int
    end: int
    text: str
    kind: str = "name"

    @property
    def implicit(self) -> bool:
        return self.kind != "name"


def _letters(word: str) -> str:
    """Escape a word, letting German ß/ss and umlauts match their common spellings."""
    out = []
    i = 0
    while i < len(word):
        ch = word[i]
        low = ch.lower()
        if low == "ß" or word[i:i + 2].lower() == "ss":
            out.append("(?:ss|ß)")
            i += 2 if low == "s" else 1
            continue
        if low in "äöü":
            base = {"ä": "a", "ö": "o", "ü": "u"}[low]
            out.append(f"(?:{ch}|{base}e|{base})")
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def alias_pattern(alias: str) -> str:
    """The regular expression (without boundaries) for one alias from targets.toml."""
    words = alias.split()
    if len(words) == 1 and len(alias) <= 3 and alias.isupper():
        # Short abbreviations (РФ, EU, USA, US) only in capitals: "us" is a pronoun.
        return f"(?-i:{re.escape(alias)})"
    parts: list[str] = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        lowered = word.lower()
        if i == 0 and len(words) > 1 and lowered in _ARTICLES:
            parts.append(f"(?:{_ARTICLES[lowered]})")
            continue
        if _CYRILLIC.search(word):
            stem = _RU_ENDING.sub("", word) if len(word) > 4 else word
            parts.append(_letters(stem) + (_CYRILLIC_TAIL if last else r"[а-яёіїєґ]{0,4}"))
        else:
            parts.append(_letters(word) + (_LATIN_TAIL if last else r"(?:s|es|n|en|e|er|em)?"))
    return r"[\s-]+".join(parts)


# Characters that stand in for a letter ("P*tin", "N#TO") or are pushed between letters
# ("Pu.tin", "R_ussland") when de-obfuscation cannot tell which letter was meant.
_MASK = "*#@%?0-9"
_SPLIT = r"[.*_·'\-]?"
_MAYBE_MASKED = re.compile(rf"[^\W\d_](?:[{_MASK}]|[.*_·'-][^\W\d_])")


def masked_pattern(alias: str) -> str | None:
    """A pattern for one alias with a letter masked or split; None for short or multi-word ones."""
    if " " in alias or len(alias) < 4 or not alias.isalpha():
        return None
    letters = [_letters(ch) for ch in alias]
    body = letters[0] + "".join(f"{_SPLIT}(?:{ch}|[{_MASK}])" for ch in letters[1:])
    tail = _CYRILLIC_TAIL if _CYRILLIC.search(alias) else _LATIN_TAIL
    return body + tail


# How many leading letters of a word the prefilter compares.
_HEAD = 5
# The first letters of every word (hyphens included: "Z-Armee"), and of a word behind a glued
# prefix ("antirussisch"); zero-width, so a word inside another's head still counts.
_WORD_HEAD = re.compile(rf"(?<!\w)(?=(\w[\w-]{{0,{_HEAD - 1}}}))")
_GLUED_HEAD = re.compile(rf"(?<!\w)(?:anti|pro|ex|анти|про)-?(\w[\w-]{{0,{_HEAD - 1}}})")
# Word heads remembered with the targets they may start (bounded, for a long-running worker).
_HEAD_CACHE_SIZE = 50_000
# Characters that IGNORECASE matching equates with a letter other than their str.lower() ("ſ"
# matches "s", "ᲀ" matches "в"): a comment with one of them skips the prefilter.
_ODD_CASE = re.compile("[\u00b5\u0130\u0131\u017f\u0345\u0390\u03b0\u03b2\u03b5\u03b8\u03b9"
                       "\u03ba\u03bc\u03c0\u03c1\u03c2\u03c3\u03c6\u03d0\u03d1\u03d5\u03d6"
                       "\u03f0\u03f1\u03f5\u0463\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85\u1c86"
                       "\u1c87\u1c88\u1e61\u1e9b\u1fbe\u1fd3\u1fe3\ua64b\ufb05\ufb06]")


def anchor_heads(alias: str) -> set[str]:
    """Lower-case beginnings (up to _HEAD letters, all spellings of ß and umlauts) of the word
    every match of `alias_pattern(alias)` starts with: its first word that is not an article
    (the stem, for Cyrillic words), up to its first character other than a letter or hyphen."""
    words = alias.split()
    word = words[1] if len(words) > 1 and words[0].lower() in _ARTICLES else words[0]
    if _CYRILLIC.search(word) and len(word) > 4:
        word = _RU_ENDING.sub("", word)
    heads = {""}
    i = 0
    while i < len(word) and min(map(len, heads)) < _HEAD:
        ch = word[i]
        if word[i:i + 2].lower() == "ss":
            spellings = _spellings("ß")
            i += 2
        elif ch == "-" and i > 0 or re.fullmatch(r"\w", ch):
            spellings = _spellings(ch)
            i += 1
        else:
            break
        heads = {h + sp if len(h) < _HEAD else h for h in heads for sp in spellings}
    return {h[:_HEAD] for h in heads}


def masked_heads(alias: str) -> tuple[set[str], set[str]]:
    """What a word that `masked_pattern(alias)` matches begins with, lower-cased: the word is
    one of the first set (the first letter alone, a stand-in follows) or starts with one of the
    second (first letter, then the second letter, a digit, "_" or "-"); empty without a pattern."""
    if masked_pattern(alias) is None:
        return set(), set()
    firsts = _spellings(alias[0])
    seconds = {sp[0] for sp in _spellings(alias[1])} | set("0123456789_-")
    singles = {f for f in firsts if len(f) == 1}
    pairs = {f[:2] for f in firsts if len(f) > 1} | {f + c for f in singles for c in seconds}
    return singles, pairs


def _spellings(ch: str) -> tuple[str, ...]:
    """How one letter of an alias may be written, lower-cased (as `_letters` allows)."""
    low = ch.lower()
    if low == "ß":
        return ("ss", "ß")
    if low in "äöü":
        base = {"ä": "a", "ö": "o", "ü": "u"}[low]
        return (low, base + "e", base)
    return (low,)


def _combined(aliases: Sequence[str], prefix: str = _PREFIX) -> re.Pattern[str]:
    # Longest aliases first so "blok NATO" wins over "NATO" inside it.
    ordered = sorted(set(aliases), key=len, reverse=True)
    body = "|".join(alias_pattern(a) for a in ordered)
    return re.compile(rf"(?<![\w]){prefix}(?:{body})(?![\w])", re.IGNORECASE)


def _combined_masked(aliases: Sequence[str]) -> re.Pattern[str] | None:
    parts = [p for p in (masked_pattern(a) for a in sorted(set(aliases), key=len, reverse=True)) if p]
    if not parts:
        return None
    return re.compile(rf"(?<![\w*#@%?]){_PREFIX}(?:{'|'.join(parts)})(?![\w*#@%?])", re.IGNORECASE)


def _plausibly_masked(surface: str) -> bool:
    """One stand-in character per word is a masked name; more could be anything ("****")."""
    stand_ins = sum(1 for ch in surface if not ch.isalpha() and ch not in "-'")
    return 1 <= stand_ins <= 2 and sum(ch.isalpha() for ch in surface) >= 3


class TargetMatcher:
    """Matches every configured target's aliases (all languages at once: comments mix them)."""

    def __init__(self, targets: Mapping[str, Any],
                 normalizer: Callable[[str], Normalized] = normalize) -> None:
        self.keys: tuple[str, ...] = tuple(k.lower() for k in targets)
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._masked: dict[str, re.Pattern[str] | None] = {}
        self._implicit: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self._unless: dict[str, re.Pattern[str] | None] = {}
        # Prefilter: word beginnings → the (target, "name" / implicit kind / "masked") whose
        # patterns may match there; most comments have none and skip those patterns. `_single`
        # holds one-letter words ("P" in "P*tin"), `_starts` beginnings of any length.
        self._starts: dict[str, set[tuple[str, str]]] = {}
        self._single: dict[str, set[tuple[str, str]]] = {}
        self._head_targets: dict[str, frozenset[tuple[str, str]]] = {}
        for key, target in targets.items():
            aliases = [a for values in target.aliases.values() for a in values if a.strip()]
            self._patterns[key.lower()] = _combined(aliases)
            self._masked[key.lower()] = _combined_masked(aliases)
            implicit: Mapping[str, Sequence[str]] = getattr(target, "implicit", None) or {}
            unknown = set(implicit) - {*IMPLICIT_KINDS, _UNLESS}
            if unknown:
                raise ConfigError(f"unknown implicit kind(s) {', '.join(sorted(unknown))}",
                                  key=f"targets.{key}.implicit",
                                  fix=f"use {', '.join((*IMPLICIT_KINDS, _UNLESS))}")
            self._implicit[key.lower()] = [
                (kind, _combined(words, prefix=""))
                for kind in IMPLICIT_KINDS
                if (words := [w for w in implicit.get(kind, ()) if w.strip()])]
            for kind in ("name", *IMPLICIT_KINDS):
                words = aliases if kind == "name" else implicit.get(kind, ())
                for head in {h for w in words if w.strip() for h in anchor_heads(w)}:
                    self._starts.setdefault(head, set()).add((key.lower(), kind))
            for alias in aliases:
                singles, pairs = masked_heads(alias)
                for head in pairs:
                    self._starts.setdefault(head, set()).add((key.lower(), "masked"))
                for head in singles:
                    self._single.setdefault(head, set()).add((key.lower(), "masked"))
            unless = [w for w in implicit.get(_UNLESS, ()) if w.strip()]
            self._unless[key.lower()] = _combined(unless, prefix="") if unless else None
        self._normalize = normalizer

    def find(self, text: str) -> dict[str, list[Mention]]:
        """Mentions per target key, sorted by position; a target without mentions is absent."""
        found: dict[str, list[Mention]] = {}
        # Obfuscated names ("N4T0", "P.u.t.i.n") are matched in the de-obfuscated text; the
        # original is matched too, because de-obfuscation may rewrite genuine Cyrillic names.
        normalized = self._normalize(text)
        changed = normalized.text != text
        maybe_masked = _MAYBE_MASKED.search(normalized.text) is not None
        candidates = self._candidates(text, normalized.text if changed else None)
        for key, pattern in self._patterns.items():
            candidate = candidates is None or (key, "name") in candidates
            masked = self._masked[key]
            kinds = [kind for kind, _ in self._implicit[key]
                     if candidates is None or (key, kind) in candidates]
            maybe_masked_here = maybe_masked and masked is not None and (
                candidates is None or (key, "masked") in candidates)
            if not candidate and not kinds and not maybe_masked_here:
                continue
            spans: set[tuple[int, int]] = set()
            if candidate:
                spans = {(m.start(), m.end()) for m in pattern.finditer(text)}
                if changed:
                    spans |= {normalized.span(*m.span())
                              for m in pattern.finditer(normalized.text) if m.end() > m.start()}
            if maybe_masked_here:
                spans |= {normalized.span(*m.span()) for m in masked.finditer(normalized.text)
                          if _plausibly_masked(m.group())}
            named = [Mention(key, s, e, text[s:e]) for s, e in _merge(spans)]
            indirect = self._indirect(key, text, named, kinds) if kinds else []
            if named or indirect:
                found[key] = sorted(named + indirect, key=lambda m: m.start)
        return found

    def _candidates(self, text: str, normalized: str | None) -> set[tuple[str, str]] | None:
        """(target, "name" or implicit kind) whose aliases or indirect references may occur in
        `text` or its normalised form, because a word begins like one; None when the check
        cannot be trusted and every pattern must run."""
        heads: set[str] = set()
        for part in (text, normalized):
            if part is None:
                continue
            low = part.lower()
            if len(low) != len(part) or _ODD_CASE.search(part):
                return None
            heads.update(_WORD_HEAD.findall(low))
            heads.update(_GLUED_HEAD.findall(low))
        found: set[tuple[str, str]] = set()
        cache = self._head_targets
        for head in heads:
            keys = cache.get(head)
            if keys is None:
                if len(cache) >= _HEAD_CACHE_SIZE:
                    cache.clear()
                labels = set(self._single.get(head, ()))  # cached: heads repeat a lot
                for n in range(len(head) + 1):
                    labels.update(self._starts.get(head[:n], ()))
                keys = cache[head] = frozenset(labels)
            if keys:
                found |= keys
        return found

    def _indirect(self, key: str, text: str, named: Sequence[Mention],
                  kinds: Sequence[str] = IMPLICIT_KINDS) -> list[Mention]:
        """Implicit references of `kinds` that do not overlap a name ("Russian invaders" is
        one name)."""
        taken = [(m.start, m.end) for m in named]
        out: list[Mention] = []
        unless = self._unless[key]
        for kind, pattern in self._implicit[key]:
            if kind not in kinds:
                continue  # the prefilter saw no word it could start with
            for m in pattern.finditer(text):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                if kind == "refer" and unless is not None and _near(unless, text, m.start(), m.end()):
                    continue
                taken.append(m.span())
                out.append(Mention(key, m.start(), m.end(), m.group(), kind))
        return out


def _near(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether `pattern` matches within _UNLESS_WORDS words before `start` or after `end`."""
    before = " ".join(text[:start].split()[-_UNLESS_WORDS:])
    after = " ".join(text[end:].split()[:_UNLESS_WORDS])
    return bool(pattern.search(before) or pattern.search(after))


def _merge(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans (the same mention found raw and de-obfuscated) become one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
