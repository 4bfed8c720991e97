"""Indexing speed in words/s, measured on real manuals rather than the demo's five short articles:
the three French Debian manuals of eval/corpora.py side by side (about 99,000 words of HTML:
prose, tables, code)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from eval.bench.measure import bench_settings, say, timed
from eval.corpora import CorpusError, fetch
from index.embedding.models import shared_e5_model
from index.loaders import load_document
from qa.container import build_index

MANUALS = ("debian-faq", "developers-reference", "maint-guide")
EMBEDDING_SAMPLE = 200  # chunks embedded alone to time the embedder


def manuals(workdir: Path) -> Path | None:
    """The Debian manuals in one folder (fetched once into the corpora cache), or None when they cannot be."""
    folder = workdir / "manuals"
    try:
        for name in MANUALS:
            shutil.copytree(fetch(name), folder / name)
    except CorpusError as exc:
        say(f"  {exc}")
        return None
    return folder


def indexing(corpus: Path, workdir: Path) -> dict:
    """Cold indexing (empty vector cache) in words/s, the keyword index's share of it, and a
    re-index of the unchanged corpus."""
    parts = build_index(bench_settings(workdir / "cold", embedding_cache=workdir / "cold-cache.sqlite3"))
    load = os.getloadavg()[0]
    report, cold_ms = timed(parts.indexer.index_folder, corpus)
    again, warm_ms = timed(parts.indexer.index_folder, corpus)
    words = sum(len(load_document(Path(d.source), corpus.resolve()).text.split()) for d in parts.store.documents())
    # The BM25 postings and the lexicon again, with a cold word cache: their part of the cold run.
    lexicon_settings = bench_settings(workdir / "lexicon", embedding_cache=workdir / "lexicon-cache.sqlite3")
    keyword = build_index(lexicon_settings).keyword
    _, keyword_ms = timed(keyword.rebuild, parts.store.iter_chunks(), 0)
    # Bare embedding speed on a sample of the chunks (no cache, no sentences).
    texts = [t for _, page, _ in parts.store.iter_chunks() for t in page]
    sample = texts[:: max(1, len(texts) // EMBEDDING_SAMPLE)]
    tokens = sum(shared_e5_model().token_count(t) for t in sample)
    _, embed_ms = timed(parts.embed_model.get_text_embedding_batch, sample)
    return {
        "corpus": str(corpus),
        "load_average": round(load, 2),
        "documents": len(report.added),
        "words": words,
        "chunks": report.new_chunks,
        "texts_embedded": report.embedded,  # chunks and sentences
        "cold_seconds": round(cold_ms / 1000, 2),
        "cold_words_per_s": round(words / (cold_ms / 1000)),
        "cold_chunks_per_s": round(report.new_chunks / (cold_ms / 1000), 2),
        "keyword_index_seconds": round(keyword_ms / 1000, 2),
        "lexicon_words": keyword.lexicon_size,
        "mean_chunk_tokens": round(tokens / len(sample), 1),
        "embedding_tokens_per_s": round(tokens / (embed_ms / 1000), 1),
        "unchanged_reindex_ms": round(warm_ms, 1),
        "unchanged_reindex_embedded": again.embedded,
    }
