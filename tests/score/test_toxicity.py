"""The built-in toxicity model: shipped weights, calibrated scores, and training end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.errors import InputError, ModelError
from monitor.score.toxicity import MODEL_DIR, lexicon_counts, load_builtin, prepare
from monitor.score.train_toxicity import load_lexicon, official_f1, render_card, save, train


def test_shipped_model_is_small_documented_and_loads() -> None:
    files = list(MODEL_DIR.glob("toxicity-*"))
    assert sum(f.stat().st_size for f in files) <= 20 * 1024 * 1024
    card = (MODEL_DIR / "MODEL_CARD_toxicity.md").read_text(encoding="utf-8")
    model = load_builtin()
    assert model.version in card and "CC BY 4.0" in card
    assert 0.0 < model.threshold < 1.0
    assert model.meta["cross_validation"]["metrics"]["germeval"]["n"] == 5009


@pytest.mark.parametrize(("toxic", "neutral"), [
    ("Du bist ein erbärmlicher Idiot, verschwinde hier.", "Du hast einen interessanten Punkt, danke."),
    ("Diese Moderatorin ist eine dumme, verlogene Kuh.", "Diese Moderatorin hat gut nachgefragt."),
    ("Shut up, you brainless clown, nobody cares.", "Good point, I had not thought of that."),
    ("These people are filthy vermin and liars.", "These people have a different opinion than me."),
    ("Заткнись, безмозглый клоун, всем плевать.", "Хорошее замечание, я об этом не думал."),
    ("Эти люди — грязные твари и лжецы.", "У этих людей другое мнение, чем у меня."),
])
def test_toxic_comment_scores_above_its_neutral_rewrite(toxic: str, neutral: str) -> None:
    model = load_builtin()
    p_toxic, p_neutral = model.score_raw([toxic, neutral])
    assert 0.0 <= p_neutral < p_toxic <= 1.0
    assert p_toxic >= model.threshold > p_neutral


def test_preparation_removes_tweet_furniture_and_obfuscation() -> None:
    assert prepare("@someone Du bist ein V0ll1d10t|LBR|https://example.org/x #NATO") == \
        "Du bist ein Vollidiot NATO"


def test_official_metric_is_f1_of_macro_precision_and_recall() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    pred = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    # class 1: P 2/3, R 2/3; class 0: P 4/5, R 4/5 -> macro P = macro R = 11/15
    assert official_f1(y, pred) == pytest.approx(11 / 15)
    assert official_f1(y, 1 - y) == 0.0


def _tiny_corpus(tmp_path: Path) -> tuple[Path, Path]:
    insults = ["Idiot", "Vollpfosten", "Dummkopf", "Schwachkopf", "Trottel", "Depp"]
    praise = ["Experte", "Kollege", "Gast", "Nachbar", "Leser", "Freund"]
    rows = []
    for i in range(24):
        rows.append(f"@user{i} Du bist ein {insults[i % 6]}, echt jetzt {i}\tOFFENSE\tINSULT")
        rows.append(f"@user{i} Du bist ein {praise[i % 6]}, danke dir {i}\tOTHER\tOTHER")
    germeval = tmp_path / "germeval.txt"
    germeval.write_text("\n".join(rows) + "\n", encoding="utf-8")
    own = tmp_path / "own"
    own.mkdir()
    lines = ["pair\tlabel\ttext"]
    for i in range(8):
        lines.append(f"en{i}\t1\tYou are a total idiot number {i}")
        lines.append(f"en{i}\t0\tYou are a total stranger number {i}")
    (own / "en.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return germeval, own


def test_training_round_trip_saves_a_model_that_scores_like_it_learnt(tmp_path: Path) -> None:
    germeval, own = _tiny_corpus(tmp_path)
    rng = np.random.default_rng(0)
    # A small random stand-in for the distilled encoder keeps this test fast.
    static = (np.arange(0, 128_000, 7, dtype=np.int32),
              rng.integers(-127, 128, size=(18_286, 8)).astype(np.int8),
              np.full(18_286, 0.01, dtype=np.float16))
    result = train(germeval, own, folds=3, static=static)
    save(result, tmp_path / "model")
    card = render_card(result.meta)

    model = load_builtin(tmp_path / "model")
    assert model.version == result.meta["version"]
    assert set(result.report) == {"germeval", "own-en", "transfer-en"}
    assert result.report["germeval"]["official_f1"] > 0.8
    assert f"{result.report['germeval']['official_f1']:.4f}" in card
    unseen = model.score_raw(["Du bist ein Trottel, echt", "Du bist ein Freund, echt",
                              "You are a total idiot", "You are a total stranger"])
    assert unseen[0] > unseen[1] and unseen[2] > unseen[3]
    meta = json.loads((tmp_path / "model" / "toxicity-v1.json").read_text(encoding="utf-8"))
    assert meta["threshold"] == result.meta["threshold"]


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="monitor models train"):
        load_builtin(tmp_path)


def test_bad_training_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "g.txt"
    bad.write_text("text\tOFFENSE\tINSULT\nbroken line without label\n", encoding="utf-8")
    with pytest.raises(InputError, match="g.txt:2"):
        train(bad, tmp_path)


def test_lexicon_counts_stems_by_kind_without_matching_innocent_words() -> None:
    entries = (("insult", "trottel"), ("profanity", "*dreck"), ("dehumanising", "=sau"),
               ("insult", "идиот"))
    counts = lexicon_counts(["du trottel, du drecksack!", "eine saubere sache, die säue",
                             "ты идиотка", "so ein sauwetter"], entries)
    assert counts[0].tolist() == [1, 1, 0, 0]  # prefix and compound hits
    assert counts[1].tolist() == [0, 0, 0, 0]  # 'saubere' is not '=sau'; 'säue' is not listed
    assert counts[2].tolist() == [1, 0, 0, 0]
    assert counts[3].sum() == 0


def test_retraining_keeps_the_piece_vectors_stance_reads(tmp_path: Path) -> None:
    germeval, own = _tiny_corpus(tmp_path)
    (own / "insult_stems.txt").write_text("# ours\nde\tinsult\ttrottel\nen\tinsult\tidiot\n",
                                          encoding="utf-8")
    result = train(germeval, own, folds=3)  # no `static`: the shipped table is reused
    save(result, tmp_path / "model")
    retrained, shipped = load_builtin(tmp_path / "model"), load_builtin()
    texts = ["Du bist ein Trottel", "You are a total stranger", "Эти люди — лжецы"]
    assert np.array_equal(retrained.sentence_vectors(texts), shipped.sentence_vectors(texts))
    assert retrained.spec.lexicon == (("insult", "trottel"), ("insult", "idiot"))
    assert result.meta["training_data"]["lexicon"]["entries"] == 2


def test_bad_lexicon_line_names_file_line_and_kinds(tmp_path: Path) -> None:
    bad = tmp_path / "insult_stems.txt"
    bad.write_text("de\tinsult\tidiot\nde\trude\tdepp\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"insult_stems.txt:2: .*insult, profanity"):
        load_lexicon(bad)


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
