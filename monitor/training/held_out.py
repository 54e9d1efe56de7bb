"""What the toxicity second tier adds on German sets that have no validation split.

GermEval 2018, 2019 and 2021 ship without a validation split, and both tiers train on all of
them, so `monitor models eval` can only show the fast tier's cross-validation figures there.
This measures one fold honestly: the fast trainer's out-of-fold probabilities for fold 0 (the
same fold assignment as its cross-validation), and a second tier fine-tuned on everything except
fold 0 of the German sets; then the fast tier, the second tier alone and the two combined as the
component combines them, on fold 0. About 25 minutes on two CPU cores:

    python -m monitor.training.held_out [--data DIR] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["GERMAN", "held_out_fold", "main"]

GERMAN = ("germeval2018", "germeval2019", "germeval2021")


def held_out_fold(data_root: Path | None = None, *, fold: int = 0, band: float = 0.1,
                  weight: float = 0.5, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    from monitor.score.second_tier import SecondTier
    from monitor.training.second_tier import binary_scores, rescored, train_second_tier
    from monitor.training.toxicity import train

    log("fast tier: cross-validating (out-of-fold probabilities)")
    result = train(data_root, progress=lambda _msg: None)
    assert result.oof is not None
    examples, probs = result.oof
    thresholds = result.meta["thresholds"]
    in_fold = [i for i, ex in enumerate(examples) if ex.source in GERMAN
               and zlib.crc32(f"0:{ex.group}".encode()) % 5 == fold]
    held = {(examples[i].text, examples[i].source) for i in in_fold}
    log(f"held out: {len(in_fold)} rows of fold {fold} of {', '.join(GERMAN)}")
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "second-tier-toxicity.npz"
        train_second_tier("toxicity", data_root, output=checkpoint, epochs=3, log=log,
                          exclude=lambda ex: (ex.text, ex.source) in held)
        second = SecondTier([checkpoint]).predict(
            [examples[i].text for i in in_fold])["toxicity"][:, 1]

    out: list[dict[str, Any]] = []
    for name in GERMAN:
        pick = [n for n, i in enumerate(in_fold) if examples[i].source == name]
        if not pick:
            continue
        gold = [str(examples[in_fold[n]].label) for n in pick]
        fast = np.array([probs[in_fold[n]] for n in pick])
        cut = np.array([thresholds.get(examples[in_fold[n]].lang, thresholds["other"])
                        for n in pick])
        sec = second[pick]
        routed, mixed = rescored(fast, cut, sec, band=band, weight=weight)
        row = {"set": name, "fold": fold, "n": len(pick), "routed": round(float(routed.mean()), 3),
               "fast": binary_scores(gold, fast >= cut), "second": binary_scores(gold, sec >= 0.5),
               "combined": binary_scores(gold, mixed >= cut)}
        log(json.dumps(row))
        out.append(row)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the labelled public sets")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = held_out_fold(args.data)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
