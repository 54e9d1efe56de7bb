"""The target matcher's word-beginning prefilter only skips work: mentions stay exactly the same."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from monitor.config import load_targets
from monitor.score.targets import TargetMatcher, anchor_heads, masked_heads

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def matcher() -> TargetMatcher:
    return TargetMatcher(load_targets(REPO / "config" / "targets.toml"))


@pytest.fixture(scope="module")
def full_scan() -> TargetMatcher:
    """The same matcher with the prefilter switched off: every pattern runs on every text."""
    unfiltered = TargetMatcher(load_targets(REPO / "config" / "targets.toml"))
    unfiltered._candidates = lambda text, normalized: None  # type: ignore[method-assign]
    return unfiltered


def _dataset_texts() -> list[str]:
    texts = []
    for path in sorted((REPO / "datasets" / "stance").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()
                  if line.strip()]
    for path in sorted((REPO / "datasets" / "slurs").glob("*.tsv")):
        rows = [line for line in path.read_text("utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
        texts += [cell for row in csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE)
                  for cell in row]
    return texts


# Written for this test: glued prefixes, hyphens, umlaut and ß spellings, masks, odd case folds.
_TRICKY = [
    "Die antirussische Hetze und der Pro-NATO-Kurs.", "anti-Z-Armee? Nein, die Z-Truppen.",
    "Das Buendnis und das-Bündnis, dazu Rußland.", "P*tin, Pu.tin, N#TO und Н@ТО.",
    "ſowjetunion und ſoviet Union", "İnvasoren kamen", "Die so-called liberators again.",
    "Kalibr-Raketen und Kinschal-Raketen", "EU und eu, РФ und рф", "STOLTENBERG!!!",
    "Exkremlchef und Ex-Kremlchef", "проНАТОвский курс и антироссийский", "Nato-Staaten",
    "P-*tin und R_ussland", "die N.A.T.O. und N A T O", "Mоскау mit kyrillischem о",
]


def test_prefilter_changes_no_mention_in_our_datasets(matcher: TargetMatcher,
                                                      full_scan: TargetMatcher) -> None:
    texts = _dataset_texts() + _TRICKY
    assert len(texts) > 1500
    differing = [t for t in texts if matcher.find(t) != full_scan.find(t)]
    assert differing == []
    assert sum(bool(matcher.find(t)) for t in texts) > 500  # the comparison saw mentions


def test_prefilter_skips_comments_without_a_target_word(matcher: TargetMatcher) -> None:
    quiet = matcher._candidates("Heute scheint die Sonne über dem Park.", None)
    assert quiet is not None and {kind for _, kind in quiet} <= {"masked"}
    assert ("russia", "name") in (matcher._candidates("Der Kreml schweigt.", None) or set())
    assert ("nato", "name") in (matcher._candidates("antinato Demo", None) or set())


def test_anchor_heads_cover_every_spelling_the_pattern_allows() -> None:
    assert anchor_heads("das Bündnis") == {"bündn", "buend", "bundn"}
    assert anchor_heads("Russland") == {"russl", "rußla"}
    assert anchor_heads("Россия") == {"росси"}
    assert anchor_heads("Z-army") == {"z-arm"}
    assert anchor_heads("EU") == {"eu"}


def test_masked_heads_allow_a_stand_in_after_the_first_letter() -> None:
    singles, pairs = masked_heads("Putin")
    assert singles == {"p"}
    assert {"pu", "p4", "p_", "p-"} <= pairs
    assert masked_heads("EU") == (set(), set())
