"""Recall, precision and target accuracy of the slur detector on this dev set (lexicon on/off)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from monitor.score.lexicon import load_lexicon  # noqa: E402
from monitor.score.slurs import LexiconSlurDetector  # noqa: E402


def read_tsv(name: str) -> list[list[str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def evaluate(use_lexicon: bool, verbose: bool = False, prefix: str = "") -> dict[str, float]:
    detector = LexiconSlurDetector(load_lexicon(ROOT / "config" / "lexicon"), use_lexicon)
    positives = read_tsv(f"{prefix}positives.tsv")
    negatives = read_tsv(f"{prefix}negatives.tsv")
    found = right_target = hits_total = hits_correct = 0
    started = time.perf_counter()
    for lang, target, term, text in positives:
        start = text.lower().index(term.lower())
        end = start + len(term)
        hits = detector.find(text, lang)
        hits_total += len(hits)
        match = next((h for h in hits if h.start < end and start < h.end), None)
        if match is not None:
            found += 1
            hits_correct += 1
            right_target += match.target == target
            if verbose and match.target != target:
                print(f"  wrong target: {term} -> {match.target} (want {target})")
        elif verbose:
            print(f"  missed: {lang} {target} {term}")
    flagged = 0
    for lang, text in negatives:
        hits = detector.find(text, lang)
        hits_total += len(hits)
        if hits:
            flagged += 1
            if verbose:
                print(f"  false alarm: {[h.term for h in hits]} in {text}")
    elapsed = time.perf_counter() - started
    return {
        "recall": found / len(positives),
        "target_accuracy": right_target / max(found, 1),
        "precision": hits_correct / max(hits_total, 1),
        "negatives_flagged": flagged / len(negatives),
        "comments": len(positives) + len(negatives),
        "seconds": elapsed,
    }


if __name__ == "__main__":
    verbose = "-v" in sys.argv
    prefix = "fresh_" if "--fresh" in sys.argv else ""
    for use_lexicon in (True, False):
        print(f"{prefix or 'dev '}set, lexicon {'on' if use_lexicon else 'off'}:")
        for key, value in evaluate(use_lexicon, verbose, prefix).items():
            print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
