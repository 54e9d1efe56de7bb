"""Slur terms per group: the most frequent ones and the coinages first seen in a window (numpy).

Only the few per cent of comments with a slur are read; each occurrence becomes one entry with its
comment's time, article and source and the term's number, and a level's groups are found by
sorting packed (key, term) numbers, as in `monitor.aggregate.groups`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Mapping

import numpy as np

from monitor.aggregate.groups import KEY_LIMIT, Level, Rows, codes_of, runs

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Occurrences", "Terms", "collect", "new_coinages", "top_slurs"]

_US = 1_000_000  # microseconds per second


@dataclass
class Occurrences:
    """Slur occurrences: one entry per term in a comment."""

    t: np.ndarray  # the comment's time, seconds since the epoch
    art: np.ndarray
    src: np.ndarray
    term: np.ndarray  # term number (see Terms.names)

    def take(self, which: np.ndarray) -> Occurrences:
        return Occurrences(self.t[which], self.art[which], self.src[which], self.term[which])

    def keys(self, level: Level) -> np.ndarray:
        """Each occurrence's group in `level` (outside its windows: a key that matches no group)."""
        window = self.t // level.size - level.w_lo
        code = {"article": self.art, "source": self.src, "overall": 0}[level.scope]
        return window * level.n_code + code


@dataclass
class Terms:
    names: pl.Series  # the normalized term of each number
    slurs: Occurrences  # lexicon and coined
    coined: Occurrences  # coined only
    first: np.ndarray  # each term's first sighting as a coinage (seconds; the largest Int64 if never)


def collect(frame: pl.DataFrame, rows: Rows, first_seen: Mapping[str, datetime] | None) -> Terms:
    """The slur occurrences of `frame` (encoded as `rows`); `first_seen` holds coinages seen before."""
    import polars as pl

    hits = np.flatnonzero((rows.counts["lex"] + rows.counts["coin"]) > 0)
    lists = frame.select("lexicon_terms", "coined_terms")[hits]
    both = lists.select(pl.concat_list("lexicon_terms", "coined_terms"))[:, 0]
    per_row = both.list.len().to_numpy().astype(np.int64)
    names, term = codes_of(both.explode())
    t = np.repeat(rows.ts[hits] // _US, per_row)
    art = np.repeat(rows.art[hits].astype(np.int64), per_row)
    slurs = Occurrences(t, art, rows.art_src[art], term.astype(np.int64))
    # Coined terms follow the lexicon ones within each comment's list.
    place = np.arange(len(term)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    lexicon = lists["lexicon_terms"].list.len().to_numpy().astype(np.int64)
    is_coined = (place >= np.repeat(lexicon, per_row)) & (term >= 0)
    slurs = slurs.take(term >= 0)
    coined = Occurrences(t[is_coined], art[is_coined], rows.art_src[art[is_coined]],
                         term[is_coined].astype(np.int64))
    first = np.full(len(names), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, coined.term, coined.t)
    if first_seen:
        number = {name: i for i, name in enumerate(names.to_list())}
        for name, when in first_seen.items():
            if name in number:
                first[number[name]] = min(first[number[name]], int(when.timestamp()))
    return Terms(names, slurs, coined, first)


def _distinct(keys: np.ndarray, term: np.ndarray, n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (key, term) pairs, sorted, with how often each occurs."""
    pair = keys * n_terms + term
    pair.sort()
    first, count = runs(pair)
    pair = pair[first]
    key = pair // n_terms
    return key, pair - key * n_terms, count


def _in_level(level: Level, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each key's group index in `level` and whether the level has that group."""
    if len(level.keys) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(level.keys, keys), len(level.keys) - 1)
    return at, level.keys[at] == keys


def top_slurs(level: Level, terms: Terms, top: int) -> pl.Series:
    """The `top` most frequent terms of each group (ties: alphabetical), most frequent first."""
    import polars as pl
    import pyarrow as pa

    n_terms = max(1, len(terms.names))
    key, term, count = _distinct(terms.slurs.keys(level), terms.slurs.term, n_terms)
    group, found = _in_level(level, key)
    group, term, count = group[found], term[found], count[found]
    alphabetical = np.empty(len(terms.names), dtype=np.int64)
    by_name = terms.names.arg_sort().to_numpy()
    alphabetical[by_name] = np.arange(len(by_name))
    chosen_group, chosen_term = group, term
    if len(count):
        # Sorted by (group, count descending, name): each group's first entries are its top terms.
        most = int(count.max()) + 1
        if len(level.keys) * most * n_terms < KEY_LIMIT:
            order = np.argsort((group * most + (most - 1 - count)) * n_terms + alphabetical[term])
        else:
            order = np.lexsort((alphabetical[term], -count, group))
        group, term = group[order], term[order]
        start, length = runs(group)
        place = np.arange(len(group)) - np.repeat(start, length)
        chosen_group, chosen_term = group[place < top], term[place < top]
    offsets = np.zeros(len(level.keys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(chosen_group, minlength=len(level.keys)), out=offsets[1:])
    values = terms.names.gather(chosen_term).cast(pl.Utf8).to_arrow().cast(pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
    return pl.Series("top_slurs", pl.from_arrow(lists))


def new_coinages(level: Level, terms: Terms) -> np.ndarray:
    """How many distinct coined terms each group has whose first sighting falls in its window."""
    occ = terms.coined
    fresh = occ.t // level.size == terms.first[occ.term] // level.size
    occ = occ.take(fresh)
    key, _, _ = _distinct(occ.keys(level), occ.term, max(1, len(terms.names)))
    group, found = _in_level(level, key)
    return np.bincount(group[found], minlength=len(level.keys)).astype(np.int64)
