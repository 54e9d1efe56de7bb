"""Stance toward each configured target (favor / against / none) for a batch of comments.

A target that is not mentioned (by alias, obfuscated name, indirect reference or slur) gets
`none`. A mentioned target with a trained head (NATO, Russia, Ukraine) is scored by two linear
parts whose probabilities are mixed with a weight per language: one over the comment's averaged
piece vectors (the 128-d multilingual vector the built-in toxicity model already computes, see
`BuiltinToxicity.sentence_vectors`) and cues around the mention (praise and abuse, negation,
reported speech, irony markers, slurs, the framing of indirect references), one over hashed
word and character n-grams (learnt mostly from English war posts, so weighted less for other
languages). Added targets without a head use the target-independent cue head, which reads no
vectors. Training lives in `monitor.training.stance`; this module only loads weights.
"""

from __future__ import annotations

import math
import re
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Protocol, Sequence

import numpy as np

from monitor.errors import ModelError
from monitor.score.base import SlurHit, StanceResult
from monitor.score.normalize import Normalized, normalize
from monitor.score.targets import Mention, TargetMatcher

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = [
    "CUE_FEATURES",
    "DEFAULT_MODEL",
    "EMBEDDING",
    "EMBEDDING_DIM",
    "GENERIC_HEAD",
    "Head",
    "LABELS",
    "NGRAMS",
    "NGRAM_BITS",
    "StanceModel",
    "TargetStanceScorer",
    "VectorSource",
    "cue_features",
    "ngram_ids",
    "piece_vectors",
    "scorer_from_config",
]

LABELS = ("favor", "against", "none")
DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "stance-v4.npz"
# What the heads read beside the cues; stored in the model so a head never reads other vectors.
EMBEDDING = "toxicity-piece-mean"
EMBEDDING_DIM = 128
# The hashed n-grams a head may read (see `ngram_ids`); stored in the model, checked at load.
NGRAM_BITS = 18
NGRAMS = f"crc32-word12-char345-{NGRAM_BITS}"
GENERIC_HEAD = "_generic"

# Word beginnings, matched case-insensitively after de-obfuscation. Own lists: evaluative words
# common in German, English and Russian comment sections about the war.
_ABUSE = (
    "kriegstreib", "verbrech", "lüg", "lug", "gelogen", "mörder", "mord", "terror", "aggress",
    "schande", "schäm", "hetz", "propagand", "mafia", "marionett", "vasall", "verlogen", "heuchl",
    "imperialis", "besatz", "bestie", "schlächter", "clown", "erbärmlich", "lächerlich", "scheiß",
    "gesindel", "abschaum", "bedroh", "gefahr", "nieder mit", "auflös", "provoz", "provok",
    "zündel", "arroganz", "betrüg", "versag", "bankrott", "zerstör", "überf", "regime", "diktat",
    "tyrann", "größenwahn", "zwerg", "knecht", "troll", "todesurteil", "erpress", "gestohlen",
    "entführ", "bomb", "kanonenfutter", "gefängnis", "verheiz", "werkzeug", "lügner", "angriff",
    "warmonger", "criminal", "liar", "lie", "lying", "murder", "shame", "puppet", "vassal",
    "hypocri", "imperial", "occup", "invad", "invasion", "monster", "butcher", "pathetic",
    "ridiculous", "fuck", "f***", "scum", "threat", "danger", "down with", "disband", "provoc",
    "arrogan", "fail", "bankrupt", "destroy", "dictator", "tyrant", "megaloman", "racket", "evil",
    "rigged", "poison", "loot", "rape", "kidnap", "stole", "isolated", "collaps", "tool of",
    "death sentence", "prison", "cannon fodder", "drunk", "inferiority", "attack",
    "поджигат", "преступ", "лж", "лгут", "врёт", "врет", "врут", "вран", "убий", "террор",
    "агресс", "позор", "пропаганд", "мафи", "марионет", "вассал", "лицемер", "империал",
    "оккупант", "окупант", "звер", "головорез", "клоун", "жалк", "смешн", "мраз", "угроз",
    "опасн", "долой", "распуст", "провоц", "провокац", "провал", "обанкрот", "разруш", "режим",
    "диктатор", "тиран", "свора", "бот", "тюрьм", "мародёр", "мародер", "похищ", "украл",
    "изоляц", "развал", "сдохн", "банд", "бензоколонк", "пушечн", "инструмент", "пьян", "комплекс",
    "смертный приговор", "агресор", "напал", "нападени",
)
_PRAISE = (
    "danke", "respekt", "recht ", "recht.", "recht!", "richtig", "stolz", "freund", "partner",
    "frieden", "sicherheit", "schütz", "schutz", "stark", "stärke", "vernunft", "vernünftig",
    "ehrlich", "anständ", "genie", "held", "bravo", "froh", "beste", "bollwerk", "wichtig",
    "souverän", "befrei", "sieg", "gewinn", "zusammenhalt", "unterstütz", "ja bitte",
    "lebensversicherung", "ordnung", "rückgrat", "anstand", "halte zu", "stehe zu", "gut",
    "thank", "respect", "right", "good", "great", "proud", "friend", "peace", "safe", "secur",
    "protect", "strong", "strength", "sensible", "smart", "honest", "decent", "genius", "hero",
    "glad", "best", "bulwark", "matters", "important", "sovereign", "liberat", "win", "united",
    "support", "stand with", "yes please", "insurance", "order", "leader", "impressive",
    "спасибо", "уважа", "прав", "хорош", "горж", "друг", "союзник", "партнёр", "партнер",
    "мир", "безопасн", "защищ", "сильн", "разумн", "честн", "порядоч", "гени", "геро", "браво",
    "рад", "лучш", "оплот", "суверен", "освобож", "побед", "вместе", "поддерж", "страховк",
    "порядок", "лидер", "велик", "впечатля", "отличн", "не бросает",
)
_NEGATION = ("nicht", "kein", "nie", "niemals", "weder", "not", "no", "never", "n't", "neither",
             "nor", "не", "нет", "ни", "никогда")
_REPORTED = (
    "sagte", "sagt", "erklärte", "erklärt", "warnt", "warnte", "betont", "behauptet", "kündigte",
    "teilte", "laut", "zufolge", "meldet", "berichtet", "heißt es", "so der", "fordert",
    "forderte", "trifft", "besucht", "reagiert",
    "said", "says", "warns", "warned", "claims", "claimed", "according to", "reports",
    "reported", "announced", "stated", "told", "meets", "visits", "react",
    "заявил", "сказал", "сообщ", "по словам", "по данным", "предупреди", "утверждает",
    "говорится", "пишут", "отметил", "пригрозил", "встречается", "посетит", "отреагировал",
)
_IRONY_WORDS = ("ja klar", "klar doch", "natürlich", "selbstverständlich", "sogenannt",
                "so-called", "sure", "oh yes", "right,", "of course", "obviously", "lol",
                "ну да", "ага", "конечно", "само собой", "так называем", "лол", "как мило",
                "wie schön", "how lovely", "super gemacht", "great job", "отличная работа")
_IRONY_SYMBOLS = re.compile(r"[🙄😂🤡👏🤣😆😏🙃]|\"\w[^\"]{0,40}\"|„[^“”]{1,40}[“”]|«[^»]{1,40}»")
_DIRECT = ("danke", "thanks", "thank you", "спасибо", "raus", "out", "вон", "weg mit", "go home",
           "nieder", "down with", "долой", "bravo", "браво")
_SENTENCE = re.compile(r"[^.!?;…\n]+[.!?;…\n]*")


class _WordStartCues:
    """Where cue words begin (case-insensitive, at a word start, longest cue first, no
    overlaps): a lookup by the word's first two letters, about 3x faster than one regular
    expression alternating all the cues."""

    def __init__(self, words: Sequence[str]) -> None:
        self._by_start: dict[str, list[str]] = {}
        for word in sorted({w.lower() for w in words}, key=len, reverse=True):
            self._by_start.setdefault(word[:2], []).append(word)

    def starts(self, lowered: str) -> tuple[int, ...]:
        out: list[int] = []
        end = 0
        for match in _WORD_START.finditer(lowered):
            i = match.start()
            if i < end:
                continue
            for word in self._by_start.get(lowered[i:i + 2], ()):
                if lowered.startswith(word, i):
                    out.append(i)
                    end = i + len(word)
                    break
        return tuple(out)


_WORD_START = re.compile(r"(?<!\w)\w")
_ABUSE_CUES = _WordStartCues(_ABUSE)
_PRAISE_CUES = _WordStartCues(_PRAISE)
_REPORTED_CUES = _WordStartCues(_REPORTED)
_IRONY_CUES = _WordStartCues(_IRONY_WORDS)
_NEGATION_RE = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in _NEGATION) + r")(?!\w)"
                          r"|n't", re.IGNORECASE)
_DIRECT_RE = re.compile(r"(?:" + "|".join(re.escape(w) for w in _DIRECT) + r")\W{0,3}$",
                        re.IGNORECASE)
# Pejorative names and coinages for a target found among its mentions ("Putler", "NATOD").
_PEJORATIVE_RE = re.compile(r"putler|путлер|ruzz|рашк|рашист|ruscist|natod|natot|natoterror"
                            r"|russenpack|kremlknecht|putinknecht|натовск\w* свор", re.IGNORECASE)

CUE_FEATURES = (
    "praise_near", "abuse_near", "praise_all", "abuse_all", "negated_near", "reported_near",
    "irony", "irony_x_praise", "question_near", "exclaim", "slur", "direct_address", "equation",
    "other_target", "abuse_other_only", "mentions", "length", "mention_first",
    "frame_favor", "frame_against", "implicit_only",
)


class _TextCues(NamedTuple):
    """What cue_features needs of a whole comment, whichever target it asks about."""

    sentences: list[tuple[int, int]]
    abuse: tuple[int, ...]      # where abuse words begin
    praise: tuple[int, ...]
    reported: tuple[int, ...]
    irony: bool


@lru_cache(maxsize=4096)
def _text_cues(text: str) -> _TextCues:
    # Cached: every mentioned target of a comment asks again.
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is longer ("İ"): keep offsets
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    sentences = [(m.start(), m.end()) for m in _SENTENCE.finditer(text)] or [(0, len(text))]
    irony = bool(_IRONY_CUES.starts(lowered) or _IRONY_SYMBOLS.search(text))
    return _TextCues(sentences, _ABUSE_CUES.starts(lowered), _PRAISE_CUES.starts(lowered),
                     _REPORTED_CUES.starts(lowered), irony)


def _within(starts: Sequence[int], spans: Sequence[tuple[int, int]]) -> int:
    return sum(1 for p in starts if any(s <= p < e for s, e in spans))


def cue_features(text: str, mentions: Sequence[Mention], other: Sequence[Mention],
                 slurs: Sequence[SlurHit]) -> list[float]:
    """The target-local cues of one comment, in the order of `CUE_FEATURES`."""
    cues = _text_cues(text)
    sentences = cues.sentences

    def sentence_of(pos: int) -> tuple[int, int]:
        for start, end in sentences:
            if start <= pos < end:
                return start, end
        return sentences[-1]

    near_spans = sorted({sentence_of(m.start) for m in mentions})
    near = " ".join(text[s:e] for s, e in near_spans if e <= len(text))
    other_spans = sorted({sentence_of(m.start) for m in other} - set(near_spans))

    abuse, praise, irony = cues.abuse, cues.praise, cues.irony
    praise_near = _within(praise, near_spans)
    abuse_near = _within(abuse, near_spans)
    pejorative = any(_PEJORATIVE_RE.search(m.text) for m in mentions)
    direct = any(_DIRECT_RE.search(text[max(0, m.start - 16):m.start]) for m in mentions)
    equation = any("=" in text[m.end:m.end + 3] or "=" in text[max(0, m.start - 3):m.start]
                   for m in mentions)
    tokens = max(1, len(text.split()))
    first = min(m.start for m in mentions)
    return [
        math.log1p(praise_near),
        math.log1p(abuse_near),
        math.log1p(len(praise)),
        math.log1p(len(abuse)),
        float(bool(_NEGATION_RE.search(near))),
        float(_within(cues.reported, near_spans) > 0),
        float(irony),
        float(irony and praise_near > 0),
        float("?" in near),
        float("!" in text),
        float(bool(slurs) or pejorative),
        float(direct),
        float(equation),
        float(bool(other)),
        float(bool(other) and _within(abuse, other_spans) > 0 and abuse_near == 0),
        math.log1p(len(mentions)),
        math.log1p(tokens) / 4.0,
        float(first < 0.2 * max(1, len(text))),
        math.log1p(sum(m.kind == "favor" for m in mentions)),
        math.log1p(sum(m.kind == "against" for m in mentions)),
        float(all(m.implicit for m in mentions)),
    ]


_WORD = re.compile(r"\w+")
Grams = tuple[np.ndarray, np.ndarray]  # hashed n-gram ids and their weights (`ngram_ids`)


@lru_cache(maxsize=65536)
def _word_grams(word: str) -> tuple[int, tuple[int, ...]]:
    """A word's own id and its character 3–5-gram ids (cached: words repeat across comments)."""
    padded = f" {word} "
    chars = tuple(zlib.crc32(("c" + padded[i:i + n]).encode())
                  for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    return zlib.crc32(b"w" + word.encode()), chars


def ngram_ids(text: str, bits: int = NGRAM_BITS) -> Grams:
    """Hashed word uni- and bigrams and character 3–5-grams of words (CRC32, stable across
    runs and machines) of a normalised text, as unique ids below 2**bits with their weights:
    log counts, each kind scaled to unit length."""
    words = _WORD.findall(text.lower())
    grams = [_word_grams(w) for w in words]
    word_ids = [g[0] for g in grams]
    word_ids += [zlib.crc32(f"b{a} {b}".encode()) for a, b in zip(words, words[1:])]
    char_ids = [c for g in grams for c in g[1]]
    ids_out, weights_out = [], []
    for group in (word_ids, char_ids):
        if not group:
            continue
        ids, counts = np.unique(np.array(group, dtype=np.int64) % (1 << bits), return_counts=True)
        weights = np.log1p(counts)
        ids_out.append(ids)
        weights_out.append(weights / np.linalg.norm(weights))
    if not ids_out:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ids_out), np.concatenate(weights_out)


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Head:
    """Stance toward one target: a multinomial linear part over [piece vector?, standardised
    cues] and, optionally, one over hashed n-grams, their probabilities mixed per language
    (n-grams learnt from English posts say little about German text: less weight there).
"""

    coef: np.ndarray        # (3, n_features) over [embedding?, cues]
    intercept: np.ndarray   # (3,)
    uses_embedding: bool
    ngram_coef: np.ndarray | None = None       # (3, 2**NGRAM_BITS)
    ngram_intercept: np.ndarray | None = None  # (3,)
    ngram_weight: Mapping[str, float] | None = None  # language → weight; "*" for the rest

    @property
    def reads_ngrams(self) -> bool:
        return self.ngram_coef is not None

    def probabilities(self, features: np.ndarray, grams: Sequence[Grams] | None = None,
                      langs: Sequence[str] | None = None) -> np.ndarray:
        """Rows of (favor, against, none) probabilities; `grams` (of the normalised texts) and
        `langs` are read only by a head with an n-gram part."""
        probs = _softmax(features @ self.coef.T + self.intercept)
        if self.ngram_coef is None or grams is None or self.ngram_intercept is None:
            return probs
        weights = self.ngram_weight or {}
        default = weights.get("*", 0.0)
        mix = np.array([weights.get(lang, default) for lang in (langs or ["*"] * len(grams))])
        logits = np.tile(self.ngram_intercept.astype(np.float64), (len(grams), 1))
        for row, (ids, values) in enumerate(grams):
            if len(values):
                logits[row] += self.ngram_coef[:, ids].astype(np.float64) @ values
        return (1 - mix)[:, None] * probs + mix[:, None] * _softmax(logits)


def _head_arrays(prefix: str, head: Head) -> dict[str, Any]:
    arrays: dict[str, Any] = {f"{prefix}.coef": head.coef, f"{prefix}.intercept": head.intercept,
                              f"{prefix}.uses_embedding": np.array(head.uses_embedding)}
    if head.ngram_coef is not None and head.ngram_intercept is not None:
        arrays[f"{prefix}.ngram_coef"] = head.ngram_coef.astype(np.float16)
        arrays[f"{prefix}.ngram_intercept"] = head.ngram_intercept
        weights = dict(head.ngram_weight or {})
        arrays[f"{prefix}.ngram_langs"] = np.array(sorted(weights), dtype=str)
        arrays[f"{prefix}.ngram_weights"] = np.array([weights[k] for k in sorted(weights)])
    return arrays


def _head_from(data: Any, prefix: str) -> Head:
    extra: dict[str, Any] = {}
    if f"{prefix}.ngram_coef" in data:
        extra.update(ngram_coef=data[f"{prefix}.ngram_coef"].astype(np.float32),
                     ngram_intercept=data[f"{prefix}.ngram_intercept"],
                     ngram_weight=dict(zip((str(k) for k in data[f"{prefix}.ngram_langs"]),
                                           (float(w) for w in data[f"{prefix}.ngram_weights"]))))
    return Head(data[f"{prefix}.coef"], data[f"{prefix}.intercept"],
                bool(data[f"{prefix}.uses_embedding"]), **extra)


@dataclass(frozen=True)
class StanceModel:
    """Trained heads per target key (plus the generic cue head) and the cue scaling."""

    version: str
    heads: dict[str, Head]
    cue_mean: np.ndarray
    cue_scale: np.ndarray
    none_without_mention: float
    trained_on: tuple[str, ...] = ()  # the data sets, for the card and `monitor models eval`

    def features(self, cues: np.ndarray, embeddings: np.ndarray | None) -> np.ndarray:
        scaled = (cues - self.cue_mean) / self.cue_scale
        if embeddings is None:
            return scaled
        return np.hstack([embeddings, scaled])

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {
            "version": np.array(self.version), "cue_names": np.array(CUE_FEATURES),
            "embedding": np.array(f"{EMBEDDING}-{EMBEDDING_DIM}"),
            "ngrams": np.array(NGRAMS),
            "cue_mean": self.cue_mean, "cue_scale": self.cue_scale,
            "none_without_mention": np.array(self.none_without_mention),
            "heads": np.array(sorted(self.heads)), "trained_on": np.array(self.trained_on, dtype=str),
        }
        for key, head in self.heads.items():
            arrays.update(_head_arrays(key, head))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> StanceModel:
        fix = "run `monitor models train` to train it"
        try:
            with np.load(path, allow_pickle=False) as data:
                if tuple(str(n) for n in data["cue_names"]) != CUE_FEATURES:
                    raise ModelError(f"stance model {path} was trained with other cue features; {fix}")
                if "embedding" not in data or str(data["embedding"]) != f"{EMBEDDING}-{EMBEDDING_DIM}":
                    raise ModelError(f"stance model {path} reads other sentence vectors than "
                                     f"{EMBEDDING}-{EMBEDDING_DIM}; {fix}")
                if "ngrams" in data and str(data["ngrams"]) != NGRAMS:
                    raise ModelError(f"stance model {path} reads other n-gram features than "
                                     f"{NGRAMS}; {fix}")
                heads = {str(key): _head_from(data, str(key)) for key in data["heads"]}
                trained_on = tuple(str(n) for n in data["trained_on"]) if "trained_on" in data else ()
                return cls(str(data["version"]), heads, data["cue_mean"], data["cue_scale"],
                           float(data["none_without_mention"]), trained_on)
        except FileNotFoundError:
            raise ModelError(f"no stance model at {path}; {fix}") from None
        except (KeyError, ValueError, OSError) as exc:
            raise ModelError(f"stance model {path} is unreadable ({exc}); {fix}") from None


# '@' or '#' right after a letter masks a letter rather than starting a handle or hashtag.
_MASKING_FURNITURE = re.compile(r"[^\W\d_][@#]")


def _reusable(texts: Sequence[str], normalized: Sequence[Normalized]) -> dict[str, Normalized]:
    """The pipeline's normalisations (`normalize(strip_furniture(text))`) as the matcher's view
    of the raw texts, so it finds mentions without normalising every comment again."""
    from monitor.score.toxicity import strip_furniture_mapped

    out: dict[str, Normalized] = {}
    for text, norm in zip(texts, normalized):
        if _MASKING_FURNITURE.search(text):
            continue  # "Н@ТО", "N#TO": stripping would hide a masked name; normalise the raw text
        stripped, offsets = strip_furniture_mapped(text)
        if norm.text == stripped:
            # Nothing to undo but furniture: the raw text is the view (one alias scan, not two).
            same = len(offsets) == len(text)  # then `offsets` is already 0, 1, 2 …
            out[text] = Normalized(text, offsets if same else list(range(len(text))))
        elif len(offsets) == len(text):  # nothing removed ('#' became a space in place)
            out[text] = norm
        else:
            out[text] = Normalized(norm.text, [offsets[i] for i in norm.offsets])
    return out


class VectorSource(Protocol):
    """Gives the averaged piece vectors of normalised texts (`BuiltinToxicity` is one)."""

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray: ...


def piece_vectors(texts: Sequence[str], source: VectorSource) -> np.ndarray:
    """(len(texts), EMBEDDING_DIM) vectors of raw texts, normalised exactly as the pipeline
    normalises them before toxicity, so training and scoring read the same vectors."""
    from monitor.score.toxicity import strip_furniture

    normalized = [normalize(strip_furniture(t)).text for t in texts]
    return np.asarray(source.sentence_vectors(normalized), dtype=np.float32).reshape(
        len(texts), EMBEDDING_DIM)


class TargetStanceScorer:
    """The StanceScorer of the monitor: mentions first, a linear head only where there is one."""

    # Tells the pipeline to pass `embeddings=` from the toxicity model's piece vectors.
    reads_piece_vectors = True

    def __init__(self, targets: Mapping[str, Any], model: StanceModel,
                 vectors: VectorSource | None = None) -> None:
        self.matcher = TargetMatcher(targets, normalizer=self._normalize)
        self.keys = self.matcher.keys
        self.model = model
        self.version = f"stance-{model.version}"
        self._vectors = vectors
        self._batch = threading.local()  # the pipeline's normalisations, per scoring thread

    def _normalize(self, text: str) -> Normalized:
        known: dict[str, Normalized] | None = getattr(self._batch, "known", None)
        hit = known.get(text) if known else None
        return hit if hit is not None else normalize(text)

    def _source(self) -> VectorSource:
        if self._vectors is None:
            from monitor.score.toxicity import load_builtin

            # Only the piece table is read; the built-in model is loaded on first need.
            self._vectors = load_builtin()
        return self._vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Piece vectors of raw texts (see `piece_vectors`)."""
        return piece_vectors(texts, self._source())

    def score_batch(self, texts: Sequence[str], langs: Sequence[str],
                    slurs: Sequence[Sequence[SlurHit]], *,
                    embeddings: np.ndarray | Callable[[list[int]], np.ndarray] | None = None,
                    normalized: Sequence[Normalized] | None = None,
                    probabilities: dict[tuple[int, str], np.ndarray] | None = None
                    ) -> list[dict[str, StanceResult]]:
        """One dict per text, one StanceResult per configured target.

        What the pipeline already has saves work here: `embeddings` is the texts' piece vectors
        (len(texts) × 128, `BuiltinToxicity.sentence_vectors` of the normalised texts), or a
        function giving them for a list of row indices (asked only for rows that mention a
        target); `normalized` is `normalize(strip_furniture(text))` per text. Without them the
        vectors of the texts that mention a target are computed here. A dict given as
        `probabilities` receives (text index, target) → (favor, against, none) probabilities
        for every target a head scored (what a second tier combines with).
        """
        for name, given in (("embeddings", embeddings), ("normalized", normalized)):
            if given is not None and not callable(given) and len(given) != len(texts):
                raise ValueError(f"{name} has {len(given)} rows for {len(texts)} texts")
        absent = StanceResult("none", self.model.none_without_mention)
        results = [{key: absent for key in self.keys} for _ in texts]
        if normalized is not None:
            self._batch.known = _reusable(texts, normalized)
        try:
            found = [self.matcher.find(text) for text in texts]
        finally:
            self._batch.known = None

        # (text index, target, cue row) for every mentioned target, heads batched per target.
        pending: dict[str, list[tuple[int, list[float]]]] = {}
        for i, (text, mentions) in enumerate(zip(texts, found)):
            hits = slurs[i] if i < len(slurs) else ()
            for key in self.keys:
                target_slurs = [h for h in hits if h.target.lower() == key]
                if key not in mentions and not target_slurs:
                    continue
                own = mentions.get(key) or [Mention(key, h.start, h.end, text[h.start:h.end])
                                            for h in target_slurs]
                other = [m for k, ms in mentions.items() if k != key for m in ms]
                pending.setdefault(key, []).append((i, cue_features(text, own, other, target_slurs)))
        if not pending:
            return results

        needs_embedding = sorted({i for key, rows in pending.items()
                                  if self._head(key).uses_embedding for i, _ in rows})
        vectors: dict[int, np.ndarray] = {}
        if needs_embedding:
            if callable(embeddings):
                matrix = embeddings(needs_embedding)
            elif embeddings is not None:
                matrix = np.asarray(embeddings)[needs_embedding]
            elif normalized is not None:
                matrix = self._source().sentence_vectors([normalized[i].text
                                                          for i in needs_embedding])
            else:
                matrix = self.embed([texts[i] for i in needs_embedding])
            matrix = np.asarray(matrix, dtype=np.float32).reshape(len(needs_embedding),
                                                                  EMBEDDING_DIM)
            vectors = dict(zip(needs_embedding, matrix))

        needs_text = sorted({i for key, rows in pending.items()
                             if self._head(key).reads_ngrams for i, _ in rows})
        grams: dict[int, Grams] = {}
        if needs_text:
            from monitor.score.toxicity import strip_furniture

            grams = {i: ngram_ids(normalized[i].text if normalized is not None
                                  else normalize(strip_furniture(texts[i])).text)
                     for i in needs_text}

        for key, rows in pending.items():
            head = self._head(key)
            cues = np.array([row for _, row in rows], dtype=np.float32)
            if head.uses_embedding:
                features = self.model.features(cues, np.stack([vectors[i] for i, _ in rows]))
            else:
                features = self.model.features(cues, None)
            if head.reads_ngrams:
                probs = head.probabilities(features, [grams[i] for i, _ in rows],
                                           [langs[i] if i < len(langs) else "*" for i, _ in rows])
            else:
                probs = head.probabilities(features)
            for (i, _), p in zip(rows, probs):
                if probabilities is not None:
                    probabilities[(i, key)] = p
                best = int(np.argmax(p))
                results[i][key] = StanceResult(LABELS[best], float(p[best]))
        return results

    def _head(self, key: str) -> Head:
        return self.model.heads.get(key) or self.model.heads[GENERIC_HEAD]


def scorer_from_config(config: Config, model_path: Path | None = None,
                       vectors: VectorSource | None = None) -> TargetStanceScorer:
    """The stance scorer for `config.targets`, with the shipped model (or `model_path`);
    `vectors` shares an already loaded built-in toxicity model instead of loading another."""
    return TargetStanceScorer(config.targets, StanceModel.load(model_path or DEFAULT_MODEL),
                              vectors)
