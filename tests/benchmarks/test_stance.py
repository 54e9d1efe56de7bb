"""Stance scoring speed, alone and beside the rest of the scoring path (language, normalisation,
sentence embedding). Small by default; MONITOR_BENCH_FULL=1 for the full-size run."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_targets
from monitor.score.language import detect_languages
from monitor.score.normalize import normalize
from monitor.score.stance import DEFAULT_MODEL, StanceModel, TargetStanceScorer, load_encoder
from monitor.score.train_stance import load_examples

REPO = Path(__file__).resolve().parents[2]
SIZE = 5000 if os.environ.get("MONITOR_BENCH_FULL") == "1" else 200


@pytest.fixture(scope="module")
def comments() -> list[str]:
    """Our labelled comments, shuffled and repeated to SIZE (about 70 % mention a target)."""
    texts = [ex.text for name in ("train.jsonl", "heldout.jsonl")
             for ex in load_examples(REPO / "datasets" / "stance" / name)]
    rng = random.Random(5)
    return [rng.choice(texts) for _ in range(SIZE)]


@pytest.fixture(scope="module")
def scorer() -> TargetStanceScorer:
    encoder = load_encoder()
    encoder.encode(["warm-up"])
    return TargetStanceScorer(load_targets(REPO / "config" / "targets.toml"),
                              StanceModel.load(DEFAULT_MODEL), encoder)


def _score(scorer: TargetStanceScorer, texts: list[str], embeddings: Any = None) -> list[Any]:
    return scorer.score_batch(texts, ["de"] * len(texts), [[] for _ in texts], embeddings=embeddings)


def test_stance_encoding_mentioned_comments_itself(benchmark: Any, scorer: TargetStanceScorer,
                                                   comments: list[str]) -> None:
    results = benchmark(_score, scorer, comments)
    assert len(results) == len(comments)


def test_stance_with_embeddings_shared_by_the_pipeline(benchmark: Any, scorer: TargetStanceScorer,
                                                       comments: list[str]) -> None:
    embeddings = load_encoder().encode(comments)
    results = benchmark(_score, scorer, comments, embeddings)
    assert len(results) == len(comments)


def test_scoring_path_without_stance(benchmark: Any, comments: list[str]) -> None:
    """The reference the 30 % budget is measured against: language, normalisation, embedding."""
    encoder = load_encoder()

    def path() -> Any:
        detect_languages(comments)
        for text in comments:
            normalize(text)
        return encoder.encode(comments)

    assert benchmark(path).shape == (len(comments), 512)
