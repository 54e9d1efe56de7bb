"""Stance inside the scoring pipeline: it reads the toxicity model's piece vectors, whatever
backend scored toxicity, and gives the labels the stance scorer gives on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest

from monitor.config import load_targets
from monitor.score.base import ScoreInput, ToxicityScore
from monitor.score.pipeline import Route, ScoringPipeline
from monitor.score.stance import DEFAULT_MODEL, StanceModel, TargetStanceScorer
from monitor.score.toxicity import load_builtin, strip_furniture, strip_furniture_mapped

REPO = Path(__file__).resolve().parents[2]
COMMENTS = [
    "Die NATO ist ein Haufen Kriegstreiber und Lügner.",
    "Thank you NATO, you keep us safe.",
    "Путин — убийца и лжец.",
    "Schönes Wetter heute, ich gehe spazieren.",
    "Die Orks haben wieder ein Krankenhaus beschossen. Abschaum.",
    "P*tin ist ein Lügner und Mörder.",  # obfuscated, no furniture: the pipeline's normalisation
    "@leser Die N4T0 lügt doch nur! |LBR| www.example.org/x",  # furniture: normalised again
]



class CountingVectors:
    """The built-in model's piece vectors, counting the texts it was asked for."""

    def __init__(self) -> None:
        self.inner = load_builtin()
        self.seen: list[str] = []

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.sentence_vectors(texts)


class FixedToxicity:
    """A stand-in for a Detoxify route: scores toxicity, has no piece vectors."""

    name = "fixed"
    version = "fixed@1"

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> list[ToxicityScore]:
        return [ToxicityScore(0.1, self.version) for _ in texts]


class _Wrapped:
    """The built-in model as a route, counting piece-vector requests."""

    def __init__(self, vectors: CountingVectors) -> None:
        self.vectors = vectors
        self.name, self.version = "builtin", vectors.inner.version

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> list[ToxicityScore]:
        return self.vectors.inner.score(texts, langs)

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self.vectors.sentence_vectors(texts)


def _scorer(vectors: Any) -> TargetStanceScorer:
    return TargetStanceScorer(load_targets(REPO / "config" / "targets.toml"),
                              StanceModel.load(DEFAULT_MODEL), vectors)


def _labels(rows: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    return [{key: result.label for key, result in row.items()} for row in rows]


def _pipeline(backend: Any, scorer: TargetStanceScorer) -> ScoringPipeline:
    return ScoringPipeline({lang: Route(backend, 0.5) for lang in ("de", "en", "ru", "other")},
                           stance_scorer=scorer)


def test_the_pipeline_hands_stance_the_builtin_models_vectors_and_labels_match() -> None:
    alone = _labels(_scorer(load_builtin()).score_batch(COMMENTS, ["de"] * len(COMMENTS), [[]] * len(COMMENTS)))
    own = CountingVectors()
    routed = CountingVectors()
    pipeline = _pipeline(_Wrapped(routed), _scorer(own))

    results = pipeline.score_batch([ScoreInput(i, t) for i, t in enumerate(COMMENTS)])

    assert _labels([r.stance for r in results]) == alone
    assert [r["nato"] for r in alone[:2]] == ["against", "favor"]
    assert alone[2]["russia"] == alone[4]["russia"] == alone[5]["russia"] == "against"
    assert alone[6]["nato"] == "against"
    assert own.seen == []  # the scorer computed no vectors itself
    # Vectors only for the comments that mention a target.
    assert len(routed.seen) == len(COMMENTS) - 1
    assert not any("Wetter" in text for text in routed.seen)


def test_with_every_language_on_detoxify_stance_computes_its_own_vectors() -> None:
    alone = _labels(_scorer(load_builtin()).score_batch(COMMENTS, ["de"] * len(COMMENTS), [[]] * len(COMMENTS)))
    own = CountingVectors()
    pipeline = _pipeline(FixedToxicity(), _scorer(own))

    results = pipeline.score_batch([ScoreInput(i, t) for i, t in enumerate(COMMENTS)])

    assert _labels([r.stance for r in results]) == alone
    assert all(r.model == "fixed@1" for r in results)
    # Only the comments that mention a target, not the weather one.
    assert len(own.seen) == len(COMMENTS) - 1


@pytest.mark.parametrize("text", [
    "@leser Die NATO |LBR| lügt, siehe https://example.org/a?b=1 und #Nato!",
    "Kein Schmuck hier, nur Text.",
    "#Putin #Kreml @a @b |LBR||LBR| www.example.org",
    "",
])
def test_stripped_text_maps_back_to_the_original_character_by_character(text: str) -> None:
    stripped, offsets = strip_furniture_mapped(text)
    assert stripped == strip_furniture(text)
    assert len(offsets) == len(stripped)
    kept = [i for i, ch in enumerate(stripped) if ch != " "]
    assert all(text[offsets[i]] == stripped[i] for i in kept)
    assert offsets == sorted(offsets)
