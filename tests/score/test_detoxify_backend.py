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
from tests.score.detoxify_bundles import make_bundle, write_checkpoint


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
