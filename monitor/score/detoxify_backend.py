"""Detoxify as a toxicity backend, loaded fully offline from a bundle that `monitor models pull` makes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from monitor.errors import ModelError, NotConfigured
from monitor.score.base import ToxicityScore

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINT_URLS",
    "DetoxifyBackend",
    "HF_FILES",
    "VARIANTS",
    "bundle_status",
    "load_detoxify",
    "pull_bundle",
]

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"

# Detoxify's released checkpoints (the URLs its own loader uses) and the hub repository whose
# config and tokenizer each one was trained from.
_RELEASES = "https://github.com/unitaryai/detoxify/releases/download/"
CHECKPOINT_URLS = {
    "original": _RELEASES + "v0.1-alpha/toxic_original-c1212f89.ckpt",
    "unbiased": _RELEASES + "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
    "multilingual": _RELEASES + "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
}
BASE_MODELS = {"original": "bert-base-uncased", "unbiased": "roberta-base",
               "multilingual": "xlm-roberta-base"}
VARIANTS = tuple(CHECKPOINT_URLS)
HF_FILES = {
    "bert-base-uncased": ("config.json", "vocab.txt", "tokenizer_config.json", "tokenizer.json"),
    "roberta-base": ("config.json", "vocab.json", "merges.txt", "tokenizer.json"),
    "xlm-roberta-base": ("config.json", "sentencepiece.bpe.model", "tokenizer.json"),
}
HF_URL = "https://huggingface.co/{repo}/resolve/main/{file}"
_RENAMED = {"toxic": "toxicity", "identity_hate": "identity_attack",
            "severe_toxic": "severe_toxicity"}
_PULL_HINT = "run `monitor models pull` where a network exists, or set scoring.detoxify_dir"


@dataclass(frozen=True)
class BundleEntry:
    """One variant in a bundle: its checkpoint, its local config/tokenizer folder, its digest."""

    variant: str
    checkpoint: Path
    hf_dir: Path
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(bundle_dir: Path) -> dict[str, Any]:
    path = bundle_dir / MANIFEST
    if not path.is_file():
        raise NotConfigured("detoxify", f"no offline bundle at {bundle_dir} ({_PULL_HINT})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is unreadable ({exc}); run `monitor models pull` again") from exc
    if manifest.get("format") != BUNDLE_FORMAT or not isinstance(manifest.get("models"), dict):
        raise ModelError(f"{path} is not a format-{BUNDLE_FORMAT} detoxify bundle; "
                         "run `monitor models pull` again")
    return manifest


def bundle_entry(bundle_dir: Path, variant: str) -> BundleEntry:
    """The manifest entry for `variant`; NotConfigured when the bundle or variant is absent."""
    manifest = _read_manifest(bundle_dir)
    entry = manifest["models"].get(variant)
    if entry is None:
        have = ", ".join(sorted(manifest["models"])) or "none"
        raise NotConfigured("detoxify", f"bundle {bundle_dir} has no '{variant}' model (has: "
                            f"{have}); run `monitor models pull {variant}`")
    result = BundleEntry(variant, bundle_dir / entry["checkpoint"], bundle_dir / entry["hf_dir"],
                         entry["sha256"])
    if not result.checkpoint.is_file() or not (result.hf_dir / "config.json").is_file():
        raise ModelError(f"detoxify bundle {bundle_dir} is incomplete for '{variant}' "
                         f"(missing {result.checkpoint.name} or config.json); "
                         f"run `monitor models pull {variant}` again")
    return result


def bundle_status(bundle_dir: Path) -> dict[str, str]:
    """variant -> "ok" or the reason it cannot be used, for `monitor models info`."""
    status: dict[str, str] = {}
    for variant in VARIANTS:
        try:
            bundle_entry(bundle_dir, variant)
            status[variant] = "ok"
        except (NotConfigured, ModelError) as exc:
            status[variant] = str(exc)
    return status


def _load_checkpoint(entry: BundleEntry) -> dict[str, Any]:
    import pickle

    import torch

    try:
        return torch.load(entry.checkpoint, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # Some released checkpoints hold plain Python objects besides tensors; unpickle
        # them fully only when the file is byte for byte the one `pull` recorded.
        if _sha256(entry.checkpoint) != entry.sha256:
            raise ModelError(f"{entry.checkpoint} does not match the digest in its manifest; "
                             "run `monitor models pull` again") from None
        return torch.load(entry.checkpoint, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise ModelError(f"cannot read {entry.checkpoint} ({exc}); "
                         "run `monitor models pull` again") from exc


def load_detoxify(entry: BundleEntry) -> Any:
    """A `detoxify.Detoxify` whose model and tokenizer come from the bundle, with no network."""
    # Both flags must be set before the hub client is imported to take effect.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import transformers
    from detoxify.detoxify import Detoxify, get_model_and_tokenizer

    transformers.utils.logging.disable_progress_bar()
    loaded = _load_checkpoint(entry)
    try:
        args = dict(loaded["config"]["arch"]["args"])
        classes = list(loaded["config"]["dataset"]["args"]["classes"])
        state_dict = loaded["state_dict"]
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{entry.checkpoint} is not a Detoxify checkpoint (no {exc}); "
                         "run `monitor models pull` again") from exc
    # Detoxify resolves the hub name stored in the checkpoint even when given a local folder;
    # pointing that name at the bundle's folder keeps every lookup on disk.
    args["model_type"] = str(entry.hf_dir)
    try:
        model, tokenizer = get_model_and_tokenizer(
            **args, state_dict=state_dict, huggingface_config_path=str(entry.hf_dir))
    except (OSError, ValueError, AttributeError, RuntimeError) as exc:
        raise ModelError(f"cannot build Detoxify '{entry.variant}' from {entry.hf_dir} ({exc}); "
                         "run `monitor models pull` again") from exc
    limit = getattr(model.config, "max_position_embeddings", 514) - 2
    if not tokenizer.model_max_length or tokenizer.model_max_length > limit:
        tokenizer.model_max_length = min(512, limit)
    detox = Detoxify.__new__(Detoxify)
    detox.model, detox.tokenizer = model, tokenizer
    detox.class_names = [_RENAMED.get(name, name) for name in classes]
    detox.device = "cpu"
    model.eval()
    return detox


class DetoxifyBackend:
    """Scores with a Detoxify checkpoint from the offline bundle; `attributes` holds its
    other heads (insult, threat …)."""

    def __init__(self, bundle_dir: Path, variant: str = "original", batch_size: int = 32) -> None:
        if variant not in VARIANTS:
            raise NotConfigured("detoxify", f"unknown variant '{variant}' "
                                f"(known: {', '.join(VARIANTS)})")
        entry = bundle_entry(Path(bundle_dir), variant)
        self.name = f"detoxify-{variant}"
        self.version = f"detoxify-{variant}@{entry.sha256[:12]}"
        self.batch_size = batch_size
        self._detox = load_detoxify(entry)

    @classmethod
    def from_detoxify(cls, detox: Any, variant: str, version: str,
                      batch_size: int = 32) -> DetoxifyBackend:
        """Wrap an already built `detoxify.Detoxify` (benchmarks build full-size random ones)."""
        self = cls.__new__(cls)
        self.name, self.version, self.batch_size = f"detoxify-{variant}", version, batch_size
        self._detox = detox
        return self

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> list[ToxicityScore]:
        out: list[ToxicityScore] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = [t if t.strip() else "." for t in texts[start:start + self.batch_size]]
            result = self._detox.predict(chunk)
            # Detoxify squeezes a one-text batch down to bare floats.
            columns = {name: col if isinstance(col, list) else [col]
                       for name, col in result.items()}
            for i in range(len(chunk)):
                values = {name: float(col[i]) for name, col in columns.items()}
                tox = values.pop("toxicity")
                out.append(ToxicityScore(tox, self.version, values))
        return out



def _download(client: Any, url: str, dest: Path) -> None:
    with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise ModelError(f"download of {url} failed with HTTP {response.status_code}")
        with dest.open("wb") as fh:
            for block in response.iter_bytes(1 << 20):
                fh.write(block)


def pull_bundle(dest: Path, variants: Sequence[str], *, client: Any = None,
                checkpoint_urls: dict[str, str] | None = None, hf_url: str = HF_URL,
                progress: Callable[[str], None] | None = None) -> Path:
    """Download checkpoints and their config/tokenizer files into `dest` as an offline bundle.

    Files land in a temporary folder next to `dest` and move in only when all arrived, so a
    failed pull never leaves a half bundle behind; an existing bundle keeps its other variants.
    """
    import httpx

    urls = checkpoint_urls or CHECKPOINT_URLS
    unknown = [v for v in variants if v not in urls]
    if unknown:
        raise ModelError(f"unknown Detoxify variant(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(VARIANTS)}")
    own_client = client is None
    if own_client:
        client = httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=300.0))
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path = dest / MANIFEST
    manifest = (json.loads(manifest_path.read_text(encoding="utf-8"))
                if manifest_path.is_file() else {"format": BUNDLE_FORMAT, "models": {}})
    staging = Path(tempfile.mkdtemp(prefix=".pull-", dir=dest))
    try:
        for variant in variants:
            base = BASE_MODELS[variant]
            work = staging / variant
            (work / "hf").mkdir(parents=True)
            ckpt = work / Path(urls[variant]).name
            try:
                if progress:
                    progress(f"{variant}: {urls[variant]}")
                _download(client, urls[variant], ckpt)
                for name in HF_FILES[base]:
                    url = hf_url.format(repo=base, file=name)
                    if progress:
                        progress(f"{variant}: {url}")
                    _download(client, url, work / "hf" / name)
            except httpx.HTTPError as exc:
                raise ModelError(f"cannot download Detoxify '{variant}' ({exc.__class__.__name__}:"
                                 f" {exc}); run `monitor models pull` where a network exists "
                                 "and copy the bundle folder here") from exc
            final = dest / variant
            if final.exists():
                shutil.rmtree(final)
            work.rename(final)
            manifest["models"][variant] = {
                "checkpoint": f"{variant}/{ckpt.name}", "hf_dir": f"{variant}/hf",
                "sha256": _sha256(final / ckpt.name), "source": urls[variant], "base": base,
            }
            manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if own_client:
            client.close()
    return dest
