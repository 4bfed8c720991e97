"""Hybrid retrieval: dense search over chunks and over sentences (Chroma), and BM25.

Dense vectors carry meaning across languages (an English question finds French
passages); BM25 catches exact names and figures the embedder blurs.  llama-index's
QueryFusionRetriever fuses the three by distribution-based score fusion (each
list's scores scaled by its mean and spread, then summed; against reciprocal rank
fusion: docs/decisions.md, Retrieval).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from index.keyword.bm25 import KeywordIndex
from index.store.chroma import ChunkStore

# Questions whose fused passages are kept, while the index stays at the same generation: asking
# again (a retry, the chat's regenerate, an eval that asks then searches) retrieves once.
RECENT_QUESTIONS = 64


class KeywordRetriever(BaseRetriever):
    """BM25 over the keyword index; nodes are read back from Chroma by id."""

    def __init__(self, keyword: KeywordIndex, store: ChunkStore, top_k: int):
        super().__init__()
        self.keyword = keyword
        self.store = store
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.keyword.search(query_bundle.query_str, self.top_k)
        scores = dict(hits)
        return [NodeWithScore(node=n, score=scores[n.node_id]) for n in self.store.nodes([i for i, _ in hits])]


class SentenceRetriever(BaseRetriever):
    """Dense search over single sentences, returning the chunks that hold them.

    A sentence vector is sharper than a chunk vector: "How old is Sam Altman?"
    matches the one sentence that gives his age even when the rest of its chunk
    is about something else.
    """

    def __init__(self, store: ChunkStore, embed_model: BaseEmbedding, top_k: int):
        super().__init__()
        self.store = store
        self.embed_model = embed_model
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        vector = query_bundle.embedding or self.embed_model.get_query_embedding(query_bundle.query_str)
        best: dict[str, float] = {}
        nearest = self.store.chunks_of_nearest_sentences(np.asarray(vector, dtype=np.float32), self.top_k)
        for chunk, similarity in nearest:
            best.setdefault(chunk, similarity)
        return [NodeWithScore(node=n, score=best[n.node_id]) for n in self.store.nodes(list(best))]


@dataclass
class Retrieved:
    query_vector: np.ndarray
    nodes: list[NodeWithScore]


class HybridRetriever:
    def __init__(
        self,
        store: ChunkStore,
        keyword: KeywordIndex,
        embed_model: BaseEmbedding,
        candidates: int,
        max_top_k: int,
        before_search: Callable[[], int] = lambda: 0,
    ):
        self.embed_model = embed_model
        self.candidates = candidates
        self.max_top_k = max_top_k
        self.before_search = before_search
        self.sentences = SentenceRetriever(store, embed_model, candidates)
        self.keyword = KeywordRetriever(keyword, store, candidates)
        self.dense = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embed_model).as_retriever(
            similarity_top_k=self.candidates
        )
        self.fusion = QueryFusionRetriever(
            [self.dense, self.sentences, self.keyword],
            llm=MockLLM(),  # never called: num_queries=1 turns off query rewriting
            mode="dist_based_score",
            num_queries=1,
            similarity_top_k=self.max_top_k,
            use_async=False,
        )
        self._fused = functools.lru_cache(maxsize=RECENT_QUESTIONS)(self._fuse)

    def retrieve(self, question: str, top_k: int) -> Retrieved:
        """The `top_k` best chunks, and the question's vector for later scoring.

        `before_search` brings the index up to date and says its generation, which keys what is kept."""
        vector, nodes = self._fused(question, self.before_search())
        return Retrieved(vector, [NodeWithScore(node=hit.node, score=hit.score) for hit in nodes[:top_k]])

    def _fuse(self, question: str, generation: int) -> tuple[np.ndarray, tuple[NodeWithScore, ...]]:
        embedding = self.embed_model.get_query_embedding(question)
        vector = np.asarray(embedding, dtype=np.float32)
        vector.flags.writeable = False  # shared by every retrieval of the question
        return vector, tuple(self.fusion.retrieve(QueryBundle(query_str=question, embedding=embedding)))
