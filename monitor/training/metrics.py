"""The figures the model cards and `monitor models eval` report, computed one way everywhere."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["classification_report", "official_f1"]


def official_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """GermEval's metric: the harmonic mean of macro-averaged precision and macro recall."""
    precisions, recalls = [], []
    for cls in np.unique(np.concatenate([y, pred])):
        tp = float(np.sum((pred == cls) & (y == cls)))
        predicted, actual = float(np.sum(pred == cls)), float(np.sum(y == cls))
        precisions.append(tp / predicted if predicted else 0.0)
        recalls.append(tp / actual if actual else 0.0)
    p, r = float(np.mean(precisions)), float(np.mean(recalls))
    return 2 * p * r / (p + r) if p + r else 0.0


def classification_report(gold: Sequence[Any], predicted: Sequence[Any], labels: Sequence[Any],
                          scores: np.ndarray | None = None, civil: Any = None) -> dict[str, Any]:
    """Macro-F1, per-class F1 and recall, official F1, ROC-AUC, confusion matrix and the share of
    civil text flagged.

    `scores` holds one column per label (probabilities); with two labels a single column for the
    second label is enough. `civil` names the label of harmless text: `civil_flagged` is the share
    of it given any other label.
    """
    from sklearn.metrics import confusion_matrix, f1_score, recall_score, roc_auc_score

    y, p = np.asarray(gold), np.asarray(predicted)
    out: dict[str, Any] = {"n": int(len(y))}
    if not len(y):
        return out
    present = [lab for lab in labels if np.any(y == lab)]
    per_class = f1_score(y, p, labels=list(labels), average=None, zero_division=0)
    out["macro_f1"] = round(float(np.mean([f for lab, f in zip(labels, per_class)
                                          if lab in present])), 4)
    out["official_f1"] = round(official_f1(y, p), 4)
    out["f1"] = {str(lab): round(float(f), 4) for lab, f in zip(labels, per_class)}
    recalls = recall_score(y, p, labels=list(labels), average=None, zero_division=0)
    out["recall"] = {str(lab): round(float(r), 4) for lab, r in zip(labels, recalls)
                     if lab in present}
    out["support"] = {str(lab): int(np.sum(y == lab)) for lab in labels}
    if scores is not None and len(present) > 1:
        s = np.asarray(scores, dtype=np.float64)
        try:
            if s.ndim == 1 or len(labels) == 2:
                column = s if s.ndim == 1 else s[:, 1]
                out["roc_auc"] = round(float(roc_auc_score(y == labels[1], column)), 4)
            else:
                aucs = [roc_auc_score(y == lab, s[:, i]) for i, lab in enumerate(labels)
                        if lab in present]
                out["roc_auc"] = round(float(np.mean(aucs)), 4)
        except ValueError:
            pass
    out["confusion"] = confusion_matrix(y, p, labels=list(labels)).tolist()
    if civil is not None and np.any(y == civil):
        out["civil_flagged"] = round(float(np.mean(p[y == civil] != civil)), 4)
    return out
