"""The metric table: every windowed metric declared once, with its type, its per-comment counts and
how a group's value is finished from them.

The frame schema and the loader (`Metric.inputs`), the engine (`counts`, `finish`), the result
schema (`kind`) and the rule checker (`numeric_metric_names`) all read `METRICS`; a new metric is
one entry there. A metric named with `{target}` is written once per stance target.

The engine hands every `finish` a `Groups`: per group of one level (a window length and a scope),
the comment count `n` and the sums of every declared count, plus what it computes for all metrics
alike: the toxicity sum and its non-null count, the 90th percentile of toxicity, distinct authors,
the comments of the most active authors, and slur occurrences (`lex`, `coin`; their terms too, for
metrics of stage "terms").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from monitor.aggregate.groups import Level
    from monitor.aggregate.terms import Terms

__all__ = ["Groups", "Input", "METRICS", "Metric", "STANCE_LABELS", "count_exprs", "frame_inputs",
           "metric_columns", "metric_names", "numeric_metric_names", "polars_type"]

Kind = Literal["int", "float", "bool", "text", "list"]
STANCE_LABELS = ("favor", "against", "none")


def polars_type(kind: Kind) -> Any:
    """The polars dtype of a metric or input kind."""
    import polars as pl

    return {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "text": pl.Utf8,
            "list": pl.List(pl.Utf8)}[kind]


@dataclass(frozen=True)
class Input:
    """A per-comment column a metric reads beyond the built-in ones (`FRAME_COLUMNS`): its name in
    the scored-comments frame, its kind, and the SQL expression the loader selects it with (over
    the `comments`, `scores` and `sources` tables, latest score per comment)."""

    name: str
    kind: Kind
    select: Callable[[], Any]


@dataclass
class Groups:
    """What `Metric.finish` reads: one level's groups, one entry per group in every array."""

    size: int  # window length, seconds
    sums: Mapping[str, np.ndarray]  # n, tox_sum, tox_n (only where toxicity has gaps), lex, coin, counts
    p90: np.ndarray | None = None  # 90th percentile of toxicity (NaN: none)
    authors: np.ndarray | None = None  # distinct authors
    top_n: np.ndarray | None = None  # comments of the `top_authors` most active authors
    level: Level | None = None  # stage "terms": the level itself, the slur terms, how many to list
    terms: Terms | None = None
    top_slurs: int = 0

    @property
    def n(self) -> np.ndarray:
        return self.sums["n"]


# A per-comment count a metric adds up per group: (frame, target) → a non-negative integer
# expression, or None where it is not needed for this frame (a non-null count of a gap-free column).
Count = Callable[["pl.DataFrame", str], "pl.Expr | None"]


@dataclass(frozen=True)
class Metric:
    """One metric column: its name, kind and help, and how it is computed."""

    name: str  # `{target}` in the name: one column per stance target
    kind: Kind
    help: str
    finish: Callable[[Groups, str], Any]  # (groups, target) → one value per group
    counts: Mapping[str, Count] = field(default_factory=dict)  # names may hold `{target}`
    inputs: tuple[Input, ...] = ()
    stage: Literal["sums", "terms"] = "sums"  # "terms": finished after slur terms are collected

    @property
    def per_target(self) -> bool:
        return "{target}" in self.name


def _toxic(frame: pl.DataFrame, target: str) -> pl.Expr:
    import polars as pl

    return pl.col("toxic").fill_null(False).cast(pl.UInt8)


def _toxic_n(frame: pl.DataFrame, target: str) -> pl.Expr | None:
    import polars as pl

    return pl.col("toxic").is_not_null().cast(pl.UInt8) if frame["toxic"].null_count() else None


def _stance(label: str) -> Count:
    def count(frame: pl.DataFrame, target: str) -> pl.Expr:
        import polars as pl

        return (pl.col(f"stance_{target}") == label).fill_null(False).cast(pl.UInt8)

    return count


def _share(count: str) -> Callable[[Groups, str], np.ndarray]:
    """The share of comments a count covers."""
    return lambda g, target: g.sums[count.format(target=target)] / g.n


def _mean(total: str, valid: str) -> Callable[[Groups, str], np.ndarray]:
    """A sum over the comments that have a value (all of them where the non-null count was not needed)."""
    def finish(g: Groups, target: str) -> np.ndarray:
        import numpy as np

        n = g.sums.get(valid, g.n)
        return np.where(n > 0, g.sums[total] / n, np.nan)

    return finish


def _top_slurs(g: Groups, target: str) -> pl.Series:
    from monitor.aggregate import terms

    assert g.level is not None and g.terms is not None
    return terms.top_slurs(g.level, g.terms, g.top_slurs)


def _new_coinages(g: Groups, target: str) -> np.ndarray:
    from monitor.aggregate import terms

    assert g.level is not None and g.terms is not None
    return terms.new_coinages(g.level, g.terms)


_STANCE = {"favor_{target}": _stance("favor"), "against_{target}": _stance("against")}

METRICS: tuple[Metric, ...] = (
    Metric("comment_count", "int", "comments in the window (time = published_at, else first_seen_at)",
           lambda g, t: g.n),
    Metric("distinct_authors", "int", "distinct author pseudonyms (comments without one are not counted)",
           lambda g, t: g.authors),
    Metric("toxicity_mean", "float", "mean toxicity of the latest score per comment",
           _mean("tox_sum", "tox_n")),
    Metric("toxicity_p90", "float", "90th percentile of toxicity (linear interpolation)",
           lambda g, t: g.p90),
    Metric("toxic_share", "float", "share of comments flagged toxic", _mean("toxic", "toxic_n"),
           counts={"toxic": _toxic, "toxic_n": _toxic_n}),
    Metric("slur_count", "int", "slur occurrences (lexicon + coined)",
           lambda g, t: g.sums["lex"] + g.sums["coin"]),
    Metric("slur_lexicon_count", "int", "occurrences of lexicon slurs", lambda g, t: g.sums["lex"]),
    Metric("slur_coined_count", "int", "occurrences of coined (discovered) slurs", lambda g, t: g.sums["coin"]),
    Metric("top_slurs", "list", "the most frequent normalized slurs, most frequent first", _top_slurs,
           stage="terms"),
    Metric("new_coinages", "int", "coined normalized terms first seen (anywhere) in this window",
           _new_coinages, stage="terms"),
    Metric("comments_per_hour", "float", "comment_count / window length in hours (whole window, even in progress)",
           lambda g, t: g.n / (g.size / 3600.0)),
    Metric("top_author_share", "float", "share of comments written by the `top_authors` most active authors",
           lambda g, t: g.top_n / g.n),
    Metric("stance_{target}_favor", "float", "share of comments with stance 'favor' toward the target",
           _share("favor_{target}"), counts=_STANCE),
    Metric("stance_{target}_against", "float", "share with stance 'against'",
           _share("against_{target}"), counts=_STANCE),
    Metric("stance_{target}_none", "float", "share with 'none' or no stance result",
           lambda g, t: 1.0 - _share("favor_{target}")(g, t) - _share("against_{target}")(g, t), counts=_STANCE),
)


def metric_columns(targets: Iterable[str], stage: str | None = None) -> Iterator[tuple[str, Metric, str]]:
    """(column name, metric, target) of every metric column in output order: the metrics without a
    target, then each target's; only those of `stage` when given."""
    # METRICS is read at each call: a test (or a plugin) that swaps the table is seen everywhere.
    table = [m for m in METRICS if stage is None or m.stage == stage]
    for metric in table:
        if not metric.per_target:
            yield metric.name, metric, ""
    for target in targets:
        for metric in table:
            if metric.per_target:
                yield metric.name.format(target=target), metric, target


def metric_names(targets: Iterable[str]) -> list[str]:
    """Every metric name written for these stance targets."""
    return [name for name, _, _ in metric_columns(targets)]


def numeric_metric_names(targets: Iterable[str]) -> list[str]:
    """The metric names usable in rule expressions (all but list-valued ones such as top_slurs)."""
    return [name for name, metric, _ in metric_columns(targets) if metric.kind != "list"]


def count_exprs(frame: pl.DataFrame, targets: Iterable[str]) -> dict[str, pl.Expr]:
    """The per-comment counts the metrics add up, by name (one per name, however many metrics read it)."""
    exprs: dict[str, pl.Expr] = {}
    for _, metric, target in metric_columns(targets, "sums"):
        for name, count in metric.counts.items():
            name = name.format(target=target)
            if name not in exprs and (expr := count(frame, target)) is not None:
                exprs[name] = expr
    return exprs


def frame_inputs() -> dict[str, Input]:
    """The extra per-comment columns the metrics read, by name."""
    return {i.name: i for metric in METRICS for i in metric.inputs}
