"""Throughput and peak memory of the scoring path: language id + normalisation + toxicity.

Small by default; `MONITOR_BENCH_FULL=1` runs full size. Figures go to extra_info and stdout:
  MONITOR_BENCH_FULL=1 .venv/bin/pytest tests/benchmarks/test_scoring.py --benchmark-enable -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.score.base import ScoreInput
from tests.benchmarks.texts import comments

FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
N_BUILTIN = 5000 if FULL else 200
N_DETOXIFY = 256 if FULL else 8
REPO = Path(__file__).resolve().parents[2]


_MEASURE = """
import json, sys, time
from monitor.score.base import ScoreInput
from tests.benchmarks.texts import comments
from monitor.score.pipeline import Route, ScoringPipeline
from monitor.score.toxicity import load_builtin
texts = json.load(sys.stdin)
model = load_builtin()
pipeline = ScoringPipeline({l: Route(model, model.threshold) for l in ("de", "en", "ru", "other")})
pipeline.score_batch([ScoreInput(0, texts[0])])  # warm caches (language models, tokenizer)
start = time.perf_counter()
out = list(pipeline.score_stream(ScoreInput(i, t) for i, t in enumerate(texts)))
elapsed = time.perf_counter() - start
print(json.dumps({"n": len(out), "seconds": elapsed, "per_s": len(out) / elapsed,
                  # VmHWM, not ru_maxrss: ru_maxrss keeps the forking pytest's peak across exec
                  "peak_rss_mb": int(open("/proc/self/status").read()
                                     .split("VmHWM:")[1].split()[0]) / 1024}))
"""


def _measure_in_subprocess(texts: list[str]) -> dict:
    """Run the path in a fresh interpreter so peak RSS counts only the scoring path."""
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", _MEASURE], input=json.dumps(texts), text=True,
                          capture_output=True, env=env, cwd=REPO, check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_builtin_scoring_path(benchmark) -> None:
    from monitor.score.pipeline import Route, ScoringPipeline
    from monitor.score.toxicity import load_builtin

    texts = comments(N_BUILTIN)
    model = load_builtin()
    pipeline = ScoringPipeline({lang: Route(model, model.threshold)
                                for lang in ("de", "en", "ru", "other")})
    inputs = [ScoreInput(i, t) for i, t in enumerate(texts)]
    pipeline.score_batch(inputs[:1])

    results = benchmark.pedantic(lambda: list(pipeline.score_stream(inputs)), rounds=1,
                                 iterations=1)
    assert len(results) == len(texts)

    fresh = _measure_in_subprocess(texts)
    benchmark.extra_info.update({
        "comments": len(texts), "mean_chars": sum(map(len, texts)) / len(texts),
        "builtin_per_s": round(fresh["per_s"], 1), "peak_rss_mb": round(fresh["peak_rss_mb"], 1)})
    print(f"\nbuiltin: {fresh['per_s']:.0f} comments/s over {len(texts)} comments "
          f"(mean {sum(map(len, texts)) / len(texts):.0f} chars), "
          f"peak RSS {fresh['peak_rss_mb']:.0f} MB")
    assert fresh["peak_rss_mb"] <= 700


def _random_detoxify(variant: str, texts: list[str], folder: Path):
    """A Detoxify of the real architecture with random weights, built from config (no download).

    The tokenizer is trained on the benchmark texts. By default the XLM-R embedding table has
    that tokenizer's vocabulary instead of 250,002 rows (same speed, 10 s less start-up).
    """
    import transformers
    from detoxify.detoxify import Detoxify
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    folder.mkdir(parents=True)
    if variant == "original":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=30522,
                                                                 special_tokens=specials))
        vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
        (folder / "vocab.txt").write_text("\n".join(w for w, _ in vocab) + "\n", encoding="utf-8")
        tokenizer = transformers.BertTokenizer.from_pretrained(str(folder))
        model = transformers.BertForSequenceClassification(transformers.BertConfig(num_labels=6))
        classes = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"]
    else:
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=8000, unk_token="<unk>",
                                                               special_tokens=specials))
        tok.save(str(folder / "tokenizer.json"))
        tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(str(folder))
        config = transformers.XLMRobertaConfig(
            vocab_size=250002 if FULL else tok.get_vocab_size(), max_position_embeddings=514,
            type_vocab_size=1, pad_token_id=1, num_labels=16)
        model = transformers.XLMRobertaForSequenceClassification(config)
        classes = ["toxicity"] + [f"head_{i}" for i in range(15)]
    tokenizer.model_max_length = 512
    model.eval()
    detox = Detoxify.__new__(Detoxify)
    detox.model, detox.tokenizer, detox.class_names, detox.device = model, tokenizer, classes, "cpu"
    return detox


@pytest.mark.parametrize("variant", ["original", "multilingual"])
def test_detoxify_scoring_path_side_by_side(benchmark, tmp_path: Path, variant: str) -> None:
    import torch

    from monitor.score.detoxify_backend import DetoxifyBackend
    from monitor.score.pipeline import Route, ScoringPipeline

    torch.set_num_threads(2)
    texts = comments(N_DETOXIFY, seed=1)
    detox = _random_detoxify(variant, comments(600, seed=2), tmp_path / variant)
    backend = DetoxifyBackend.from_detoxify(detox, variant, f"detoxify-{variant}@random")
    pipeline = ScoringPipeline({lang: Route(backend, 0.5) for lang in ("de", "en", "ru", "other")},
                               batch_size=32)
    inputs = [ScoreInput(i, t) for i, t in enumerate(texts)]
    pipeline.score_batch(inputs[:1])

    start = time.perf_counter()
    results = benchmark.pedantic(lambda: list(pipeline.score_stream(inputs)), rounds=1,
                                 iterations=1)
    per_s = len(results) / (time.perf_counter() - start)
    benchmark.extra_info.update({"comments": len(texts), f"detoxify_{variant}_per_s": round(per_s, 2)})
    print(f"\ndetoxify-{variant} (random full-size weights): {per_s:.1f} comments/s "
          f"over {len(texts)} comments")
    assert len(results) == len(texts)
    assert all(0.0 <= r.toxicity <= 1.0 for r in results)


_MEASURE_TIERS = """
import json, sys, time
from monitor.config import load_config
from monitor.score.base import ScoreInput
from monitor.score.pipeline import ScoringPipeline
texts, config_path, tiers = json.load(sys.stdin)
config = load_config(config_path, environ={})
if tiers:
    config.scoring.pipeline = [*config.scoring.pipeline, "second-tier"]
config.scoring.second_tier.threads = 2
pipeline = ScoringPipeline.from_config(config)
assert not tiers or any(c.name == "second-tier" for c in pipeline.components), pipeline.notes
pipeline.score_batch([ScoreInput(0, texts[0])])
start = time.perf_counter()
out = list(pipeline.score_stream(ScoreInput(i, t) for i, t in enumerate(texts)))
elapsed = time.perf_counter() - start
print(json.dumps({"n": len(out), "per_s": len(out) / elapsed,
                  "routed": sum("second-tier.routed" in s.attributes for s in out) / len(out),
                  "peak_rss_mb": int(open("/proc/self/status").read()
                                     .split("VmHWM:")[1].split()[0]) / 1024}))
"""


@pytest.mark.parametrize("tiers", [False, True], ids=["fast-tier", "with-second-tier"])
def test_whole_pipeline_with_and_without_the_second_tier(benchmark, tmp_path: Path,
                                                         tiers: bool) -> None:
    """`monitor score`'s pipeline (toxicity, slurs, stance) on the typical mix, one process,
    then with the shipped second-tier checkpoint added (every mentioned target routed)."""
    from monitor.score.second_tier import default_checkpoint
    from tests.conftest import make_config_dir

    if tiers and not default_checkpoint("stance").exists():
        pytest.skip("no shipped second-tier checkpoint")
    texts = comments(2000 if FULL else 100, seed=3)
    config_path = make_config_dir(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")

    def run() -> dict:
        done = subprocess.run([sys.executable, "-c", _MEASURE_TIERS], text=True, env=env,
                              input=json.dumps([texts, str(config_path), tiers]),
                              capture_output=True, cwd=REPO, check=True, timeout=900)
        return json.loads(done.stdout.strip().splitlines()[-1])

    got = benchmark.pedantic(run, rounds=1, iterations=1)
    name = "with second tier" if tiers else "fast tier only"
    benchmark.extra_info.update({"comments": got["n"], "per_s": round(got["per_s"], 1),
                                 "routed": round(got["routed"], 3),
                                 "peak_rss_mb": round(got["peak_rss_mb"], 1)})
    print(f"\nwhole pipeline, {name}: {got['per_s']:.0f} comments/s over {got['n']} comments, "
          f"{got['routed']:.1%} routed, peak RSS {got['peak_rss_mb']:.0f} MB")
    assert got["n"] == len(texts)
    assert (got["routed"] > 0) == tiers
