"""Undoing deliberate obfuscation (leetspeak, homoglyphs, spacing, stretching) with offsets kept."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Normalized", "normalize"]


@dataclass(frozen=True)
class Normalized:
    """Normalised text; `offsets[i]` is the index in the original text of `text[i]`."""

    text: str
    offsets: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of `text` back to a half-open span of the original text."""
        if start >= end:
            at = self.offsets[start] if start < len(self.offsets) else self._original_end()
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1

    def _original_end(self) -> int:
        return self.offsets[-1] + 1 if self.offsets else 0


# Invisible characters used to split a word so filters miss it: zero-width characters, every bidi
# control (marks, embeddings, overrides, isolates); the soft hyphen and the combining overlays
# (strike-through, underline) belong here too.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u2069\u206a-\u206f\ufeff\u0332\u0334-\u0338"
                        "\u20d0-\u20f0]")

# Cyrillic letters that look like Latin ones, and the reverse.
_CYR_TO_LAT = {
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "к": "k", "м": "m",
    "н": "h", "т": "t",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W",
    "Һ": "H", "Ӏ": "I",
}
_LAT_TO_CYR = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "i": "і", "k": "к",
    "m": "м", "h": "н", "t": "т", "b": "в", "n": "п", "u": "и", "r": "г",
    "A": "А", "B": "В", "E": "Е", "K": "К", "M": "М", "H": "Н", "O": "О", "P": "Р", "C": "С",
    "T": "Т", "X": "Х", "Y": "У",
}
# Greek capitals and a few small letters that pass for Latin.
_GREEK_TO_LAT = {
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v", "ι": "i", "κ": "k",
    "α": "a", "τ": "t", "υ": "u", "ρ": "p",
}

# Leetspeak: what a digit or symbol stands for inside a Latin or a Cyrillic word.
_LEET_LAT = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
             "@": "a", "$": "s", "€": "e", "!": "i", "|": "l"}
_LEET_CYR = {"0": "о", "1": "и", "3": "з", "4": "ч", "6": "б", "@": "а", "$": "с"}
# A lone digit at a word's edge stands for a letter only for these (3U, NAT0, Russi4, but Web3).
_LEET_LEAD = frozenset("0134$€")
_LEET_TAIL = frozenset("014")

# A word as obfuscators write it: letters, digits and leet symbols, no spaces.
_WORD = re.compile(r"[$€]?[^\W_]+(?:[@$€!|]{1,2}[^\W_]+)*")
# Addresses are left alone: an "@" there is not an "a".
_ADDRESS = re.compile(r"https?://\S+|www\.\S+/\S*|[\w.+-]+@[\w-]+\.[\w.]+")
# Single characters joined by one kind of separator: N.A.T.O.D, N-A-T-O, N A T O, N_A_T_O.
_SPACED = re.compile(r"(?<![^\W_])[^\W_$@€](?:(?P<sep>[ .\-_*·•/|+~]{1,2})[^\W_$@€]){2,}"
                     r"(?:(?P=sep)[^\W_$@€])*(?![^\W_])")
# One-letter words of ordinary prose: three of them in a row are prose, not a spaced word.
_ONE_LETTER_WORDS = frozenset("aiIAвиксоуяаВИКСОУЯА")
_STRETCH = re.compile(r"([^\W\d_])\1{2,}")
_LEGIT_TRIPLE = frozenset("eflmnprstEFLMNPRST")  # Schifffahrt, Kaffeeernte, Stofffetzen
_CYRILLIC = re.compile("[\u0400-\u052f]")
_LETTERS = re.compile(r"[^\W\d_]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
_GREEK = re.compile("[\u0370-\u03ff]")
# Cheap test for "is there anything to undo"; most comments take the fast path.
_SUSPECT = re.compile(r"[^\x00-\x7f]|[^\W\d_][\d@$€!|]|[\d@$€!|][^\W\d_]|([^\W\d_])\1\1"
                      r"|(?<![^\W_])[^\W_][ .\-_*·•/|+~]{1,2}[^\W_][ .\-_*·•/|+~]{1,2}[^\W_]")


def normalize(text: str) -> Normalized:
    """Undo leetspeak, homoglyphs, invisible characters, stretching and spaced-out letters."""
    if not _SUSPECT.search(text):
        return Normalized(text, list(range(len(text))))
    chars, offsets = _char_pass(text)
    chars, offsets = _join_spaced(chars, offsets)
    chars, offsets = _word_pass(chars, offsets)
    return Normalized("".join(chars), offsets)


def _char_pass(text: str) -> tuple[list[str], list[int]]:
    """Drop invisible characters and fold compatibility forms (fullwidth, math letters)."""
    if not _INVISIBLE.search(text) and unicodedata.is_normalized("NFKC", text):
        return list(text), list(range(len(text)))
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if ch < "\x80":
            chars.append(ch)
            offsets.append(i)
            continue
        if _INVISIBLE.match(ch):
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cf", "Mn") and ch in "\u034f\u180b\u180c\u180d\ufe00\ufe0f":
            continue
        folded = unicodedata.normalize("NFKC", ch) if cat[0] in "LN" else ch
        # Keep folds that yield letters/digits (Ｎ → N, 𝐍 → N); ignore ones that add spaces or marks.
        if folded != ch and folded.isalnum():
            for part in folded:
                chars.append(part)
                offsets.append(i)
        else:
            chars.append(ch)
            offsets.append(i)
    return chars, offsets


def _join_spaced(chars: list[str], offsets: list[int]) -> tuple[list[str], list[int]]:
    """N.A.T.O.D and N A T O → NATOD and NATO, when the letters clearly form one word."""
    text = "".join(chars)
    if not _SPACED.search(text):
        return chars, offsets
    drop: set[int] = set()
    for match in _SPACED.finditer(text):
        units = match.group()[:: 1 + len(match.group("sep"))]
        if not any(u.isalpha() for u in units):
            continue  # 1.2.3 is a list, not a word
        if match.group("sep").strip() == "":
            if sum(u in _ONE_LETTER_WORDS for u in units) >= 2:
                continue
        for i in range(match.start(), match.end()):
            if not (text[i].isalnum() or text[i] in "$@€"):
                drop.add(i)
    return ([c for i, c in enumerate(chars) if i not in drop],
            [o for i, o in enumerate(offsets) if i not in drop])


def _word_pass(chars: list[str], offsets: list[int]) -> tuple[list[str], list[int]]:
    """Per word: homoglyphs by majority script, leetspeak, stretched letters."""
    text = "".join(chars)
    doc_cyrillic = _cyrillic_majority(text)
    # Lookalikes can only hide in a comment that mixes scripts.
    mixed = _scripts(text) >= 2
    out_chars: list[str] = []
    out_offsets: list[int] = []
    protected = [m.span() for m in _ADDRESS.finditer(text)] if "@" in text or "/" in text else []
    pos = 0
    for match in _WORD.finditer(text):
        if protected and any(a <= match.start() < b for a, b in protected):
            continue
        plain = match.group().isalpha() and not _STRETCH.search(match.group())
        if plain and (not mixed or _scripts(match.group()) < 2):
            continue  # nothing to undo in this word: it is copied with the text around it
        out_chars.extend(chars[pos:match.start()])
        out_offsets.extend(offsets[pos:match.start()])
        word = list(match.group())
        word_offsets = offsets[match.start():match.end()]
        word = _fix_script(word, doc_cyrillic)
        word = _fix_leet(word)
        word, word_offsets = _unstretch(word, word_offsets)
        out_chars.extend(word)
        out_offsets.extend(word_offsets)
        pos = match.end()
    out_chars.extend(chars[pos:])
    out_offsets.extend(offsets[pos:])
    return out_chars, out_offsets


def _scripts(text: str) -> int:
    """How many of Latin, Cyrillic and Greek occur in `text`."""
    return bool(_LATIN.search(text)) + bool(_CYRILLIC.search(text)) + bool(_GREEK.search(text))


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff" or "\u0500" <= ch <= "\u052f"


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha() or "\u00c0" <= ch <= "\u024f" and ch.isalpha()


def _cyrillic_majority(text: str) -> bool:
    cyr = len(_CYRILLIC.findall(text))
    return cyr * 2 > len(_LETTERS.findall(text))


def _fix_script(word: list[str], doc_cyrillic: bool) -> list[str]:
    """Rewrite lookalike letters into the word's script, chosen by its unambiguous letters."""
    strong_lat = strong_cyr = weak_lat = weak_cyr = 0
    greek = False
    for ch in word:
        if _is_cyrillic(ch):
            if ch in _CYR_TO_LAT:
                weak_cyr += 1
            else:
                strong_cyr += 1
        elif _is_latin(ch):
            if ch in _LAT_TO_CYR:
                weak_lat += 1
            else:
                strong_lat += 1
        elif ch in _GREEK_TO_LAT:
            greek = True
    if not greek and not (weak_cyr + strong_cyr and weak_lat + strong_lat):
        return word  # one script only: nothing to undo (real Cyrillic text stays intact)
    if strong_lat != strong_cyr:
        cyrillic = strong_cyr > strong_lat
    elif weak_lat != weak_cyr:
        cyrillic = weak_cyr > weak_lat
    else:
        cyrillic = doc_cyrillic
    if cyrillic:
        return [_LAT_TO_CYR.get(ch, ch) for ch in word]
    return [_CYR_TO_LAT.get(ch, _GREEK_TO_LAT.get(ch, ch)) for ch in word]


def _fix_leet(word: list[str]) -> list[str]:
    """N4T0D → NATOD, but 2022, G7, F16, MH17 and A400M stay as they are."""
    letters = sum(1 for ch in word if ch.isalpha())
    if letters == len(word) or letters < (1 if word[0] in "$€" else 2):
        return word
    cyrillic = sum(1 for ch in word if _is_cyrillic(ch)) * 2 > letters
    table = _LEET_CYR if cyrillic else _LEET_LAT
    upper = all(ch.isupper() for ch in word if ch.isalpha())
    out = list(word)
    n = len(word)
    i = 0
    while i < n:
        if word[i].isalpha():
            i += 1
            continue
        j = i
        while j < n and not word[j].isalpha():
            j += 1
        run = word[i:j]
        if i > 0 and j < n:
            convert = len(run) <= 2
        elif len(run) != 1:
            convert = False
        elif i == 0:
            convert = run[0] in _LEET_LEAD and (letters >= 2 or not run[0].isdigit())
        else:
            # N4T0: a word already written in leet may end in a leet digit too.
            convert = run[0] in _LEET_TAIL and (letters >= 3 or out != word)
        if convert and all(ch in table for ch in run):
            # A leading symbol starts a name ($oros); otherwise follow the word's case.
            out[i:j] = [table[ch].upper() if upper or i == 0 else table[ch] for ch in run]
        i = j
    return out


def _unstretch(word: list[str], offsets: list[int]) -> tuple[list[str], list[int]]:
    """gaaanz → ganz and NATOOO → NATO; legitimate triples in long compounds are kept."""
    text = "".join(word)
    if not _STRETCH.search(text):
        return word, offsets
    keep = [True] * len(word)
    long_word = len(text) >= 9
    for match in _STRETCH.finditer(text):
        if len(match.group()) == 3 and (long_word and match.group(1) in _LEGIT_TRIPLE
                                        or match.group(1) in "kK" or match.group(1) in "СS"):
            continue  # Schifffahrt is a word, ЕСССР an acronym; KKK in Amerikkka is the message
        for i in range(match.start() + 1, match.end()):
            keep[i] = False
    return ([c for c, k in zip(word, keep) if k], [o for o, k in zip(offsets, keep) if k])
