"""The scoring pipeline: language → normalisation → the configured components (toxicity → slurs → stance …)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from monitor.score.base import CommentScore, ScoreInput, SlurDetector, StanceScorer
from monitor.score.components import (DEFAULT_PIPELINE, Batch, Component, Shared, SlurComponent,
                                      StanceComponent, ToxicityComponent, build_components)
from monitor.score.routing import DETOXIFY_THRESHOLD, Route, build_backends

__all__ = ["DETOXIFY_THRESHOLD", "Route", "ScoringPipeline", "build_backends"]

# Results the pipeline maps onto CommentScore fields; any other component's go to `attributes`.
_BUILT_IN_RESULTS = frozenset({"toxicity", "slurs", "stance"})

log = logging.getLogger(__name__)

@dataclass
class ScoringPipeline:
    """Scores comments in batches through its components (see `monitor.score.components`).

    Built from the config by `from_config`; the direct form (`routes`, optional slur detector
    and stance scorer) builds the three built-in components from ready parts.
    """

    routes: dict[str, Route]
    slur_detector: SlurDetector | None = None
    stance_scorer: StanceScorer | None = None
    batch_size: int = 256
    notes: list[str] = field(default_factory=list)
    components: list[Component] | None = None
    vector_sources: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.components is None:
            self.components = [ToxicityComponent(self.routes)]
            if self.slur_detector is not None:
                self.components.append(SlurComponent(self.slur_detector))
            if self.stance_scorer is not None:
                self.components.append(StanceComponent(self.stance_scorer))
        if "pieces" not in self.vector_sources:
            builtin = next((r.backend for r in self.routes.values()
                            if hasattr(r.backend, "sentence_vectors")), None)
            if builtin is not None:
                self.vector_sources["pieces"] = builtin.sentence_vectors

    @classmethod
    def from_config(cls, config: Any, use_lexicon: bool = True) -> ScoringPipeline:
        """The components `scoring.pipeline` names, in its order; one that cannot run is left
        out and its reason noted (and logged once)."""
        shared = Shared(config, use_lexicon)
        names = list(getattr(config.scoring, "pipeline", None) or DEFAULT_PIPELINE)
        if "toxicity" not in names:
            names.insert(0, "toxicity")  # every comment gets a toxicity score
        components, notes = build_components(names, shared)
        toxicity = next(c for c in components if isinstance(c, ToxicityComponent))
        notes = shared.notes + notes
        for note in notes:
            log.warning("scoring: %s", note)
        slurs = next((c.detector for c in components if isinstance(c, SlurComponent)), None)
        stance = next((c.scorer for c in components if isinstance(c, StanceComponent)), None)
        return cls(toxicity.routes, slurs, stance, config.scoring.batch_size, notes,
                   components, dict(shared.vector_sources))

    def describe(self) -> str:
        """One line for logs: each component in order, then what is switched off and why."""
        parts = [c.describe() for c in self.components or []]
        names = {c.name for c in self.components or []}
        parts += [f"{name} off" for name in ("slurs", "stance") if name not in names
                  and not any(n.startswith(f"{name} off") for n in self.notes)]
        return "; ".join(parts + self.notes)

    def score_batch(self, inputs: Sequence[ScoreInput]) -> list[CommentScore]:
        """Scores for `inputs`, same order; each component sees the whole batch once."""
        from monitor.score.language import detect_languages
        from monitor.score.normalize import normalize
        from monitor.score.toxicity import strip_furniture

        if not inputs:
            return []
        prepared = [normalize(strip_furniture(item.text)) for item in inputs]
        missing = [i for i, item in enumerate(inputs) if not item.lang]
        detected = dict(zip(missing, detect_languages([prepared[i].text for i in missing])))
        langs = [item.lang or detected[i] for i, item in enumerate(inputs)]
        batch = Batch(inputs, prepared, langs, self.vector_sources)
        for component in self.components or []:
            component(batch)
        return [self._assemble(batch, i) for i in range(len(batch))]

    @staticmethod
    def _assemble(batch: Batch, i: int) -> CommentScore:
        tox, threshold = batch.results["toxicity"][i]
        attributes = dict(tox.attributes)
        for name, values in batch.results.items():
            if name in _BUILT_IN_RESULTS:
                continue
            value = values[i]
            if isinstance(value, dict):
                attributes.update({f"{name}.{k}": float(v) for k, v in value.items()})
            elif value is not None:
                attributes[name] = float(value)
        return CommentScore(id=batch.inputs[i].id, lang=batch.langs[i], toxicity=tox.toxicity,
                            toxic=tox.toxicity >= threshold, model=tox.model,
                            attributes=attributes,
                            stance=batch.results["stance"][i] if "stance" in batch.results
                            else {},
                            slurs=batch.results["slurs"][i] if "slurs" in batch.results else [])

    def score_stream(self, inputs: Iterable[ScoreInput]) -> Iterator[CommentScore]:
        """Scores for any number of inputs, `batch_size` at a time, in input order."""
        batch: list[ScoreInput] = []
        for item in inputs:
            batch.append(item)
            if len(batch) >= self.batch_size:
                yield from self.score_batch(batch)
                batch = []
        if batch:
            yield from self.score_batch(batch)
