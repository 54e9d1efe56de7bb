"""Speed work on the scoring path must not change a single result: the shipped pipeline's
scores on a few hundred mixed texts equal those recorded before the optimisation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.score.base import ScoreInput
from monitor.score.pipeline import ScoringPipeline
from tests.score.equivalence_texts import equivalence_texts

# Recorded with the shipped weights. When the weights change on purpose (`monitor models train`),
# first check this test passes with the old weights and the new code, then record it again:
#   python -c "import tests.score.test_equivalence as t; t.record()"
FIXTURE = Path(__file__).with_name("scoring_equivalence.json")


def record() -> None:
    """Write the fixture from the pipeline as it scores now (see above for when)."""
    pipeline = ScoringPipeline.from_config(load_config(None, environ={}))
    texts = equivalence_texts()
    got = [dataclasses.asdict(r) for r in
           pipeline.score_stream(ScoreInput(i, t) for i, t in enumerate(texts))]
    FIXTURE.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("batch_size", [256, 7])
def test_pipeline_results_equal_the_recorded_ones(expected: list[dict], batch_size: int) -> None:
    pipeline = ScoringPipeline.from_config(load_config(None, environ={}))
    pipeline.batch_size = batch_size
    texts = equivalence_texts()
    got = [dataclasses.asdict(r) for r in
           pipeline.score_stream(ScoreInput(i, t) for i, t in enumerate(texts))]
    assert len(got) == len(expected) == len(texts)
    for text, now, before in zip(texts, got, expected):
        assert now["toxicity"] == pytest.approx(before["toxicity"], abs=1e-6), text
        assert {k: v["label"] for k, v in now["stance"].items()} == \
            {k: v["label"] for k, v in before["stance"].items()}, text
        for k, v in now["stance"].items():
            assert v["score"] == pytest.approx(before["stance"][k]["score"], abs=1e-6), text
        assert now["slurs"] == before["slurs"], text
        assert (now["lang"], now["toxic"], now["model"]) == \
            (before["lang"], before["toxic"], before["model"]), text
        assert now["attributes"] == pytest.approx(before["attributes"], abs=1e-6), text
