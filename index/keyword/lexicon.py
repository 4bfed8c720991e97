"""The cross-language lexicon: every word of the indexed texts, embedded on its own.

Stemming cannot turn "Sunday memo to staff" into "note envoyée aux employés
dimanche", so the keyword postings keep a lexicon beside them.  A question word
that the postings do not hold is looked up there and stands for its nearest words
of the other language ("staff" -> "employés", "egg" -> nothing), when they are
close enough to be translations.  The multilingual embedder is the dictionary;
nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.keyword.tokens import content_words, keyword_tokens

# A question word stands for the (at most) TRANSLATIONS_PER_WORD nearest words of the other
# language whose cosine similarity reaches TRANSLATION_SIMILARITY: single words and their
# translations mostly score 0.90-0.99, unrelated words mostly below (docs/decisions.md).
TRANSLATION_SIMILARITY = 0.90
TRANSLATIONS_PER_WORD = 3
MIN_LEXICON_WORD = 3  # letters; shorter words are mostly elisions and abbreviations

WordEmbedder = Callable[[list[str]], np.ndarray]  # words -> L2-normalised vectors, one row each


def is_lexicon_word(word: str) -> bool:
    """Whether the lexicon holds words like this one: letters only, and long enough to translate."""
    return word.isalpha() and len(word) >= MIN_LEXICON_WORD


def lexicon_words(text: str) -> list[str]:
    """The words of a text that go into the lexicon."""
    return [w for w in content_words(text) if is_lexicon_word(w)]


@dataclass(frozen=True)
class Lexicon:
    """Every word of the indexed texts with its language, index term and vector."""

    words: list[str]
    languages: np.ndarray  # one language code per word
    terms: list[str]
    vectors: np.ndarray  # (words, dimension), L2-normalised

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str]], embed: WordEmbedder) -> Lexicon | None:
        """From (word, language) pairs, embedding each distinct word once; None when there are none."""
        keys = sorted(set(entries))
        if not keys:
            return None
        distinct = sorted({word for word, _ in keys})
        vectors = np.asarray(embed(distinct), dtype=np.float32)
        row = {word: i for i, word in enumerate(distinct)}
        return cls([w for w, _ in keys], np.array([lang for _, lang in keys]),
                   [keyword_tokens(word, lang)[0] for word, lang in keys], vectors[[row[w] for w, _ in keys]])

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
