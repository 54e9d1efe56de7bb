"""Scoring components: named factories in one registry, each reading and writing one `Batch`.

A component is built by its factory from the config (raising `NotConfigured(reason)` when it
cannot run), then called once per batch. The batch carries what every component may read — the
raw texts, their normalisations with offsets into the originals, the languages, vectors computed
on first use and shared — and each component's results under its own name. `scoring.pipeline`
in the config orders them. A new scorer is one module with a factory plus one line in
`monitor.score.registry.COMPONENTS` (or a `register` call); its per-comment values (floats, or dicts of floats) land in
`CommentScore.attributes` under its name.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

import numpy as np

from monitor.errors import ModelError, NotConfigured
from monitor.score.base import ScoreInput, SlurDetector, StanceScorer
from monitor.score.registry import COMPONENTS, DEFAULT_PIPELINE

if TYPE_CHECKING:
    from monitor.score.normalize import Normalized
    from monitor.score.routing import Route

__all__ = [
    "COMPONENTS",
    "DEFAULT_PIPELINE",
    "Batch",
    "Component",
    "Shared",
    "SlurComponent",
    "StanceComponent",
    "ToxicityComponent",
    "build_components",
    "register",
]

log = logging.getLogger(__name__)


VectorFn = Callable[[Sequence[str]], np.ndarray]


class Batch:
    """One batch of comments on its way through the components."""

    def __init__(self, inputs: Sequence[ScoreInput], normalized: Sequence[Normalized],
                 langs: Sequence[str], vector_sources: dict[str, VectorFn] | None = None) -> None:
        self.inputs = list(inputs)
        self.texts = [item.text for item in inputs]
        self.normalized = list(normalized)
        self.langs = list(langs)
        self.results: dict[str, list[Any]] = {}
        # What a component leaves for later ones without storing it (e.g. stance probabilities
        # for the second tier); unlike `results`, none of it lands in a CommentScore.
        self.handover: dict[str, Any] = {}
        self._sources = dict(vector_sources or {})
        self._cache: dict[str, dict[int, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.inputs)

    def has_vectors(self, name: str) -> bool:
        return name in self._sources

    def vectors(self, name: str, rows: Sequence[int]) -> np.ndarray:
        """Vectors `name` of the normalised texts at `rows`, computed once per row and batch
        whichever component asks first."""
        source = self._sources.get(name)
        if source is None:
            raise KeyError(f"no vector source {name!r} in this pipeline")
        cache = self._cache.setdefault(name, {})
        missing = [i for i in rows if i not in cache]
        if missing:
            matrix = np.asarray(source([self.normalized[i].text for i in missing]))
            cache.update(zip(missing, matrix))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([cache[i] for i in rows])


class Component(Protocol):
    """Reads what it needs from the batch and writes `batch.results[self.name]`."""

    name: str

    def describe(self) -> str: ...

    def __call__(self, batch: Batch) -> None: ...


@dataclass
class Shared:
    """What factories share while one pipeline is built: the config, loaded models, vectors."""

    config: Any
    use_lexicon: bool = True
    loaded: dict[str, Any] = field(default_factory=dict)
    vector_sources: dict[str, VectorFn] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # fallbacks worth a log line (not "off")

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        """`make()` once per pipeline: two components reading one model load it once."""
        if key not in self.loaded:
            self.loaded[key] = make()
        return self.loaded[key]


Factory = Callable[[Shared], Component]


def register(name: str, factory: Factory | str) -> None:
    """Add a component under `name` ("module:attribute" strings are imported on first use)."""
    if isinstance(factory, str):
        COMPONENTS[name] = factory
    else:
        _FACTORIES[name] = factory
        COMPONENTS[name] = f"{factory.__module__}:{factory.__qualname__}"


_FACTORIES: dict[str, Factory] = {}


def _factory(name: str) -> Factory:
    if name in _FACTORIES:
        return _FACTORIES[name]
    try:
        module_name, attr = COMPONENTS[name].split(":")
    except KeyError:
        raise NotConfigured(name, f"no scoring component {name!r}; known: "
                                  f"{', '.join(sorted(COMPONENTS))}") from None
    factory = getattr(importlib.import_module(module_name), attr)
    _FACTORIES[name] = factory
    return factory


def build_components(names: Sequence[str], shared: Shared
                     ) -> tuple[list[Component], list[str]]:
    """The components `names` asks for, in that order, and a "disabled: reason" line for each
    one that cannot run (scrapy's NotConfigured: the rest of the pipeline still runs)."""
    built: list[Component] = []
    notes: list[str] = []
    for name in names:
        try:
            built.append(_factory(name)(shared))
        except NotConfigured as exc:
            notes.append(f"{name} off: {exc.reason}")
        except ModelError as exc:
            notes.append(f"{name} off: {exc}")
    return built, notes


# --- the built-in components -------------------------------------------------------------------

class ToxicityComponent:
    """Routes each language to its backend; writes (ToxicityScore, threshold) per comment."""

    name = "toxicity"

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes

    def describe(self) -> str:
        return "toxicity " + ", ".join(f"{lang}={r.backend.version}@{r.threshold:.2f}"
                                       for lang, r in self.routes.items())

    def __call__(self, batch: Batch) -> None:
        from monitor.score.language import LANGUAGES

        routed = [lang if lang in LANGUAGES else "other" for lang in batch.langs]
        by_backend: dict[int, list[int]] = {}
        for i, lang in enumerate(routed):
            by_backend.setdefault(id(self.routes[lang].backend), []).append(i)
        out: list[Any] = [None] * len(batch)
        for rows in by_backend.values():
            backend = self.routes[routed[rows[0]]].backend
            scores = backend.score([batch.normalized[i].text for i in rows],
                                   [routed[i] for i in rows])
            for i, s in zip(rows, scores):
                out[i] = (s, self.routes[routed[i]].threshold)
        batch.results[self.name] = out


class SlurComponent:
    """Known slurs from the lexicon and new coinages, found in the original text."""

    name = "slurs"

    def __init__(self, detector: SlurDetector) -> None:
        self.detector = detector

    def describe(self) -> str:
        return "slurs on"

    def __call__(self, batch: Batch) -> None:
        if not getattr(self.detector, "reads_normalized", False):
            batch.results[self.name] = [self.detector.find(t, lang)
                                        for t, lang in zip(batch.texts, batch.langs)]
            return
        from monitor.score.toxicity import strip_furniture

        # The batch's normalisation is of the text without furniture; where there was none it
        # is exactly `normalize(text)`, which the detector would otherwise compute again.
        batch.results[self.name] = [
            self.detector.find(t, lang, normalized=norm if strip_furniture(t) == t else None)
            for t, lang, norm in zip(batch.texts, batch.langs, batch.normalized)]


class StanceComponent:
    """Stance per configured target; reads the slurs found before it and the piece vectors."""

    name = "stance"

    def __init__(self, scorer: StanceScorer) -> None:
        self.scorer = scorer

    def describe(self) -> str:
        return "stance on"

    def __call__(self, batch: Batch) -> None:
        slurs = batch.results.get("slurs") or [[] for _ in range(len(batch))]
        kwargs: dict[str, Any] = {}
        if getattr(self.scorer, "reads_piece_vectors", False):
            kwargs["normalized"] = batch.normalized
            kwargs["probabilities"] = batch.handover.setdefault("stance:probabilities", {})
            if batch.has_vectors("pieces"):
                kwargs["embeddings"] = lambda rows: batch.vectors("pieces", rows)
        batch.results[self.name] = self.scorer.score_batch(batch.texts, batch.langs, slurs,
                                                           **kwargs)


def toxicity_factory(shared: Shared) -> ToxicityComponent:
    from monitor.score.routing import build_backends

    routes, notes = build_backends(shared.config)
    shared.notes.extend(notes)
    builtin = next((r.backend for r in routes.values()
                    if getattr(r.backend, "name", "") == "builtin"), None)
    if builtin is not None:
        shared.loaded["builtin"] = builtin
        shared.vector_sources.setdefault("pieces", builtin.sentence_vectors)
    return ToxicityComponent(routes)


def slurs_factory(shared: Shared) -> SlurComponent:
    from monitor.score.slurs import detector_from_config

    return SlurComponent(detector_from_config(shared.config, shared.use_lexicon))


def stance_factory(shared: Shared) -> StanceComponent:
    from monitor.score.stance import scorer_from_config

    # The built-in model toxicity loaded gives the piece vectors; without it stance loads its own.
    return StanceComponent(scorer_from_config(shared.config, vectors=shared.loaded.get("builtin")))
