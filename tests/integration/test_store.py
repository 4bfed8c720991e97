"""The store says when Chroma is unreachable: a server that stops answering is `StoreUnavailable`,
whichever call meets it, including the dense queries llama-index's vector store makes itself."""

import httpx
import numpy as np
import pytest
from llama_index.core.vector_stores.types import VectorStoreQuery

from index.store.chroma import ChunkStore
from index.store.errors import StoreUnavailable


class StoppingServer:
    """Stands in for a Chroma HTTP client: answers until `stop`, then every request is refused."""

    def __init__(self):
        self.collections: dict[str, Collection] = {}
        self.up = True

    def answer(self) -> None:
        if not self.up:
            raise httpx.ConnectError("[Errno 111] Connection refused")

    def get_or_create_collection(self, name, metadata, configuration, **_):
        self.answer()
        return self.collections.setdefault(name, Collection(self, metadata, configuration))

    def get_collection(self, name):
        self.answer()
        return self.collections[name]

    def stop(self) -> None:
        self.up = False


class Collection:
    """Requests are only made once the server has stopped, so each one is refused."""

    def __init__(self, server: StoppingServer, metadata: dict, configuration: dict):
        self.server, self.metadata, self.configuration = server, metadata, configuration

    def count(self):
        self.server.answer()

    def get(self, **_):
        self.server.answer()

    def query(self, **_):
        self.server.answer()

    def modify(self, **_):
        self.server.answer()


@pytest.fixture
def store_whose_server_stopped():
    server = StoppingServer()
    store = ChunkStore(server, "docs", embedder="e5", dimension=3)
    server.stop()
    return store


@pytest.mark.parametrize("call", [
    lambda store: store.documents(),
    lambda store: store.generation(),
    lambda store: store.bump_generation(),
    lambda store: store.chunk_count(),
    lambda store: list(store.iter_chunks()),
    lambda store: store.chunks_of_nearest_sentences(np.ones(3, np.float32), 1),
    lambda store: store.vector_store.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=1)),
], ids=["documents", "generation", "bump_generation", "chunk_count", "iter_chunks", "sentences", "dense_query"])
def test_a_chroma_server_that_stopped_answering_is_reported_as_unavailable(store_whose_server_stopped, call):
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        call(store_whose_server_stopped)
