"""What a similarity cannot see: numbers, dates and negation that change what a sentence says.

A claim that shares a passage's words may still state another figure, another
month, or the opposite.  These checks read closed-class words (numerals, months,
weekdays, negation), in French and English, never any corpus's topics.
"""

from __future__ import annotations

import re

from index.text.language import detect_language, fold
from qa.pipeline.support.clauses import (
    NEGATION,
    WORD,
    clauses_of,
    content_keys,
    name_keys,
    sentences_of,
    tokenize,
    word_key,
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_TIME_PM = re.compile(r"\b(\d{1,2})\s*(?:p\.?\s?m\b\.?)", re.IGNORECASE)
_TIME_AM = re.compile(r"\b(\d{1,2})\s*(?:a\.?\s?m\b\.?)", re.IGNORECASE)
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
CALENDAR = frozenset(_MONTHS) | frozenset(_WEEKDAYS)
_ENGLISH_MONTHS = set("january february march april may june july august september october november december".split())


def numbers_in(text: str) -> set[str]:
    """The numbers written in digits, with a decimal point for a comma."""
    return {n.replace(",", ".") for n in _NUMBER.findall(text)}


def numbers_elsewhere(claim: str, passage: str) -> bool:
    """A number of the claim is not in the sentences that support it, or counts something else.

    « fondée fin 2015 ... en 2016 » does not support "fondée fin 2016"; « 29 milliards »
    does not support "29 %", nor « 19 novembre » "19 h".
    """
    if not numbers_in(claim) <= numbers_in(passage) | number_words(passage):
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


def attribute_elsewhere(claim: str, passage: str) -> bool:
    """ "X est le N" where the passage's N belongs to someone else: « Szymon Sidor était le
    président d'OpenAI » against « dont Greg Brockman (cofondateur et président d'OpenAI),
    ..., Szymon Sidor (un chercheur) ».  Same language only: the noun is found by its letters."""
    match = _ATTRIBUTE.match(claim)
    if not match or detect_language(claim) != detect_language(passage):
        return False
    name, noun = word_key(match.group(1).split()[-1]), word_key(match.group(2))
    claim_names = name_keys(claim)
    clauses = [(set(content_keys(c)), name_keys(c)) for c in clauses_of(passage)]
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
    keys = content_keys(claim)
    return any(len(keys & content_keys(c)) >= max(1, (len(keys) + 1) // 2) for c in clauses_of(passage) if _negated(c))


def normalise_times(claim: str) -> str:
    """ "9 pm" -> "21 h", "9 am" -> "9 h", as French writes the hour."""
    claim = _TIME_PM.sub(lambda m: f"{int(m.group(1)) % 12 + 12} h", claim)
    return _TIME_AM.sub(lambda m: f"{int(m.group(1))} h", claim)


def number_words(text: str) -> set[str]:
    found = {str(_NUMBER_WORDS[w]) for w in (fold(t) for t in WORD.findall(text)) if w in _NUMBER_WORDS}
    return found | ({"1"} if _SINGLE.search(text) else set())


_THE_FIRST = re.compile(r"\b(?:the|le|la|l['’])\s*(?:first|premier|première|premiere)\b", re.IGNORECASE)
_FIRST = re.compile(r"\b(?:first|premiers?|premières?|premieres?)\b", re.IGNORECASE)
_SINGLE = re.compile(r"\b(?:une?\s+seule?|a\s+single|only\s+one|one\s+single)\b", re.IGNORECASE)


def _dates(text: str) -> tuple[set[int], set[int]]:
    """Months and weekdays a text names, in either language."""
    months, days = set(), set()
    for word in WORD.findall(text):
        folded = fold(word)
        if folded in _MONTHS and (folded not in _ENGLISH_MONTHS or word[0].isupper()):  # "may" the verb
            months.add(_MONTHS[folded])
        if folded in _WEEKDAYS:
            days.add(_WEEKDAYS[folded])
    return months, days


def closed_classes_present(claim: str, passage: str) -> bool:
    """Every number written in words, month and weekday of the claim is in the passage."""
    if not number_words(claim) <= numbers_in(passage) | number_words(passage):
        return False
    if _THE_FIRST.search(claim) and not _FIRST.search(passage):  # "the first" / « le deuxième »
        return False
    claim_months, claim_days = _dates(claim)
    passage_months, passage_days = _dates(passage)
    return claim_months <= passage_months and claim_days <= passage_days


def _negated(text: str) -> bool:
    """A negation, but not French « ne ... que » (only), which restricts and does not deny."""
    found = [fold(m.group()).replace("’", "'") for m in NEGATION.finditer(text)]
    if found and set(found) <= {"ne", "n'"} and _RESTRICTIVE.search(text) and not _FRENCH_NEGATION.search(text):
        return False
    return bool(found)


_PRONOUNS = frozenset({"il", "elle", "ils", "elles", "on", "he", "she", "it", "they"})
_RESTRICTIVE = re.compile(r"(?<![\w'’])(?:que|qu['’])", re.IGNORECASE)
_FRENCH_NEGATION = re.compile(
    r"(?<![\w'’])(?:pas|plus|jamais|rien|personne|guere|guère|point)(?![\w'’])", re.IGNORECASE
)


def negation_differs(claim: str, passage: str) -> bool:
    """A negated claim needs a negation in the passage; a plain claim must not meet one.

    A plain claim is contradicted only by a negated clause that shares some of its words
    (« Personne n'aurait été averti, tandis que Sam Altman a appris la nouvelle » does not
    deny that Altman learnt it).
    """
    negated_clauses = [c for c in clauses_of(passage) if _negated(c)]
    if _negated(claim):
        # The negation must be about what the claim is about: a word or a name in common
        # (a clause opening on "il"/"he" is about the names of its sentence).
        keys = content_keys(claim) | name_keys(claim)
        for sentence in sentences_of(passage):
            for clause in clauses_of(sentence):
                if not _negated(clause):
                    continue
                about = content_keys(clause) | name_keys(clause)
                if fold(tokenize(clause)[0]) in _PRONOUNS:
                    about |= name_keys(sentence)
                if keys & about:
                    return False
        return True
    claim_keys = content_keys(claim)
    return any(claim_keys & content_keys(clause) for clause in negated_clauses)


_DATE_REACH = 12  # characters: a month named this close to a number makes it a day of that month


def _quantities(text: str) -> list[str]:
    """The numbers of a text that count something: not years, days of a month or hours,
    whose order in a sentence is free ("at 9 pm on November 17" / « le 17 novembre vers 21 heures »)."""
    found = []
    for m in _NUMBER.finditer(text):
        number = m.group().replace(",", ".")
        around = [fold(w) for w in WORD.findall(text[max(0, m.start() - _DATE_REACH) : m.end() + _DATE_REACH])]
        if re.fullmatch(r"(?:19|20)\d\d", number) or any(w in _MONTHS for w in around):
            continue
        if re.match(r"\s*(?:h\b|heures?\b|hours?\b|o'clock)", text[m.end() :], re.IGNORECASE):
            continue
        found.append(number)
    return found


def numbers_swapped(claim: str, passage: str) -> bool:
    """Two quantities of the claim come in the other order in one sentence of the passage."""
    claim_numbers = list(dict.fromkeys(_quantities(claim)))
    if len(claim_numbers) < 2:
        return False
    for sentence in sentences_of(passage):
        found = _quantities(sentence)
        order = [n for n in claim_numbers if found.count(n) == 1]
        if len(order) >= 2 and sorted(order, key=found.index) != order:
            return True
    return False
