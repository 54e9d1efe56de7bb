"""Training and evaluating the stance model (`monitor/score/models/stance-v4.npz`).

What `monitor models train|eval` call:

    train_stance(data_root: Path | None = None, *, stated_licence_only: bool = False,
                 output: Path = DEFAULT_MODEL, log: Callable[[str], None] = print
                 ) -> StanceTrainResult
        Trains every head from the labelled sets (`monitor.training.data`) and writes the
        model. `stated_licence_only` leaves out sets without a stated licence (then RUW, the
        only real stance set, is out: Russia and NATO heads come from the project's own data
        alone, Ukraine gets no head and falls back to the cue head).

    evaluate_stance(model: Path = DEFAULT_MODEL, data_root: Path | None = None, *,
                    quick: bool = False) -> list[StanceEvalRow]
        Scores the validation parts: RUW val (Russia, Ukraine; the headline), GermEval 2018
        stance (German transfer; never trained on), then the project's own held-out files
        (`own=True`: shown apart, never the headline). `quick` scores the first 150 rows of
        each set (the test suite's subset).

Heads: per trained target, a linear part over [the 128-d piece vector, cues] (multilingual)
and one over hashed n-grams (mostly English, from RUW), their probabilities mixed with a weight
per language chosen on a development part of the training data, never on the validation sets.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from scipy import sparse

from monitor.config import TargetConfig, load_targets
from monitor.errors import InputError
from monitor.score.normalize import normalize
from monitor.score.stance import (DEFAULT_MODEL, GENERIC_HEAD, LABELS, NGRAM_BITS, Head,
                                  StanceModel, TargetStanceScorer, cue_features, ngram_ids,
                                  piece_vectors)
from monitor.score.targets import TargetMatcher
from monitor.score.toxicity import load_builtin, strip_furniture
from monitor.training.data import DATASETS, Example, load, load_many

__all__ = ["StanceEvalRow", "StanceTrainResult", "UKRAINE", "evaluate_stance", "macro_f1",
           "train_stance"]

REPO = Path(__file__).resolve().parents[2]
TARGETS_FILE = REPO / "config" / "targets.toml"
VERSION = "v4"
TRAIN_SETS = ("ruw", "own-stance")
# Ukraine is not in the shipped targets.toml; RUW labels it, so the model carries a head an
# operator uses by adding [targets.ukraine] with (at least) these aliases.
UKRAINE = TargetConfig(key="ukraine", label="Ukraine", aliases={
    "de": ["Ukraine", "ukrainisch", "Ukrainer", "Kiew", "Selenskyj"],
    "en": ["Ukraine", "Ukrainian", "Ukrainians", "Kyiv", "Kiev", "Zelensky", "Zelenskyy"],
    "ru": ["Украина", "украинский", "украинцы", "Киев", "Зеленский", "Україна"]})
# Fixed regularisation (chosen once by a development split of RUW train: n-grams C=1 gave
# 0.552, vectors+cues C=3 0.469 macro-F1 toward Russia); refitting a grid costs minutes here.
C_NGRAM = 1.0
C_DENSE = 3.0
# Weight of a German or Russian row in training: RUW's English rows outnumber them 10 to 1,
# and without this the multilingual part learns English topic words as the verdict.
OTHER_LANGUAGE_WEIGHT = 3.0
# A reviewer's verdict on a watched comment counts three times a public row (as in toxicity).
VERDICT_WEIGHT = 3.0
MIX_GRID = tuple(round(0.1 * i, 1) for i in range(11))


@dataclass
class StanceTrainResult:
    """What a training run built: the file, the sets it read, and per head what it learnt."""

    path: Path
    datasets: list[str]
    left_out: list[str]
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class StanceEvalRow:
    """One line of the evaluation table: a set, a target, a language (or "all")."""

    dataset: str
    target: str
    lang: str
    n: int
    macro_f1: float
    f1: dict[str, float]           # per label
    confusion: list[list[int]]     # rows gold, columns predicted, in LABELS order
    own: bool                      # the project's own text: shown apart, never the headline


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the labels present in gold or predictions."""
    scores = [f for f in _per_label_f1(gold, predicted).values() if f is not None]
    return sum(scores) / len(scores) if scores else 0.0


def _per_label_f1(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label != g for g, p in zip(gold, predicted))
        fn = sum(g == label != p for g, p in zip(gold, predicted))
        out[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return out


def _targets() -> dict[str, Any]:
    targets: dict[str, Any] = dict(load_targets(TARGETS_FILE))
    targets.setdefault("ukraine", UKRAINE)
    return targets


def _prepared(text: str) -> str:
    """The text as the pipeline hands it to stance (`normalize(strip_furniture(text))`)."""
    return normalize(strip_furniture(text)).text


def _ngram_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    rows, cols, values = [], [], []
    for i, text in enumerate(texts):
        ids, weights = ngram_ids(text)
        rows += [i] * len(weights)
        cols += ids.astype(np.int64).tolist()
        values += weights.tolist()
    return sparse.csr_matrix((values, (rows, cols)), shape=(len(texts), 1 << NGRAM_BITS),
                             dtype=np.float32)


@dataclass
class _Pairs:
    """The mentioned (text, target) pairs of one target, with everything a head reads."""

    examples: list[Example]
    cues: np.ndarray
    labels: np.ndarray


def _pairs(examples: Sequence[Example], matcher: TargetMatcher, key: str) -> tuple[_Pairs, int, int]:
    kept, cues = [], []
    unmentioned = unmentioned_none = 0
    for ex in examples:
        found = matcher.find(ex.text)
        if key not in found:
            unmentioned += 1
            unmentioned_none += ex.label == "none"
            continue
        other = [m for k, ms in found.items() if k != key for m in ms]
        kept.append(ex)
        cues.append(cue_features(ex.text, found[key], other, []))
    labels = np.array([LABELS.index(str(ex.label)) for ex in kept])
    return _Pairs(kept, np.array(cues, dtype=np.float32), labels), unmentioned, unmentioned_none


def _logistic(x: Any, y: np.ndarray, c: float, weight: np.ndarray | None = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    if sorted(set(y.tolist())) != list(range(len(LABELS))):
        raise InputError("stance training needs mentioned examples of all three labels per target")
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(
        x, y, sample_weight=weight)


def _dev_split(examples: Sequence[Example]) -> np.ndarray:
    """True for the rows of a development part, one group in five by a hash of the group: the
    same rows for every target, and translations stay together."""
    return np.array([zlib.crc32(ex.group.encode()) % 5 == 0 for ex in examples])


def _mix_weights(dense: np.ndarray, ngram: np.ndarray, y: np.ndarray, langs: np.ndarray
                 ) -> dict[str, float]:
    """The n-gram weight per language that gives the best development macro-F1."""
    weights: dict[str, float] = {}
    for lang in sorted(set(langs.tolist())):
        rows = langs == lang
        gold = [LABELS[v] for v in y[rows]]
        best = max(MIX_GRID, key=lambda w: (macro_f1(gold, [
            LABELS[v] for v in ((1 - w) * dense[rows] + w * ngram[rows]).argmax(1)]), -w))
        weights[lang] = best
    weights["*"] = min(weights.get(lang, 0.0) for lang in ("de", "ru")) if weights else 0.0
    return weights


def _mix(dense: np.ndarray, ngram: np.ndarray, langs: np.ndarray, weights: Mapping[str, float]
         ) -> np.ndarray:
    w = np.array([weights.get(lang, weights.get("*", 0.0)) for lang in langs])[:, None]
    return (1 - w) * dense + w * ngram


def _fit_parts(dense_x: np.ndarray, grams: sparse.csr_matrix, y: np.ndarray, langs: np.ndarray,
               weight: np.ndarray, labelled: np.ndarray, dev: np.ndarray
               ) -> tuple[Head, np.ndarray, dict[str, float]]:
    """A head's two parts fitted on the labelled non-development rows (to choose the mixing
    weights and to give development predictions for every development row), then refitted on
    all labelled rows."""
    fit = labelled & ~dev
    dense = _logistic(dense_x[fit], y[fit], C_DENSE, weight[fit])
    ngram = _logistic(grams[fit], y[fit], C_NGRAM, weight[fit])
    dense_dev, ngram_dev = dense.predict_proba(dense_x[dev]), ngram.predict_proba(grams[dev])
    scored = labelled[dev]
    weights = _mix_weights(dense_dev[scored], ngram_dev[scored], y[dev][scored], langs[dev][scored])
    dense = _logistic(dense_x[labelled], y[labelled], C_DENSE, weight[labelled])
    ngram = _logistic(grams[labelled], y[labelled], C_NGRAM, weight[labelled])
    head = Head(dense.coef_.astype(np.float32), dense.intercept_.astype(np.float32), True,
                ngram.coef_.astype(np.float32), ngram.intercept_.astype(np.float32), weights)
    return head, _mix(dense_dev, ngram_dev, langs[dev], weights), weights


def _train_head(pairs: _Pairs, vectors: np.ndarray, scaled: np.ndarray,
                log: Callable[[str], None]) -> tuple[Head, dict[str, Any]]:
    grams = _ngram_matrix([_prepared(ex.text) for ex in pairs.examples])
    dense_x = np.hstack([vectors, scaled])
    langs = np.array([ex.lang for ex in pairs.examples])
    dev = _dev_split(pairs.examples)
    weight = np.where(langs == "en", 1.0, OTHER_LANGUAGE_WEIGHT)
    weight = weight * np.array([VERDICT_WEIGHT if ex.source == "verdicts" else 1.0
                                for ex in pairs.examples])
    everything = np.ones(len(langs), dtype=bool)
    log(f"  development split: {int((~dev).sum())} fit, {int(dev.sum())} dev")
    head, own_dev, weights = _fit_parts(dense_x, grams, pairs.labels, langs, weight, everything, dev)
    log(f"  n-gram weight per language: {weights}")
    report: dict[str, Any] = {
        "pairs": len(pairs.labels), "ngram_weight": weights,
        "support": {lab: int((pairs.labels == i).sum()) for i, lab in enumerate(LABELS)},
        "languages": {str(lang): int((langs == lang).sum()) for lang in sorted(set(langs))}}
    return head, report


def train_stance(data_root: Path | None = None, *, stated_licence_only: bool = False,
                 output: Path = DEFAULT_MODEL, log: Callable[[str], None] = print,
                 extra: Sequence[Example] = ()) -> StanceTrainResult:
    """Train the stance heads on the training parts of the labelled sets and write the model.

    `extra` adds rows such as reviewers' verdicts (source "verdicts", weighing VERDICT_WEIGHT)."""
    names = [n for n in TRAIN_SETS if not stated_licence_only or DATASETS[n].licence_stated]
    left_out = [n for n in TRAIN_SETS if n not in names]
    examples = [ex for ex in load_many(names, data_root) if ex.split == "train"] + list(extra)
    targets = _targets()
    matcher = TargetMatcher(targets)
    by_key: dict[str, list[Example]] = {}
    for ex in examples:
        key = ex.task.removeprefix("stance:")
        if key in matcher.keys:
            by_key.setdefault(key, []).append(ex)

    per_key: dict[str, _Pairs] = {}
    unmentioned = unmentioned_none = 0
    for key, rows in sorted(by_key.items()):
        pairs, n_un, n_none = _pairs(rows, matcher, key)
        per_key[key] = pairs
        unmentioned += n_un
        unmentioned_none += n_none
    all_cues = np.vstack([p.cues for p in per_key.values()])
    mean = all_cues.mean(axis=0)
    std = all_cues.std(axis=0)
    scale = np.where(std > 1e-6, std, 1.0).astype(np.float32)

    texts = sorted({ex.text for p in per_key.values() for ex in p.examples})
    log(f"stance: piece vectors of {len(texts)} texts")
    vector_of = dict(zip(texts, piece_vectors(texts, load_builtin())))
    result = StanceTrainResult(output, names, left_out)
    heads: dict[str, Head] = {}
    for key, pairs in per_key.items():
        log(f"stance: head {key} ({len(pairs.labels)} mentioned pairs)")
        vectors = np.stack([vector_of[ex.text] for ex in pairs.examples])
        heads[key], result.heads[key] = _train_head(pairs, vectors, (pairs.cues - mean) / scale,
                                                    log)
        result.heads[key]["sets"] = sorted({ex.source for ex in pairs.examples})
    pooled_y = np.concatenate([p.labels for p in per_key.values()])
    generic = _logistic((all_cues - mean) / scale, pooled_y, 0.3)
    heads[GENERIC_HEAD] = Head(generic.coef_.astype(np.float32),
                               generic.intercept_.astype(np.float32), False)
    result.heads[GENERIC_HEAD] = {"pairs": len(pooled_y)}
    none_share = (unmentioned_none + 1) / (unmentioned + 2)
    model = StanceModel(VERSION, heads, mean.astype(np.float32), scale, round(none_share, 4),
                        tuple(names))
    model.save(output)
    log(f"stance: wrote {output}")
    return result


def _rows_for(dataset: str, examples: Sequence[Example], predicted: Sequence[Mapping[str, Any]],
              own: bool) -> list[StanceEvalRow]:
    out = []
    for target in sorted({ex.task.removeprefix("stance:") for ex in examples}):
        idx = [i for i, ex in enumerate(examples) if ex.task == f"stance:{target}"
               and target in predicted[i]]
        if not idx:
            continue
        langs = sorted({examples[i].lang for i in idx})
        for lang in (["all"] + langs) if len(langs) > 1 else langs:
            sub = [i for i in idx if lang in ("all", examples[i].lang)]
            gold = [str(examples[i].label) for i in sub]
            pred = [predicted[i][target].label for i in sub]
            f1 = _per_label_f1(gold, pred)
            confusion = [[sum(g == a and p == b for g, p in zip(gold, pred)) for b in LABELS]
                         for a in LABELS]
            out.append(StanceEvalRow(dataset, target, lang, len(sub), round(macro_f1(gold, pred), 3),
                                     {k: round(v or 0.0, 3) for k, v in f1.items()}, confusion, own))
    return out


def evaluate_stance(model: Path = DEFAULT_MODEL, data_root: Path | None = None, *,
                    quick: bool = False) -> list[StanceEvalRow]:
    """Stance figures of the model on each validation set (see the module docstring)."""
    scorer = TargetStanceScorer(_targets(), StanceModel.load(model))
    rows: list[StanceEvalRow] = []
    for name, own in (("ruw", False), ("germeval2018-stance", False), ("own-stance", True)):
        examples = [ex for ex in load(name, data_root) if ex.split == "val"]
        if quick:
            examples = examples[:300]
        lang_of = {ex.text: ex.lang for ex in examples}
        texts = sorted(lang_of)
        scored = scorer.score_batch(texts, [lang_of[t] for t in texts], [[] for _ in texts])
        by_text = dict(zip(texts, scored))
        rows += _rows_for(name, examples, [by_text[ex.text] for ex in examples], own)
    return rows

