"""Finding slurs in a comment: the curated lexicon, and discovery of coinages without it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from monitor.errors import NotConfigured
from monitor.score.base import SlurHit
from monitor.score.frequency import zipf
from monitor.score.lexicon import Lexicon, LexiconEntry, Morphemes, Part, fold, lexicon_for
from monitor.score.normalize import Normalized, normalize
from monitor.score.translit import transliterations

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["LexiconSlurDetector", "detector_from_config", "is_established"]

VERSION = "1"

# A word, hyphenated compounds included ("NATO-Schergen", "EU-dSSR"); "#" of a hashtag is left out.
_TOKEN = re.compile(r"[^\W\d_]+(?:[-\u2010\u2011][^\W\d_]+)*")
_HYPHENS = re.compile(r"[-\u2010\u2011]")

# Endings that leave a word what it was: inflection and the derivations of a name
# (Natos, Russlands, russische, Amerikaner, Ukrainerin, Putinismus, НАТОвский, украинцы).
_ENDINGS = frozenset("""
s es e en n er ern em ens ns 's in innen erin erinnen isch ische ischen ischer isches ischem
land lands aner anern anerin ianer ianern ier iers ismus isten ist istin istinnen
an ans ian ians ese ic ics ish ite ites ism ists y ies ed ing ers
""".split())
_RU_ENDINGS = re.compile(
    r"(?:[оеё]?в?ск|[оеё]?вск|ц|к|ин|ан|ян|янин|ист|изм|ств|ов|ев|ёв|ич|ь|и|ен|ни|ец)*"
    r"(?:ий|ый|ой|ая|яя|ое|ее|ые|ие|ого|его|ому|ему|ым|им|ом|ем|ых|их|ыми|ими|ую|юю|а|я|ы|и|у|"
    r"ю|е|о|ам|ям|ами|ями|ах|ях|ов|ев|ей|ью|ой|ия|ии|ию|ией)?")
# Inflection only, for lexicon look-ups: "ватники" matches "ватника" but not the jacket "ватник".
_INFLECTIONS = frozenset("""
s es e en n er ern em 's ы и а у ю е о ом ой ей ов ев ам ям ами ями ах ях ым им ых их ая ое ые
ие ого ому ий ый ую
""".split())
_RU_AFTER = frozenset("ки ков кам ками ках ка ку кой ке ок ко ь ья ьи ей ям ями ях ия ии ию ией"
                      .split())
# Plural endings: a root that is also a plain word ("укроп", dill) counts only in the plural.
_PLURALS = frozenset("s es ы и ов ев ам ами ах ям ями ях".split())
# First letters a morpheme may share with a name's last letter (Ukrai|n|azis, Ameri|c|unts).
_OVERLAPPING = ("nazi", "наци", "ссср", "ssr", "cunt")
# What may join a target's stem to the next part of a compound (Russland|s|pack, Ukr|o|nazi).
_LINKS = ("", "s", "es", "en", "n", "o", "e", "i", "о", "е")
# Spellings that deliberately bend a name: Z for S (Ruzzia), KKK (Amerikkka), Z for T (NAZO).
_MISSPELLINGS = (("zz", "ss"), ("z", "s"), ("kkk", "k"), ("kkk", "c"), ("z", "t"), ("k", "c"),
                 ("zz", "s"), ("x", "ks"))

_ESTABLISHED = 2.5  # zipf: a word seen about once in 3 million words or more is established
_WORDISH = 2.5
_UNSEEN = object()


@lru_cache(maxsize=200_000)
def _zipf(word: str, lang: str) -> float:
    return zipf(word, lang)


def _is_cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


def _langs(word: str) -> tuple[str, ...]:
    return ("ru",) if _is_cyrillic(word) else ("de", "en")


def is_established(word: str, threshold: float = _ESTABLISHED) -> bool:
    """Whether `word` (lower case) is an ordinary word of German, English or Russian."""
    return any(_zipf(word, lang) >= threshold for lang in _langs(word))


def _is_ending(rest: str) -> bool:
    if rest == "" or rest in _ENDINGS:
        return True
    return _is_cyrillic(rest) and bool(_RU_ENDINGS.fullmatch(rest))


def _is_inflection(rest: str) -> bool:
    """Only an inflection (Natonazi|s, укронацист|ов, ублюд|ки), not a new word (наци|я)."""
    return rest == "" or rest in _INFLECTIONS or rest in _RU_AFTER


@lru_cache(maxsize=100_000)
def _is_wordish(rest: str) -> bool:
    """An ordinary word or a compound of two (Osterweiterung = Ost + Erweiterung)."""
    if len(rest) < 3:
        return False
    if is_established(rest, _WORDISH):
        return True
    for i in range(4, len(rest) - 3):
        head, tail = rest[:i], rest[i:]
        if not is_established(head, 3.0):
            continue
        if is_established(tail, 3.0) or tail[0] == "s" and is_established(tail[1:], 3.0):
            return True
    return False


@dataclass(frozen=True)
class _Found:
    target: str
    kind: str  # "lexicon" | "coined"
    entry: LexiconEntry | None = None


class _Discovery:
    """Recognises coinages from target names and pejorative morphemes; needs no lexicon entries."""

    def __init__(self, lexicon: Lexicon) -> None:
        m: Morphemes = lexicon.all_morphemes()
        self.prefixes = sorted(m.prefixes, key=len, reverse=True)
        self.suffixes = sorted(m.suffixes, key=len, reverse=True)
        self.short = m.short
        self.blends = m.blends
        stems: dict[str, str] = {}
        names: dict[str, str] = {}
        roots: dict[str, str] = {}
        self.roots_alone: set[str] = set()
        for key, target in lexicon.targets.items():
            for stem in (*target.stems, *target.names):
                stems.setdefault(stem, key)
            for name in target.names:
                names.setdefault(name, key)
            for root in target.roots:
                roots.setdefault(root, key)
                # хохол ↔ khokhol, hohol: a root counts in either script.
                for spelling in _other_script(root):
                    roots.setdefault(spelling, key)
                    if root in target.roots_alone:
                        self.roots_alone.add(spelling)
            self.roots_alone.update(target.roots_alone)
        self.stems = sorted(stems.items(), key=lambda kv: len(kv[0]), reverse=True)
        self.names = names
        # Indexed by their first two letters: a word is only compared with what it could start with.
        self.stems_by = _by_start(self.stems)
        self.roots_by = _by_start(sorted(roots.items(), key=lambda kv: len(kv[0]), reverse=True))
        self.prefixes_by = _by_start([(p, "") for p in self.prefixes])
        self.names_by = _by_start([(n, t) for n, t in names.items() if len(n) >= 5])
        self.parts_by: dict[str, list[Part]] = {}
        for part in sorted(m.parts, key=lambda p: len(p.part), reverse=True):
            self.parts_by.setdefault(part.part[:2], []).append(part)
        self.exceptions = m.exceptions
        self.starts = (set(self.stems_by) | set(self.roots_by) | set(self.prefixes_by)
                       | set(self.parts_by) | {n[:2] for n in names})
        self._cache: dict[str, str | None] = {}

    def find(self, form: str) -> str | None:
        """The target `form` (folded, without hyphens) is a coined slur for, else None."""
        if len(form) < 3 or form[:2] not in self.starts or form in self.exceptions:
            return None
        if form in self._cache:
            return self._cache[form]
        result = None
        for check in (self._root, self._part, self._fusion, self._blend, self._misspelling):
            result = check(form)
            if result is not None:
                break
        if len(self._cache) > 100_000:
            self._cache.clear()  # bounded memory in a long-running worker
        self._cache[form] = result
        return result

    def _root(self, form: str) -> str | None:
        for root, target in self.roots_by.get(form[:2], ()):
            if form.startswith(root):
                rest = form[len(root):]
                if rest and is_established(form):
                    continue  # a name or word that merely begins like the root (Ruskin, Moskalenko)
                if root in self.roots_alone or rest in _PLURALS or not _is_ending(rest):
                    return target
        return None

    def _stems_at(self, form: str, pos: int) -> Iterator[tuple[str, str]]:
        for stem, target in self.stems_by.get(form[pos:pos + 2], ()):
            if form.startswith(stem, pos):
                yield stem, target

    def _fusion(self, form: str) -> str | None:
        # A pejorative prefix before a target: Lügen|presse, Kotz|EU, Drecks|amis.
        for prefix, _ in self.prefixes_by.get(form[:2], ()):
            if form.startswith(prefix) and len(form) > len(prefix):
                for link in ("", "s", "-"):
                    pos = len(prefix) + len(link)
                    if link and not form.startswith(link, len(prefix)):
                        continue
                    for stem, target in self._stems_at(form, pos):
                        rest = form[pos + len(stem):]
                        if len(stem) > 3 or _is_ending(rest):
                            return target
                    tail = form[pos:]
                    for name, target in self.names.items():
                        # Gay|ropa: the prefix replaces the head of a name (Europa).
                        if (len(name) >= 5 and len(tail) >= 4 and len(tail) * 2 >= len(name)
                                and name.endswith(tail) and not form.endswith(name)
                                and tail not in _ENDINGS and not is_established(tail, 2.0)
                                and not is_established(form)):
                            return target
                break
        # A target followed by a pejorative morpheme: Nato|stan, Russen|pack, EU|dSSR, NATO|D.
        for stem, target in self._stems_at(form, 0):
            rest = form[len(stem):]
            if _is_ending(rest):
                continue  # the name itself, inflected: Natos, Russlands
            for link in _LINKS:
                if not rest.startswith(link):
                    continue
                tail = rest[len(link):]
                if not tail:
                    continue
                for suffix in self.suffixes:
                    # Ukrai|n|azis, Е|С|ССР: the morpheme may share the stem's last letter.
                    if not link and stem[-1] == suffix[0] and suffix.startswith(_OVERLAPPING) \
                            and tail.startswith(suffix[1:]) and not is_established(form):
                        after = tail[len(suffix) - 1:]
                    elif tail.startswith(suffix):
                        after = tail[len(suffix):]
                    else:
                        continue
                    if _is_inflection(after) and not is_established(form):
                        return target  # but Europa|rat|s is the Council of Europe
                    # Natoschergen|pack goes on with a word; Nato|stan|dard is just a word.
                    if len(after) >= 4 and _is_wordish(after) and not _is_wordish(tail):
                        return target
                if not link and len(stem) >= 4 and stem in self.names:
                    for piece in self.short:
                        after = tail[len(piece):]
                        if tail.startswith(piece) and after in ("", "s") \
                                and not is_established(form, 1.5):
                            return target
                # EU|dSSR, US|rael; a Hitler tail replaces a name's end (see _blend), so
                # Press|ler is a surname.
                if not link and tail in self.blends and not tail.endswith(("ler", "лер")) \
                        and not is_established(form):
                    return target
        return None  # a plain compound (Natostaaten, Russlandreise) is not a slur

    def _part(self, form: str) -> str | None:
        """Staats|funk, Volks|verräter, укро|патриоты: a productive pejorative part and what it
        may combine with. A part with a `with` list takes the target of the word after it when
        that names one (Staats|funk: media), else its own (Volks|verräter: government); a part
        without one is an ethnonym-like slur whose own target always wins (укро|СМИ: ukraine)."""
        for part in self.parts_by.get(form[:2], ()):
            if not form.startswith(part.part):
                continue
            rest = form[len(part.part):]
            if part.with_:
                for word in part.with_:
                    after = rest[len(word):]
                    if rest.startswith(word) and (_is_ending(after) or self._is_suffix(after)):
                        return self._head_target(word) or part.target or None
            elif (len(rest) >= 4 or rest in self.names) and not is_established(form, 1.5) and (
                    rest in self.names or _is_wordish(rest)
                    or any(_is_wordish(stem) for stem in _strip_endings(rest))):
                return part.target
        return None

    def _is_suffix(self, rest: str) -> bool:
        """A pejorative morpheme, inflected or not (Volksverräter|pack)."""
        return any(rest.startswith(s) and _is_inflection(rest[len(s):]) for s in self.suffixes)

    def _head_target(self, word: str) -> str | None:
        """The target `word` names (presse: media), inflection allowed; None for other words."""
        for stem, target in self._stems_at(word, 0):
            if len(stem) >= 4 and _is_ending(word[len(stem):]):
                return target
        return None

    def _blend(self, form: str) -> str | None:
        """Put|ler: the head of a name with the tail of a hated name (Hitler)."""
        if any(form[:i] in self.names for i in range(2, len(form) + 1)):
            return None  # the whole name is there (Kreml-Erlass, Press-Raids): no blend
        for name, target in self.names_by.get(form[:2], ()):
            if not form.startswith(name[:3]):
                continue
            for k in range(max(3, (len(name) + 1) // 2), len(name)):
                if not form.startswith(name[:k]):
                    break
                tail = form[k:]
                if tail.startswith(name[k:]) or is_established(form, 2.0):
                    continue
                for blend in self.blends:
                    # Putler, Putlers, Putler|land: the blend may inflect or head a compound.
                    after = tail[len(blend):] if tail.startswith(blend) else None
                    if after is not None and (_is_inflection(after) or len(after) >= 4
                                              and _is_wordish(after)):
                        return target
        return None

    def _misspelling(self, form: str) -> str | None:
        """Ruzzia, Amerikkka, NAZO: a name bent on purpose, not an ordinary typo."""
        if not any(bad in form for bad, _ in _MISSPELLINGS):
            return None
        if any(form.startswith(stem) and stem in self.names for stem, _ in self._stems_at(form, 0)):
            return None  # the real name is there (Zelensky stays Zelensky)
        if "zz" in form and not is_established(form):
            # The Z of the war written into a coinage: Ruzzo|faschisten, Ruzz|ki.
            variant = form.replace("zz", "ss")
            for check in (self._root, self._part, self._fusion):
                target = check(variant)
                if target is not None:
                    return target
        for bad, good in _MISSPELLINGS:
            if bad not in form:
                continue
            variant = form.replace(bad, good)
            for stem, target in self._stems_at(variant, 0):
                rest = variant[len(stem):]
                if len(stem) >= 3 and stem in self.names and not is_established(form) \
                        and (_is_ending(rest) or len(rest) >= 4 and _is_wordish(rest)):
                    return target  # Ruzz|ia, Amerikkka; Moscow|itz is a surname
        return None


def _by_start(items: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for word, target in items:
        if len(word) >= 2:
            index.setdefault(word[:2], []).append((word, target))
    return index


class _LexiconIndex:
    """Curated entries, looked up by folded word with inflections and compounds allowed."""

    def __init__(self, entries: tuple[LexiconEntry, ...], stems: list[tuple[str, str]]) -> None:
        self.target_stems = [(s, t) for s, t in stems if len(s) >= 4]
        self.words: dict[str, LexiconEntry] = {}
        self.stems: dict[str, LexiconEntry] = {}
        self.spellings: dict[str, LexiconEntry] = {}
        self.spelling_stems: dict[str, LexiconEntry] = {}
        patterns: list[tuple[re.Pattern[str], LexiconEntry, str]] = []
        for entry in entries:
            if entry.pattern is not None:
                patterns.append((re.compile(entry.pattern), entry,
                                 _required_literal(entry.pattern)))
                continue
            key = _HYPHENS.sub("", entry.key)
            self.words.setdefault(key, entry)
            for stem in _strip_endings(key):
                self.stems.setdefault(stem, entry)
            # The other script's spellings match whole words and their inflections only.
            for spelling in _other_script(key):
                self.spellings.setdefault(spelling, entry)
                for stem in _strip_endings(spelling):
                    self.spelling_stems.setdefault(stem, entry)
        self.patterns = patterns
        self.heads = {k[:4] for k in self.words if len(k) >= 4}
        self.tails = {k[-4:] for k in self.words if len(k) >= 5}

    def _plain_compound(self, form: str) -> bool:
        """Nato|dauerhaft, not Natod|auerhaft: a target stem with an ordinary word after it."""
        return _plain_target_compound(form, self.target_stems)

    def find(self, form: str) -> LexiconEntry | None:
        entry = self.words.get(form) or self.spellings.get(form)
        if entry is not None:
            return entry
        # The singular of a listed plural (кремлебот of кремлеботы), unless an ordinary word
        # (укроп, dill, of укропы).
        entry = self.stems.get(form) or self.spelling_stems.get(form)
        if entry is not None and len(form) >= 5 and not is_established(form):
            return entry
        for stem in _strip_endings(form):
            entry = self.words.get(stem) or self.stems.get(stem)
            if entry is None:
                # Another script's spelling that is an ordinary word inflected (американц|ы).
                entry = self.spellings.get(stem) or self.spelling_stems.get(stem)
                if entry is None or is_established(form):
                    continue
            # "укропы" is a slur, "укропа" the dill: an ordinary word only counts in the plural.
            if form[len(stem):] in _PLURALS or not (is_established(stem) or is_established(form)):
                return entry
        n = len(form)
        if is_established(form):
            return None  # фотока|меры holds амеры, but is a plain word
        if n >= 7 and form[:4] in self.heads and not self._plain_compound(form):
            # Compound with the slur in front: Natod|verbrecher, Lügenpresse|leute.
            for i in range(n - 3, 4, -1):
                entry = self.words.get(form[:i])
                if entry is not None:
                    rest = form[i:]
                    if _is_ending(rest) or len(rest) >= 4 and (
                            _is_wordish(rest) or rest[0] == "s" and _is_wordish(rest[1:])):
                        return entry
        if n >= 8 and form[-4:] in self.tails:
            # Compound with the slur at the end: System|lügenpresse.
            for i in range(3, n - 4):
                entry = self.words.get(form[i:])
                if entry is not None:
                    head = form[:i]
                    if _is_wordish(head) or head[-1] == "s" and _is_wordish(head[:-1]):
                        return entry
        return None


def _required_literal(pattern: str) -> str:
    """The longest run of plain characters every match of `pattern` contains ("" if none),
    read from the top level of the parsed regex; lookarounds and anchors consume nothing."""
    try:
        from re import _parser  # the stdlib's own regex parser (private: any failure → no filter)

        items = list(_parser.parse(pattern))
        literal, anchors = _parser.LITERAL, (_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT)
    except Exception:  # noqa: BLE001
        return ""
    best, run = "", ""
    for op, arg in items:
        if op is literal:
            run += chr(arg)
            continue
        if op not in anchors:
            best, run = max(best, run, key=len), ""
    return max(best, run, key=len)


def _plain_target_compound(form: str, stems: list[tuple[str, str]]) -> bool:
    for stem, _ in stems:
        if form.startswith(stem):
            rest = form[len(stem):]
            if len(rest) >= 4 and (_is_wordish(rest) or rest[0] == "s" and _is_wordish(rest[1:])):
                return True
    return False


def _other_script(word: str) -> tuple[str, ...]:
    """Spellings of `word` in the other script that are no ordinary word there (vatnik → ватник
    would be the jacket, so a Latin entry never makes the Cyrillic word a slur). Short words
    are left alone: their spellings collide with names (амеры → Amery, рашк → Raschke)."""
    if len(word) < 5:
        return ()
    return tuple(t for t in transliterations(word) if len(t) >= 6 and not is_established(t))


def _strip_endings(word: str) -> Iterator[str]:
    for i in range(1, min(4, len(word) - 3)):
        if word[-i:] in _INFLECTIONS:
            yield word[:-i]


def _fold_same_length(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return low.replace("ё", "е")


class LexiconSlurDetector:
    """The SlurDetector: lexicon look-up (unless switched off), then discovery, per word."""

    # Tells the pipeline to pass `normalized=` where it already has `normalize(text)`.
    reads_normalized = True

    def __init__(self, lexicon: Lexicon, use_lexicon: bool = True) -> None:
        self.lexicon = lexicon
        self.use_lexicon = use_lexicon
        self._discovery = _Discovery(lexicon)
        self._index = _LexiconIndex(lexicon.entries, self._discovery.stems) if use_lexicon else None
        # Sets are sorted: their order changes from one process to the next (hash seeds), and
        # the version must not, or every restart would look like a new lexicon.
        morphemes = [(lang, sorted(m.prefixes), sorted(m.suffixes), sorted(m.short),
                      sorted(m.blends), m.parts, sorted(m.exceptions))
                     for lang, m in sorted(lexicon.morphemes.items())]
        digest = hashlib.sha256(repr((lexicon.entries, sorted(lexicon.targets.items()),
                                      morphemes)).encode()).hexdigest()
        self.version = f"slurs-{VERSION}-{digest[:8]}" + ("" if use_lexicon else "-nolex")
        self._cache: dict[str, _Found | None] = {}
        self._by_token: dict[str, _Found | None] = {}  # the same, before folding

    def find(self, text: str, lang: str, normalized: Normalized | None = None) -> list[SlurHit]:
        """Slurs in `text` with offsets into it; `lang` is informational (comments mix).
        `normalized` is `normalize(text)` when the caller has it already."""
        norm = normalized if normalized is not None else normalize(text)
        hits: list[SlurHit] = []
        if self._index is not None and self._index.patterns:
            folded = _fold_same_length(norm.text)
            for pattern, entry, literal in self._index.patterns:
                if literal not in folded:
                    continue  # a plain substring test spares the regex on most comments
                for match in pattern.finditer(folded):
                    hits.append(self._hit(text, norm, match.start(), match.end(),
                                          _Found(entry.target, "lexicon", entry)))
        for match in _TOKEN.finditer(norm.text):
            found = self._classify(match.group())
            if found is not None:
                hits.append(self._hit(text, norm, match.start(), match.end(), found))
        return _without_overlaps(hits)

    def _classify(self, token: str) -> _Found | None:
        known = self._by_token.get(token, _UNSEEN)
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        if len(self._by_token) > 100_000:
            self._by_token.clear()
        found = self._by_token[token] = self._classify_token(token)
        return found

    def _classify_token(self, token: str) -> _Found | None:
        folded = fold(token)
        if folded in self._cache:
            return self._cache[folded]
        if len(self._cache) > 100_000:
            self._cache.clear()  # bounded memory in a long-running worker
        found = self._cache[folded] = self._classify_folded(folded)
        return found

    def _classify_folded(self, folded: str) -> _Found | None:
        parts = _HYPHENS.split(folded)
        forms = ["".join(parts)] + (parts if len(parts) > 1 else [])
        if self._index is not None:
            for form in forms:
                entry = self._index.find(form)
                if entry is not None:
                    return _Found(entry.target, "lexicon", entry)
        for form in forms:
            target = self._discovery.find(form)
            if target is not None:
                return _Found(target, "coined")
        return None

    @staticmethod
    def _hit(text: str, norm: Any, start: int, end: int, found: _Found) -> SlurHit:
        a, b = norm.span(start, end)
        normalized = _HYPHENS.sub("", fold(norm.text[start:end]))
        return SlurHit(term=text[a:b], normalized=normalized, target=found.target, kind=found.kind,
                       start=a, end=b, severity=found.entry.severity if found.entry else None)


def _without_overlaps(hits: list[SlurHit]) -> list[SlurHit]:
    kept: list[SlurHit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def detector_from_config(config: Config, use_lexicon: bool = True) -> LexiconSlurDetector:
    """The detector for `config`: its lexicon folder and targets; `use_lexicon=False` leaves
    only discovery (`monitor score --no-lexicon`, or scoring.use_lexicon = false)."""
    directory = Path(config.lexicon_dir)
    if not (directory / "targets.toml").is_file():
        raise NotConfigured("slur detection", f"no targets.toml in the lexicon folder {directory}: "
                                              "set paths.lexicon_dir or restore config/lexicon")
    lexicon = lexicon_for(config)
    scoring = getattr(config, "scoring", None)
    enabled = use_lexicon and bool(getattr(scoring, "use_lexicon", True))
    return LexiconSlurDetector(lexicon, use_lexicon=enabled)
