"""The names of the scoring components and where their factories live.

Kept apart from `monitor.score.components` so that the config can check `scoring.pipeline`
without importing any scoring code. A new component is one line here (or a
`components.register` call at run time).
"""

from __future__ import annotations

__all__ = ["COMPONENTS", "DEFAULT_PIPELINE"]

# name -> "module:factory". Order here is not run order: `scoring.pipeline` sets that.
COMPONENTS: dict[str, str] = {
    "toxicity": "monitor.score.components:toxicity_factory",
    "slurs": "monitor.score.components:slurs_factory",
    "stance": "monitor.score.components:stance_factory",
    "second-tier": "monitor.score.second_tier:second_tier_factory",
}
DEFAULT_PIPELINE = ("toxicity", "slurs", "stance")
