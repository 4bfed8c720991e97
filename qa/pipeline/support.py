"""Does a passage support a claim?  A judge built from the embedder, word overlap and grammar.

No LLM judge is needed: a claim counts as supported when the passage says the
same thing in the same words (lexical containment) or in other words, possibly in
another language (embedding similarity), and never when the claim states a
number, a name, a month or a weekday the passage does not.  The threshold is
calibrated on the labelled French and English examples in
tests/data/support_examples.jsonl.  An embedder is not an entailment model: it
scores « Sam Altman a été remplacé par Mira Murati » and "Sam Altman replaced Mira
Murati" alike.  So the sentence that supports a claim best must also not contradict
it: no negation on one side only, no participants in swapped roles, no quantities
in the other order, and a relation between two names must be shown (see
`contradicts`).  Measured on the hand-labelled pairs of tests/data/verifier_pairs.jsonl
by `python -m eval.verifier`.  The evaluation's citation metrics and the answer
verifier use this same scorer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.keyword.bm25 import keyword_tokens
from index.text.language import detect_language, fold, stopwords
from index.text.sentences import sentence_spans

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]+")
NAME_PREFIX = 5
SUPPORT_THRESHOLD = 0.45
FRAMING_WORDS = 6  # words around a quote that only frame it: "According to the documents:"
_OUTER_QUOTE = re.compile(r"[«“](.+)[»”]", re.DOTALL)  # from the first opening mark to the last closing one
# e5 similarities live in a narrow band: at FLOOR a claim is unrelated, FLOOR + SPAN a
# paraphrase.  A claim and a passage in two languages score lower for the same meaning.
SIMILARITY_FLOOR = {"same": 0.86, "cross": 0.80}
SIMILARITY_SPAN = 0.12


class SupportScorer:
    def __init__(self, embed_model: BaseEmbedding, threshold: float = SUPPORT_THRESHOLD):
        self.embed_model = embed_model
        self.threshold = threshold

    def score(self, claim: str, passages: Sequence[str], passage_vectors: np.ndarray | None = None,
              context: str = "") -> float:
        """How well `passages` (sentences or whole passages) support `claim`, in [0, 1].

        `passage_vectors`, when given, are the stored vectors of `passages` (which are
        then single sentences); otherwise passages are split and embedded here.
        `context` (the question) may supply names the claim repeats; numbers must be
        in the passages, so a false premise in a question ("in 2024") is not confirmed.

        A sentence that says the same words or the same meaning still does not support
        the claim when it says the opposite (a negation one side only), or when it gives
        the claim's two participants the other roles (who replaced whom): see `contradicts`.
        """
        if is_a_quote_of(claim, passages):  # the checks below are for claims in other words
            return 1.0
        claim = _normalise_times(claim.strip())
        if not claim or not passages:
            return 0.0
        joined = " ".join(passages)
        if not _numbers(claim) <= _numbers(joined) | _number_words(joined):
            return 0.0
        if not _names_present(claim, f"{joined} {context}"):
            return 0.0
        if not _closed_classes_present(claim, joined) or denied_elsewhere(claim, joined):
            return 0.0
        units = [s for p in passages for s in _sentences(p)]
        if passage_vectors is not None and len(passage_vectors) != len(units):
            units = list(passages)  # the stored vectors are of the passages as given
        # Words must come together, in one sentence or two adjacent ones, not from all over.
        windows = [(i, i + 1) for i in range(len(units))] + [(i, i + 2) for i in range(len(units) - 1)]
        texts = [" ".join(units[a:b]) for a, b in windows]
        lexical = [containment(claim, text) for text in texts]
        # The window that says the claim best is the one that must not contradict it: a
        # sentence that shares some names elsewhere in the passage does not rescue it.
        best = max(range(len(texts)), key=lambda w: lexical[w])
        if lexical[best] >= self.threshold:  # said in the passage's own words: no need to embed
            return 0.0 if contradicts(claim, texts[best]) else lexical[best]
        if passage_vectors is None:
            passage_vectors = np.asarray(self.embed_model.get_text_embedding_batch(units), dtype=np.float32)
        claim_vector = np.asarray(self.embed_model.get_text_embedding(claim), dtype=np.float32)
        similarities = passage_vectors @ claim_vector
        floor = SIMILARITY_FLOOR["same" if detect_language(claim) == detect_language(joined) else "cross"]
        scores = [
            float(np.clip(max(words, (float(np.max(similarities[a:b])) - floor) / SIMILARITY_SPAN), 0.0, 1.0))
            for (a, b), words in zip(windows, lexical)
        ]
        best = max(range(len(texts)), key=lambda w: scores[w])  # the first of equals: one sentence before two
        return 0.0 if contradicts(claim, texts[best]) else scores[best]

    def supports(self, claim: str, passages: Sequence[str], passage_vectors: np.ndarray | None = None,
                 context: str = "") -> bool:
        return self.score(claim, passages, passage_vectors, context) >= self.threshold


def is_a_quote_of(claim: str, passages: Sequence[str]) -> bool:
    """Whether the claim is a passage's own words between quotation marks, framed in a few words
    ("D’après les documents : « … » [1]"): a verbatim quote cannot misstate its source."""
    match = _OUTER_QUOTE.search(claim)
    if not match or len(_WORD.findall(claim[: match.start()] + claim[match.end() :])) > FRAMING_WORDS:
        return False
    quoted = " ".join(match.group(1).split()).strip("«»“” ")
    return bool(quoted) and any(quoted in " ".join(p.split()) for p in passages)


def containment(claim: str, passage: str) -> float:
    """Share of the claim's content words (stemmed) that appear in the passage."""
    claim_terms = set(keyword_tokens(claim, detect_language(claim)))
    if not claim_terms:
        return 0.0
    passage_terms = set(keyword_tokens(passage, detect_language(passage)))
    return len(claim_terms & passage_terms) / len(claim_terms)


def _names_present(claim: str, passage: str) -> bool:
    """Every proper name of the claim (a capitalised word inside a sentence) is in the passage.

    Names are compared on their first letters, accent-folded, so that a name
    written in the other language still matches ("Congress" / "Congrès").
    """
    prefixes = {fold(w)[:NAME_PREFIX] for w in _WORD.findall(passage)}
    for start, end in sentence_spans(claim):
        for word in _WORD.findall(claim[start:end])[1:]:
            # "Zoom", "Google"; acronyms are left out, as they translate ("CEO" / "PDG")
            is_name = word[0].isupper() and any(c.islower() for c in word) and len(word) >= 3
            if is_name and fold(word) not in _CALENDAR and fold(word)[:NAME_PREFIX] not in prefixes:
                return False
    return True


def _numbers(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _NUMBER.findall(text)}


@lru_cache(maxsize=4096)
def _sentences(passage: str) -> tuple[str, ...]:
    return tuple(passage[a:b] for a, b in sentence_spans(passage)) or (passage,)


# --- What a similarity cannot see: closed-class words that change what a sentence says. ---
# These are grammar (numerals, months, weekdays, negation, voice), not any corpus's topics.

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’](?=[^\W\d_])(?!s\b))?|['’]s\b")
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:()\[\]«»\"“”—–]|\s-\s|\.\s)\s*")
_TIME_PM = re.compile(r"\b(\d{1,2})\s*(?:p\.?\s?m\b\.?)", re.IGNORECASE)
_TIME_AM = re.compile(r"\b(\d{1,2})\s*(?:a\.?\s?m\b\.?)", re.IGNORECASE)
_NEGATION = re.compile(
    r"(?<![\w'’])(?:n['’](?=\w)|(?:ne|jamais|aucun|aucune|rien|nullement|non|not|never|no|none|nothing|nobody|neither|nor|cannot)(?![\w'’-]))|n['’]t\b",
    re.IGNORECASE,
)
# Cardinals and ordinals from two up (one/un/une are articles as often as numbers; "first"
# is an adverb as often as an ordinal).
_NUMBER_WORDS = {
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "trente": 30,
    "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100, "mille": 1000, "douzaine": 12,
    "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100, "thousand": 1000, "dozen": 12,
    "deuxieme": 2, "second": 2, "seconde": 2, "troisieme": 3, "third": 3, "quatrieme": 4, "fourth": 4,
    "cinquieme": 5, "fifth": 5, "sixieme": 6, "sixth": 6, "septieme": 7, "seventh": 7, "huitieme": 8,
    "eighth": 8, "neuvieme": 9, "ninth": 9, "dixieme": 10, "tenth": 10,
}
_MONTHS = {
    **{m: i for i, m in enumerate(
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre".split(), 1)},
    **{m: i for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1)},
}
_WEEKDAYS = {
    **{d: i for i, d in enumerate("lundi mardi mercredi jeudi vendredi samedi dimanche".split())},
    **{d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())},
}
_CALENDAR = frozenset(_MONTHS) | frozenset(_WEEKDAYS)
_ENGLISH_MONTHS = set("january february march april may june july august september october november december".split())
# Auxiliaries of the passive voice, and the prepositions that bring in its agent.
_PASSIVE_AUX = frozenset(
    "etre ete etait etaient est sont fut furent sera seront serait soit soient been was were is are be being".split()
)
_FRENCH_PARTICIPLES = ("é", "ée", "és", "ées", "u", "ue", "us", "ues", "is", "ise", "it", "ite")
_AGENT_MARKERS = frozenset({"par", "by"})
_GENITIVE = frozenset({"de", "d'", "du", "des", "of", "'s"})
_PREPOSITIONS = frozenset(
    "avec chez dans sur sous vers pendant depuis entre en "
    "with for at in on into from about under over during since between".split()
)
_RELATIVES = frozenset({"qui", "which", "who", "that"})
_NOUN_MARKERS = frozenset(
    "le la les l' un une des du de d' au aux ce cet cette ces son sa ses leur leurs mon ma mes notre nos votre vos "
    "the an of his her its their my our your this that these those 's par comme as".split()
)
_VERB_CUES = frozenset(
    "a ai as avons avez ont avait avaient aura auront aurait auraient eu est sont etait etaient ete fut furent "
    "sera seront "
    "serait soit etre avoir peut peuvent pourrait doit doivent devrait va vont allait "
    "il elle ils elles on je nous vous se s' ne n' qui que qu' pour "
    "has have had is are was were be been being will would can could may might must shall should do does did not "
    "he she it they we i you who which that to".split()
)
# Words that open another part of the sentence, with its own actor and acted-upon.
_BOUNDARIES = frozenset(
    "si quand lorsque que qu' qui dont ou pour afin car mais tandis alors parce puis "
    "if when that which who whom whose because but while whereas where to so then".split()
)


def contradicts(claim: str, passage: str) -> bool:
    """The passage, though it shares the claim's words, says something else.

    Either a negation that one side has and the other has not, or the claim's
    participants in swapped roles: the one acted upon in the passage acts in the
    claim (« Murati a remplacé Altman » against « Altman a été remplacé par Murati »
    is fine, against « Pour remplacer Murati, ... a choisi Altman » it is not), or two
    numbers the other way round (« de 360 à 376 » / "from 376 to 360").
    """
    return (
        _numbers_elsewhere(claim, passage)
        or _attribute_elsewhere(claim, passage)
        or _negation_differs(claim, passage)
        or _numbers_swapped(claim, passage)
        or _roles_swapped(claim, passage)
        or _relation_unverified(claim, passage)
    )


def _numbers_elsewhere(claim: str, passage: str) -> bool:
    """A number of the claim is not in the sentences that support it, or counts something else.

    « fondée fin 2015 ... en 2016 » does not support "fondée fin 2016"; « 29 milliards »
    does not support "29 %", nor « 19 novembre » "19 h".
    """
    if not _numbers(claim) <= _numbers(passage) | _number_words(passage):
        return True
    for number, unit in _UNIT.findall(claim):
        kind = _unit_kind(unit)
        value = number.replace(",", ".")
        if not any(n.replace(",", ".") == value and _unit_kind(u) == kind for n, u in _UNIT.findall(passage)):
            return True
    return False


_UNIT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(%|pour\s*cent|percent|h\b|heures?\b|hours?\b)", re.IGNORECASE)


def _unit_kind(unit: str) -> str:
    return "%" if unit == "%" or "cent" in unit.lower() else "h"


def _attribute_elsewhere(claim: str, passage: str) -> bool:
    """ "X est le N" where the passage's N belongs to someone else: « Szymon Sidor était le
    président d'OpenAI » against « dont Greg Brockman (cofondateur et président d'OpenAI),
    ..., Szymon Sidor (un chercheur) ».  Same language only: the noun is found by its letters."""
    match = _ATTRIBUTE.match(claim)
    if not match or detect_language(claim) != detect_language(passage):
        return False
    name, noun = _key(match.group(1).split()[-1]), _key(match.group(2))
    claim_names = _name_keys(claim)
    clauses = [(set(_content_keys(c)), _name_keys(c)) for c in _clauses(passage)]
    if not any(name in names for _, names in clauses) or any(
            noun in words and name in names for words, names in clauses):
        return False
    # Elsewhere: the noun goes with someone the claim does not name.
    return any(noun in words and names - claim_names for words, names in clauses)


_ATTRIBUTE = re.compile(
    r"^((?:[A-ZÀ-Ý][\w’'-]*\s+){0,3}[A-ZÀ-Ý][\w’'-]*)\s+(?:est|était|etait|is|was)\s+"
    r"(?:le|la|l['’]|un|une|the|a|an)\s*([^\W\d_]{3,})"
)


def denied_elsewhere(claim: str, passage: str) -> bool:
    """A plain claim whose words, half of them at least, come back in a negated clause of the passage."""
    if _negated(claim):
        return False
    keys = _content_keys(claim)
    return any(len(keys & _content_keys(c)) >= max(1, (len(keys) + 1) // 2) for c in _clauses(passage) if _negated(c))


def _normalise_times(claim: str) -> str:
    """ "9 pm" -> "21 h", "9 am" -> "9 h", as French writes the hour."""
    claim = _TIME_PM.sub(lambda m: f"{int(m.group(1)) % 12 + 12} h", claim)
    return _TIME_AM.sub(lambda m: f"{int(m.group(1))} h", claim)


def _number_words(text: str) -> set[str]:
    found = {str(_NUMBER_WORDS[w]) for w in (fold(t) for t in _WORD.findall(text)) if w in _NUMBER_WORDS}
    return found | ({"1"} if _SINGLE.search(text) else set())


_THE_FIRST = re.compile(r"\b(?:the|le|la|l['’])\s*(?:first|premier|première|premiere)\b", re.IGNORECASE)
_FIRST = re.compile(r"\b(?:first|premiers?|premières?|premieres?)\b", re.IGNORECASE)
_SINGLE = re.compile(r"\b(?:une?\s+seule?|a\s+single|only\s+one|one\s+single)\b", re.IGNORECASE)


def _dates(text: str) -> tuple[set[int], set[int]]:
    """Months and weekdays a text names, in either language."""
    months, days = set(), set()
    for word in _WORD.findall(text):
        folded = fold(word)
        if folded in _MONTHS and (folded not in _ENGLISH_MONTHS or word[0].isupper()):  # "may" the verb
            months.add(_MONTHS[folded])
        if folded in _WEEKDAYS:
            days.add(_WEEKDAYS[folded])
    return months, days


def _closed_classes_present(claim: str, passage: str) -> bool:
    """Every number written in words, month and weekday of the claim is in the passage."""
    if not _number_words(claim) <= _numbers(passage) | _number_words(passage):
        return False
    if _THE_FIRST.search(claim) and not _FIRST.search(passage):  # "the first" / « le deuxième »
        return False
    claim_months, claim_days = _dates(claim)
    passage_months, passage_days = _dates(passage)
    return claim_months <= passage_months and claim_days <= passage_days


@lru_cache(maxsize=1)
def _ignored() -> frozenset[str]:
    """Grammar words of both languages (NLTK's lists), accent-folded."""
    return stopwords()["fr"] | stopwords()["en"]


@lru_cache(maxsize=4096)
def _clauses(text: str) -> tuple[str, ...]:
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
    names = {_key(t) for a, b in spans for t in _tokens(text[a:b])[1:] if t[0].isupper()}
    for start, end in spans:
        sentence = text[start:end]
        opening = _tokens(sentence)[:1]
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
_PRONOUNS = frozenset({"il", "elle", "ils", "elles", "on", "he", "she", "it", "they"})


def _sentence_subject(sentence: str, names: set[str]) -> str | None:
    """The name a sentence's main clause opens with, if one does."""
    for piece in _CLAUSE_BREAK.split(_set_asides_apart(sentence)[0]):
        tokens = _tokens(piece)
        if tokens and tokens[0][0].isupper() and _key(tokens[0]) in names:
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
    tokens = _tokens(re.split(r"[,;:()«»\[\]“”\"–—]", text)[-1])
    names = []
    for token in reversed(tokens):
        if token[0].isupper() and fold(token) not in _ARTICLES:
            names.append(token)
        else:
            before = [fold(t).replace("’", "'") for t in tokens[: len(tokens) - len(names)]]
            while before and before[-1] in _ARTICLES:
                before.pop()
            if before and before[-1] in _GENITIVE:
                return None  # « d'OpenAI » completes a noun, it is not what the aside is about
            break
    return " ".join(reversed(names)) or None


def _pieces_to_clauses(pieces: list[str]) -> list[str]:
    # A short piece inside the sentence with no name (« à l'époque », "en mars") does not cut it.
    joined: list[str] = []
    glue = False
    for i, piece in enumerate(pieces):
        tokens = _tokens(piece)
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
        tokens = _tokens(piece)
        ignored = _ignored()
        bare_name = tokens and all(
            (t[0].isupper() and fold(t) not in ignored) or t[0].isdigit() or fold(t) in _ARTICLES for t in tokens
        )
        if bare_name and i + 2 < len(joined):
            clauses.append(f"{piece} {joined[i + 2]}")
            used.add(i + 2)
            aside = _tokens(joined[i + 1])
            if aside and fold(aside[0]) in _RELATIVES:
                clauses.append(f"{piece} {joined[i + 1]}")
                used.add(i + 1)
        else:
            clauses.append(piece)
        name = _trailing_name(piece)
        following = _tokens(joined[i + 1]) if i + 1 < len(joined) else []
        if name and following and following[0][0].islower():  # an apposition or a relative clause
            clauses.append(f"{name} {joined[i + 1]}")
            if i + 2 < len(joined) and not bare_name:  # and the sentence read on without it
                clauses.append(f"{piece} {joined[i + 2]}")
    return clauses


_ARTICLES = frozenset("le la les l' un une the a an".split())


def _tokens(text: str) -> list[str]:
    return [m.group() for m in _TOKEN.finditer(text)]


def _negated(text: str) -> bool:
    """A negation, but not French « ne ... que » (only), which restricts and does not deny."""
    found = [fold(m.group()).replace("’", "'") for m in _NEGATION.finditer(text)]
    if found and set(found) <= {"ne", "n'"} and _RESTRICTIVE.search(text) and not _FRENCH_NEGATION.search(text):
        return False
    return bool(found)


_RESTRICTIVE = re.compile(r"(?<![\w'’])(?:que|qu['’])", re.IGNORECASE)
_FRENCH_NEGATION = re.compile(
    r"(?<![\w'’])(?:pas|plus|jamais|rien|personne|guere|guère|point)(?![\w'’])", re.IGNORECASE
)


def _negation_differs(claim: str, passage: str) -> bool:
    """A negated claim needs a negation in the passage; a plain claim must not meet one.

    A plain claim is contradicted only by a negated clause that shares some of its words
    (« Personne n'aurait été averti, tandis que Sam Altman a appris la nouvelle » does not
    deny that Altman learnt it).
    """
    negated_clauses = [c for c in _clauses(passage) if _negated(c)]
    if _negated(claim):
        # The negation must be about what the claim is about: a word or a name in common
        # (a clause opening on "il"/"he" is about the names of its sentence).
        keys = _content_keys(claim) | _name_keys(claim)
        for sentence in _sentences(passage):
            for clause in _clauses(sentence):
                if not _negated(clause):
                    continue
                about = _content_keys(clause) | _name_keys(clause)
                if fold(_tokens(clause)[0]) in _PRONOUNS:
                    about |= _name_keys(sentence)
                if keys & about:
                    return False
        return True
    claim_keys = _content_keys(claim)
    return any(claim_keys & _content_keys(clause) for clause in negated_clauses)


def _name_keys(text: str) -> set[str]:
    ignored = _ignored()
    return {_key(t) for t in _tokens(text) if t[0].isupper() and fold(t) not in ignored}


def _key(word: str) -> str:
    return fold(word.rstrip("'’"))[:NAME_PREFIX]


def _content_keys(text: str) -> set[str]:
    ignored = _ignored()
    return {
        _key(t)
        for t in _tokens(text)
        if t[0].isalpha() and t[0].islower() and len(t) > 2 and fold(t) not in ignored and not _NEGATION.fullmatch(t)
    }


def _quantities(text: str) -> list[str]:
    """The numbers of a text that count something: not years, days of a month or hours,
    whose order in a sentence is free ("at 9 pm on November 17" / « le 17 novembre vers 21 heures »)."""
    found = []
    for m in _NUMBER.finditer(text):
        number = m.group().replace(",", ".")
        around = [fold(w) for w in _WORD.findall(text[max(0, m.start() - 12) : m.end() + 12])]
        if re.fullmatch(r"(?:19|20)\d\d", number) or any(w in _MONTHS for w in around):
            continue
        if re.match(r"\s*(?:h\b|heures?\b|hours?\b|o'clock)", text[m.end() :], re.IGNORECASE):
            continue
        found.append(number)
    return found


def _numbers_swapped(claim: str, passage: str) -> bool:
    """Two quantities of the claim come in the other order in one sentence of the passage."""
    claim_numbers = list(dict.fromkeys(_quantities(claim)))
    if len(claim_numbers) < 2:
        return False
    for sentence in _sentences(passage):
        found = _quantities(sentence)
        order = [n for n in claim_numbers if found.count(n) == 1]
        if len(order) >= 2 and sorted(order, key=found.index) != order:
            return True
    return False


def _roles_swapped(claim: str, passage: str) -> bool:
    """The claim's actor is the passage's acted-upon (or the reverse), around a word they share.

    For a content word the claim and a passage clause share (a verb, mostly), each side
    gets an actor (the name before the word, or after "par"/"by") and an acted-upon (the
    name after it, or before it in the passive voice).  Names are matched on their first
    letters, so a name spelt the same way in both languages matches.
    """
    extra = _shared_names(claim, passage)
    claim_clauses = [_parse(c, extra) for c in _clauses(claim)]
    passage_clauses = [_parse(c, extra) for c in _clauses(passage)]
    if not {n for c in claim_clauses for n in c.names if n} & {n for c in passage_clauses for n in c.names if n}:
        return False  # no participant in common: nothing to swap
    for passage_clause in passage_clauses:
        for claim_clause in claim_clauses:
            if _pair_order_differs(claim_clause, passage_clause) or _heads_swapped(claim_clause, passage_clause):
                return True
            for i, j in _shared_words(claim_clause, passage_clause):
                claim_actors, claim_objects = _roles(claim_clause, i)
                passage_actors, passage_objects = _roles(passage_clause, j)
                # A name on both sides of the word in one text says nothing of its role.
                claim_acts, claim_undergoes = claim_actors - claim_objects, claim_objects - claim_actors
                passage_acts, passage_undergoes = passage_actors - passage_objects, passage_objects - passage_actors
                if claim_acts & passage_undergoes or claim_undergoes & passage_acts:
                    return True
    return False


@lru_cache(maxsize=1)
def _not_content() -> frozenset[str]:
    return _ignored() | _PASSIVE_AUX | _BOUNDARIES


_NOT_BEFORE_PARTICIPLE = _NOUN_MARKERS | _PREPOSITIONS | {"en", "a", "un", "une"}


class _Clause:
    def __init__(self, text: str, extra_names: frozenset[str] = frozenset()):
        self.extra_names = extra_names
        self.tokens = _tokens(text)
        self.folded = [fold(t).replace("’", "'") for t in self.tokens]
        self.names = [self._name_key(k) for k in range(len(self.tokens))]
        self.content = [
            _stem_key(t)
            if t[0].isalpha() and len(t) > 2 and self.names[k] is None and f not in _not_content()
            else None
            for k, (t, f) in enumerate(zip(self.tokens, self.folded))
        ]

    def anchors(self) -> list[int]:
        """Positions of the words a relation may hang on: verb-like content words."""
        return [k for k, key in enumerate(self.content) if key is not None and len(key) >= 4 and self.verb_like(k)]

    def verb_like(self, k: int) -> bool:
        """A verb by its company: after a name, a pronoun, an auxiliary, a negation, "to"."""
        if k == 0:
            return True
        previous = self.folded[k - 1]
        if previous in _NOUN_MARKERS:
            return False
        participle = self.tokens[k].lower().endswith(("é", "ée", "és", "ées", "ed"))
        after_adverb = previous.endswith(("ment", "ly"))
        return self.names[k - 1] is not None or previous in _VERB_CUES or after_adverb or participle

    def voice_unknown(self, k: int) -> bool:
        """A French participle with no auxiliary: « co-fondateur de Twitch connu pour ... »."""
        participle = self.tokens[k].lower().endswith(_FRENCH_PARTICIPLES)
        return participle and not any(f in _VERB_CUES for f in self.folded[max(0, k - 3) : k])

    def passive(self, k: int) -> bool:
        """The word is a participle after "être"/"be": « a été remplacé », "was replaced by"."""
        if self.folded[k].endswith(("ing", "ant")):
            return False
        if k >= 1 and self.folded[k - 1] in _PASSIVE_AUX:
            return True
        between = self.folded[k - 1] if k >= 1 else ""
        return k >= 2 and self.folded[k - 2] in _PASSIVE_AUX and between not in _NOT_BEFORE_PARTICIPLE

    def _name_key(self, k: int) -> str | None:
        token = self.tokens[k]
        if not token[0].isupper():
            return _key(token) if _key(token) in self.extra_names and len(token) > 2 else None
        if len(token) == 1:  # "le paquet A"
            return token if k > 0 else None
        if fold(token) in _ignored() and not token.isupper():
            return None
        return _key(token)


def _parse(text: str, extra_names: frozenset[str] = frozenset()) -> _Clause:
    return _Clause(text, extra_names)


def _shared_names(claim: str, passage: str) -> frozenset[str]:
    """Words to read as names on both sides: those capitalised on one side ("Bullseye" /
    « bullseye »), and, across languages, the words both write alike (identifiers such as
    "lpr", "cups-bsd"), which a translation would otherwise have changed."""
    claim_tokens, passage_tokens = _tokens(claim), _tokens(passage)
    ignored = _ignored()
    capitalised = {_key(t) for t in claim_tokens[1:] + passage_tokens[1:] if t[0].isupper() and fold(t) not in ignored}
    if detect_language(claim) == detect_language(passage):
        return frozenset(capitalised)
    # Short ones only: longer words written alike are mostly cognates ("option", "version").
    alike = {t for t in claim_tokens if t.isalpha() and 2 < len(t) <= 4 and fold(t) not in ignored}
    alike &= set(passage_tokens)
    return frozenset(capitalised | {_key(t) for t in alike})


def _stem_key(word: str) -> str:
    return fold(word.rstrip("'’"))[:NAME_PREFIX]


def _shared_words(claim: _Clause, passage: _Clause) -> list[tuple[int, int]]:
    """Positions of the verb-like words that occur once in each clause and in both.

    The same word is the same first letters: a word and its inflections, and across
    languages the words spelt alike ("recruited" / « recruté »).
    """
    pairs = []
    for i in claim.anchors():
        key = claim.content[i]
        if claim.content.count(key) > 1:
            continue
        same = [j for j in passage.anchors() if passage.content[j] == key]
        if len(same) == 1:
            pairs.append((i, same[0]))
    return pairs


def _heads_swapped(claim: _Clause, passage: _Clause) -> bool:
    """Two names, one completing a noun and one not, trade places: "Woody était le cheval de
    Bullseye" against « bullseye était le cheval de bois de Woody »."""
    def statuses(clause: _Clause) -> dict[str, bool]:
        found: dict[str, bool] = {}
        for key, _, complement, start in _name_runs(clause, 0, len(clause.tokens)):
            found.setdefault(key, _completes_a_noun(clause, start))
        return found

    claim_status, passage_status = statuses(claim), statuses(passage)
    common = [n for n in claim_status if n in passage_status]
    return any(
        claim_status[a] != claim_status[b]
        and (claim_status[a], claim_status[b]) == (passage_status[b], passage_status[a])
        for x, a in enumerate(common)
        for b in common[x + 1 :]
    )


def _pair_order_differs(claim: _Clause, passage: _Clause) -> bool:
    """Two names that share a clause on both sides stand in the other order.

    The one brought in by "par"/"by" counts as first (the actor of a passive); two names
    joined by "et"/"and" are not ordered; a name after "of"/"de" or a preposition is left
    out ("OpenAI's board" / « le conseil d'OpenAI »).
    """
    return _pair_orders(claim, passage, with_complements=False)[1]


def _pair_orders(claim: _Clause, passage: _Clause, with_complements: bool) -> tuple[set[str], bool]:
    """(the names of the pairs in the same order on both sides, whether a pair is in the other order)."""
    claim_order = _ranked_names(claim, with_complements)
    passage_order = _ranked_names(passage, with_complements)
    common = [n for n in claim_order if n in passage_order]
    same: set[str] = set()
    other = False
    for x, a in enumerate(common):
        for b in common[x + 1 :]:
            if claim_order[a] != claim_order[b] and passage_order[a] != passage_order[b]:
                if (claim_order[a] < claim_order[b]) == (passage_order[a] < passage_order[b]):
                    same |= {a, b}
                else:
                    other = True
    return same, other


def _relation_unverified(claim: str, passage: str) -> bool:
    """The claim relates two names of the passage, and nothing shows the passage relates them that way.

    Shown means: a word both share (a verb) with a name in the same role on both sides,
    or two names in the same order in one clause of each.  Otherwise the claim may well
    have swapped who did what to whom, which neither words nor meaning vectors can see
    ("Sam Altman replaced Mira Murati" against « Pour remplacer Sam Altman, OpenAI a
    choisi Mira Murati »): it is not counted as supported.
    """
    extra = _shared_names(claim, passage)
    claim_clauses = [_parse(c, extra) for c in _clauses(claim)]
    passage_clauses = [_parse(c, extra) for c in _clauses(passage)]
    in_passage = {run[0] for c in passage_clauses for run in _name_runs(c, 0, len(c.tokens))}
    for claim_clause in claim_clauses:
        # Names that complete a noun ("OpenAI's former CTO", « président d'OpenAI ») are not parties to it.
        related = [
            key
            for key, _, _, start in _name_runs(claim_clause, 0, len(claim_clause.tokens))
            if key in in_passage
            and not _common_acronym(claim_clause.tokens[start])
            and not _completes_a_noun(claim_clause, start)
        ]
        ranks = _ranked_names(claim_clause, with_complements=True)
        if len({ranks.get(key) for key in related}) < 2:
            continue  # one name, or names listed together ("Outlook and Office"): no relation between them
        # What the clause says of its first name (its subject, mostly) is what must be shown.
        if not any(_relation_shown(claim_clause, passage_clause, related[0]) for passage_clause in passage_clauses):
            return True
    return False


def _completes_a_noun(clause: _Clause, start: int) -> bool:
    end = start
    while end + 1 < len(clause.tokens) and clause.names[end + 1] is not None:
        end += 1
    before = clause.folded[start - 1] if start else ""
    after = clause.folded[end + 1] if end + 1 < len(clause.folded) else ""
    return before in _GENITIVE - {"'s"} or after == "'s"


def _common_acronym(token: str) -> bool:
    """ "AI", « IA », "US": two capitals name a field or a country more often than a party."""
    return len(token) == 2 and token.isupper()


def _relation_shown(claim: _Clause, passage: _Clause, name: str) -> bool:
    """The passage clause puts `name` where the claim clause does: before or after the same
    other name, or in the same role around the same word."""
    if name in _pair_orders(claim, passage, with_complements=True)[0]:
        return True
    for i, j in _shared_words(claim, passage):
        claim_actors, claim_objects = _roles(claim, i)
        passage_actors, passage_objects = _roles(passage, j)
        if name in (claim_actors & passage_actors) | (claim_objects & passage_objects):
            return True
    return False


def _ranked_names(clause: _Clause, with_complements: bool = False) -> dict[str, int]:
    """Each name's rank in the clause: order of appearance, actors of a passive first, coordinated names tied."""
    runs = _name_runs(clause, 0, len(clause.tokens))
    ranks: dict[str, int] = {}
    rank = 0
    for x, (key, agent, genitive, start) in enumerate(runs):
        if (genitive and not with_complements) or key in ranks or _common_acronym(clause.tokens[start]):
            continue
        coordinated = x > 0 and start >= 1 and clause.folded[start - 1] in {"et", "and", "ou", "or"}
        if not coordinated:
            rank += 1
        ranks[key] = -1 if agent else rank
    return ranks


def _roles(clause: _Clause, at: int) -> tuple[set[str], set[str]]:
    """Actors and acted-upon of the word at `at`: names around it, with the voice taken into account.

    Only names of the same part of the sentence count: the search stops at a
    subordinating word (« pour succéder à Sam Altman » has its own actor), except that a
    relative pronoun takes its antecedent (« Microsoft, qui détient OpenAI »).
    """
    if clause.voice_unknown(at):
        return set(), set()
    passive = clause.passive(at)
    first = at
    while first > 0 and clause.folded[first - 1] not in _BOUNDARIES:
        first -= 1
    if first > 1 and clause.folded[first - 1] in _RELATIVES and clause.names[first - 2] is not None:
        first -= 2  # the antecedent
    last = at + 1
    while last < len(clause.tokens) and clause.folded[last] not in _BOUNDARIES:
        last += 1
    actors, objects = set(), set()
    before = _name_runs(clause, first, at)
    after = _name_runs(clause, at + 1, last)
    subject = next((run for run in reversed(before) if not run[1] and not run[2]), None)
    if subject:
        (objects if passive else actors).add(subject[0])
    actors |= {run[0] for run in after if run[1]}
    if not passive:
        objects |= {run[0] for run in after if not run[1]}
    return actors, objects


def _name_runs(clause: _Clause, start: int, end: int) -> list[tuple[str, bool, bool, int]]:
    """Names between two token positions: (key of the run's last word, after "par"/"by",
    after a preposition or genitive, where the run starts)."""
    runs: list[tuple[str, bool, bool, int]] = []
    k = start
    while k < end:
        if clause.names[k] is None:
            k += 1
            continue
        first = k
        while k + 1 < end and clause.names[k + 1] is not None and len(clause.tokens[k + 1]) > 1:
            k += 1
        previous = [f for f in clause.folded[max(0, first - 3) : first] if f not in _ARTICLES]
        # "par"/"by" brings in the actor, also when the name completes it: « par le conseil d'OpenAI »
        agent = any(f in _AGENT_MARKERS for f in clause.folded[max(0, first - 6) : first]) and not any(
            f in _BOUNDARIES or f in _VERB_CUES or clause.names[x] is not None or f.endswith(("ing", "ant"))
            for x, f in enumerate(clause.folded[max(0, first - 6) : first], start=max(0, first - 6))
            if x > max(i for i in range(max(0, first - 6), first) if clause.folded[i] in _AGENT_MARKERS)
        )
        genitive = bool(previous) and previous[-1] in (_GENITIVE - {"'s"}) | _PREPOSITIONS
        genitive |= k + 1 < len(clause.folded) and clause.folded[k + 1] in {"'s", "’s"}
        runs.append((clause.names[k], agent, genitive, first))
        k += 1
    return runs
