"""BM25 keyword postings (bm25s) beside Chroma, which cannot hold sparse indexes locally.

Chroma's stored texts are the source: the postings are rebuilt from them whenever
the persisted copy is missing, damaged, or older than the store's generation.
Texts are stemmed in their own language (Snowball, French or English); a query
is stemmed both ways, since it may target documents in either language.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

from index.language import LANGUAGES, NLTK_NAMES, fold, stopwords

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
STATE_FILE = "state.json"


@lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(NLTK_NAMES[language])


def _words(text: str) -> list[str]:
    ignored = stopwords()["fr"] | stopwords()["en"]
    return [w for w in (m.group().lower() for m in _TOKEN.finditer(text)) if (len(w) > 1 or w.isdigit()) and fold(w) not in ignored]


def keyword_tokens(text: str, language: str) -> list[str]:
    """Index terms of a text written in `language`."""
    stem = _stemmer(language).stemWords
    return [fold(s) for s in stem(_words(text))]


def query_tokens_by_word(text: str) -> list[set[str]]:
    """For each content word of a question, its index terms in every language we index."""
    words = list(dict.fromkeys(_words(text)))
    stemmed = [_stemmer(lang).stemWords(words) for lang in LANGUAGES]
    return [{fold(stems[i]) for stems in stemmed} for i in range(len(words))]


def query_tokens(text: str) -> list[str]:
    """Index terms of a question, stemmed for every language we index."""
    return list(dict.fromkeys(t for terms in query_tokens_by_word(text) for t in sorted(terms)))


class KeywordIndex:
    """bm25s postings over chunk texts, persisted under `directory`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._rebuild_lock = threading.RLock()
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self.generation = -1

    @property
    def chunk_ids(self) -> list[str]:
        return list(self._ids)

    def knows(self, terms: set[str]) -> bool:
        """Whether any of these index terms occurs in the indexed texts (an empty set: yes)."""
        with self._lock:
            bm25 = self._bm25
        return not terms or (bm25 is not None and not terms.isdisjoint(bm25.vocab_dict))

    def ensure(self, generation: int, chunks: Callable[[], Iterable[tuple[list[str], list[str], list[dict]]]]) -> None:
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
            bm25 = bm25s.BM25.load(str(self.directory / "bm25"), load_corpus=False, show_progress=False) if state["ids"] else None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keyword index in %s is unreadable (%s); it will be rebuilt", self.directory, exc)
            return False
        self._bm25, self._ids, self.generation = bm25, state["ids"], state["generation"]
        return True

    def rebuild(self, chunks: Iterable[tuple[list[str], list[str], list[dict]]], generation: int) -> None:
        """Re-create the postings from (ids, texts, metadatas) pages and save them."""
        with self._rebuild_lock:
            self._rebuild(chunks, generation)

    def _rebuild(self, chunks: Iterable[tuple[list[str], list[str], list[dict]]], generation: int) -> None:
        ids: list[str] = []
        corpus: list[list[str]] = []
        for page_ids, texts, metadatas in chunks:
            ids.extend(page_ids)
            corpus.extend(keyword_tokens(t, m.get("language", "fr")) for t, m in zip(texts, metadatas))
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        self._save(bm25, ids, generation)
        with self._lock:
            self._bm25, self._ids, self.generation = bm25, ids, generation
        log.info("keyword index rebuilt: %d chunks (generation %d)", len(ids), generation)

    def _save(self, bm25, ids: list[str], generation: int) -> None:
        """Write a complete copy beside the old one, then swap, so a crash leaves one intact."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = self.directory.with_name(self.directory.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if bm25 is not None:
            bm25.save(str(staging / "bm25"), show_progress=False)
        (staging / STATE_FILE).write_text(json.dumps({"generation": generation, "ids": ids}))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        staging.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top `k` (chunk id, BM25 score) pairs with a positive score."""
        with self._lock:
            bm25, ids = self._bm25, self._ids
        if bm25 is None:
            return []
        tokens = [t for t in query_tokens(question) if t in bm25.vocab_dict]
        if not tokens:
            return []
        scores = bm25.get_scores(tokens)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]
