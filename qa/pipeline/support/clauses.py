"""Reading a sentence for the support checks: its words, names and content words, and its clauses.

Words are keyed by their first letters, accent-folded, so that a word and its
inflections, and a name written in either language, share a key ("Congress" /
"Congrès", "recruited" / « recruté »).  Everything here is grammar (articles,
genitives, relative pronouns, NLTK's stop words), never a corpus's topics.
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.text.language import fold, stopwords
from index.text.sentences import sentence_spans

WORD = re.compile(r"[^\W\d_]+")
NAME_PREFIX = 5  # letters that key a word: its inflections, and a name in either language, share them
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’](?=[^\W\d_])(?!s\b))?|['’]s\b")
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:()\[\]«»\"“”—–]|\s-\s|\.\s)\s*")
NEGATION = re.compile(
    r"(?<![\w'’])(?:n['’](?=\w)|(?:ne|jamais|aucun|aucune|rien|nullement|non|not|never|no|none|nothing|nobody|neither|nor|cannot)(?![\w'’-]))|n['’]t\b",
    re.IGNORECASE,
)
GENITIVE = frozenset({"de", "d'", "du", "des", "of", "'s"})
RELATIVES = frozenset({"qui", "which", "who", "that"})
ARTICLES = frozenset("le la les l' un une the a an".split())


@lru_cache(maxsize=1)
def grammar_words() -> frozenset[str]:
    """Grammar words of both languages (NLTK's lists), accent-folded."""
    return stopwords()["fr"] | stopwords()["en"]


@lru_cache(maxsize=4096)
def sentences_of(passage: str) -> tuple[str, ...]:
    """The passage's sentences (the passage itself when it has none), cached: every check reads them."""
    return tuple(passage[a:b] for a, b in sentence_spans(passage)) or (passage,)


def tokenize(text: str) -> list[str]:
    """Numbers and words, an elided article kept with its apostrophe ("l'", "d'"), "'s" on its own."""
    return [m.group() for m in _TOKEN.finditer(text)]


def name_keys(text: str) -> set[str]:
    """Keys of the capitalised words that are not grammar words."""
    ignored = grammar_words()
    return {word_key(t) for t in tokenize(text) if t[0].isupper() and fold(t) not in ignored}


def word_key(word: str) -> str:
    """The word's first letters, accent-folded: what two texts must share to mean the same word or name."""
    return fold(word.rstrip("'’"))[:NAME_PREFIX]


def content_keys(text: str) -> set[str]:
    """Keys of the lower-case words that carry meaning (no grammar word, no negation)."""
    ignored = grammar_words()
    return {
        word_key(t)
        for t in tokenize(text)
        if t[0].isalpha() and t[0].islower() and len(t) > 2 and fold(t) not in ignored and not NEGATION.fullmatch(t)
    }


@lru_cache(maxsize=4096)
def clauses_of(text: str) -> tuple[str, ...]:
    """A sentence's clauses: cut at punctuation, asides set apart, names kept with what they say.

    Asides in brackets, quotes or dashes are clauses of their own, and the sentence
    reads on without them.  A bare name before an aside keeps its verb: « Microsoft, qui
    détient OpenAI à 49 %, n'avait pas été prévenu » gives "Microsoft n'avait pas été
    prévenu" and "Microsoft qui détient OpenAI à 49 %".  A piece that follows a name
    (an apposition) is also read with that name: « Emmett Shear, co-fondateur de Twitch »
    gives "Emmett Shear co-fondateur de Twitch".  A short piece without a name (« à
    l'époque », "in 2019") does not cut the sentence.
    """
    clauses: list[str] = []
    subject = None
    spans = sentence_spans(text) or [(0, len(text))]
    # Names: words written with a capital inside a sentence somewhere in the text ("Autre" opening one is not).
    names = {word_key(t) for a, b in spans for t in tokenize(text[a:b])[1:] if t[0].isupper()}
    for start, end in spans:
        sentence = text[start:end]
        opening = tokenize(sentence)[:1]
        if subject and opening and opening[0] in _SUBJECT_PRONOUNS:
            sentence = subject + sentence[len(opening[0]) :]  # « Il choisit » after « OpenAI remercie ... »
        subject = _sentence_subject(sentence, names)
        main, asides = _set_asides_apart(sentence)
        for before, aside in asides:
            clauses.extend(_pieces_to_clauses([p for p in _CLAUSE_BREAK.split(aside) if p.strip()]))
            name = _trailing_name(before)
            if name:
                clauses.append(f"{name} {aside}")
        clauses.extend(_pieces_to_clauses([p for p in _CLAUSE_BREAK.split(main) if p.strip()]))
    return tuple(clauses)


_ASIDE = re.compile(r"\(([^()]*)\)|«([^«»]*)»|[“\"]([^“”\"]*)[”\"]|\s[–—]\s([^–—]*?)(?:\s[–—]\s|(?=[.!?]?$))")
_SUBJECT_PRONOUNS = frozenset({"Il", "Elle", "He", "She"})


def _sentence_subject(sentence: str, names: set[str]) -> str | None:
    """The name a sentence's main clause opens with, if one does."""
    for piece in _CLAUSE_BREAK.split(_set_asides_apart(sentence)[0]):
        tokens = tokenize(piece)
        if tokens and tokens[0][0].isupper() and word_key(tokens[0]) in names:
            names = []
            for token in tokens:
                if not token[0].isupper():
                    break
                names.append(token)
            if len(tokens) > len(names):  # a name followed by what it does
                return " ".join(names)
    return None


def _set_asides_apart(sentence: str) -> tuple[str, list[tuple[str, str]]]:
    """The sentence without its bracketed, quoted or dashed asides, and the asides with what precedes each."""
    asides = []
    for m in _ASIDE.finditer(sentence):
        inner = next(g for g in m.groups() if g is not None)
        if inner.strip():
            asides.append((sentence[: m.start()], inner))
    return _ASIDE.sub(" ", sentence), asides


def _trailing_name(text: str) -> str | None:
    """The name a text ends with ("... dont Greg Brockman" -> "Greg Brockman"), if it does."""
    tokens = tokenize(re.split(r"[,;:()«»\[\]“”\"–—]", text)[-1])
    names = []
    for token in reversed(tokens):
        if token[0].isupper() and fold(token) not in ARTICLES:
            names.append(token)
        else:
            before = [fold(t).replace("’", "'") for t in tokens[: len(tokens) - len(names)]]
            while before and before[-1] in ARTICLES:
                before.pop()
            if before and before[-1] in GENITIVE:
                return None  # « d'OpenAI » completes a noun, it is not what the aside is about
            break
    return " ".join(reversed(names)) or None


def _pieces_to_clauses(pieces: list[str]) -> list[str]:
    # A short piece inside the sentence with no name (« à l'époque », "en mars") does not cut it.
    joined: list[str] = []
    glue = False
    for i, piece in enumerate(pieces):
        tokens = tokenize(piece)
        short = 0 < i < len(pieces) - 1 and len(tokens) <= 3 and not any(t[0].isupper() for t in tokens)
        if joined and (short or glue):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
        glue = short
    clauses: list[str] = []
    used = set()
    for i, piece in enumerate(joined):
        if i in used:
            continue
        tokens = tokenize(piece)
        ignored = grammar_words()
        bare_name = tokens and all(
            (t[0].isupper() and fold(t) not in ignored) or t[0].isdigit() or fold(t) in ARTICLES for t in tokens
        )
        if bare_name and i + 2 < len(joined):
            clauses.append(f"{piece} {joined[i + 2]}")
            used.add(i + 2)
            aside = tokenize(joined[i + 1])
            if aside and fold(aside[0]) in RELATIVES:
                clauses.append(f"{piece} {joined[i + 1]}")
                used.add(i + 1)
        else:
            clauses.append(piece)
        name = _trailing_name(piece)
        following = tokenize(joined[i + 1]) if i + 1 < len(joined) else []
        if name and following and following[0][0].islower():  # an apposition or a relative clause
            clauses.append(f"{name} {joined[i + 1]}")
            if i + 2 < len(joined) and not bare_name:  # and the sentence read on without it
                clauses.append(f"{piece} {joined[i + 2]}")
    return clauses
