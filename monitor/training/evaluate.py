"""`monitor models eval`: the installed models, through the scoring pipeline, on labelled sets.

Figures on a set's validation split come from scoring it now. Sets without a split were part of
the training data, so scoring them now would flatter the model: their figures are the
out-of-fold ones recorded in the model's metadata at training time. Rows on the project's own
data are marked `own` and printed apart: they are unit tests, not evidence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from monitor.training.data import DATASETS, STANCE_LABELS, Example, load
from monitor.training.metrics import classification_report

__all__ = ["EvalRow", "evaluate", "stance_rows", "toxicity_rows"]

TOXICITY_VAL_SETS = ("olid",)
STANCE_VAL_SETS = ("ruw", "germeval2018-stance", "own-stance")


@dataclass
class EvalRow:
    """One line of the evaluation table: a task on one set, language and target."""

    task: str  # "toxicity" or "stance"
    dataset: str
    method: str  # "validation split" or "k-fold CV at training"
    lang: str
    target: str  # "-" for toxicity
    metrics: dict[str, Any] = field(default_factory=dict)
    own: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "dataset": self.dataset, "method": self.method,
                "lang": self.lang, "target": self.target, "own": self.own, **self.metrics}


def _sample(rows: list[Example], limit: int | None, seed: int = 0) -> list[Example]:
    if limit is None or len(rows) <= limit:
        return rows
    groups = sorted({e.group for e in rows})
    keep = set(random.Random(seed).sample(groups, limit))
    return [e for e in rows if e.group in keep]


def toxicity_rows(pipeline: Any, model_meta: dict[str, Any], root: Path | None = None,
                  limit: int | None = None) -> list[EvalRow]:
    """Validation splits scored now; the CV figures of every other set from the model's card."""
    from monitor.score.base import ScoreInput

    out: list[EvalRow] = []
    for name in TOXICITY_VAL_SETS:
        rows = _sample([e for e in load(name, root) if e.split == "val"], limit)
        if not rows:
            continue
        scores = pipeline.score_batch([ScoreInput(i, e.text, e.lang) for i, e in enumerate(rows)])
        y = np.array([int(e.label) for e in rows])
        pred = np.array([int(s.toxic) for s in scores])
        probs = np.array([s.toxicity for s in scores])
        out.append(EvalRow("toxicity", name, "validation split", DATASETS[name].lang, "-",
                           classification_report(y, pred, (0, 1), probs, civil=0)))
    recorded = model_meta.get("cross_validation", {})
    for name, metrics in recorded.get("metrics", {}).items():
        if name.endswith("(val)"):
            continue  # scored afresh above
        source = "own" if name.startswith("own-") else name
        lang = (name.split("-", 1)[1] if source == "own"
                else DATASETS[name].lang if name in DATASETS else "?")
        method = metrics.get("method", f"{recorded.get('folds', '?')}-fold CV") + " at training"
        shown = {k: v for k, v in metrics.items() if k != "method"}
        out.append(EvalRow("toxicity", name, method, lang, "-", shown, own=source == "own"))
    return out


def stance_rows(pipeline: Any, targets: Sequence[str], root: Path | None = None,
                limit: int | None = None) -> list[EvalRow]:
    """Every stance set's validation rows, per language and configured target."""
    from monitor.score.base import ScoreInput

    out: list[EvalRow] = []
    for name in STANCE_VAL_SETS:
        rows = [e for e in load(name, root) if e.split == "val"
                and e.task.removeprefix("stance:") in targets]
        rows = _sample(rows, limit)
        if not rows:
            continue
        texts = list(dict.fromkeys(e.text for e in rows))
        langs = {e.text: e.lang for e in rows}
        scores = pipeline.score_batch([ScoreInput(i, t, langs[t]) for i, t in enumerate(texts)])
        by_text = dict(zip(texts, scores))
        keys = sorted({(e.lang, e.task.removeprefix("stance:")) for e in rows})
        for lang, target in keys + [("all", t) for t in sorted({k[1] for k in keys})]:
            part = [e for e in rows if e.task == f"stance:{target}"
                    and (lang == "all" or e.lang == lang)]
            if not part or (lang == "all" and len({e.lang for e in part}) == 1):
                continue
            gold = [str(e.label) for e in part]
            results = [by_text[e.text].stance.get(target) for e in part]
            pred = [r.label if r else "none" for r in results]
            probs = np.array([_label_scores(r) for r in results])
            out.append(EvalRow("stance", name, "validation split", lang, target,
                               classification_report(gold, pred, STANCE_LABELS, probs,
                                                     civil="none"),
                               own=DATASETS[name].own))
    return out


def _label_scores(result: Any) -> list[float]:
    """One score per STANCE_LABELS entry from a result that holds its label's probability."""
    if result is None:
        return [0.0, 0.0, 1.0]
    rest = (1.0 - result.score) / 2
    return [result.score if lab == result.label else rest for lab in STANCE_LABELS]


def evaluate(config: Any, root: Path | None = None, limit: int | None = None,
             tasks: Sequence[str] = ("toxicity", "stance"),
             progress: Callable[[str], None] | None = None) -> list[EvalRow]:
    """The whole table for `config`'s scoring setup."""
    from monitor.score.pipeline import ScoringPipeline
    from monitor.score.toxicity import load_builtin

    say = progress or (lambda _msg: None)
    pipeline = ScoringPipeline.from_config(config)
    say(f"scoring with: {pipeline.describe()}")
    out: list[EvalRow] = []
    if "toxicity" in tasks:
        say("toxicity: scoring the validation splits")
        out += toxicity_rows(pipeline, load_builtin().meta, root, limit)
    if "stance" in tasks:
        say("stance: scoring the validation splits")
        out += stance_rows(pipeline, list(config.targets), root, limit)
    return out


def render_markdown(rows: Sequence[EvalRow]) -> str:
    """The table as Markdown, public sets first, own data apart (for the model cards)."""
    head = ("| task | set | method | lang | target | n | macro-F1 | official F1 | F1 per class "
            "| recall per class | ROC-AUC | civil flagged |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|")

    def line(r: EvalRow) -> str:
        m = r.metrics
        per_class = ", ".join(f"{k} {v:.2f}" for k, v in m.get("f1", {}).items())
        recall = ", ".join(f"{k} {v:.2f}" for k, v in m.get("recall", {}).items())
        return (f"| {r.task} | {r.dataset} | {r.method} | {r.lang} | {r.target} | {m.get('n', '')} "
                f"| {m.get('macro_f1', '–')} | {m.get('official_f1', '–')} | {per_class} "
                f"| {recall} | {m.get('roc_auc', '–')} | {m.get('civil_flagged', '–')} |")
    public = [line(r) for r in rows if not r.own]
    own = [line(r) for r in rows if r.own]
    text = head + "\n" + "\n".join(public)
    if own:
        text += ("\n\nOn the project's own data (written here; a check, not evidence):\n\n"
                 + head + "\n" + "\n".join(own))
    return text
