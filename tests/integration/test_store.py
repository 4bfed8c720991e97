"""The store says when Chroma is unreachable: a server that stops answering is `StoreUnavailable`,
whichever call meets it, including the dense queries llama-index's vector store makes itself.
And its embedded client can be reopened under threads that are asking questions."""

import threading
import time

import httpx
import numpy as np
import pytest
from llama_index.core.vector_stores.types import VectorStoreQuery

from index.store.chroma import ChunkStore
from index.store.client import chroma_client
from index.store.errors import StoreUnavailable
from tests.helpers import in_a_child


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


BUMPS = 40


def bump_generations(store: ChunkStore) -> None:
    """Changes to the index, as a store records them."""
    for _ in range(BUMPS):
        store.bump_generation()
        time.sleep(0.02)


def bump_generations_from_another_store(path: str) -> None:
    bump_generations(ChunkStore(chroma_client(path), "docs", embedder="e5", dimension=3))


@pytest.mark.parametrize("changer", ["this process", "another process"])
def test_questions_on_other_threads_never_meet_a_closed_client_while_the_index_changes(tmp_path, changer):
    """A server reopens its embedded Chroma client when the index changed; readers mid-call wait
    for it instead of calling the closed one, and their vector store keeps working after it."""
    store = ChunkStore(chroma_client(str(tmp_path)), "docs", embedder="e5", dimension=3)
    vectors = np.random.default_rng(0).random((20, 3))
    for collection in (store.chunks, store.sentences):
        collection.upsert(ids=[f"{i}" for i in range(20)], embeddings=vectors, documents=["texte"] * 20,
                          metadatas=[{"doc_id": "d", "chunk_index": i} for i in range(20)])
    stop, failures, calls = threading.Event(), [], []

    def ask() -> None:
        while not stop.is_set():
            try:
                store.catch_up()
                store.chunks_of_nearest_sentences(np.ones(3, np.float32), 3)
                store.vector_store.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=3))
                calls.append(1)
            except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
                failures.append(repr(exc))

    readers = [threading.Thread(target=ask) for _ in range(3)]
    for reader in readers:
        reader.start()
    if changer == "this process":
        bump_generations(store)
    else:
        child = in_a_child(bump_generations_from_another_store, str(tmp_path))
        child.join(timeout=120)
        assert child.exitcode == 0
    stop.set()
    for reader in readers:
        reader.join()

    assert failures == []
    assert len(calls) > BUMPS
    assert store.catch_up() == BUMPS
