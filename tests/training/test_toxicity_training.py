"""Training the built-in toxicity model end to end on tiny sets in the public formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.errors import InputError
from monitor.score.toxicity import load_builtin
from monitor.training.data import Example
from monitor.training.metrics import official_f1
from monitor.training.toxicity import load_lexicon, render_card, save, train

# A small random stand-in for the distilled encoder keeps these tests fast.
_RNG = np.random.default_rng(0)
STATIC = (np.arange(0, 128_000, 7, dtype=np.int32),
          _RNG.integers(-127, 128, size=(18_286, 8)).astype(np.int8),
          np.full(18_286, 0.01, dtype=np.float16))


def _tiny_sets(root: Path) -> list[Example]:
    """A GermEval-format file and OLID-format files under `root`; own English rows returned."""
    insults = ["Idiot", "Vollpfosten", "Dummkopf", "Schwachkopf", "Trottel", "Depp"]
    praise = ["Experte", "Kollege", "Gast", "Nachbar", "Leser", "Freund"]
    rows = []
    for i in range(24):
        rows.append(f"@user{i} Du bist ein {insults[i % 6]}, echt jetzt {i}\tOFFENSE\tINSULT")
        rows.append(f"@user{i} Du bist ein {praise[i % 6]}, danke dir {i}\tOTHER\tOTHER")
    (root / "germeval2018").mkdir(parents=True)
    (root / "germeval2018" / "germeval2018.training.txt").write_text("\n".join(rows) + "\n",
                                                                     encoding="utf-8")
    (root / "olid").mkdir()
    bad = ["moron", "loser", "clown", "fool"]
    good = ["friend", "expert", "neighbour", "reader"]
    for stem, n in (("train", 20), ("val", 8)):
        texts = [f"@user you are a {bad[i % 4]} {i}" if i % 2 else f"@user you are a {good[i % 4]} {i}"
                 for i in range(n)]
        (root / "olid" / f"{stem}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (root / "olid" / f"{stem}_labels.txt").write_text(
            "\n".join(str(i % 2) for i in range(n)) + "\n")
    return [Example(f"Ты полный {w} {i}", "ru", "toxicity", label, "own", "train", f"own:ru{i}")
            for i in range(8) for w, label in (("идиот", 1), ("молодец", 0))]


def test_training_round_trip_saves_a_model_that_scores_like_it_learnt(tmp_path: Path) -> None:
    extra = _tiny_sets(tmp_path / "data")
    result = train(tmp_path / "data", sets=("germeval2018", "olid"), extra=extra, folds=3,
                   static=STATIC, lexicon_file=tmp_path / "none.txt")
    save(result, tmp_path / "model")
    card = render_card(result.meta)

    model = load_builtin(tmp_path / "model")
    assert model.version == result.meta["version"]
    assert set(result.report) == {"germeval2018", "olid", "own-ru", "olid (val)"}
    assert result.report["olid (val)"]["method"] == "validation split"
    assert result.report["olid (val)"]["n"] == 8
    assert result.report["germeval2018"]["official_f1"] > 0.8
    assert f"| {result.report['germeval2018']['official_f1']} |" in card
    assert "CC BY 4.0" in card and "none stated" not in card.split("## Figures")[0].split(
        "germeval2018")[0]
    unseen = model.score_raw(["Du bist ein Trottel, echt", "Du bist ein Freund, echt",
                              "you are a total clown", "you are a total friend"],
                             ["de", "de", "en", "en"])
    assert unseen[0] > unseen[1] and unseen[2] > unseen[3]
    assert set(model.thresholds) == {"de", "en", "ru", "other"}
    meta = json.loads((tmp_path / "model" / "toxicity-v1.json").read_text(encoding="utf-8"))
    assert meta["thresholds"] == result.meta["thresholds"]


def test_the_stated_licence_build_leaves_out_sets_without_one(tmp_path: Path) -> None:
    _tiny_sets(tmp_path / "data")
    result = train(tmp_path / "data", sets=("germeval2018", "olid"), stated_licence_only=True,
                   folds=3, static=STATIC, lexicon_file=tmp_path / "none.txt")
    assert set(result.meta["training_data"]["sets"]) == {"germeval2018"}
    assert result.meta["training_data"]["build"] == "stated-licence-only"
    assert "stated-licence-only build" in render_card(result.meta)


def test_bad_training_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "germeval2018").mkdir()
    (tmp_path / "germeval2018" / "germeval2018.training.txt").write_text(
        "text\tOFFENSE\tINSULT\nbroken line without label\n", encoding="utf-8")
    with pytest.raises(InputError, match="germeval2018.training.txt:2"):
        train(tmp_path, sets=("germeval2018",))


def test_missing_data_folder_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="MONITOR_LABELLED_DATA"):
        train(tmp_path / "nowhere", sets=("olid",))


def test_retraining_keeps_the_piece_vectors_stance_reads(tmp_path: Path) -> None:
    _tiny_sets(tmp_path / "data")
    stems = tmp_path / "insult_stems.txt"
    stems.write_text("# ours\nde\tinsult\ttrottel\nen\tinsult\tidiot\n", encoding="utf-8")
    result = train(tmp_path / "data", sets=("germeval2018",), folds=3, lexicon_file=stems)
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


def test_official_metric_is_f1_of_macro_precision_and_recall() -> None:
    y = np.array([1, 1, 0, 0, 0, 0])
    pred = np.array([1, 0, 0, 0, 0, 1])
    assert official_f1(y, pred) == pytest.approx(0.625)
    assert official_f1(y, 1 - y) == 0.0


def test_models_train_adds_reviewers_verdicts_and_skips_absent_sets(tmp_path: Path, capsys) -> None:
    from datetime import datetime, timezone

    from monitor.store.db import open_engine
    from monitor.store.verdicts import Verdict, record_verdicts
    from monitor.config import load_config
    from tests.conftest import make_config_dir
    from tests.helpers import comment_adder, run_cli

    config_path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    engine = open_engine(load_config(config_path, environ={}))
    add = comment_adder(engine)
    first = add(text="Du bist ein elender Schwurbler, echt", toxicity=0.2,
                at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    with engine.begin() as conn:
        record_verdicts(conn, [Verdict(first, "toxicity", "toxic")], "alice")
    engine.dispose()
    _tiny_sets(tmp_path / "data")

    code, _, err = run_cli(capsys, "--config", str(config_path), "models", "train", "--only",
                           "toxicity", "--data", str(tmp_path / "data"), "--folds", "2",
                           "--out", str(tmp_path / "model"))

    assert code == 0, err
    assert "1 reviewer verdict(s) from the database; stance: 0" in err
    assert "skipping germeval2019" in err
    card = (tmp_path / "model" / "MODEL_CARD_toxicity.md").read_text(encoding="utf-8")
    assert "`verdicts`: 1 rows (1 toxic)" in card
    assert load_builtin(tmp_path / "model").version in card
