"""Language identification for short comments: German, English, Russian or "other"."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence

__all__ = ["LANGUAGES", "detect_language", "detect_languages", "script_counts"]

LANGUAGES = ("de", "en", "ru", "other")

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Letters used by Cyrillic languages other than Russian; one of these marks the text as not Russian.
_NON_RUSSIAN_CYRILLIC = set("іїєґўјљњђћџѓќѕ")
# Fewer letters than this is not enough evidence for any language.
_MIN_LETTERS = 3
# Frequent short words: on short comments they are surer evidence than letter statistics,
# which mistake terse German for Danish or Dutch.
_FUNCTION_WORDS = {
    "de": set("der die das den dem des und ist nicht du ich ein eine einen zu mit sich auf für "
              "es sie wir ihr bist sind hat haben wird werden nur aber oder wenn dass mal man "
              "kein keine auch doch noch schon halt was wer wie warum hier jetzt euch dich mir "
              "mich dir uns von vom zum zur im am beim nach über unter gegen ohne sehr".split()),
    "en": set("the and is are you to of a an in that it for on with this not i be have has "
              "was were what they we your my no just so but do does did can will would should "
              "he she his her them their our me him who why how here there about from than "
              "thanks very".split()),
}


# Basic, Latin-1 and Extended-A/B Latin letters; the Cyrillic block and its supplement.
_LATIN = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")


def script_counts(text: str) -> tuple[int, int, list[str], list[str]]:
    """Letters per script, with mixed-script words (homoglyph obfuscation) given to their majority.

    Returns (cyrillic letters, latin letters, cyrillic words, latin words).
    """
    words = _WORD.findall(text)
    if not _CYRILLIC.search(text):
        # One script at most (the usual case): a word is Latin if it has a Latin letter.
        lat_words = [w for w in words if w.isascii() or _LATIN.search(w)]
        return 0, sum(map(len, lat_words)), [], lat_words
    if not _LATIN.search(text):
        cyr_words = [w for w in words if _CYRILLIC.search(w)]
        return sum(map(len, cyr_words)), 0, cyr_words, []
    cyr = lat = 0
    cyr_words = []
    lat_words = []
    for word in words:
        c = len(_CYRILLIC.findall(word))
        latin = len(_LATIN.findall(word))
        # A word like "Pуtin" with one look-alike letter belongs to the script most of it uses.
        if c > latin:
            cyr += len(word)
            cyr_words.append(word)
        elif latin:
            lat += len(word)
            lat_words.append(word)
    return cyr, lat, cyr_words, lat_words


@lru_cache(maxsize=1)
def _detectors() -> tuple[Any, Any, dict[Any, str]]:
    """Lingua detectors for Latin- and Cyrillic-script languages, built once (fast, offline)."""
    from lingua import Language, LanguageDetectorBuilder

    latin = [Language.GERMAN, Language.ENGLISH, Language.FRENCH, Language.SPANISH,
             Language.ITALIAN, Language.DUTCH, Language.POLISH, Language.PORTUGUESE,
             Language.TURKISH, Language.SWEDISH, Language.DANISH, Language.CZECH]
    cyrillic = [Language.RUSSIAN, Language.UKRAINIAN, Language.BULGARIAN, Language.BELARUSIAN,
                Language.SERBIAN, Language.MACEDONIAN, Language.KAZAKH]
    codes = {Language.GERMAN: "de", Language.ENGLISH: "en", Language.RUSSIAN: "ru"}
    lat = LanguageDetectorBuilder.from_languages(*latin).with_low_accuracy_mode().build()
    cyr = LanguageDetectorBuilder.from_languages(*cyrillic).with_low_accuracy_mode().build()
    return lat, cyr, codes


def detect_language(text: str) -> str:
    """The language of one comment as "de", "en", "ru" or "other"."""
    return detect_languages([text])[0]


def detect_languages(texts: Sequence[str]) -> list[str]:
    """Languages of many comments; the dominant script picks the detector, words of the
    other script (quoted names, brands) are left out so they cannot sway it."""
    lat_det, cyr_det, codes = _detectors()
    out: list[str] = []
    for text in texts:
        cyr, lat, cyr_words, lat_words = script_counts(text)
        if cyr + lat < _MIN_LETTERS:
            out.append("other")
            continue
        if cyr >= lat:
            lowered = " ".join(cyr_words).lower()
            if any(ch in _NON_RUSSIAN_CYRILLIC for ch in lowered):
                out.append("other")
                continue
            found = cyr_det.detect_language_of(lowered)
            # Short Russian is often confused with its neighbours; without a letter that
            # Russian lacks, only a confident verdict counts against it.
            if found is not None and codes.get(found) != "ru" and len(lowered) >= 20:
                out.append("other")
            else:
                out.append("ru")
            continue
        latin_text = " ".join(lat_words)
        out.append(_latin_language(latin_text, lat_det, codes))
    return out


def _latin_language(text: str, detector: Any, codes: dict[Any, str]) -> str:
    """de, en or other for Latin-script text: function words first, letter statistics after."""
    words = text.lower().split()
    hits = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    best = max(hits, key=hits.__getitem__)
    if hits[best] >= 3 and hits[best] >= 3 * min(hits.values()) + 3:
        return best  # plenty of function words of one language: no need for statistics
    found = detector.detect_language_of(text)
    verdict = codes.get(found, "other") if found is not None else "other"
    if hits[best] >= 2 and hits[best] > min(hits.values()) and verdict != best:
        # Only a confident verdict for a third language overrules the function words.
        if verdict == "other" and detector.compute_language_confidence(text, found) >= 0.7:
            return "other"
        return best
    return verdict
