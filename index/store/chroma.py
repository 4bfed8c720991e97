"""The Chroma side of the index: chunk vectors, sentence vectors, and the index's state.

Two collections live side by side: `<name>` holds chunks in llama-index's node
format (so `ChromaVectorStore` retrieves them), `<name>-sentences` holds one vector
per sentence, which lets the answer step score sentences without embedding them
at query time.

Chroma is the single source of truth, so an interrupted write must be detectable
from Chroma alone.  A document version is written chunks-first and its chunk 0
last: chunk 0 is the commit record.  Anything without one, or left from an older
version, is debris that the next indexing run removes.  The collection metadata
names the embedder that built it and a generation number that goes up after
every change, which other processes use to refresh their keyword index.

Embedded Chroma keeps each process's vector index in memory and never reloads it:
after another process (`qa index` beside `qa serve`) changed the store, searches
would return vanished records, and this process's next write would persist its
stale index over the other's (chroma-core/chroma#3792).  So a process that finds
the generation moved under it reopens its client before it reads or writes.  Threads
mid-question wait while it does, then go on with the new client's collections.

A Chroma server that cannot be reached is reported as `StoreUnavailable`, whatever
the call, `ChromaVectorStore`'s own queries included (`index/store/client.py`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import EMBEDDING_KEY
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from llama_index.vector_stores.chroma import ChromaVectorStore

from index.store.client import ClientInUse, LiveCollection, reporting_unreachable_server
from index.store.errors import StoreError

log = logging.getLogger(__name__)

WRITE_BATCH = 1000  # records per Chroma write
READ_PAGE = 5000  # chunks per read when scanning the whole collection
ID_PAGE = 10_000  # ids per read when listing a collection's records
VERSION_HASH_CHARS = 16  # of the content hash, in record ids: enough to tell versions of one document apart
# How the HNSW graph is built and searched.  Chroma adds vectors from as many threads as there
# are cores, so each process built another graph: a narrow search (Chroma explores 100
# candidates) returned other passages for the same question after a restart, and one build in
# four left a demo sentence no link reached, which no search then finds.  Added one at a time,
# the graph is the same in every process; at 1,000 candidates a search over a few thousand
# vectors visits all it can reach, for about 1 ms more per query (docs/decisions.md, Retrieval).
HNSW_SEARCH = {"ef_search": 1000, "num_threads": 1}  # both can be changed on an existing index


@dataclass(frozen=True)
class DocumentRecord:
    """What the index holds about one document (read from its commit record)."""

    doc_id: str
    source: str
    title: str
    date: str | None
    language: str
    content_hash: str
    chunking: str
    chunks: int
    sentences: int

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocumentRecord:
        return cls(
            doc_id=meta["doc_id"],
            source=meta["source"],
            title=meta["title"],
            date=meta.get("date") or None,
            language=meta["language"],
            content_hash=meta["content_hash"],
            chunking=meta["chunking"],
            chunks=int(meta["n_chunks"]),
            sentences=int(meta["n_sentences"]),
        )


@dataclass(frozen=True)
class Sentence:
    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    vector: np.ndarray
    chunk_index: int  # the (first) chunk that holds this sentence


class ChunkStore:
    def __init__(self, client, name: str, embedder: str, dimension: int):
        self.client = client
        self.name = name
        self.embedder = embedder
        self.dimension = dimension
        self.in_use = ClientInUse()
        self._generation_lock = threading.Lock()  # one thread at a time compares and moves seen_generation
        self._document_names: tuple[int, list[str]] = (-1, [])  # titles and file names, read once per generation
        self._open_collections()
        self.chunks = LiveCollection(self, self.name)
        self.sentences = LiveCollection(self, f"{self.name}-sentences")
        self.vector_store = ChromaVectorStore(chroma_collection=self.chunks)

    def _open_collections(self) -> None:
        self.opened: dict[str, Any] = {name: self._collection(name) for name in (self.name, f"{self.name}-sentences")}
        self.seen_generation = self.generation()

    def _collection(self, name: str):
        expected = {"embedder": self.embedder, "dimension": self.dimension}
        try:
            with reporting_unreachable_server():
                collection = self.client.get_or_create_collection(
                    name,
                    metadata={**expected, "generation": 0},
                    configuration={"hnsw": {"space": "cosine", **HNSW_SEARCH}},
                    embedding_function=None,
                )
                if hnsw_settings(collection) != HNSW_SEARCH:  # an older index
                    collection.modify(configuration={"hnsw": HNSW_SEARCH})
        except ValueError as exc:
            raise StoreError(f"invalid collection name {name!r}: {exc}") from exc
        found = {k: (collection.metadata or {}).get(k) for k in expected}
        if found != expected:
            raise StoreError(
                f"collection {name!r} was built with embedder {found['embedder']} "
                f"(dimension {found['dimension']}), but the configured embedder is {self.embedder} "
                f"(dimension {self.dimension}). Use the embedder that built it, choose another "
                "collection name (QA_COLLECTION), or delete the index and re-index."
            )
        return collection

    # -- generation: how other processes notice a change ---------------------------------
    def generation(self) -> int:
        with self.in_use.calling(), reporting_unreachable_server():
            metadata = self.client.get_collection(self.name).metadata
        return int((metadata or {}).get("generation", 0))

    def bump_generation(self) -> int:
        with self._generation_lock:
            generation = self.generation() + 1
            metadata = {"embedder": self.embedder, "dimension": self.dimension, "generation": generation}
            self.chunks.modify(metadata=metadata)
            self.seen_generation = generation
            return generation

    def catch_up(self) -> int:
        """Reopen an embedded store that another process changed; return the generation.

        Closing the last client of a path is what makes Chroma drop its in-memory
        index; the new client loads the one on disk.  A Chroma server needs nothing.
        Every question calls this: only a changed generation takes the lock.
        """
        generation = self.generation()
        if generation == self.seen_generation:
            return generation
        with self._generation_lock:  # moved: by another process, or by this one's writer mid-bump
            generation = self.generation()
            settings = self.client.get_settings()
            if generation != self.seen_generation and settings.is_persistent:
                log.info("the index changed in another process (generation %d -> %d); reopening it",
                         self.seen_generation, generation)
                with self.in_use.reopening():
                    self.client.close()
                    self.client = chromadb.PersistentClient(path=settings.persist_directory, settings=settings)
                    self._open_collections()
            self.seen_generation = generation
            return generation

    # -- reading ----------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        """Committed document versions (a document mid-update may appear twice)."""
        got = self.chunks.get(where={"chunk_index": 0}, include=["metadatas"])
        return sorted((DocumentRecord.from_metadata(m) for m in got["metadatas"]), key=lambda d: d.doc_id)

    def chunk_count(self) -> int:
        return self.chunks.count()

    def mentions(self, texts: Sequence[str]) -> bool:
        """Whether some chunk holds one of `texts` exactly (one query to Chroma's full-text index, where
        the keyword index only knows single stems), or a document's title or file name does."""
        contains = [{"$contains": text} for text in texts]
        where = contains[0] if len(contains) == 1 else {"$or": contains}
        if self.chunks.get(where_document=where, limit=1, include=[])["ids"]:
            return True
        generation, names = self._document_names
        if generation != self.seen_generation:
            names = [f"{d.title}\n{PurePath(d.source).name}" for d in self.documents()]
            self._document_names = (self.seen_generation, names)
        return any(text in name for text in texts for name in names)

    def nodes(self, ids: Sequence[str]) -> list[TextNode]:
        """Chunks by id, in the order asked, as llama-index nodes."""
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {i: metadata_dict_to_node(m, text=t) for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])}
        return [by_id[i] for i in ids if i in by_id]

    def chunks_of_nearest_sentences(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `k` sentences nearest to `vector`, nearest first."""
        if self.sentences.count() == 0:
            return []
        got = self.sentences.query(query_embeddings=[vector], n_results=k, include=["metadatas", "distances"])
        return [
            (chunk_id(i.rsplit("#", 1)[0], m["chunk_index"]), 1.0 - d)
            for i, m, d in zip(got["ids"][0], got["metadatas"][0], got["distances"][0])
        ]

    def iter_chunks(self, page: int = READ_PAGE) -> Iterator[tuple[list[str], list[str], list[dict]]]:
        """All chunk ids, texts and metadata, a page at a time (keyword index rebuilds)."""
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["documents"], got["metadatas"]
            offset += len(got["ids"])

    def sentences_of(self, nodes: Sequence[TextNode]) -> list[Sentence]:
        """The sentences inside the given chunks, with their stored vectors."""
        wanted: list[str] = []
        for node in nodes:
            meta = node.metadata
            prefix = version_prefix(meta["doc_id"], meta["content_hash"])
            wanted.extend(sentence_id(prefix, j) for j in range(meta["sentence_first"], meta["sentence_last"] + 1))
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return []
        got = self.sentences.get(ids=wanted, include=["metadatas", "documents", "embeddings"])
        found = {
            i: _sentence(i, m, t, e)
            for i, m, t, e in zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"])
        }
        return [found[i] for i in wanted if i in found]

    # -- writing ----------------------------------------------------------------------------
    def write_version(
        self, nodes: Sequence[TextNode], chunk_vectors: np.ndarray, sentences: Sequence[Sentence]
    ) -> None:
        """Write one document version; chunk 0, the commit record, goes last."""
        for start in range(0, len(sentences), WRITE_BATCH):
            batch = sentences[start : start + WRITE_BATCH]
            self.sentences.upsert(
                ids=[s.id for s in batch],
                embeddings=np.stack([s.vector for s in batch]),
                documents=[s.text for s in batch],
                metadatas=[
                    {
                        "doc_id": s.doc_id,
                        "index": s.index,
                        "start": s.start,
                        "end": s.end,
                        "chunk_index": s.chunk_index,
                        "version": s.id.rsplit("#", 1)[0],
                    }
                    for s in batch
                ],
            )
        order = list(range(1, len(nodes))) + [0]
        for start in range(0, len(order), WRITE_BATCH):
            batch = order[start : start + WRITE_BATCH]
            self.chunks.upsert(
                ids=[nodes[i].node_id for i in batch],
                embeddings=chunk_vectors[batch],
                documents=[nodes[i].text for i in batch],
                metadatas=[_flat(node_to_metadata_dict(nodes[i], remove_text=True, flat_metadata=True)) for i in batch],
            )

    def delete_document(self, doc_id: str, keep_version: str | None = None) -> None:
        """Remove a document's chunks and sentences, except those of `keep_version`."""
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_version:
            where = {"$and": [where, {"content_hash": {"$ne": keep_version}}]}
        self.chunks.delete(where=where)
        sentence_where: dict[str, Any] = {"doc_id": doc_id}
        if keep_version:
            sentence_where = {"$and": [sentence_where, {"version": {"$ne": version_prefix(doc_id, keep_version)}}]}
        self.sentences.delete(where=sentence_where)

    def remove_debris(self, committed: Sequence[DocumentRecord]) -> int:
        """Delete chunks and sentences that belong to no committed version.

        Cheap when the index is clean (two counts); a full scan only after a crash.
        """
        expected_chunks = sum(d.chunks for d in committed)
        expected_sentences = sum(d.sentences for d in committed)
        if self.chunks.count() == expected_chunks and self.sentences.count() == expected_sentences:
            return 0
        live = {version_prefix(d.doc_id, d.content_hash) for d in committed}
        removed = 0
        for collection in (self.chunks, self.sentences):
            stale = [i for i in _all_ids(collection) if i.rsplit("#", 1)[0] not in live]
            for start in range(0, len(stale), WRITE_BATCH):
                collection.delete(ids=stale[start : start + WRITE_BATCH])
            removed += len(stale)
        if removed:
            log.info("removed %d records left by an interrupted indexing run", removed)
        return removed


def hnsw_settings(collection) -> dict[str, Any]:
    """The HNSW_SEARCH settings `collection` was given: its schema holds them all (its `configuration`
    leaves out `num_threads`)."""
    try:
        hnsw = collection.schema.keys[EMBEDDING_KEY].float_list.vector_index.config.hnsw
    except (AttributeError, KeyError):  # a collection without a schema (an older server): set them again
        return {}
    return {key: getattr(hnsw, key, None) for key in HNSW_SEARCH}


def searchable_text(text: str, metadata: Mapping[str, Any]) -> str:
    """What a chunk is embedded and keyword-indexed as: its heading path, a newline, its text.

    The stored text stays the exact source span that citations highlight; the
    heading path ("Chapitre 6 › 6.4. Impression") adds what the section is about,
    which its sentences rarely repeat.
    """
    section = metadata.get("section")
    return f"{section}\n{text}" if section else text


def version_prefix(doc_id: str, content_hash: str) -> str:
    return f"{doc_id}#{content_hash[:VERSION_HASH_CHARS]}"


def chunk_id(prefix: str, index: int) -> str:
    return f"{prefix}#c{index}"


def sentence_id(prefix: str, index: int) -> str:
    return f"{prefix}#s{index}"


def _sentence(sentence_id_: str, meta: dict[str, Any], text: str, vector) -> Sentence:
    return Sentence(
        sentence_id_, meta["doc_id"], meta["index"], meta["start"], meta["end"], text,
        np.asarray(vector, dtype=np.float32), meta["chunk_index"],
    )


def _all_ids(collection) -> list[str]:
    ids: list[str] = []
    while batch := collection.get(include=[], limit=ID_PAGE, offset=len(ids))["ids"]:
        ids.extend(batch)
    return ids


def _flat(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in metadata.items()}
