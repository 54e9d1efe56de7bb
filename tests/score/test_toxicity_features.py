"""The scoring path's own word hashing and row scaling give exactly scikit-learn's matrices,
so weights trained with either read the same features."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from monitor.score.toxicity import char_ngram_counts, l2_rows, prepare, word_ngram_counts
from tests.score.equivalence_texts import equivalence_texts


def _lowered() -> list[str]:
    return [prepare(t).lower() for t in equivalence_texts()] + ["", "x", "ja ja ja ja"]


def test_word_ngram_counts_equal_sklearns_hashing_vectorizer() -> None:
    lowered = _lowered()
    for ngrams in ((1, 1), (1, 2), (2, 3)):
        ours = word_ngram_counts(lowered, ngrams, 2 ** 20)
        theirs = HashingVectorizer(analyzer="word", ngram_range=ngrams, n_features=2 ** 20,
                                   alternate_sign=False, norm=None, lowercase=False,
                                   dtype=np.float32, token_pattern=r"(?u)\b\w+\b"
                                   ).transform(lowered).tocsr()
        theirs.sum_duplicates()
        assert ours.shape == theirs.shape
        assert (ours != theirs).nnz == 0, ngrams
        assert ours.nnz > len(lowered)


def test_l2_rows_equal_sklearns_normalize_bit_for_bit() -> None:
    counts = char_ngram_counts(_lowered(), (1, 6), 2 ** 20, within_words=False)
    counts.data = (1.0 + np.log(counts.data)).astype(np.float32) * np.float32(1.7)
    ours = l2_rows(counts.copy())
    theirs = normalize(counts.copy(), norm="l2", copy=False)
    assert ours.dtype == theirs.dtype == np.float32
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.data, theirs.data)
    lengths = np.sqrt(np.asarray(ours.multiply(ours).sum(axis=1)).ravel())
    assert np.allclose(lengths[np.diff(ours.indptr) > 0], 1.0, atol=1e-5)
