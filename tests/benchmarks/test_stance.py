"""Stance scoring speed: alone, and what it adds to the whole scoring path (furniture, normalisation,
language, toxicity, slurs) measured side by side. Small by default; full size with
  MONITOR_BENCH_FULL=1 .venv/bin/pytest tests/benchmarks/test_stance.py --benchmark-enable -s
"""

from __future__ import annotations

import csv
import dataclasses
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config, load_targets
from monitor.score.base import ScoreInput
from monitor.score.pipeline import ScoringPipeline
from monitor.score.stance import DEFAULT_MODEL, StanceModel, TargetStanceScorer
from monitor.training.data import load
from tests.conftest import make_config_dir

REPO = Path(__file__).resolve().parents[2]
FULL = os.environ.get("MONITOR_BENCH_FULL") == "1"
SIZE = 5000 if FULL else 200
# Rounds per variant, interleaved; the fastest counts. CPU time of this process, because the
# machine is shared and wall time swings with the neighbours' load.
ROUNDS = 3
# The budget: stance adds at most 30 % to the scoring time of the whole path. The small
# default run is too short to hold that exactly; it still catches a return to the 95 % that
# encoding with the full sentence encoder cost.
BUDGET = 0.30 if FULL else 0.60


@pytest.fixture(scope="module")
def comments() -> list[str]:
    """Half our stance comments (most mention a target), half comment-like texts of 2–5
    sentences from our toxicity examples (few do), shuffled."""
    stance = sorted({ex.text for ex in load("own-stance")})
    sentences = []
    for lang in ("de", "en", "ru"):
        with (REPO / "datasets" / "toxicity" / f"{lang}.tsv").open(encoding="utf-8", newline="") as fh:
            sentences += [row["text"] for row in csv.DictReader(fh, delimiter="\t",
                                                                quoting=csv.QUOTE_NONE)]
    rng = random.Random(5)
    out = [rng.choice(stance) for _ in range(SIZE // 2)]
    out += [" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))
            for _ in range(SIZE - SIZE // 2)]
    rng.shuffle(out)
    return out


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> ScoringPipeline:
    """The pipeline `monitor score` builds from the shipped config (built-in model everywhere)."""
    folder = tmp_path_factory.mktemp("bench-stance")
    config = load_config(make_config_dir(folder, f"sqlite:///{folder / 'm.db'}"), environ={})
    built = ScoringPipeline.from_config(config)
    assert built.stance_scorer is not None and built.slur_detector is not None, built.notes
    return built


def test_stance_alone_computing_its_own_vectors(benchmark: Any, comments: list[str]) -> None:
    scorer = TargetStanceScorer(load_targets(REPO / "config" / "targets.toml"),
                                StanceModel.load(DEFAULT_MODEL))
    scorer.score_batch(comments[:5], ["de"] * 5, [[]] * 5)
    results = benchmark(scorer.score_batch, comments, ["de"] * len(comments),
                        [[] for _ in comments])
    assert len(results) == len(comments)
    benchmark.extra_info["comments"] = len(comments)


def test_whole_scoring_path_with_and_without_stance(benchmark: Any, pipeline: ScoringPipeline,
                                                    comments: list[str]) -> None:
    inputs = [ScoreInput(i, t) for i, t in enumerate(comments)]
    variants = {"with_stance": pipeline,
                "without_stance": dataclasses.replace(pipeline, stance_scorer=None)}
    for variant in variants.values():
        variant.score_batch(inputs[:20])  # warm caches (language models, tokenizer)

    best = {name: float("inf") for name in variants}
    for _ in range(ROUNDS):
        for name, variant in variants.items():
            start = time.process_time()
            results = list(variant.score_stream(inputs))
            best[name] = min(best[name], time.process_time() - start)
            assert len(results) == len(inputs)
    mentioned = sum(any(s.label != "none" for s in r.stance.values()) for r in
                    benchmark.pedantic(lambda: list(pipeline.score_stream(inputs)), rounds=1,
                                       iterations=1))

    overhead = best["with_stance"] / best["without_stance"] - 1.0
    per_s = {name: len(inputs) / seconds for name, seconds in best.items()}
    benchmark.extra_info.update({
        "comments": len(inputs), "with_a_stance": mentioned,
        "with_stance_per_cpu_s": round(per_s["with_stance"], 1),
        "without_stance_per_cpu_s": round(per_s["without_stance"], 1),
        "stance_overhead_pct": round(100 * overhead, 1)})
    print(f"\nwhole path over {len(inputs)} comments ({mentioned} with a stance): "
          f"{per_s['without_stance']:.0f}/CPU-s without stance, {per_s['with_stance']:.0f}/CPU-s with; "
          f"stance adds {100 * overhead:.1f} %")
    assert overhead <= BUDGET
