"""The one place where settings choose and build the concrete parts: embedder, store, indexer,
upload folder, answer generators, and the steps of the answer pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass

from llama_index.core.base.embeddings.base import BaseEmbedding

from index.embedding.cache import EmbeddingCache
from index.embedding.models import E5Embedding, fingerprint, openai_embedding
from index.indexer import Indexer
from index.keyword.bm25 import KeywordIndex
from index.keyword.lexicon import WordEmbedder
from index.store.chroma import ChunkStore
from index.store.client import chroma_client
from qa.generation import local_llm
from qa.generation.base import AnswerGenerator, ExtractiveGenerator
from qa.generation.llm import LLMGenerator, build_llm
from qa.generation.local_llm import LocalLLMServer
from qa.pipeline.abstention import Abstention
from qa.pipeline.evidence import SentenceScoring
from qa.pipeline.retrieval import HybridRetriever
from qa.pipeline.support.scorer import SupportScorer
from qa.pipeline.synthesis import VerifiedSynthesizer
from qa.settings import Settings
from qa.uploads import UploadFolder

# Libraries that phone home unless told not to; we never make a request off the machine.
OFFLINE_ENVIRONMENT = {
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def stay_offline() -> None:
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def build_embed_model(settings: Settings) -> BaseEmbedding:
    if settings.embedder == "openai":
        return openai_embedding(
            settings.openai_embedding_model,
            settings.openai_api_key,
            settings.openai_base_url,
            settings.openai_embedding_dimension,
        )
    return E5Embedding()


def embedding_dimension(embed_model: BaseEmbedding, settings: Settings) -> int:
    return embed_model.dimension if isinstance(embed_model, E5Embedding) else settings.openai_embedding_dimension


def word_embedder(embed_model: BaseEmbedding, cache: EmbeddingCache) -> WordEmbedder | None:
    """Single words embedded through the cache, for the keyword index's cross-language lexicon.

    Only with the bundled e5 model: its translation threshold is calibrated for e5, and
    embedding a whole vocabulary through a paid API is not a side effect to have.
    """
    if not isinstance(embed_model, E5Embedding):
        return None
    return lambda words: cache.embed(words, embed_model.get_text_embedding_batch)[0]


def build_judge(settings: Settings) -> SupportScorer:
    """The support verifier, on the configured embedder (for judging answers from outside the service)."""
    return SupportScorer(build_embed_model(settings))


@dataclass
class IndexParts:
    """Everything that reads or writes the index, built from one settings object."""

    settings: Settings
    embed_model: BaseEmbedding
    store: ChunkStore
    keyword: KeywordIndex
    indexer: Indexer
    uploads: UploadFolder


def build_index(settings: Settings) -> IndexParts:
    stay_offline()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embed_model = build_embed_model(settings)
    model_fingerprint = fingerprint(embed_model)
    client = chroma_client(
        path=str(settings.chroma_path),
        host=settings.chroma_host,
        port=settings.chroma_port,
        ssl=settings.chroma_ssl,
    )
    store = ChunkStore(client, settings.collection, model_fingerprint, embedding_dimension(embed_model, settings))
    cache = EmbeddingCache(settings.embedding_cache_path, model_fingerprint)
    keyword = KeywordIndex(settings.keyword_dir, embed_words=word_embedder(embed_model, cache))
    indexer = Indexer(
        store=store,
        keyword=keyword,
        embed_model=embed_model,
        cache=cache,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        lock_path=settings.lock_path,
        max_file_bytes=settings.max_upload_bytes,
    )
    uploads = UploadFolder(settings.uploads_dir, indexer, settings.max_upload_bytes)
    return IndexParts(settings, embed_model, store, keyword, indexer, uploads)


@dataclass
class Generators:
    """The answer generators on offer, and the local model server if one was started."""

    available: dict[str, AnswerGenerator]
    local_server: LocalLLMServer | None = None

    def close(self) -> None:
        if self.local_server:
            self.local_server.stop()


def build_generators(settings: Settings) -> Generators:
    """Extractive always; `llm` through OpenAI, a configured compatible server, or the
    bundled local model (started in the background) when one of them is available."""
    available: dict[str, AnswerGenerator] = {"extractive": ExtractiveGenerator()}
    if settings.generator == "extractive":
        return Generators(available)
    common = {"timeout": settings.llm_timeout_s, "max_tokens": settings.llm_max_tokens}
    if settings.openai_configured:
        llm = build_llm(settings.openai_model, settings.openai_base_url, settings.openai_api_key,
                        context_window=settings.llm_context_window, **common)
        available["llm"] = LLMGenerator(llm)
        return Generators(available)
    if settings.local_llm and local_llm.runtime_installed():
        server = local_llm.LocalLLMServer(lambda: local_llm.assemble(settings.models_dir),
                                          settings.local_llm_threads).start()
        llm = build_llm(local_llm.MODEL_FILE, server.url, None, context_window=local_llm.CONTEXT_WINDOW, **common)
        available["llm"] = LLMGenerator(llm, not_ready=server.not_ready)
        return Generators(available, server)
    return Generators(available)


@dataclass
class Pipeline:
    """The steps of an answer, in order: retrieve chunks -> score their sentences -> abstain when the
    evidence is too weak -> write with one generator, verified (llama-index's retriever, node
    postprocessors and response synthesizer)."""

    retriever: HybridRetriever
    scoring: SentenceScoring
    abstention: Abstention
    judge: SupportScorer
    writers: dict[str, VerifiedSynthesizer]  # by generator name


def build_retriever(parts: IndexParts) -> HybridRetriever:
    settings = parts.settings
    return HybridRetriever(parts.store, parts.keyword, parts.embed_model, candidates=settings.candidates,
                           max_top_k=settings.max_top_k, before_search=parts.indexer.refresh_keyword_index)


def build_pipeline(parts: IndexParts, generators: Generators) -> Pipeline:
    judge = SupportScorer(parts.embed_model)
    writers = {name: VerifiedSynthesizer(generator, judge) for name, generator in generators.available.items()}
    abstention = Abstention(parts.keyword, parts.store.mentions)
    return Pipeline(build_retriever(parts), SentenceScoring(parts.store), abstention, judge, writers)
