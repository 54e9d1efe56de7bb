"""Slur detection speed: normalisation alone, and the detector with and without the lexicon.
Small by default; MONITOR_BENCH_FULL=1 for the full-size run (20,000 comments)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from monitor.score.lexicon import load_lexicon
from monitor.score.normalize import normalize
from monitor.score.slurs import LexiconSlurDetector

REPO = Path(__file__).resolve().parents[2]
SIZE = 20_000 if os.environ.get("MONITOR_BENCH_FULL") == "1" else 200


def _sentences() -> list[str]:
    texts = []
    for name, column in (("positives.tsv", 3), ("negatives.tsv", 1)):
        for line in (REPO / "datasets" / "slurs" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                texts.append(line.split("\t")[column])
    return texts


@pytest.fixture(scope="module")
def comments() -> list[str]:
    """Comments of one to four of our dev-set sentences, a number mixed in so words vary."""
    sentences = _sentences()
    rng = random.Random(7)
    return [" ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4))) + f" #{rng.randint(1, 10**6)}"
            for _ in range(SIZE)]


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon(REPO / "config" / "lexicon")


def test_normalize_speed(benchmark, comments) -> None:
    result = benchmark(lambda: [normalize(text) for text in comments])
    assert len(result) == len(comments)


@pytest.mark.parametrize("use_lexicon", [True, False], ids=["lexicon", "discovery-only"])
def test_slur_detection_speed(benchmark, comments, lexicon, use_lexicon: bool) -> None:
    detector = LexiconSlurDetector(lexicon, use_lexicon=use_lexicon)
    detector.find(" ".join(_sentences()), "de")  # word-frequency tables load once per process
    result = benchmark(lambda: [detector.find(text, "de") for text in comments])
    assert sum(1 for hits in result if hits) > len(comments) // 4
