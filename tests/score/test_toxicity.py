"""The built-in toxicity model: shipped weights, calibrated scores, and training end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.errors import ModelError
from monitor.score.toxicity import MODEL_DIR, lexicon_counts, load_builtin, prepare


def test_shipped_model_is_small_documented_and_loads() -> None:
    files = list(MODEL_DIR.glob("toxicity-*"))
    assert sum(f.stat().st_size for f in files) <= 20 * 1024 * 1024
    card = (MODEL_DIR / "MODEL_CARD_toxicity.md").read_text(encoding="utf-8")
    model = load_builtin()
    assert model.version in card and "CC BY 4.0" in card
    assert all(0.0 < model.threshold_for(lang) < 1.0 for lang in ("de", "en", "ru", "other"))
    assert model.meta["cross_validation"]["metrics"]["germeval2018"]["n"] == 5009


@pytest.mark.parametrize(("lang", "toxic", "neutral"), [
    ("de", "Du bist ein erbärmlicher Idiot, verschwinde hier.", "Du hast einen interessanten Punkt, danke."),
    ("de", "Diese Moderatorin ist eine dumme, verlogene Kuh.", "Diese Moderatorin hat gut nachgefragt."),
    ("en", "Shut up, you brainless clown, nobody cares.", "Good point, I had not thought of that."),
    ("en", "These people are filthy vermin and liars.", "These people have a different opinion than me."),
    ("ru", "Заткнись, безмозглый клоун, всем плевать.", "Хорошее замечание, я об этом не думал."),
    ("ru", "Эти люди — грязные твари и лжецы.", "У этих людей другое мнение, чем у меня."),
])
def test_toxic_comment_scores_above_its_neutral_rewrite(lang: str, toxic: str, neutral: str) -> None:
    model = load_builtin()
    p_toxic, p_neutral = model.score_raw([toxic, neutral], [lang, lang])
    assert 0.0 <= p_neutral < p_toxic <= 1.0
    assert p_toxic >= model.threshold_for(lang) > p_neutral


def test_preparation_removes_tweet_furniture_and_obfuscation() -> None:
    assert prepare("@someone Du bist ein V0ll1d10t|LBR|https://example.org/x #NATO") == \
        "Du bist ein Vollidiot NATO"


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="monitor models train"):
        load_builtin(tmp_path)


def test_lexicon_counts_stems_by_kind_without_matching_innocent_words() -> None:
    entries = (("insult", "trottel"), ("profanity", "*dreck"), ("dehumanising", "=sau"),
               ("insult", "идиот"))
    counts = lexicon_counts(["du trottel, du drecksack!", "eine saubere sache, die säue",
                             "ты идиотка", "so ein sauwetter"], entries)
    assert counts[0].tolist() == [1, 1, 0, 0]  # prefix and compound hits
    assert counts[1].tolist() == [0, 0, 0, 0]  # 'saubere' is not '=sau'; 'säue' is not listed
    assert counts[2].tolist() == [1, 0, 0, 0]
    assert counts[3].sum() == 0


def test_numpy_char_hashing_counts_the_same_ngrams_as_sklearn() -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    from monitor.score.toxicity import char_ngram_counts

    texts = ["du bist ein trottel", "", "ok", "эти люди — лжецы!", "a b  c"]
    for analyzer, ngrams in (("char_wb", (2, 5)), ("char", (1, 6))):
        ours = char_ngram_counts(texts, ngrams, 2 ** 20, analyzer == "char_wb")
        theirs = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=2 ** 20,
                                   alternate_sign=False, norm=None,
                                   lowercase=False).transform(texts)
        assert ours.shape == theirs.shape
        assert np.asarray(ours.sum(axis=1)).ravel().tolist() == \
            np.asarray(theirs.sum(axis=1)).ravel().tolist()
        assert sorted(ours[0].data.tolist()) == sorted(theirs[0].data.tolist())
