"""Recall, precision and target accuracy of the slur detector on this dev set (lexicon on/off),
the share of real ordinary comments it flags (`--ordinary [DIR]`, read from ../shared/data) and
the frequent words of each language it flags (`--vocabulary`)."""

from __future__ import annotations

import csv
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


SHARED = ROOT.parent / "shared" / "data"


def _ordinary_sets(data: Path) -> dict[str, list[str]]:
    """Comments labelled ordinary (not offensive) by people outside the project, per set.
    RUW war tweets carry no offence label: some use slurs, so their figure is an upper bound."""
    sets: dict[str, list[str]] = {}
    for name in ("germeval2018/germeval2018.training.txt",
                 "germeval2019/germeval2019GoldLabelsSubtask1_2.txt"):
        lines = (data / name).read_text(encoding="utf-8").splitlines()
        sets[name.split("/")[0]] = [c[0] for c in (ln.split("\t") for ln in lines)
                                    if len(c) >= 2 and c[1] == "OTHER"]
    with (data / "germeval2021" / "GermEval21_TrainData.csv").open(encoding="utf-8") as fh:
        sets["germeval2021"] = [r["comment_text"] for r in csv.DictReader(fh)
                                if r["Sub1_Toxic"] == "0"]
    olid = []
    for split in ("train", "val"):
        texts = (data / "olid" / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (data / "olid" / f"{split}_labels.txt").read_text(encoding="utf-8").split()
        olid += [t for t, label in zip(texts, labels) if label == "0"]
    sets["olid"] = olid
    with (data / "davidson2017" / "labeled_data.csv").open(encoding="utf-8") as fh:
        sets["davidson2017"] = [r["tweet"] for r in csv.DictReader(fh) if r["class"] == "2"]
    ruw = []
    for split in ("train", "val"):
        path = data / "ruw" / f"raw_{split}_Russia_Ukraine.csv"
        with path.open(encoding="utf-8", errors="replace") as fh:
            ruw += [r["Tweet"] for r in csv.DictReader(fh)]
    sets["ruw (unlabelled for offence)"] = ruw
    return sets


def ordinary(data: Path, use_lexicon: bool, verbose: bool = False) -> dict[str, tuple[int, int]]:
    """Per set: (comments flagged, comments). `-v` prints the flagged words, never the text."""
    detector = LexiconSlurDetector(load_lexicon(ROOT / "config" / "lexicon"), use_lexicon)
    result = {}
    for name, texts in _ordinary_sets(data).items():
        flagged = 0
        for text in texts:
            hits = detector.find(text, "any")
            if hits:
                flagged += 1
                if verbose:
                    print(f"  {name}: {[(h.term, h.target, h.kind) for h in hits]}")
        result[name] = (flagged, len(texts))
    return result


def vocabulary(use_lexicon: bool, size: int = 30_000) -> dict[str, list[str]]:
    """The most frequent words of each language that the detector flags on their own: nearly
    all are ordinary words, so this stands in for ordinary Russian text, which ../shared/data
    lacks."""
    from wordfreq import top_n_list

    detector = LexiconSlurDetector(load_lexicon(ROOT / "config" / "lexicon"), use_lexicon)
    return {lang: [w for w in top_n_list(lang, size) if detector.find(w, lang)]
            for lang in ("de", "en", "ru")}


if __name__ == "__main__":
    verbose = "-v" in sys.argv
    if "--vocabulary" in sys.argv:
        for use_lexicon in (True, False):
            state = "on" if use_lexicon else "off"
            print(f"30,000 most frequent words per language, lexicon {state}:")
            for lang, words in vocabulary(use_lexicon).items():
                print(f"  {lang}: {len(words)} flagged {words}")
        sys.exit(0)
    if "--ordinary" in sys.argv:
        after = sys.argv[sys.argv.index("--ordinary") + 1:]
        data = Path(after[0]) if after and not after[0].startswith("-") else SHARED
        for use_lexicon in (True, False):
            print(f"ordinary comments in {data}, lexicon {'on' if use_lexicon else 'off'}:")
            total = [0, 0]
            for name, (flagged, n) in ordinary(data, use_lexicon, verbose).items():
                print(f"  {name}: {flagged}/{n} flagged = {flagged / max(n, 1):.2%}")
                if not name.startswith("ruw"):
                    total[0] += flagged
                    total[1] += n
            print(f"  all labelled-ordinary sets: {total[0]}/{total[1]} = "
                  f"{total[0] / max(total[1], 1):.2%}")
        sys.exit(0)
    prefix = "fresh_" if "--fresh" in sys.argv else ""
    for use_lexicon in (True, False):
        print(f"{prefix or 'dev '}set, lexicon {'on' if use_lexicon else 'off'}:")
        for key, value in evaluate(use_lexicon, verbose, prefix).items():
            print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
