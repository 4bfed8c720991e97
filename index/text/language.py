"""French or English: decided by function words, which carry the language of a text.

Questions are short and full of names ("Who is Emmett Shear?"), which defeats
character n-gram detectors; the share of French versus English stopwords (NLTK's
lists, bundled with llama-index) settles it with no model to download.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Literal

# nltk is imported at start-up (here and in index.text.sentences), never first in a request
# thread: two threads importing it at once can see it half-initialised ("cannot import name
# 'sent_tokenize'"), and its lazy corpus loaders are not thread-safe either, hence the lock
# around first loads.
from llama_index.core.utils import globals_helper
from nltk.corpus import stopwords as nltk_stopwords

NLTK_LOCK = threading.Lock()

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
NLTK_NAMES = {"fr": "french", "en": "english"}
DOCUMENT_LANGUAGE: Language = "fr"  # a document's language when nothing in it tells

# Interrogatives NLTK's stopword lists leave out: they say what kind of answer is wanted
# ("combien", "how many"), not what it is about, so they are not searched for.
QUESTION_WORDS = frozenset(
    "combien comment pourquoi quand quel quelle quels quelles lequel laquelle lesquels lesquelles quoi "
    "many much whose".split()
)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Accented letters, guillemets, or the space French puts before ? ! ; :
_FRENCH_TYPOGRAPHY = re.compile(r"[àâçéèêëîïôûùüÿœæ«»]|\s[?!;:]", re.IGNORECASE)
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['’]", re.IGNORECASE)


@lru_cache(maxsize=1)
def stopwords() -> dict[Language, frozenset[str]]:
    """NLTK stopword lists for French and English, accent-folded."""
    with NLTK_LOCK:  # nltk's lazy corpus loaders are not thread-safe
        _ = globals_helper.stopwords  # puts llama-index's bundled NLTK data on nltk's path
        return {lang: frozenset(fold(w) for w in nltk_stopwords.words(NLTK_NAMES[lang])) for lang in LANGUAGES}


@lru_cache(maxsize=65_536)  # called for every word indexed or scored, and words repeat
def fold(text: str) -> str:
    """Casefold and strip accents, so 'Employés' and 'employes' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect_language(text: str, default: Language = "en") -> Language:
    """Return "fr" or "en" for `text`; `default` when nothing tells them apart."""
    lists = stopwords()
    # Words on both lists ("a", "on", "me") prove nothing.
    french_only = lists["fr"] - lists["en"]
    english_only = lists["en"] - lists["fr"]
    fr = en = 0
    for match in _WORD.finditer(text):
        word = match.group()
        if _ELISION.match(word):  # l'entreprise, qu'il, d’OpenAI
            fr += 1
            continue
        token = fold(word)
        fr += token in french_only
        en += token in english_only
    if fr == en:
        if fr == 0 and _FRENCH_TYPOGRAPHY.search(text):
            return "fr"
        return default
    return "fr" if fr > en else "en"
