"""The metrics aggregation writes, by name."""

from __future__ import annotations

from typing import Iterable

__all__ = ["METRICS", "STANCE_LABELS", "metric_names"]

# Scalar metrics shared by every target set; stance metrics are added per target.
METRICS = (
    "comment_count", "distinct_authors", "toxicity_mean", "toxicity_p90", "toxic_share",
    "slur_count", "slur_lexicon_count", "slur_coined_count", "top_slurs", "new_coinages",
    "comments_per_hour", "top_author_share",
)
STANCE_LABELS = ("favor", "against", "none")


def metric_names(targets: Iterable[str]) -> list[str]:
    """Every metric name written for these stance targets."""
    names = list(METRICS)
    for target in targets:
        names += [f"stance_{target}_{label}" for label in STANCE_LABELS]
    return names
