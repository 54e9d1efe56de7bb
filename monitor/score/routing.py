"""Which toxicity backend scores which language, with what threshold (`scoring.routing`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.errors import NotConfigured
from monitor.score.base import ToxicityBackend

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["DETOXIFY_THRESHOLD", "Route", "build_backends"]

# Detoxify's heads are trained as independent sigmoids; 0.5 is the cut its authors report with.
DETOXIFY_THRESHOLD = 0.5
_ROUTED = ("de", "en", "ru", "other")


@dataclass(frozen=True)
class Route:
    """Which backend scores a language, and with what threshold."""

    backend: ToxicityBackend
    threshold: float


def build_backends(config: Config) -> tuple[dict[str, Route], list[str]]:
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
        default = builtin.threshold_for(lang) if backend is builtin else DETOXIFY_THRESHOLD
        threshold = scoring.toxic_threshold if scoring.toxic_threshold is not None else default
        routes[lang] = Route(backend, threshold)
    return routes, notes
