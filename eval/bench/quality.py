"""Retrieval quality and latency: ours against a plain llama-index pipeline over the same corpus
(`VectorStoreIndex` over Chroma, same embedder and chunk size, top 5, no keyword search, no fusion)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter
from llama_index.vector_stores.chroma import ChromaVectorStore

from eval.bench.measure import percentiles, timed
from eval.dataset import DEFAULT_SET, EvalItem, load_set
from eval.metrics import first_hit, hit_rate, mean_reciprocal_rank
from index.store.client import chroma_client
from qa.service import QAService

TOP_K = 5
Search = Callable[[str], list[str]]  # a question -> the passages retrieved, best first


def quality(service: QAService, corpus: Path, workdir: Path) -> dict:
    """Hit@5, MRR and retrieval latency per system, and ours over the baseline's."""
    systems: dict[str, Search] = {
        "baseline": baseline_search(service, corpus, workdir),
        "ours": lambda q: [hit.text for hit in service.search(q, TOP_K)],
    }
    items = [item for item in load_set(DEFAULT_SET) if item.answerable]
    for search in systems.values():  # warm up both
        search(items[0].question)
    result: dict = {name: _measure(search, items) for name, search in systems.items()}
    result["ratio"] = {
        **{f"{lang}_{m}": round(result["ours"][lang][m] / max(result["baseline"][lang][m], 1e-9), 2)
           for lang in ("fr", "en") for m in ("hit@5", "mrr")},
        "latency_p50": round(result["ours"]["latency"]["p50_ms"] / result["baseline"]["latency"]["p50_ms"], 2),
    }
    return result


def baseline_search(service: QAService, corpus: Path, workdir: Path) -> Search:
    """The plain llama-index pipeline, built on the service's embedder and chunking settings."""
    settings = service.settings
    collection = chroma_client(path=str(workdir / "baseline")).get_or_create_collection(
        "baseline", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    retriever = VectorStoreIndex.from_documents(
        SimpleDirectoryReader(str(corpus), file_extractor={}).load_data(),
        storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
        embed_model=service.parts.embed_model,
        transformations=[SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)],
    ).as_retriever(similarity_top_k=TOP_K)
    return lambda q: [hit.node.get_content() for hit in retriever.retrieve(q)]


def _measure(search: Search, items: list[EvalItem]) -> dict:
    """Hit@5 and MRR per language, and the latency of every search."""
    per_language: dict = {}
    latencies = []
    for language in ("fr", "en"):
        ranks = []
        for item in (i for i in items if i.lang == language):
            passages, ms = timed(search, item.question)
            latencies.append(ms)
            ranks.append(first_hit(item.must, passages))
        per_language[language] = {"hit@5": round(hit_rate(ranks, TOP_K), 3),
                                  "mrr": round(mean_reciprocal_rank(ranks), 3)}
    return {**per_language, "latency": percentiles(latencies)}
