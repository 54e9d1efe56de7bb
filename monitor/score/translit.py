"""Latin ↔ Cyrillic spellings of a word, so that a slur written in one script is found in the
other (Путлер ↔ Putler, ватники ↔ vatniki)."""

from __future__ import annotations

__all__ = ["transliterations"]

# Cyrillic letters as commenters write them in Latin script, the usual spelling first
# (Путлер → putler, ватник → vatnik, хохол → khokhol/hohol, пиндосы → pindosy/pindosi).
_CYR_TO_LAT: dict[str, tuple[str, ...]] = {
    "а": ("a",), "б": ("b",), "в": ("v",), "г": ("g",), "д": ("d",), "е": ("e",), "ж": ("zh",),
    "з": ("z",), "и": ("i",), "й": ("y", "i", "j"), "к": ("k",), "л": ("l",), "м": ("m",),
    "н": ("n",), "о": ("o",), "п": ("p",), "р": ("r",), "с": ("s",), "т": ("t",), "у": ("u",),
    "ф": ("f",), "х": ("kh", "h", "ch"), "ц": ("ts", "c", "z"), "ч": ("ch",), "ш": ("sh", "sch"),
    "щ": ("shch", "sch"), "ъ": ("",), "ы": ("y", "i"), "ь": ("",), "э": ("e",),
    "ю": ("yu", "ju"), "я": ("ya", "ja", "ia"),
}
# Latin letter groups back to Cyrillic, longest first (putler → путлер, vatnik → ватник).
_LAT_TO_CYR = (("shch", "щ"), ("sch", "ш"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"),
               ("ts", "ц"), ("ya", "я"), ("ja", "я"), ("yu", "ю"), ("ju", "ю"), ("yo", "е"),
               ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"),
               ("h", "х"), ("i", "и"), ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"),
               ("o", "о"), ("p", "п"), ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"),
               ("v", "в"), ("w", "в"), ("x", "кс"), ("y", "ы"), ("z", "з"))
_MAX_SPELLINGS = 32


def transliterations(word: str) -> tuple[str, ...]:
    """`word` (folded) written in the other script: every usual Latin spelling of a Cyrillic
    word, or the Cyrillic spelling of a plain-Latin one; () for mixed or other letters."""
    if word and all("а" <= ch <= "я" for ch in word):
        spellings = [""]
        for ch in word:
            spellings = [s + v for s in spellings for v in _CYR_TO_LAT[ch]][:_MAX_SPELLINGS]
        return tuple(dict.fromkeys(spellings))
    if word and all("a" <= ch <= "z" for ch in word):
        out, i = [], 0
        while i < len(word):
            for latin, cyrillic in _LAT_TO_CYR:
                if word.startswith(latin, i):
                    out.append(cyrillic)
                    i += len(latin)
                    break
        return ("".join(out),)
    return ()
