"""The scoring pipeline: language → normalisation → routed toxicity backend → slurs → stance."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from monitor.errors import ModelError, NotConfigured
from monitor.score.base import (CommentScore, ScoreInput, SlurDetector, SlurHit, StanceResult,
                                StanceScorer, ToxicityBackend)

__all__ = ["DETOXIFY_THRESHOLD", "Route", "ScoringPipeline", "build_backends"]

log = logging.getLogger(__name__)

# Detoxify's heads are trained as independent sigmoids; 0.5 is the cut its authors report with.
DETOXIFY_THRESHOLD = 0.5
_ROUTED = ("de", "en", "ru", "other")


@dataclass(frozen=True)
class Route:
    """Which backend scores a language, and with what threshold."""

    backend: ToxicityBackend
    threshold: float


def build_backends(config: Any) -> tuple[dict[str, Route], list[str]]:
    """Routes per language from `config.scoring`, falling back to the built-in model where a
    Detoxify bundle is missing; the second value lists those fallbacks with their reasons."""
    from monitor.score.toxicity import load_builtin

    scoring = config.scoring
    builtin = load_builtin()
    loaded: dict[str, ToxicityBackend] = {"builtin": builtin}
    notes: list[str] = []
    routes: dict[str, Route] = {}
    for lang in _ROUTED:
        wanted = scoring.routing.get(lang, "builtin")
        if wanted not in loaded and wanted.startswith("detoxify-"):
            from monitor.score.detoxify_backend import DetoxifyBackend

            try:
                loaded[wanted] = DetoxifyBackend(scoring.detoxify_dir,
                                                 wanted.removeprefix("detoxify-"))
            except NotConfigured as exc:
                notes.append(f"{wanted} off, built-in model used instead: {exc.reason}")
                loaded[wanted] = builtin
        backend = loaded[wanted]
        default = builtin.threshold if backend is builtin else DETOXIFY_THRESHOLD
        threshold = scoring.toxic_threshold if scoring.toxic_threshold is not None else default
        routes[lang] = Route(backend, threshold)
    return routes, notes


def _piece_vector_source(routes: dict[str, Route]) -> Any:
    """The built-in toxicity model among the routes (it gives the piece vectors stance reads),
    or None when every language goes to Detoxify: the stance scorer then loads its own."""
    return next((r.backend for r in routes.values() if hasattr(r.backend, "sentence_vectors")),
                None)


@dataclass
class ScoringPipeline:
    """Scores comments in batches; the stance scorer and slur detector are optional."""

    routes: dict[str, Route]
    slur_detector: SlurDetector | None = None
    stance_scorer: StanceScorer | None = None
    batch_size: int = 256
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: Any, use_lexicon: bool = True) -> ScoringPipeline:
        """Everything `config` asks for; a component that cannot run is left out and noted."""
        routes, notes = build_backends(config)
        slurs: SlurDetector | None = None
        stance: StanceScorer | None = None
        try:
            from monitor.score.slurs import detector_from_config

            slurs = detector_from_config(config, use_lexicon)
        except NotConfigured as exc:
            notes.append(f"slurs off: {exc.reason}")
        except ModelError as exc:  # toxicity still works without it; say why it is missing
            notes.append(f"slurs off: {exc}")
        try:
            from monitor.score.stance import scorer_from_config

            stance = scorer_from_config(config, vectors=_piece_vector_source(routes))
        except NotConfigured as exc:
            notes.append(f"stance off: {exc.reason}")
        except ModelError as exc:
            notes.append(f"stance off: {exc}")
        for note in notes:
            log.warning("scoring: %s", note)
        return cls(routes, slurs, stance, config.scoring.batch_size, notes)

    def describe(self) -> str:
        """One line for logs: the backend per language and what is switched off."""
        per_lang = ", ".join(f"{lang}={r.backend.version}@{r.threshold:.2f}"
                             for lang, r in self.routes.items())
        parts = [f"toxicity {per_lang}",
                 f"slurs {'on' if self.slur_detector else 'off'}",
                 f"stance {'on' if self.stance_scorer else 'off'}"]
        return "; ".join(parts + self.notes)

    def score_batch(self, inputs: Sequence[ScoreInput]) -> list[CommentScore]:
        """Scores for `inputs`, same order; one call per backend for the whole batch."""
        from monitor.score.language import LANGUAGES, detect_languages
        from monitor.score.normalize import normalize
        from monitor.score.toxicity import strip_furniture

        if not inputs:
            return []
        prepared = [normalize(strip_furniture(item.text)) for item in inputs]
        normalized = [p.text for p in prepared]
        missing = [i for i, item in enumerate(inputs) if not item.lang]
        detected = dict(zip(missing, detect_languages([normalized[i] for i in missing])))
        langs = [item.lang or detected[i] for i, item in enumerate(inputs)]
        routed = [lang if lang in LANGUAGES else "other" for lang in langs]

        # Group by backend so each model sees one batch, then put results back in order.
        by_backend: dict[int, list[int]] = {}
        for i, lang in enumerate(routed):
            by_backend.setdefault(id(self.routes[lang].backend), []).append(i)
        tox: list[Any] = [None] * len(inputs)
        for rows in by_backend.values():
            backend = self.routes[routed[rows[0]]].backend
            scores = backend.score([normalized[i] for i in rows], [routed[i] for i in rows])
            for i, s in zip(rows, scores):
                tox[i] = s

        texts = [item.text for item in inputs]
        slurs: list[list[SlurHit]] = (
            [self.slur_detector.find(t, lang) for t, lang in zip(texts, langs)]
            if self.slur_detector else [[] for _ in inputs])
        stance = self._stance(texts, prepared, langs, slurs)
        return [
            CommentScore(id=item.id, lang=langs[i], toxicity=tox[i].toxicity,
                         toxic=tox[i].toxicity >= self.routes[routed[i]].threshold,
                         model=tox[i].model, attributes=dict(tox[i].attributes),
                         stance=stance[i], slurs=slurs[i])
            for i, item in enumerate(inputs)
        ]

    def _stance(self, texts: list[str], prepared: list[Any], langs: list[str],
                slurs: list[list[SlurHit]]) -> list[dict[str, StanceResult]]:
        """Stance for the batch. The built-in scorer gets what toxicity already computed: the
        normalised texts, and the built-in model's piece vectors (asked for only the comments
        that mention a target; cheap, so also when Detoxify scored their toxicity)."""
        if self.stance_scorer is None:
            return [{} for _ in texts]
        if not getattr(self.stance_scorer, "reads_piece_vectors", False):
            return self.stance_scorer.score_batch(texts, langs, slurs)
        source = _piece_vector_source(self.routes)
        embeddings: Callable[[list[int]], Any] | None = None
        if source is not None:
            def vectors(rows: list[int]) -> Any:
                return source.sentence_vectors([prepared[i].text for i in rows])
            embeddings = vectors
        return self.stance_scorer.score_batch(  # type: ignore[call-arg]
            texts, langs, slurs, embeddings=embeddings, normalized=prepared)

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
