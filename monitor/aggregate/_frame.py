"""The scored-comments frame that `compute` reads: its columns, an empty one, a synthetic one."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

from monitor.aggregate.metrics import frame_inputs, polars_type

if TYPE_CHECKING:
    import polars as pl

__all__ = ["FRAME_COLUMNS", "empty_frame", "synthetic_frame"]

# The input of `compute`: one row per scored comment; `stance_<target>` columns are added per target,
# and the extra inputs the metric table declares (`monitor.aggregate.metrics.Input`).
FRAME_COLUMNS = ("comment_id", "ts", "source", "article", "author", "toxicity", "toxic",
                 "lexicon_terms", "coined_terms")


def _schema(targets: Sequence[str]) -> dict[str, Any]:
    import polars as pl

    schema: dict[str, Any] = {
        "comment_id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "source": pl.Utf8,
        "article": pl.Utf8, "author": pl.Utf8, "toxicity": pl.Float64, "toxic": pl.Boolean,
        "lexicon_terms": pl.List(pl.Utf8), "coined_terms": pl.List(pl.Utf8),
    }
    for target in targets:
        schema[f"stance_{target}"] = pl.Utf8
    for name, extra in frame_inputs().items():
        schema[name] = polars_type(extra.kind)
    return schema


def empty_frame(targets: Sequence[str] = ()) -> pl.DataFrame:
    """A scored-comments frame with no rows and the columns `compute` expects."""
    import polars as pl

    return pl.DataFrame(schema=_schema(targets))


def synthetic_frame(n: int, *, sources: int = 50, articles_per_day: int = 5, authors: int = 20_000,
                    days: float = 30.0, start: datetime | None = None, targets: Sequence[str] = ("nato", "russia"),
                    seed: int = 0) -> pl.DataFrame:
    """A reproducible scored-comments frame of `n` rows for benchmarks and demos.

    Like a news site: each source publishes `articles_per_day` articles a day, a comment goes to
    one of that day's articles (the first ones draw most), and authors are Zipf-distributed.
    Article keys are unique across sources; source, article and author are Categorical."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    offsets = np.sort(rng.integers(0, int(days * 86_400 * 1e6), n))
    source_ids = rng.integers(0, sources, n)
    toxicity = rng.beta(1.2, 6.0, n)
    slur_mask = rng.random(n) < 0.02
    vocabulary = np.array([f"term{i}" for i in range(200)])
    terms = [[str(vocabulary[rng.integers(0, 200)])] if hit else [] for hit in slur_mask] if n <= 200_000 \
        else None
    data: dict[str, Any] = {
        "comment_id": np.arange(n, dtype=np.int64),
        "ts": pl.Series(offsets).cast(pl.Duration("us")) + start,
        "source": pl.Series([f"src{i}" for i in range(sources)])[source_ids],
        "article": pl.Series((source_ids * (int(days) + 1) + offsets // 86_400_000_000) * articles_per_day
                             + np.minimum(rng.zipf(2.0, n) - 1, articles_per_day - 1)).cast(pl.Utf8),
        "author": pl.Series(rng.zipf(1.6, n) % authors).cast(pl.Utf8),
        "toxicity": toxicity,
        "toxic": toxicity >= 0.5,
    }
    frame = pl.DataFrame(data)
    if terms is None:
        # Large frames: build the term lists column-wise, a Python loop over millions is too slow.
        picks = pl.Series(vocabulary[rng.integers(0, 200, n)])
        terms_col = pl.when(pl.Series(slur_mask)).then(pl.concat_list(picks)).otherwise(pl.lit([], pl.List(pl.Utf8)))
        frame = frame.with_columns(lexicon_terms=terms_col)
    else:
        frame = frame.with_columns(lexicon_terms=pl.Series(terms, dtype=pl.List(pl.Utf8)))
    coined_mask = pl.Series(rng.random(n) < 0.005)
    coined_pick = pl.Series([f"coin{i}" for i in range(1000)])[rng.integers(0, 1000, n)]
    frame = frame.with_columns(coined_terms=pl.when(coined_mask).then(pl.concat_list(coined_pick))
                               .otherwise(pl.lit([], pl.List(pl.Utf8))))
    labels = pl.Series(["favor", "against", "none"])
    for target in targets:
        frame = frame.with_columns(pl.Series(f"stance_{target}", labels[rng.choice(3, n, p=[0.1, 0.2, 0.7])]))
    # Categorical keys: `compute` reads their codes instead of hashing millions of strings again.
    return frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC") if frame.schema["ts"].time_zone is None
                              else pl.col("ts"), pl.col("source", "article", "author").cast(pl.Categorical))
