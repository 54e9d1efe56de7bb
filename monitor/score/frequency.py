"""wordfreq's Zipf frequencies from a compact table, the same numbers for a tenth of the memory.

`wordfreq.zipf_frequency` keeps, per language, the word list and a dict of every word (about
230 MB for German, English and Russian together), in every scoring process. Here each list is
read once into sorted arrays: the hashes of the words' UTF-8 bytes (this process's `hash`, so
only in memory), the bytes in one blob to confirm a hit exactly, and their centibel bucket. The lookup
then repeats wordfreq's own arithmetic (tokenising, digit smoothing, combining tokens,
rounding), so `zipf(word, lang) == wordfreq.zipf_frequency(word, lang)`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["zipf"]

_MINIMUM = 1e-9  # wordfreq's zipf_to_freq(0.0): the frequency of a word it does not know


class _Table:
    """One language's word list: word -> centibel bucket (0 = most frequent)."""

    def __init__(self, path: str) -> None:
        import gzip
        from array import array

        import msgpack

        # Streamed word by word (wordfreq's cBpack: [header, bucket 0, bucket 1, ...], each a
        # list of words): no list of a million str objects, whose memory Python keeps after.
        hashes, buckets, lengths, blob = array("q"), array("h"), array("q"), bytearray()
        with gzip.open(path, "rb") as fh:
            unpacker = msgpack.Unpacker(fh, raw=True)
            entries = unpacker.read_array_header()
            header = unpacker.unpack()
            if not isinstance(header, dict) or header.get(b"format") != b"cB":
                raise ValueError(f"{path}: not a wordfreq cBpack file")
            for bucket in range(entries - 1):
                for _ in range(unpacker.read_array_header()):
                    word = unpacker.unpack()
                    hashes.append(hash(word))
                    buckets.append(bucket)
                    lengths.append(len(word))
                    blob += word
        keys = np.frombuffer(hashes, dtype=np.int64)
        starts = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(lengths, dtype=np.int64), out=starts[1:])
        # Sorted by hash, and within one hash by position: a word listed twice keeps its last
        # (rarest) bucket, as wordfreq's dict does.
        order = np.lexsort((np.arange(len(keys)), keys))
        keys = keys[order]
        keep = np.ones(len(keys), dtype=bool)
        for i in np.flatnonzero(keys[1:] == keys[:-1]):
            word = blob[starts[order[i]]:starts[order[i] + 1]]
            j = i + 1
            while j < len(keys) and keys[j] == keys[i]:
                if blob[starts[order[j]]:starts[order[j] + 1]] == word:
                    keep[i] = False
                j += 1
        order = order[keep]
        self.blob = blob
        self.hashes = keys[keep]
        self.buckets = np.frombuffer(buckets, dtype=np.int16)[order]
        self.begins = starts[:-1][order].astype(np.int32)  # blobs stay far below 2 GiB
        self.lengths = np.frombuffer(lengths, dtype=np.int64)[order].astype(np.int16)

    def bucket(self, word: str) -> int | None:
        encoded = word.encode("utf-8")
        key = hash(encoded)
        i = int(np.searchsorted(self.hashes, key))
        while i < len(self.hashes) and self.hashes[i] == key:
            begin = int(self.begins[i])
            if self.blob[begin:begin + int(self.lengths[i])] == encoded:
                return int(self.buckets[i])
            i += 1
        return None


@lru_cache(maxsize=None)
def _table(lang: str) -> _Table | None:
    from wordfreq import available_languages

    path = available_languages("best").get(lang)
    if not path:
        return None
    table = _Table(path)
    _release_free_memory()
    return table


def _release_free_memory() -> None:
    """Hand the heap that building a table left free back to the system (glibc keeps it
    otherwise: about 40 MB per scoring process)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass


def _frequency(word: str, lang: str, table: _Table) -> float:
    """wordfreq's `word_frequency(word, lang, "best", minimum=1e-9)` for a table language."""
    from wordfreq.numbers import digit_freq, smash_numbers
    from wordfreq.tokens import lossy_tokenize

    tokens = lossy_tokenize(word, lang)
    if not tokens:
        return _MINIMUM
    one_over_result = 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        bucket = table.bucket(smashed)
        if bucket is None:
            return _MINIMUM
        freq = 10 ** (-bucket / 100)
        if smashed != token:
            freq *= digit_freq(token)
        one_over_result += 1.0 / freq
    unrounded = max(1.0 / one_over_result, _MINIMUM)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(unrounded, leading_zeroes + 3)


def zipf(word: str, lang: str) -> float:
    """`wordfreq.zipf_frequency(word, lang)` (default word list, minimum 0)."""
    table = _table(lang)
    if table is None:
        from wordfreq import zipf_frequency

        return zipf_frequency(word, lang)
    return round(math.log(_frequency(word, lang, table), 10) + 9, 2)
