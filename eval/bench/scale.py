"""Retrieval latency on synthetic indexes of growing size.

Synthetic chunks are pairs of real corpus sentences, with vectors made from the real e5
vectors of those sentences (normalised sums), so real e5 queries meet a realistic vector
space without embedding 100k texts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from llama_index.core.schema import QueryBundle

from eval.bench.measure import bench_settings, percentiles, say, timed
from eval.bench.server import ask_latency, served
from eval.dataset import DEFAULT_SET, load_set
from index.chunking import chunk_nodes, sentence_records
from index.loaders import SourceDocument
from qa.container import IndexParts, build_index, build_retriever

SCALE_SIZES = (1_000, 10_000, 100_000)
SCALE_COLLECTION = "scale"
CHUNKS_PER_DOCUMENT = 1000  # big documents: few, large writes keep the 100k build to minutes
VECTOR_NOISE = 0.01  # so that a sentence picked twice does not give two identical vectors
RETRIEVERS = ("dense_chunks", "dense_sentences", "keyword", "fused")


def scale(demo: IndexParts, workdir: Path, sizes=SCALE_SIZES, queries: int = 30) -> dict:
    """Build time and p50/p95 latency of each retriever, per index size, from the demo's sentences."""
    pool = demo.store.sentences.get(include=["documents", "embeddings"])
    sentences, vectors = pool["documents"], np.asarray(pool["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(0)
    questions = [item.question for item in load_set(DEFAULT_SET)]
    bundles = [QueryBundle(q, embedding=demo.embed_model.get_query_embedding(q)) for q in questions]
    results = {}
    for size in sizes:
        parts = build_index(bench_settings(workdir / f"scale-{size}", collection=SCALE_COLLECTION,
                                           embedding_cache=demo.settings.embedding_cache_path))
        _, build_ms = timed(_fill, parts, size, sentences, vectors, rng)
        sample = [bundles[i % len(bundles)] for i in range(queries)]
        results[size] = {"build_seconds": round(build_ms / 1000, 1), **_retrieval_latency(parts, sample)}
        say(f"  scale {size:>7} chunks: built in {build_ms / 1000:.0f} s; "
            f"fused p50 {results[size]['fused']['p50_ms']} ms")
    return results


def scale_ask(workdir: Path, size: int, requests: int = 60) -> dict:
    """Extractive /v1/ask over HTTP against the synthetic index of `size` chunks."""
    with served(workdir / f"scale-{size}", collection=SCALE_COLLECTION) as (url, _):
        return ask_latency(url, requests)


def _fill(parts: IndexParts, size: int, sentences: list[str], vectors: np.ndarray, rng: np.random.Generator) -> None:
    """`size` synthetic chunks in the store, then the keyword index over them."""
    for number in range(size // CHUNKS_PER_DOCUMENT):
        parts.store.write_version(*_synthetic_document(number, sentences, vectors, rng))
    parts.keyword.rebuild(parts.store.iter_chunks(), parts.store.bump_generation())


def _synthetic_document(number: int, sentences: list[str], vectors: np.ndarray, rng: np.random.Generator):
    """One document of random sentence pairs: its chunk nodes, chunk vectors and sentence records."""
    picks = rng.integers(0, len(sentences), size=CHUNKS_PER_DOCUMENT * 2)
    texts = [" ".join(sentences[i].split()) for i in picks]
    offsets, position = [], 0
    for text in texts:
        offsets.append((position, position + len(text)))
        position += len(text) + 1
    document = SourceDocument(f"synthetic-{number:05d}", f"synthetic/{number}.txt", " ".join(texts),
                              f"Synthetic {number}", None, "fr", f"{number:064x}")
    bounds = [(offsets[2 * c][0], offsets[2 * c + 1][1]) for c in range(CHUNKS_PER_DOCUMENT)]
    nodes = chunk_nodes(document, bounds, offsets, "synthetic")
    sentence_vectors = vectors[picks] + rng.normal(0, VECTOR_NOISE, (len(picks), vectors.shape[1])).astype(np.float32)
    sentence_vectors /= np.linalg.norm(sentence_vectors, axis=1, keepdims=True)
    chunk_vectors = sentence_vectors[0::2] + sentence_vectors[1::2]
    chunk_vectors /= np.linalg.norm(chunk_vectors, axis=1, keepdims=True)
    return nodes, chunk_vectors, sentence_records(document, nodes, offsets, sentence_vectors)


def _retrieval_latency(parts: IndexParts, sample: list[QueryBundle]) -> dict:
    """Each retriever of the hybrid search alone, then fused, on questions already embedded."""
    retriever = build_retriever(parts)
    searches = {
        "dense_chunks": retriever.dense.retrieve,
        "dense_sentences": retriever.sentences.retrieve,
        "keyword": lambda bundle: parts.keyword.search(bundle.query_str, parts.settings.candidates),
        "fused": retriever.fusion.retrieve,
    }
    return {name: percentiles([timed(searches[name], bundle)[1] for bundle in sample]) for name in RETRIEVERS}


def plot(scale_figures: dict, path: Path) -> None:
    """p50 latency of each retriever against the index size, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(scale_figures, key=int)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for kind in RETRIEVERS:
        ax.plot([int(s) for s in sizes], [scale_figures[s][kind]["p50_ms"] for s in sizes], marker="o", label=kind)
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title("Retrieval latency against index size")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
