"""Comment-like texts for the scoring benchmarks, built from our own example sentences."""

from __future__ import annotations

import csv
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def comments(n: int, seed: int = 0) -> list[str]:
    """Comment-like texts of typical length (2–7 sentences, about 250 characters on average)
    from our own example sentences."""
    sentences = []
    for path in sorted((REPO / "datasets" / "toxicity").glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as fh:
            by_lang = [row["text"] for row in csv.DictReader(fh, delimiter="\t",
                                                             quoting=csv.QUOTE_NONE)]
        sentences.append(by_lang)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pool = rng.choice(sentences)
        out.append(" ".join(rng.choice(pool) for _ in range(rng.randint(2, 7))))
    return out
