"""Windowed metrics over scored comments (polars), per window size and overall / source / article.

One row per (window_s, window_start, scope, scope_key) goes to the `aggregates` table; `metrics`
is a flat JSON object with one key per metric of the table in `monitor.aggregate.metrics` (the
names rules and the dashboard use; each with its help there), e.g. comment_count, toxicity_mean,
toxicity_p90, toxic_share, stance_<target>_favor|against|none, slur_count, top_slurs,
new_coinages, comments_per_hour, top_author_share.

The engine: `_frame` (the scored-comments frame), `_compute` (windows → metrics; the numpy work in
`groups` and `terms`), `_store` (reading and writing the database, the incremental watermark),
`_arrow` (bulk reads through connectorx into Arrow, for `--full`).

Incremental runs recompute only windows touched since the watermark kept in the `state` table:
comments whose `change_seq` (a commit-ordered stamp the database's triggers set on every insert,
edit, deletion and score) is past it, so late, edited, re-scored and deleted comments land in the
right windows, and a tick with nothing new reads nothing; on PostgreSQL the watermark also lists
the transactions still running when it was read, so a late commit is counted by the next tick.
Each touched window is replaced as a whole (idempotent).
A comment whose published_at itself changes is counted in its new window at once, but its old
window keeps the stale count until `monitor aggregate --full` (the old time is not kept).
"""

from __future__ import annotations

from monitor.aggregate._compute import compute, select_windows, touched_windows
from monitor.aggregate._frame import FRAME_COLUMNS, empty_frame, synthetic_frame
from monitor.aggregate._arrow import read_arrow
from monitor.aggregate._store import (STATE_COINAGES, STATE_WATERMARK, AggregateStats, changed_times, frame_sql,
                                     load_frame, read_watermark, run)
from monitor.aggregate.metrics import METRICS, metric_names

__all__ = [
    "AggregateStats",
    "FRAME_COLUMNS",
    "METRICS",
    "STATE_COINAGES",
    "STATE_WATERMARK",
    "changed_times",
    "compute",
    "empty_frame",
    "frame_sql",
    "load_frame",
    "metric_names",
    "read_arrow",
    "read_watermark",
    "run",
    "select_windows",
    "synthetic_frame",
    "touched_windows",
]
