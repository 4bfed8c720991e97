"""Index terms: the content words of a text, stemmed and accent-folded.

Texts are stemmed in their own language (Snowball, French or English); a question
is stemmed both ways, since it may target documents in either language.
"""

from __future__ import annotations

import re
from functools import cache

from index.text.language import LANGUAGES, NLTK_NAMES, QUESTION_WORDS, fold, stopwords

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)


@cache
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(NLTK_NAMES[language])


def content_words(text: str) -> list[str]:
    """Lower-cased words and numbers, without stopwords of either language or single letters."""
    ignored = stopwords()["fr"] | stopwords()["en"]
    words = (m.group().lower() for m in _TOKEN.finditer(text))
    return [w for w in words if (len(w) > 1 or w.isdigit()) and fold(w) not in ignored]


def keyword_tokens(text: str, language: str) -> list[str]:
    """Index terms of a text written in `language`."""
    stem = _stemmer(language).stemWords
    return [fold(s) for s in stem(content_words(text))]


def query_tokens_by_word(text: str) -> list[set[str]]:
    """For each content word of a question, its index terms in every language we index."""
    return [terms for _, terms in words_with_terms(text)]


def words_with_terms(text: str) -> list[tuple[str, set[str]]]:
    """Each content word of a question with its index terms in every language we index."""
    words = list(dict.fromkeys(content_words(text)))
    stemmed = [_stemmer(lang).stemWords(words) for lang in LANGUAGES]
    return [(word, {fold(stems[i]) for stems in stemmed}) for i, word in enumerate(words)]


def is_question_word(word: str) -> bool:
    """Interrogatives ("combien", "how many") say what kind of answer is wanted, not what it is about."""
    return fold(word) in QUESTION_WORDS
