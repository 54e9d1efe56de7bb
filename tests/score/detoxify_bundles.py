"""Tiny offline Detoxify bundles (random weights) for the scoring tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["CLASSES", "make_bundle", "write_checkpoint"]

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def _tiny_bert(hf_dir: Path) -> tuple[dict, dict]:
    from transformers import BertConfig, BertForSequenceClassification

    cfg = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64, num_labels=len(CLASSES))
    cfg.save_pretrained(hf_dir)
    words = ["you", "are", "an", "idiot", "thanks", "for", "the", "report", "##s"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + list("abcdefghijklmnopqrstuvwxyz")
    (hf_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    model = BertForSequenceClassification(cfg)
    args = {"model_type": "bert-base-uncased", "model_name": "BertForSequenceClassification",
            "tokenizer_name": "BertTokenizer", "num_classes": len(CLASSES)}
    return model.state_dict(), args


def _tiny_xlmr(hf_dir: Path) -> tuple[dict, dict]:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    letters = "▁abcdefghijklmnopqrstuvwxyzäöüßабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(ch, -2.0) for ch in letters] + [("▁idiot", -1.0), ("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.save(str(hf_dir / "tokenizer.json"))
    cfg = XLMRobertaConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=32,
                           max_position_embeddings=66, num_labels=len(CLASSES), pad_token_id=1)
    cfg.save_pretrained(hf_dir)
    model = XLMRobertaForSequenceClassification(cfg)
    args = {"model_type": "xlm-roberta-base", "model_name": "XLMRobertaForSequenceClassification",
            "tokenizer_name": "XLMRobertaTokenizer", "num_classes": len(CLASSES)}
    return model.state_dict(), args


def write_checkpoint(folder: Path, kind: str) -> tuple[Path, Path, dict]:
    """A random-weight Detoxify checkpoint of `kind` ("bert"/"xlmr") plus its hf folder."""
    import torch

    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True)
    state, args = (_tiny_bert if kind == "bert" else _tiny_xlmr)(hf_dir)
    ckpt = folder / "model.ckpt"
    torch.save({"config": {"arch": {"args": args}, "dataset": {"args": {"classes": CLASSES}}},
                "state_dict": state}, ckpt)
    return ckpt, hf_dir, state


def make_bundle(root: Path, variants: dict[str, str]) -> Path:
    """An offline bundle at `root` holding tiny checkpoints, e.g. {"original": "bert"}."""
    manifest: dict = {"format": 1, "models": {}}
    for variant, kind in variants.items():
        ckpt, _, _ = write_checkpoint(root / variant, kind)
        manifest["models"][variant] = {
            "checkpoint": f"{variant}/model.ckpt", "hf_dir": f"{variant}/hf",
            "sha256": hashlib.sha256(ckpt.read_bytes()).hexdigest(), "base": kind}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root
