"""Language identification for short comments: German, English, Russian or "other"."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Sequence

__all__ = ["LANGUAGES", "detect_language", "detect_languages", "script_counts"]

LANGUAGES = ("de", "en", "ru", "other")

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Letters used by Cyrillic languages other than Russian; one of these marks the text as not Russian.
_NON_RUSSIAN_CYRILLIC = set("іїєґўјљњђћџѓќѕ")
# Fewer letters than this is not enough evidence for any language.
_MIN_LETTERS = 3


def _script(ch: str) -> str | None:
    """'cyr', 'lat' or None for a letter, judged by its Unicode name."""
    if ch.isascii():
        return "lat" if ch.isalpha() else None
    name = unicodedata.name(ch, "")
    if name.startswith("CYRILLIC"):
        return "cyr"
    if name.startswith("LATIN"):
        return "lat"
    return None


def script_counts(text: str) -> tuple[int, int, list[str], list[str]]:
    """Letters per script, with mixed-script words (homoglyph obfuscation) given to their majority.

    Returns (cyrillic letters, latin letters, cyrillic words, latin words).
    """
    cyr = lat = 0
    cyr_words: list[str] = []
    lat_words: list[str] = []
    for word in _WORD.findall(text):
        c = sum(1 for ch in word if _script(ch) == "cyr")
        latin = sum(1 for ch in word if _script(ch) == "lat")
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
        found = lat_det.detect_language_of(" ".join(lat_words))
        out.append(codes.get(found, "other") if found is not None else "other")
    return out
