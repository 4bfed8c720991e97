"""Follow-up questions ("Et qui l’a remplacée ?") made standalone before retrieval.

Only a question that needs the conversation is rewritten: one that opens with
"Et …" / "And …", is made of grammar words alone ("Pourquoi ?"), or uses a pronoun,
possessive or demonstrative with nothing before it in the question to refer to.
Everything else is answered exactly as if it were asked first, so an earlier turn
cannot drag an unrelated question towards its own topic.  The decision reads closed-class
grammar words only, never words of a corpus.

Each generator rewrites follow-ups its own way: a model rewrites them; without one,
the names and figures of the previous question are carried over (`carry_over`),
which is what retrieval needs to find the same people again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.text.language import QUESTION_WORDS, detect_language, fold, stopwords

_NAME = re.compile(r"\b(?:[A-ZÀ-Ý][\w’'-]*[a-zà-ÿ0-9][\w’'-]*(?:\s+[A-ZÀ-Ý][\w’'-]+)*|\d[\d.,]*)")
_TOKEN = re.compile(r"[^\W_]+|,")  # "l’a" is "l", "a"; "a-t-il" is "a", "t", "il"; commas end a fronted phrase

# Words that point back to something said before.
_REFERRING = {
    "fr": frozenset("il ils elle elles lui eux celui celle ceux celles cela ca ceci ce cet cette ces".split()),
    "en": frozenset("he she they him her them it this these those".split()),
}
_POSSESSIVES = {"fr": frozenset("son sa ses leur leurs".split()), "en": frozenset("his its their theirs".split())}
_FRENCH_AUXILIARIES = frozenset("a ont avait avaient aura auront aurait auraient est sont etait etaient".split())
_OBJECT_CLITICS = frozenset("l le la les".split())  # "qui l’a remplacée", "qui les a signées"
_NOT_DEMONSTRATIVE_AFTER_CE = frozenset("que qu qui dont sont soit n".split())  # "ce que", "ce sont"
# Interrogatives whose next word is what is asked about ("quel âge a-t-elle"), not an antecedent.
_ASKING = frozenset("quel quelle quels quelles lequel laquelle qui que quoi comment pourquoi ou quand combien "
                    "which what who whom whose how why when where".split())
# "il"/"it" that refers to nothing: "y a-t-il", "faut-il", "il y a", "est-il possible", "is it true".
_IMPERSONAL_BEFORE_IL = frozenset("faut fallait faudra agit suffit semble reste pleut".split())
_IMPERSONAL_AFTER_IL = frozenset("y faut fallait faudra s semble reste pleut".split())
_IMPERSONAL_ADJECTIVES = frozenset(
    "possible necessaire preferable vrai utile conseille obligatoire recommande interdit "
    "true necessary likely important safe better best".split())
_WEATHER = frozenset("fait fera faisait ferait".split())  # "quel temps fait-il"
_Y_VERBS = frozenset("a avait aura".split())
_OPENERS = frozenset(("et", "and"))


def previous_question(history: Sequence[dict]) -> str | None:
    for turn in reversed(history):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"])
    return None


def standalone_question(question: str, history: Sequence[dict],
                        rewrite: Callable[[str, Sequence[dict]], str]) -> str | None:
    """The follow-up rewritten with its context by `rewrite` (the generator's); None for a question that
    stands alone, which is answered exactly as if it were asked first."""
    if not previous_question(history) or not needs_conversation(question):
        return None
    return rewrite(question, history)


def needs_conversation(question: str) -> bool:
    """Whether `question` cannot be understood without the turns before it.

    A pronoun is taken to refer inside the question when a name, a number or a content
    word comes before it (not the verb it hangs on, nor what an interrogative asks
    about); a possessive in a fronted phrase may also look ahead past the comma
    ("In his tweet, who did Satya Nadella …").  When in doubt the question stands alone.
    """
    tokens = _TOKEN.findall(question)
    words = [t for t in tokens if t != ","]
    folded = [fold(t) for t in words]
    closed = _closed_class()
    if not words or folded[0] in _OPENERS or tuple(folded[:2]) in (("what", "about"), ("how", "about")):
        return True
    if all(word in closed for word in folded):  # "Pourquoi ?", "Et lui ?", "Who?"
        return True
    language = detect_language(question)
    anchors = [_anchors(token, word, i, folded, closed) for i, (token, word) in enumerate(zip(words, folded))]
    after_comma = _after_first_comma(tokens)
    for i, word in enumerate(folded):
        bound = any(anchors[:max(i - 1, 0)])  # the word just before is the verb the pronoun hangs on
        if word in _POSSESSIVES[language]:
            if not bound and not (i < after_comma and any(anchors[after_comma:])):
                return True
        elif not bound and _refers_back(word, language, folded, i):
            return True
    return False


def _anchors(token: str, word: str, i: int, folded: list[str], closed: frozenset[str]) -> bool:
    """Whether this word is something a later pronoun could refer to."""
    if token[0].isdigit():
        return True
    if token[0].isupper() and len(token) >= 2 and (i > 0 or word not in closed):
        return True  # a name or an acronym ("OpenAI", "DTD")
    return word not in closed and len(word) >= 3 and not (i and folded[i - 1] in _ASKING)


def _after_first_comma(tokens: list[str]) -> int:
    """The index, among words, of the first word after the first comma (past the end when none)."""
    words = 0
    for token in tokens:
        if token == ",":
            return words
        words += 1
    return words + 1


def _refers_back(word: str, language: str, folded: list[str], i: int) -> bool:
    after = folded[i + 1] if i + 1 < len(folded) else ""
    if language == "fr" and word in _OBJECT_CLITICS and after in _FRENCH_AUXILIARIES:
        return True
    if word not in _REFERRING[language]:
        return False
    if word == "ce":
        return after not in _NOT_DEMONSTRATIVE_AFTER_CE
    if word in ("il", "it"):
        return not _impersonal(folded, i, after)
    return True


def _impersonal(folded: list[str], i: int, after: str) -> bool:
    if after in _IMPERSONAL_AFTER_IL or after in _IMPERSONAL_ADJECTIVES:
        return True
    j = i - 2 if i >= 2 and folded[i - 1] == "t" else i - 1
    verb = folded[j] if j >= 0 else ""
    return (verb in _IMPERSONAL_BEFORE_IL or (verb in _Y_VERBS and j >= 1 and folded[j - 1] == "y")
            or (verb in _WEATHER and "temps" in folded))


def _closed_class() -> frozenset[str]:
    lists = stopwords()
    return lists["fr"] | lists["en"] | QUESTION_WORDS | {"ou"}


def carry_over(question: str, history: Sequence[dict]) -> str:
    """`question` plus the names of the previous question it does not repeat."""
    previous = previous_question(history)
    if not previous:
        return question
    names = [m.group() for m in _NAME.finditer(previous) if m.start() > 0 and m.group() not in question]
    names = list(dict.fromkeys(names))
    return f"{question} ({', '.join(names)})" if names else question
