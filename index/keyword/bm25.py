"""BM25 keyword postings (bm25s) beside Chroma, which cannot hold sparse indexes locally.

Chroma's stored texts are the source: the postings are rebuilt from them whenever
the persisted copy is missing, damaged, or older than the store's generation.
Beside the postings lives the cross-language lexicon (`index.keyword.lexicon`),
through which a question word the postings do not hold stands for its translations.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import bm25s
import numpy as np

from index.keyword.lexicon import Lexicon, WordEmbedder, is_lexicon_word, lexicon_words
from index.keyword.tokens import keyword_tokens, words_with_terms
from index.store.chroma import searchable_text
from index.text.language import DOCUMENT_LANGUAGE, detect_language

# What the postings are built from; a saved copy of another kind is rebuilt.
POSTINGS = "chunk text with its heading path"
STATE_FILE = "state.json"
LEXICON_FILE = "lexicon.npz"
BM25_DIR = "bm25"

log = logging.getLogger(__name__)

ChunkPages = Iterable[tuple[list[str], list[str], list[dict]]]  # (ids, texts, metadatas), a page at a time


class KeywordIndex:
    """bm25s postings over chunk texts and their cross-language lexicon, persisted under `directory`.

    Without `embed_words` there is no lexicon: questions match by stems only.
    """

    def __init__(self, directory: Path, embed_words: WordEmbedder | None = None):
        self.directory = directory
        self.embed_words = embed_words
        self._lock = threading.Lock()
        self._rebuild_lock = threading.RLock()
        self._bm25: bm25s.BM25 | None = None
        self._lexicon: Lexicon | None = None
        self._ids: list[str] = []
        self.generation = -1

    @property
    def chunk_ids(self) -> list[str]:
        return list(self._ids)

    @property
    def lexicon_size(self) -> int:
        """Words in the cross-language lexicon, each embedded once."""
        with self._lock:
            return len(self._lexicon.words) if self._lexicon else 0

    def knows(self, terms: set[str]) -> bool:
        """Whether any of these index terms occurs in the indexed texts (an empty set: yes)."""
        with self._lock:
            bm25 = self._bm25
        return not terms or (bm25 is not None and not terms.isdisjoint(bm25.vocab_dict))

    def question_terms(self, question: str) -> list[tuple[str, set[str]]]:
        """Each content word of a question with the index terms that count as that word:
        its own stems, and for a word the postings do not hold, its translations' terms."""
        with self._lock:
            lexicon = self._lexicon
        words = words_with_terms(question)
        unknown = [i for i, (word, own) in enumerate(words) if is_lexicon_word(word) and not self.knows(own)]
        if lexicon is not None and unknown and self.embed_words is not None:
            vectors = np.asarray(self.embed_words([words[i][0] for i in unknown]), dtype=np.float32)
            for i, translated in zip(unknown, lexicon.translations(vectors, detect_language(question))):
                words[i] = (words[i][0], words[i][1] | translated)
        return words

    def ensure(self, generation: int, chunks: Callable[[], ChunkPages]) -> None:
        """Make the postings match `generation`: load the saved copy, or rebuild."""
        if self.generation == generation:
            return
        with self._rebuild_lock:
            if self.generation == generation or (self.load() and self.generation == generation):
                return
            self.rebuild(chunks(), generation)

    def load(self) -> bool:
        """Load the persisted postings; False when missing or unreadable."""
        state_path = self.directory / STATE_FILE
        if not state_path.exists():
            return False
        try:
            state = json.loads(state_path.read_text())
            bm25 = (bm25s.BM25.load(str(self.directory / BM25_DIR), load_corpus=False, show_progress=False)
                    if state["ids"] else None)
            lexicon = Lexicon.load(self.directory / LEXICON_FILE) if state["lexicon"] else None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keyword index in %s is unreadable (%s); it will be rebuilt", self.directory, exc)
            return False
        if state.get("postings") != POSTINGS:
            return False  # postings built from other text: rebuild
        if state["lexicon"] != (self.embed_words is not None):
            return False  # built with (or without) a lexicon, unlike this index: rebuild
        with self._lock:
            self._bm25, self._lexicon, self._ids, self.generation = bm25, lexicon, state["ids"], state["generation"]
        return True

    def rebuild(self, chunks: ChunkPages, generation: int) -> None:
        """Re-create the postings from (ids, texts, metadatas) pages and save them."""
        with self._rebuild_lock:
            self._rebuild(chunks, generation)

    def _rebuild(self, chunks: ChunkPages, generation: int) -> None:
        ids: list[str] = []
        corpus: list[list[str]] = []
        lexicon_entries: set[tuple[str, str]] = set()  # (word, language)
        for page_ids, texts, metadatas in chunks:
            ids.extend(page_ids)
            for text, meta in zip(texts, metadatas):
                language = meta.get("language", DOCUMENT_LANGUAGE)
                corpus.append(keyword_tokens(searchable_text(text, meta), language))
                if self.embed_words is not None:
                    lexicon_entries.update((word, language) for word in lexicon_words(text))
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        lexicon = Lexicon.build(lexicon_entries, self.embed_words) if self.embed_words is not None else None
        self._save(bm25, lexicon, ids, generation)
        with self._lock:
            self._bm25, self._lexicon, self._ids, self.generation = bm25, lexicon, ids, generation
        log.info("keyword index rebuilt: %d chunks, %d lexicon words (generation %d)",
                 len(ids), len(lexicon.words) if lexicon else 0, generation)

    def _save(self, bm25, lexicon: Lexicon | None, ids: list[str], generation: int) -> None:
        """Write a complete copy beside the old one, then swap, so a crash leaves one intact.

        Writers take turns (a server catching up and `qa index` may save at once), and a copy
        of a newer generation already on disk is left as it is."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with open(self.directory.with_name(self.directory.name + ".lock"), "w") as turn:
            fcntl.flock(turn, fcntl.LOCK_EX)
            if self._saved_generation() <= generation:
                self._swap_in(bm25, lexicon, ids, generation)

    def _saved_generation(self) -> int:
        try:
            return json.loads((self.directory / STATE_FILE).read_text())["generation"]
        except (OSError, ValueError, KeyError):
            return -1

    def _swap_in(self, bm25, lexicon: Lexicon | None, ids: list[str], generation: int) -> None:
        staging = self.directory.with_name(self.directory.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if bm25 is not None:
            bm25.save(str(staging / BM25_DIR), show_progress=False)
        if lexicon is not None:
            lexicon.save(staging / LEXICON_FILE)
        state = {"generation": generation, "ids": ids, "lexicon": self.embed_words is not None, "postings": POSTINGS}
        (staging / STATE_FILE).write_text(json.dumps(state))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        staging.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top `k` (chunk id, BM25 score) pairs with a positive score."""
        terms = self.question_terms(question)
        with self._lock:
            bm25, ids = self._bm25, self._ids
        if bm25 is None:
            return []
        tokens = [t for t in dict.fromkeys(t for _, word in terms for t in sorted(word)) if t in bm25.vocab_dict]
        if not tokens:
            return []
        scores = bm25.get_scores(tokens)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]
