"""BM25 keyword postings (bm25s) beside Chroma, which cannot hold sparse indexes locally.

Chroma's stored texts are the source: the postings are rebuilt from them whenever
the persisted copy is missing, damaged, or older than the store's generation.
Texts are stemmed in their own language (Snowball, French or English); a query
is stemmed both ways, since it may target documents in either language.

Stemming cannot turn "Sunday memo to staff" into "note envoyée aux employés
dimanche", so the postings keep a lexicon beside them: every word of the indexed
texts, embedded on its own.  A question word that the postings do not hold is
looked up there and stands for its nearest words of the other language
("staff" -> "employés", "egg" -> nothing), when they are close enough to be
translations.  The multilingual embedder is the dictionary; nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bm25s
import numpy as np

from index.store.chroma import searchable_text
from index.text.language import LANGUAGES, NLTK_NAMES, QUESTION_WORDS, detect_language, fold, stopwords

# What the postings are built from; a saved copy of another kind is rebuilt.
POSTINGS = "chunk text with its heading path"

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
STATE_FILE = "state.json"
LEXICON_FILE = "lexicon.npz"

# A question word stands for the (at most) TRANSLATIONS_PER_WORD nearest words of the other
# language whose cosine similarity reaches TRANSLATION_SIMILARITY.  Chosen on the calibration
# set with the bundled e5 model (English hit@5 0.83 -> 0.90 there, French unchanged): single
# words and their translations mostly score 0.90-0.99, unrelated words mostly below 0.90.
TRANSLATION_SIMILARITY = 0.90
TRANSLATIONS_PER_WORD = 3
MIN_LEXICON_WORD = 3  # letters; shorter words are mostly elisions and abbreviations

WordEmbedder = Callable[[list[str]], np.ndarray]  # words -> L2-normalised vectors, one row each


@cache
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(NLTK_NAMES[language])


def _words(text: str) -> list[str]:
    ignored = stopwords()["fr"] | stopwords()["en"]
    words = (m.group().lower() for m in _TOKEN.finditer(text))
    return [w for w in words if (len(w) > 1 or w.isdigit()) and fold(w) not in ignored]


def keyword_tokens(text: str, language: str) -> list[str]:
    """Index terms of a text written in `language`."""
    stem = _stemmer(language).stemWords
    return [fold(s) for s in stem(_words(text))]


def query_tokens_by_word(text: str) -> list[set[str]]:
    """For each content word of a question, its index terms in every language we index."""
    return [terms for _, terms in words_with_terms(text)]


def words_with_terms(text: str) -> list[tuple[str, set[str]]]:
    """Each content word of a question with its index terms in every language we index."""
    words = list(dict.fromkeys(_words(text)))
    stemmed = [_stemmer(lang).stemWords(words) for lang in LANGUAGES]
    return [(word, {fold(stems[i]) for stems in stemmed}) for i, word in enumerate(words)]


def is_question_word(word: str) -> bool:
    """Interrogatives ("combien", "how many") say what kind of answer is wanted, not what it is about."""
    return fold(word) in QUESTION_WORDS


def _lexicon_words(text: str) -> list[str]:
    return [w for w in _words(text) if w.isalpha() and len(w) >= MIN_LEXICON_WORD]


@dataclass(frozen=True)
class Lexicon:
    """Every word of the indexed texts with its language, index term and vector."""

    words: list[str]
    languages: np.ndarray  # one language code per word
    terms: list[str]
    vectors: np.ndarray  # (words, dimension), L2-normalised

    @classmethod
    def build(cls, vocabulary: dict[tuple[str, str], str], embed: WordEmbedder) -> Lexicon | None:
        """From {(word, language): term}, embedding each distinct word once."""
        if not vocabulary:
            return None
        keys = sorted(vocabulary)
        distinct = sorted({word for word, _ in keys})
        vectors = np.asarray(embed(distinct), dtype=np.float32)
        row = {word: i for i, word in enumerate(distinct)}
        return cls([w for w, _ in keys], np.array([lang for _, lang in keys]), [vocabulary[k] for k in keys],
                   vectors[[row[w] for w, _ in keys]])

    def translations(self, vectors: np.ndarray, language: str) -> list[set[str]]:
        """For each word vector, the index terms of its nearest words in other languages."""
        similarity = vectors @ self.vectors.T
        similarity[:, self.languages == language] = -1.0
        found = []
        k = min(TRANSLATIONS_PER_WORD, similarity.shape[1])
        for row in similarity:
            nearest = np.argpartition(-row, k - 1)[:k]
            found.append({self.terms[i] for i in nearest if row[i] >= TRANSLATION_SIMILARITY})
        return found

    def save(self, path: Path) -> None:
        np.savez(path, words=np.array(self.words), languages=self.languages, terms=np.array(self.terms),
                 vectors=self.vectors)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        with np.load(path) as data:
            return cls(data["words"].tolist(), data["languages"], data["terms"].tolist(), data["vectors"])


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
        unknown = [i for i, (word, own) in enumerate(words)
                   if word.isalpha() and len(word) >= MIN_LEXICON_WORD and not self.knows(own)]
        if lexicon is not None and unknown and self.embed_words is not None:
            vectors = np.asarray(self.embed_words([words[i][0] for i in unknown]), dtype=np.float32)
            for i, translated in zip(unknown, lexicon.translations(vectors, detect_language(question))):
                words[i] = (words[i][0], words[i][1] | translated)
        return words

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
            bm25 = (bm25s.BM25.load(str(self.directory / "bm25"), load_corpus=False, show_progress=False)
                    if state["ids"] else None)
            lexicon = Lexicon.load(self.directory / LEXICON_FILE) if state["lexicon"] else None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keyword index in %s is unreadable (%s); it will be rebuilt", self.directory, exc)
            return False
        if state.get("postings") != POSTINGS:
            return False  # postings built from other text (before headings were indexed): rebuild
        if state["lexicon"] != (self.embed_words is not None):
            return False  # built with (or without) a lexicon, unlike this index: rebuild
        with self._lock:
            self._bm25, self._lexicon, self._ids, self.generation = bm25, lexicon, state["ids"], state["generation"]
        return True

    def rebuild(self, chunks: Iterable[tuple[list[str], list[str], list[dict]]], generation: int) -> None:
        """Re-create the postings from (ids, texts, metadatas) pages and save them."""
        with self._rebuild_lock:
            self._rebuild(chunks, generation)

    def _rebuild(self, chunks: Iterable[tuple[list[str], list[str], list[dict]]], generation: int) -> None:
        ids: list[str] = []
        corpus: list[list[str]] = []
        vocabulary: dict[tuple[str, str], str] = {}
        for page_ids, texts, metadatas in chunks:
            ids.extend(page_ids)
            for text, meta in zip(texts, metadatas):
                language = meta.get("language", "fr")
                corpus.append(keyword_tokens(searchable_text(text, meta), language))
                if self.embed_words is not None:
                    for word in _lexicon_words(text):
                        vocabulary.setdefault((word, language), "")
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        for (word, language) in vocabulary:
            vocabulary[(word, language)] = keyword_tokens(word, language)[0]
        lexicon = Lexicon.build(vocabulary, self.embed_words) if self.embed_words is not None else None
        self._save(bm25, lexicon, ids, generation)
        with self._lock:
            self._bm25, self._lexicon, self._ids, self.generation = bm25, lexicon, ids, generation
        log.info("keyword index rebuilt: %d chunks, %d lexicon words (generation %d)",
                 len(ids), len(lexicon.words) if lexicon else 0, generation)

    def _save(self, bm25, lexicon: Lexicon | None, ids: list[str], generation: int) -> None:
        """Write a complete copy beside the old one, then swap, so a crash leaves one intact."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = self.directory.with_name(self.directory.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if bm25 is not None:
            bm25.save(str(staging / "bm25"), show_progress=False)
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
