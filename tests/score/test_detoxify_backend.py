"""Detoxify loads from an offline bundle through its own code, with no network at all."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import socket
import threading
from pathlib import Path

import pytest

from monitor.errors import ModelError, NotConfigured
from monitor.score.detoxify_backend import DetoxifyBackend, bundle_status, pull_bundle

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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection outside 127.0.0.1 fails the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"network access to {address!r} during an offline load")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.mark.parametrize(("variant", "kind"), [("original", "bert"), ("multilingual", "xlmr")])
def test_tiny_checkpoint_loads_offline_and_scores(tmp_path: Path, no_network: None,
                                                  variant: str, kind: str) -> None:
    import torch

    bundle = make_bundle(tmp_path / "detoxify", {variant: kind})
    backend = DetoxifyBackend(bundle, variant)
    scores = backend.score(["you are an idiot", "thanks for the reports", ""], ["en", "en", "en"])

    assert len(scores) == 3
    assert backend.version.startswith(f"detoxify-{variant}@")
    for s in scores:
        assert 0.0 <= s.toxicity <= 1.0
        assert s.model == backend.version
        assert set(s.attributes) == {"severe_toxicity", "obscene", "threat", "insult",
                                     "identity_attack"}
    # The weights in use are the checkpoint's, not a fresh random initialisation.
    saved = torch.load(bundle / variant / "model.ckpt", weights_only=True)["state_dict"]
    assert torch.equal(backend._detox.model.classifier.out_proj.weight
                       if kind == "xlmr" else backend._detox.model.classifier.weight,
                       saved["classifier.out_proj.weight" if kind == "xlmr"
                             else "classifier.weight"])


def test_missing_bundle_says_how_to_pull(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match="monitor models pull"):
        DetoxifyBackend(tmp_path / "nothing-here", "original")


def test_bundle_without_the_variant_names_the_missing_one(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "detoxify", {"original": "bert"})
    with pytest.raises(NotConfigured, match="multilingual"):
        DetoxifyBackend(bundle, "multilingual")
    status = bundle_status(bundle)
    assert status["original"] == "ok"
    assert "monitor models pull multilingual" in status["multilingual"]


def test_tampered_checkpoint_is_reported_not_crashing(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "detoxify", {"original": "bert"})
    (bundle / "original" / "model.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="models pull"):
        DetoxifyBackend(bundle, "original")


def test_pull_reports_a_refused_connection_and_leaves_no_half_bundle(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago refuses connections
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dest = tmp_path / "detoxify"
    with pytest.raises(ModelError, match="cannot download Detoxify 'original'"):
        pull_bundle(dest, ["original"],
                    checkpoint_urls={"original": f"http://127.0.0.1:{port}/model.ckpt"},
                    hf_url=f"http://127.0.0.1:{port}/{{repo}}/{{file}}")
    assert not (dest / "manifest.json").exists()
    assert list(dest.iterdir()) == []
    with pytest.raises(NotConfigured):
        DetoxifyBackend(dest, "original")


def test_pull_from_a_server_makes_a_bundle_that_loads_offline(tmp_path: Path) -> None:
    served = tmp_path / "served"
    ckpt, hf_dir, _ = write_checkpoint(served, "bert")
    # The server mimics the two sources: the checkpoint URL and hub-style config/tokenizer URLs.
    repo_dir = served / "bert-base-uncased"
    repo_dir.mkdir()
    for name in ("config.json", "vocab.txt"):
        (repo_dir / name).write_bytes((hf_dir / name).read_bytes())
    (repo_dir / "tokenizer_config.json").write_text('{"do_lower_case": true}', encoding="utf-8")
    (repo_dir / "tokenizer.json").write_text("", encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        dest = pull_bundle(tmp_path / "detoxify", ["original"],
                           checkpoint_urls={"original": f"{base}/model.ckpt"},
                           hf_url=base + "/{repo}/{file}")
    finally:
        server.shutdown()
    (dest / "original" / "hf" / "tokenizer.json").unlink()  # the empty stand-in is not a tokenizer
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["models"]["original"]["sha256"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    backend = DetoxifyBackend(dest, "original")
    assert 0.0 <= backend.score(["thanks"], ["en"])[0].toxicity <= 1.0
