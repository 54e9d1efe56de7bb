"""Stance per target: labels a reader would agree with, the output shape, the shared piece vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest

from monitor.config import Config, TargetConfig, load_config, load_targets
from monitor.errors import ModelError
from monitor.score.base import CommentScore, SlurHit
from monitor.score.stance import (DEFAULT_MODEL, EMBEDDING_DIM, StanceModel, TargetStanceScorer,
                                  piece_vectors, scorer_from_config)
from monitor.score.toxicity import load_builtin
from monitor.training.data import Example, data_root, load
from monitor.training.stance import evaluate_stance, macro_f1

REPO = Path(__file__).resolve().parents[2]


class CountingVectors:
    """The built-in toxicity model's piece vectors, remembering which texts it was asked for."""

    def __init__(self) -> None:
        self.inner = load_builtin()
        self.seen: list[str] = []

    def sentence_vectors(self, texts: Sequence[str]) -> Any:
        self.seen.extend(texts)
        return self.inner.sentence_vectors(texts)


@pytest.fixture(scope="module")
def targets() -> dict[str, TargetConfig]:
    return load_targets(REPO / "config" / "targets.toml")


@pytest.fixture(scope="module")
def model() -> StanceModel:
    return StanceModel.load(DEFAULT_MODEL)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The shipped targets with a throw-away data folder."""
    main = tmp_path / "monitor.toml"
    main.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
                    f'targets = "{REPO / "config" / "targets.toml"}"\n', encoding="utf-8")
    return load_config(main, environ={})


@pytest.fixture
def vectors() -> CountingVectors:
    return CountingVectors()


@pytest.fixture
def scorer(targets: dict[str, TargetConfig], model: StanceModel,
           vectors: CountingVectors) -> TargetStanceScorer:
    return TargetStanceScorer(targets, model, vectors)


def _labels(scorer: TargetStanceScorer, texts: list[str], slurs: list[list[SlurHit]] | None = None
            ) -> list[dict[str, str]]:
    results = scorer.score_batch(texts, ["de"] * len(texts), slurs or [[] for _ in texts])
    return [{key: r.label for key, r in result.items()} for result in results]


def test_every_text_gets_one_result_per_configured_target(scorer: TargetStanceScorer) -> None:
    results = scorer.score_batch(["Hallo", "Die NATO tagt."], ["de", "de"], [[], []])
    assert [sorted(r) for r in results] == [["nato", "russia"], ["nato", "russia"]]
    assert all(0.0 <= s.score <= 1.0 for r in results for s in r.values())


def test_a_comment_without_a_mention_is_none_and_gets_no_vectors(
        scorer: TargetStanceScorer, vectors: CountingVectors) -> None:
    texts = ["Die Spritpreise sind eine Frechheit!", "Who cares, my pension is too small.",
             "Погода сегодня ужасная."]
    assert _labels(scorer, texts) == [{"nato": "none", "russia": "none"}] * 3
    assert vectors.seen == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Diese Nato ist eine Bande von Kriegstreibern und Lügnern.", {"nato": "against"}),
    ("Putin is a murderer and a liar.", {"russia": "against"}),
    ("Россия — великая страна, горжусь нашей армией!", {"russia": "favor"}),
    ("Gott sei Dank schützt uns die Nato, ich bin froh darüber.", {"nato": "favor"}),
    ("Russland hat alles richtig gemacht, Respekt an Moskau!", {"russia": "favor"}),
    ("НАТО — агрессивный блок поджигателей войны.", {"nato": "against"}),
])
def test_clear_opinions_get_their_label(scorer: TargetStanceScorer, text: str,
                                        expected: dict[str, str]) -> None:
    labels = _labels(scorer, [text])[0]
    assert {key: labels[key] for key in expected} == expected


def test_reported_speech_and_questions_are_not_the_commenters_stance(scorer: TargetStanceScorer) -> None:
    labels = _labels(scorer, ["Laut Bericht kündigte die Nato an, das Manöver im Mai abzuhalten.",
                              "How many soldiers does NATO have in Estonia?"])
    assert [row["nato"] for row in labels] == ["none", "none"]


def test_against_ukraine_is_not_in_favour_of_russia(scorer: TargetStanceScorer) -> None:
    labels = _labels(scorer, ["Die Ukraine ist ein korruptes Loch, keinen Cent mehr dafür!"])[0]
    assert labels == {"nato": "none", "russia": "none"}


@pytest.mark.parametrize(("text", "expected"), [
    ("Die Orks haben wieder ein Krankenhaus beschossen. Abschaum.", "against"),
    ("Invaders go home, every single one of them.", "against"),
    ("Слава Украине! Героям слава!", "against"),
    ("Das Kiewer Regime beschießt seit Jahren Donezk, und keinen interessiert es.", "favor"),
    ("Наши бойцы освободили ещё одно село, молодцы!", "favor"),
    ("The liberation of Donbass is going well, finally.", "favor"),
])
def test_war_comments_that_never_name_russia_still_get_a_stance_toward_it(
        scorer: TargetStanceScorer, text: str, expected: str) -> None:
    assert _labels(scorer, [text])[0]["russia"] == expected


@pytest.mark.xfail(strict=True, reason="the fast tier (v4) reads 'soldiers have died in the SMO?' "
                   "as against: RUW outweighs our own questions; the second tier gets it right "
                   "(tests/score/test_second_tier.py)")
def test_an_indirect_reference_in_reported_speech_or_a_question_is_none(
        scorer: TargetStanceScorer) -> None:
    labels = _labels(scorer, ["Laut Bericht haben die Besatzer Cherson verlassen.",
                              "How many soldiers have died in the SMO so far?"])
    assert [row["russia"] for row in labels] == ["none", "none"]


def test_a_slur_toward_a_target_counts_as_a_hostile_mention(scorer: TargetStanceScorer) -> None:
    text = "Diese Bombenbrüder gehören vor Gericht."
    hit = SlurHit(term="Bombenbrüder", normalized="bombenbrüder", target="nato", kind="coined",
                  start=6, end=18)
    assert _labels(scorer, [text], [[hit]])[0] == {"nato": "against", "russia": "none"}
    assert _labels(scorer, [text])[0]["nato"] == "none"


def test_shared_piece_vectors_give_the_same_labels_without_computing_them_again(
        scorer: TargetStanceScorer, vectors: CountingVectors) -> None:
    texts = ["Die NATO ist schuld an allem.", "Nichts zu sehen hier.", "Putin hat recht."]
    own = scorer.score_batch(texts, ["de"] * 3, [[], [], []])
    assert len(vectors.seen) == 2  # only the comments that mention a target
    vectors.seen.clear()
    shared = scorer.score_batch(texts, ["de"] * 3, [[], [], []],
                                embeddings=piece_vectors(texts, vectors.inner))
    assert vectors.seen == []
    assert [{k: r.label for k, r in row.items()} for row in shared] == \
        [{k: r.label for k, r in row.items()} for row in own]
    with pytest.raises(ValueError, match="2 rows for 3 texts"):
        scorer.score_batch(texts, ["de"] * 3, [[], [], []], embeddings=np.zeros((2, EMBEDDING_DIM)))


def test_an_added_target_without_a_head_is_scored_by_the_cue_head(
        model: StanceModel, vectors: CountingVectors) -> None:
    targets = {"eu": TargetConfig(key="eu", label="EU",
                                  aliases={"de": ["EU"], "en": ["EU"], "ru": ["ЕС"]})}
    scorer = TargetStanceScorer(targets, model, vectors)
    labels = _labels(scorer, ["Die EU ist ein Mafiaverein voller Lügner!", "Schönes Wetter heute."])
    assert labels == [{"eu": "against"}, {"eu": "none"}]
    assert vectors.seen == []  # the cue head reads no vectors


def test_ukraine_added_as_a_target_uses_the_head_learnt_from_war_posts(
        model: StanceModel, vectors: CountingVectors) -> None:
    from monitor.training.stance import UKRAINE

    scorer = TargetStanceScorer({"ukraine": UKRAINE}, model, vectors)
    texts = ["I stand with Ukraine, glory to its defenders.",
             "Ukraine is a corrupt puppet state run by Nazis.",
             "Ukraine's parliament meets on Tuesday to discuss the budget."]
    results = scorer.score_batch(texts, ["en"] * 3, [[], [], []])
    assert [r["ukraine"].label for r in results] == ["favor", "against", "none"]


def test_monitor_score_lines_carry_stance_per_target_in_lower_case(
        scorer: TargetStanceScorer) -> None:
    stance = scorer.score_batch(["Die NATO ist ein Kriegstreiberverein!"], ["de"], [[]])[0]
    line = CommentScore(id=1, lang="de", toxicity=0.4, toxic=False, model="m", stance=stance).to_json()
    out = json.loads(json.dumps(line))["stance"]
    assert set(out) == {"nato", "russia"}
    assert out["nato"]["label"] == "against" and 0.5 < out["nato"]["score"] <= 1.0
    assert out["russia"]["label"] == "none"


def test_scorer_from_config_uses_the_configured_targets(config: Config) -> None:
    scorer = scorer_from_config(config)
    assert scorer.keys == tuple(config.targets)
    assert scorer.version.startswith("stance-")


def test_a_missing_model_says_how_to_train_it(tmp_path: Path, config: Config) -> None:
    with pytest.raises(ModelError, match="monitor models train"):
        scorer_from_config(config, tmp_path / "nope.npz")


def test_a_model_trained_on_other_sentence_vectors_is_refused_with_the_fix(
        tmp_path: Path, model: StanceModel) -> None:
    path = tmp_path / "stance-old.npz"
    model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["embedding"] = np.array("use-v3-512")  # what stance-v2 read
    np.savez(path, **arrays)
    with pytest.raises(ModelError, match="other sentence vectors.*monitor models train"):
        StanceModel.load(path)


def _own_split(split: str) -> list[Example]:
    return [ex for ex in load("own-stance") if ex.split == split]


def _own_f1(scorer: TargetStanceScorer, rows: list[Example], target: str, lang: str | None = None
            ) -> float:
    rows = [ex for ex in rows if ex.task == f"stance:{target}" and lang in (None, ex.lang)]
    predicted = scorer.score_batch([ex.text for ex in rows], [ex.lang for ex in rows],
                                   [[] for _ in rows])
    return macro_f1([str(ex.label) for ex in rows], [p[target].label for p in predicted])


def test_own_heldout_macro_f1_per_target_and_language_stays_useful(
        scorer: TargetStanceScorer) -> None:
    """The project's own held-out comments (not the headline: RUW is, see below)."""
    heldout = _own_split("val")
    for target in ("nato", "russia"):
        assert _own_f1(scorer, heldout, target) >= 0.75, target
        for lang in ("de", "en", "ru"):
            assert _own_f1(scorer, heldout, target, lang) >= 0.65, (target, lang)


def test_the_own_labelled_set_covers_every_label_and_keeps_heldout_apart() -> None:
    train, heldout = _own_split("train"), _own_split("val")
    assert not {ex.text for ex in train} & {ex.text for ex in heldout}
    for target in ("nato", "russia"):
        for rows in (train, heldout):
            labels = [ex.label for ex in rows if ex.task == f"stance:{target}"]
            assert {lab: labels.count(lab) > 10 for lab in ("favor", "against", "none")} == \
                {"favor": True, "against": True, "none": True}
    assert {ex.lang for ex in train} == {"de", "en", "ru"}


needs_public_data = pytest.mark.skipif(
    not (data_root() / "ruw").is_dir(), reason="the labelled public sets are not in ../shared/data")


@needs_public_data
def test_ruw_validation_quick_subset_toward_russia_is_well_above_chance() -> None:
    rows = evaluate_stance(quick=True)
    russia = next(r for r in rows if r.dataset == "ruw" and r.target == "russia")
    assert russia.n == 150
    assert russia.macro_f1 >= 0.45, russia
    assert sum(map(sum, russia.confusion)) == russia.n
    assert not any(r.own for r in rows if r.dataset != "own-stance")


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("de", "Russland führt einen brutalen Angriffskrieg, Putin gehört vor ein Gericht.", "against"),
    ("en", "Russia is waging a brutal war of aggression and Putin belongs in The Hague.", "against"),
    ("ru", "Путин — военный преступник, а его армия убивает мирных жителей.", "against"),
    ("en", "Moscow is right to resist the West, NATO started all this.", "favor"),
    ("de", "Moskau wehrt sich zu Recht gegen den Westen, die NATO hat das alles angefangen.", "favor"),
    ("ru", "Москва правильно сопротивляется Западу, всё это начало НАТО.", "favor"),
    ("en", "The Kremlin announced new talks with Kyiv on Tuesday.", "none"),
    ("de", "Der Kreml kündigte am Dienstag neue Gespräche mit Kiew an.", "none"),
    ("ru", "Кремль во вторник объявил о новых переговорах с Киевом.", "none"),
])
def test_clear_cut_war_sentences_go_the_right_way_in_three_languages(
        scorer: TargetStanceScorer, lang: str, text: str, expected: str) -> None:
    """War vocabulary is not support for the side that wages the war; plain news is none."""
    assert scorer.score_batch([text], [lang], [[]])[0]["russia"].label == expected


@pytest.mark.xfail(strict=True, reason="the fast tier (v4) does not carry support for Ukraine and "
                   "sanctions over to against Russia outside RUW's English wording; the second "
                   "tier does (tests/score/test_second_tier.py)")
@pytest.mark.parametrize(("lang", "text"), [
    ("en", "I support Ukraine and the sanctions on Russia."),
    ("de", "Ich unterstütze die Ukraine und die Sanktionen gegen Russland."),
])
def test_support_for_ukraine_and_sanctions_reads_as_against_russia(
        scorer: TargetStanceScorer, lang: str, text: str) -> None:
    assert scorer.score_batch([text], [lang], [[]])[0]["russia"].label == "against"
