"""Incremental indexing: files -> chunks and sentences -> vectors -> Chroma + BM25.

A run compares each file's content hash with the versions committed in Chroma, so
an unchanged folder costs only hashing.  Changed files get a new version written
beside the old one, which is dropped only once the new one is committed; removed
files lose their chunks.  Bad files are reported, never fatal.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode

from index.chunking import chunk_bounds, chunk_nodes, in_context, sentence_records
from index.embedding.cache import EmbeddingCache
from index.keyword.bm25 import KeywordIndex
from index.loaders import (
    SUPPORTED_SUFFIXES,
    DocumentError,
    SourceDocument,
    content_hash,
    doc_id_for,
    load_document,
)
from index.store.chroma import ChunkStore, DocumentRecord, searchable_text
from index.store.errors import StorageFull, is_storage_full
from index.text.sentences import make_splitter, unit_spans

log = logging.getLogger(__name__)

SPLITTER_VERSION = "s5"  # bump when chunks or sentence vectors are built differently (s5: structure-aware loaders)

Progress = Callable[[int, int], None]  # (chunks done, chunks total)


@dataclass(frozen=True)
class Rejection:
    """A file left out of the index, and why: `code` and its `facts` (a suffix, a limit) for a reader
    to say it in its own words, `message` the same in one English line for logs and the CLI."""

    filename: str  # relative to the indexed folder
    code: str
    message: str
    facts: dict[str, str | int] = field(default_factory=dict)


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)
    new_chunks: int = 0
    chunks_by_doc: dict[str, int] = field(default_factory=dict)
    embedded: int = 0
    from_cache: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self, folder: str) -> str:
        total = len(self.added) + len(self.updated) + len(self.unchanged)
        lines = [(
            f"Indexed {folder} in {self.seconds:.1f} s: {total} documents "
            f"({len(self.added)} new, {len(self.updated)} changed, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed), {self.new_chunks} new chunks, "
            f"{self.embedded} texts embedded, {self.from_cache} taken from the cache."
        )]
        if self.errors:
            lines.append(f"Skipped {len(self.errors)} file(s):")
            lines.extend(f"  {error.filename}: {error.message}" for error in self.errors)
        return "\n".join(lines)


@dataclass
class _Planned:
    document: SourceDocument
    nodes: list[TextNode]
    sentences: list[tuple[int, int]]
    is_new: bool


class Indexer:
    def __init__(
        self,
        store: ChunkStore,
        keyword: KeywordIndex,
        embed_model: BaseEmbedding,
        cache: EmbeddingCache,
        chunk_size: int,
        chunk_overlap: int,
        lock_path: Path,
        max_file_bytes: int,
    ):
        self.store = store
        self.keyword = keyword
        self.embed_model = embed_model
        self.cache = cache
        self.splitter = make_splitter(chunk_size, chunk_overlap)
        self.chunking = f"{chunk_size}/{chunk_overlap}/{SPLITTER_VERSION}"
        self.lock_path = lock_path
        self.max_file_bytes = max_file_bytes

    # -- public entry points -------------------------------------------------------------
    def index_folder(self, root: Path, progress: Progress | None = None) -> IndexReport:
        """Make the index mirror `root`: add new files, replace changed, drop removed."""
        root = root.resolve()
        if not root.is_dir():
            raise NotADirectoryError(f"not a folder: {root}")
        files = sorted(
            p for p in root.rglob("*")
            if (p.is_file() or p.is_symlink()) and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        return self._run(files, root, progress, mirror=True)

    def index_files(self, files: Iterable[Path], root: Path, progress: Progress | None = None) -> IndexReport:
        """Add or replace the given files (uploads); other documents are left alone."""
        return self._run(sorted(Path(f).resolve() for f in files), root.resolve(), progress, mirror=False)

    def remove(self, doc_id: str) -> bool:
        with self._locked():
            if not any(d.doc_id == doc_id for d in self.store.documents()):
                return False
            self.store.delete_document(doc_id)
            self._commit_changes()
            return True

    def refresh_keyword_index(self) -> int:
        """Catch up with changes made by other processes: Chroma's view, then the BM25 postings.
        Returns the index's generation."""
        generation = self.store.catch_up()
        self.keyword.ensure(generation, self.store.iter_chunks)
        return generation

    # -- the run -------------------------------------------------------------------------
    def _run(self, files: list[Path], root: Path, progress: Progress | None, mirror: bool) -> IndexReport:
        try:
            return self._run_locked(files, root, progress, mirror)
        except Exception as exc:
            if is_storage_full(exc, self.lock_path.parent):
                raise StorageFull(
                    f"the disk is full or refused a write ({exc}); documents indexed before this run are unchanged, "
                    "and the next run finishes the job once there is space"
                ) from exc
            raise

    def _run_locked(self, files: list[Path], root: Path, progress: Progress | None, mirror: bool) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        with self._locked():
            committed: dict[str, list[DocumentRecord]] = {}
            for record in self.store.documents():
                committed.setdefault(record.doc_id, []).append(record)
            plans = self._plan(files, root, committed, report)
            total = sum(len(p.nodes) for p in plans)
            done = 0
            if progress:
                progress(0, total)
            for plan in plans:
                self._write(plan, report)
                done += len(plan.nodes)
                if progress:
                    progress(done, total)
            if mirror:
                seen = {doc_id_for(f, root) for f in files}
                for doc_id, records in committed.items():
                    if doc_id not in seen and all(_is_under(r.source, root) for r in records):
                        self.store.delete_document(doc_id)
                        report.removed.append(doc_id)
            debris = self.store.remove_debris(self.store.documents())
            if report.changed or debris:
                self._commit_changes()
            else:
                self.refresh_keyword_index()
        report.seconds = time.perf_counter() - started
        return report

    def _plan(
        self, files: list[Path], root: Path, committed: dict[str, list[DocumentRecord]], report: IndexReport
    ) -> list[_Planned]:
        plans: list[_Planned] = []
        claimed: dict[str, Path] = {}
        for path in files:
            shown = str(path.relative_to(root)) if _is_under(str(path), root) else str(path)
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                kind = path.suffix or path.name
                report.errors.append(Rejection(shown, "unsupported_type", f"unsupported file type '{kind}'",
                                               {"suffix": kind}))
                continue
            doc_id = doc_id_for(path, root)
            if doc_id in claimed:
                other = claimed[doc_id].name
                clash = f"same document id '{doc_id}' as {other}; rename one of them"
                report.errors.append(Rejection(shown, "same_id", clash, {"other": other}))
                continue
            claimed[doc_id] = path
            try:
                if path.stat().st_size > self.max_file_bytes:  # never read a huge file into memory
                    limit_mb = self.max_file_bytes // 1_000_000
                    report.errors.append(Rejection(shown, "too_large", f"larger than the {limit_mb} MB file limit",
                                                   {"limit_mb": limit_mb}))
                    continue
                data = path.read_bytes()
            except OSError as exc:
                report.errors.append(Rejection(shown, "unreadable", f"unreadable: {exc.strerror or exc}"))
                continue
            digest = content_hash(data)
            versions = committed.get(doc_id, [])
            current = [v for v in versions if v.content_hash == digest and v.chunking == self.chunking]
            if current:
                if len(versions) > 1:  # an interrupted update left the old version behind
                    self.store.delete_document(doc_id, keep_version=digest)
                report.unchanged.append(doc_id)
                report.chunks_by_doc[doc_id] = current[0].chunks
                continue
            try:
                document = load_document(path, root, data)
            except DocumentError as exc:
                report.errors.append(Rejection(shown, exc.code, str(exc), exc.facts))
                continue
            plans.append(self._chunk(document, is_new=not versions))
        return plans

    def _chunk(self, document: SourceDocument, is_new: bool) -> _Planned:
        """Chunks cut section by section, so that none straddles two; evidence units from the blocks."""
        bounds = chunk_bounds(document, self.splitter)
        spans = unit_spans(document.text, document.blocks)
        return _Planned(document, chunk_nodes(document, bounds, spans, self.chunking), spans, is_new)

    def _write(self, plan: _Planned, report: IndexReport) -> None:
        document = plan.document
        sentence_texts = [document.text[s:e] for s, e in plan.sentences]
        texts = [searchable_text(n.text, n.metadata) for n in plan.nodes] + in_context(sentence_texts)
        vectors = self._embed(texts, report)
        chunk_vectors = vectors[: len(plan.nodes)]
        sentences = sentence_records(document, plan.nodes, plan.sentences, vectors[len(plan.nodes) :])
        self.store.write_version(plan.nodes, chunk_vectors, sentences)
        self.store.delete_document(document.doc_id, keep_version=document.content_hash)
        (report.added if plan.is_new else report.updated).append(document.doc_id)
        report.new_chunks += len(plan.nodes)
        report.chunks_by_doc[document.doc_id] = len(plan.nodes)

    def _embed(self, texts: list[str], report: IndexReport) -> np.ndarray:
        """Vectors through the cache, a model batch at a time: each batch is cached as soon as it is embedded.
        Batches are cut from the texts sorted by length, so that a batch pads little (the same vectors,
        about 8% less work on a manual than batches in reading order)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.store.dimension), np.float32)
        size = self.embed_model.embed_batch_size
        for start in range(0, len(texts), size):
            positions = order[start : start + size]
            batch = [texts[i] for i in positions]
            vectors[positions], embedded = self.cache.embed(batch, self.embed_model.get_text_embedding_batch)
            report.embedded += embedded
            report.from_cache += len(set(batch)) - embedded
        return vectors

    def _commit_changes(self) -> None:
        generation = self.store.bump_generation()
        self.keyword.rebuild(self.store.iter_chunks(), generation)

    @contextmanager
    def _locked(self):
        """One indexing run at a time on this data folder."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self.store.catch_up()  # write over what is on disk, never over a stale view of it
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _is_under(path: str, root: Path) -> bool:
    return Path(path).is_relative_to(root)
