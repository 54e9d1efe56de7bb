"""Training the stance model: the licence switch, what the file records, and the table rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_targets
from monitor.errors import InputError
from monitor.score.stance import GENERIC_HEAD, StanceModel, TargetStanceScorer
from monitor.training.stance import evaluate_stance, train_stance

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_without_unlicensed_sets_the_model_is_built_from_own_data_and_says_so(
        tmp_path: Path) -> None:
    out = tmp_path / "stance.npz"
    result = train_stance(tmp_path / "no-public-data-here", stated_licence_only=True,
                          output=out, log=lambda line: None)
    assert result.datasets == ["own-stance"] and result.left_out == ["ruw"]
    model = StanceModel.load(out)
    assert model.trained_on == ("own-stance",)
    assert set(model.heads) == {"nato", "russia", GENERIC_HEAD}  # no Ukraine head without RUW
    scorer = TargetStanceScorer(load_targets(REPO / "config" / "targets.toml"), model)
    texts = ["Die NATO ist eine Bande von Kriegstreibern und Lügnern.",
             "Russia said on Monday it would hold talks in Istanbul."]
    labels = [{k: r.label for k, r in row.items()}
              for row in scorer.score_batch(texts, ["de", "en"], [[], []])]
    assert labels[0]["nato"] == "against" and labels[1]["russia"] == "none"


def test_evaluation_without_the_public_sets_says_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="absent.*ruw.*MONITOR_LABELLED_DATA"):
        evaluate_stance(data_root=tmp_path / "absent", quick=True)
