"""Scoring components: a new scorer is one factory plus one registry line, set by the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError, NotConfigured
from monitor.score import components
from monitor.score.base import ScoreInput
from monitor.score.components import Batch, Shared, register
from monitor.score.pipeline import ScoringPipeline
from tests.conftest import make_config_dir


class Sarcasm:
    """A toy scorer: the share of words in scare quotes, read from the normalised text."""

    name = "sarcasm"

    def describe(self) -> str:
        return "sarcasm on"

    def __call__(self, batch: Batch) -> None:
        batch.results[self.name] = [
            round(n.text.count('"') / 2 / max(1, len(n.text.split())), 3)
            for n in batch.normalized]


def sarcasm_factory(shared: Shared) -> Sarcasm:
    return Sarcasm()


def broken_factory(shared: Shared) -> Sarcasm:
    raise NotConfigured("irony", "no irony weights in models/irony: run `monitor models train`")


@pytest.fixture()
def toy_components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(components, "COMPONENTS", components.COMPONENTS.copy())
    monkeypatch.setattr("monitor.score.registry.COMPONENTS", components.COMPONENTS)
    monkeypatch.setattr(components, "_FACTORIES", {})
    register("sarcasm", sarcasm_factory)
    register("irony", broken_factory)


def _config(tmp_path: Path, pipeline: str):
    path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}",
                           extra=f"\n[scoring]\npipeline = {pipeline}\n")
    return load_config(path, environ={})


def test_a_registered_scorer_runs_where_the_config_puts_it(tmp_path: Path,
                                                          toy_components: None) -> None:
    config = _config(tmp_path, '["toxicity", "sarcasm"]')
    pipeline = ScoringPipeline.from_config(config)

    [plain, ironic] = pipeline.score_batch([
        ScoreInput(1, "Die Karte ist sehr hilfreich, danke.", "de"),
        ScoreInput(2, 'Die "Friedenstruppe" bringt "Freiheit", wie immer.', "de")])

    assert plain.attributes["sarcasm"] == 0.0
    assert ironic.attributes["sarcasm"] > 0.2
    assert not plain.slurs and not plain.stance  # not in the pipeline: not run
    assert "sarcasm on" in pipeline.describe()


def test_a_component_that_cannot_run_says_why_and_the_rest_runs(tmp_path: Path,
                                                                toy_components: None) -> None:
    config = _config(tmp_path, '["toxicity", "irony", "slurs"]')
    pipeline = ScoringPipeline.from_config(config)

    [result] = pipeline.score_batch([ScoreInput(1, "Putler lügt.", "de")])

    assert "irony off: no irony weights in models/irony" in pipeline.describe()
    assert [h.term.lower() for h in result.slurs] == ["putler"]


def test_an_unknown_component_in_the_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown scoring component 'sarcasm'; accepted: "):
        _config(tmp_path, '["toxicity", "sarcasm"]')


def test_vectors_are_computed_once_per_row_whoever_asks(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def source(texts):
        calls.append(list(texts))
        import numpy as np
        return np.ones((len(texts), 4))

    from monitor.score.normalize import normalize
    texts = ["eins", "zwei", "drei"]
    batch = Batch([ScoreInput(i, t, "de") for i, t in enumerate(texts)],
                  [normalize(t) for t in texts], ["de"] * 3, {"toy": source})
    batch.vectors("toy", [0, 2])
    batch.vectors("toy", [2, 1])

    assert calls == [["eins", "drei"], ["zwei"]]
