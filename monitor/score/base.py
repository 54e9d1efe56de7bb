"""Shared result types and the protocols every scorer implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Sequence

__all__ = [
    "CommentScore",
    "ScoreInput",
    "SlurDetector",
    "SlurHit",
    "StanceLabel",
    "StanceResult",
    "StanceScorer",
    "ToxicityBackend",
    "ToxicityScore",
]

StanceLabel = Literal["favor", "against", "none"]


@dataclass(frozen=True)
class ScoreInput:
    """One comment to score; `lang` is None when it should be detected."""

    id: Any
    text: str
    lang: str | None = None


@dataclass(frozen=True)
class ToxicityScore:
    """A calibrated probability in 0..1, optional sub-attributes, and the model that made it."""

    toxicity: float
    model: str
    attributes: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StanceResult:
    label: StanceLabel
    score: float


@dataclass(frozen=True)
class SlurHit:
    """A slur found in the original text; start/end are character offsets into that text."""

    term: str
    normalized: str
    target: str
    kind: Literal["lexicon", "coined"]
    start: int
    end: int
    severity: int | None = None


@dataclass(frozen=True)
class CommentScore:
    """Everything the monitor stores and prints for one scored comment."""

    id: Any
    lang: str
    toxicity: float
    toxic: bool
    model: str
    attributes: dict[str, float] = field(default_factory=dict)
    stance: dict[str, StanceResult] = field(default_factory=dict)
    slurs: list[SlurHit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON Lines shape of `monitor score`."""
        return {
            "id": self.id,
            "lang": self.lang,
            "toxicity": round(self.toxicity, 4),
            "toxic": self.toxic,
            "model": self.model,
            "attributes": {k: round(v, 4) for k, v in self.attributes.items()},
            "stance": {t: {"label": s.label, "score": round(s.score, 4)}
                       for t, s in self.stance.items()},
            "slurs": [{"term": h.term, "normalized": h.normalized, "target": h.target,
                       "kind": h.kind, "start": h.start, "end": h.end} for h in self.slurs],
        }


class ToxicityBackend(Protocol):
    """A toxicity model: `version` names the exact weights; scores are calibrated 0..1."""

    name: str
    version: str

    def score(self, texts: Sequence[str], langs: Sequence[str]) -> list[ToxicityScore]: ...


class SlurDetector(Protocol):
    version: str

    def find(self, text: str, lang: str) -> list[SlurHit]: ...


class StanceScorer(Protocol):
    version: str

    def score_batch(self, texts: Sequence[str], langs: Sequence[str],
                    slurs: Sequence[Sequence[SlurHit]]) -> list[dict[str, StanceResult]]: ...
