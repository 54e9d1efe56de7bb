"""Windowed metrics over scored comments (polars), per window size and overall / source / article.

One row per (window_s, window_start, scope, scope_key) goes to the `aggregates` table; `metrics`
is a flat JSON object with one key per metric of the table in `monitor.aggregate.metrics` (the
names rules and the dashboard use; each with its help there), e.g. comment_count, toxicity_mean,
toxicity_p90, toxic_share, stance_<target>_favor|against|none, slur_count, top_slurs,
new_coinages, comments_per_hour, top_author_share.

The engine: `_frame` (the scored-comments frame), `_compute` (windows → metrics; the numpy work in
`groups` and `terms`), `_store` (reading and writing the database, the incremental watermark).

Incremental runs recompute only windows touched since the watermark kept in the `state` table
(newer `scores.scored_at` or `comments.updated_at`), so late, edited, re-scored and deleted
comments land in the right windows; each touched window is replaced as a whole (idempotent).
A comment whose published_at itself changes is counted in its new window at once, but its old
window keeps the stale count until `monitor aggregate --full` (the old time is not kept).
"""

from __future__ import annotations

from monitor.aggregate._compute import compute, select_windows, touched_windows
from monitor.aggregate._frame import FRAME_COLUMNS, empty_frame, synthetic_frame
from monitor.aggregate._store import STATE_COINAGES, STATE_WATERMARK, AggregateStats, load_frame, run
from monitor.aggregate.metrics import METRICS, metric_names

__all__ = [
    "AggregateStats",
    "FRAME_COLUMNS",
    "METRICS",
    "STATE_COINAGES",
    "STATE_WATERMARK",
    "compute",
    "empty_frame",
    "load_frame",
    "metric_names",
    "run",
    "select_windows",
    "synthetic_frame",
    "touched_windows",
]
