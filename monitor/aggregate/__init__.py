"""Windowed metrics over scored comments (polars), per window size and overall / source / article.

One row per (window_s, window_start, scope, scope_key) goes to the `aggregates` table; `metrics`
is a flat JSON object with these keys (the names rules and the dashboard use):

    comment_count           comments in the window (time = published_at, else first_seen_at)
    distinct_authors        distinct author pseudonyms (comments without one are not counted)
    toxicity_mean           mean toxicity of the latest score per comment
    toxicity_p90            90th percentile of toxicity (linear interpolation)
    toxic_share             share of comments flagged toxic
    stance_<target>_favor   share of comments with stance 'favor' toward <target> (e.g. nato)
    stance_<target>_against share with stance 'against'
    stance_<target>_none    share with 'none' or no stance result
    slur_count              slur occurrences (lexicon + coined)
    slur_lexicon_count      occurrences of lexicon slurs
    slur_coined_count       occurrences of coined (discovered) slurs
    top_slurs               list of the most frequent normalized slurs, most frequent first
    new_coinages            coined normalized terms first seen (anywhere) in this window
    comments_per_hour       comment_count / window length in hours (whole window, even in progress)
    top_author_share        share of comments written by the `top_authors` most active authors

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
