"""The scoring pipeline: routing per language, fallbacks, thresholds, slurs and stance plug-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from monitor.config import load_config
from monitor.score.base import ScoreInput, SlurHit, StanceResult
from monitor.score.pipeline import ScoringPipeline, build_backends
from monitor.score.toxicity import load_builtin
from tests.score.detoxify_bundles import make_bundle
from tests.conftest import make_config_dir


def _config(tmp_path: Path, scoring: str = ""):
    path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}",
                           extra=f"\n[scoring]\n{scoring}\n" if scoring else "")
    return load_config(path, environ={})


COMMENTS = [
    ScoreInput(1, "Du bist ein hirnloser Vollidiot, halt endlich die Fresse."),
    ScoreInput(2, "Danke für den Bericht, die Karte ist sehr hilfreich."),
    ScoreInput(3, "You are a pathetic moron, nobody wants your garbage here."),
    ScoreInput(4, "Thanks for the report, the map is really helpful."),
    ScoreInput(5, "Ты жалкий дебил, никому не нужен твой бред."),
    ScoreInput(6, "Спасибо за репортаж, карта очень помогает."),
]


def test_builtin_everywhere_scores_and_detects_languages(tmp_path: Path) -> None:
    pipeline = ScoringPipeline(build_backends(_config(tmp_path))[0])
    results = pipeline.score_batch(COMMENTS)

    assert [r.id for r in results] == [1, 2, 3, 4, 5, 6]
    assert [r.lang for r in results] == ["de", "de", "en", "en", "ru", "ru"]
    version = load_builtin().version
    assert all(r.model == version for r in results)
    for toxic, neutral in zip(results[::2], results[1::2]):
        assert toxic.toxicity > neutral.toxicity
        assert toxic.toxic and not neutral.toxic


def test_given_language_is_used_instead_of_detection(tmp_path: Path) -> None:
    pipeline = ScoringPipeline(build_backends(_config(tmp_path))[0])
    [result] = pipeline.score_batch([ScoreInput("a", "Danke für den Bericht.", lang="ru")])
    assert result.lang == "ru"


def test_routing_sends_english_to_detoxify_and_german_to_builtin(tmp_path: Path) -> None:
    config = _config(tmp_path, 'routing = { de = "builtin", en = "detoxify-original", '
                               'ru = "builtin", other = "builtin" }')
    make_bundle(config.scoring.detoxify_dir, {"original": "bert"})
    pipeline = ScoringPipeline(build_backends(config)[0])
    results = pipeline.score_batch(COMMENTS)

    by_lang = {r.lang: r for r in results}
    assert by_lang["en"].model.startswith("detoxify-original@")
    assert set(by_lang["en"].attributes) >= {"insult", "threat"}
    assert by_lang["de"].model == by_lang["ru"].model == load_builtin().version
    assert "detoxify-original" in pipeline.describe()


def test_missing_detoxify_bundle_falls_back_to_builtin_with_a_reason(tmp_path: Path) -> None:
    config = _config(tmp_path, 'routing = { de = "builtin", en = "detoxify-original", '
                               'ru = "detoxify-multilingual", other = "builtin" }')
    routes, notes = build_backends(config)
    builtin_version = load_builtin().version
    assert {lang: r.backend.version for lang, r in routes.items()} == {
        "de": builtin_version, "en": builtin_version, "ru": builtin_version,
        "other": builtin_version}
    assert len(notes) == 2 and all("monitor models pull" in n for n in notes)


def test_configured_threshold_overrides_the_model_default(tmp_path: Path) -> None:
    strict = ScoringPipeline(build_backends(_config(tmp_path / "a", "toxic_threshold = 1.0"))[0])
    lax = ScoringPipeline(build_backends(_config(tmp_path / "b", "toxic_threshold = 0.0"))[0])
    text = [ScoreInput(1, "Halt die Fresse, du Idiot."), ScoreInput(2, "Schönes Wetter heute.")]
    assert [r.toxic for r in strict.score_batch(text)] == [False, False]
    assert [r.toxic for r in lax.score_batch(text)] == [True, True]


def test_obfuscated_insult_scores_like_the_plain_one(tmp_path: Path) -> None:
    pipeline = ScoringPipeline(build_backends(_config(tmp_path))[0])
    plain, hidden, neutral = pipeline.score_batch([
        ScoreInput(1, "Du bist ein Vollidiot."),
        ScoreInput(2, "Du bist ein V0ll1d10t."),
        ScoreInput(3, "Du bist ein Optimist."),
    ])
    assert hidden.toxicity == pytest.approx(plain.toxicity, abs=0.05)
    assert hidden.toxicity > neutral.toxicity


class _Slurs:
    version = "fake-slurs"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def find(self, text: str, lang: str) -> list[SlurHit]:
        self.seen.append((text, lang))
        at = text.find("Vollidiot")
        return [SlurHit("Vollidiot", "vollidiot", "person", "lexicon", at, at + 9)] if at >= 0 else []


class _Stance:
    version = "fake-stance"

    def __init__(self) -> None:
        self.calls = 0

    def score_batch(self, texts: Sequence[str], langs: Sequence[str],
                    slurs: Sequence[Sequence[SlurHit]]) -> list[dict[str, StanceResult]]:
        self.calls += 1
        return [{"nato": StanceResult("against" if hits else "none", 0.9)} for hits in slurs]


def test_slurs_per_comment_and_stance_per_batch_reach_the_output(tmp_path: Path) -> None:
    slurs, stance = _Slurs(), _Stance()
    pipeline = ScoringPipeline(build_backends(_config(tmp_path))[0], slurs, stance, batch_size=2)
    texts = ["Der Typ ist ein Vollidiot.", "Guter Artikel.", "Noch ein Kommentar hier."]
    results = list(pipeline.score_stream(ScoreInput(i, t) for i, t in enumerate(texts)))

    assert [t for t, _ in slurs.seen] == texts  # the original text, so offsets fit it
    assert stance.calls == 2  # batches of 2 and 1
    first = results[0].to_json()
    assert first["slurs"][0]["start"] == texts[0].find("Vollidiot")
    assert first["stance"] == {"nato": {"label": "against", "score": 0.9}}
    assert results[1].to_json()["stance"]["nato"]["label"] == "none"
    assert [r.id for r in results] == [0, 1, 2]
