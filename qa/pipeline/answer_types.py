"""What kind of answer a question expects, and whether a sentence offers one.

Classic factoid QA: "combien / how many" wants a number, "qui / who" a person,
"quand / when" a date or time.  Numbers, names and dates are written the same
way in French and English, so this check also works when an English question
meets a French sentence, where word overlap says nothing.  The cues are the
question words of both languages, never nouns of some corpus's topics ("which
chipmaker", "quels journalistes"): those questions are left untyped.
"""

from __future__ import annotations

import re
from typing import Literal

from index.text.language import fold

AnswerType = Literal["number", "person", "time", "name"]

_CUES: list[tuple[AnswerType, re.Pattern]] = [
    ("number", re.compile(
        r"\b(combien(?! de temps)|quel(le)?s? (nombre|montant|pourcentage|part|age|somme|prix|chiffre)|"
        r"a quel (prix|montant)|how (many|much(?! time)|old)|"
        r"what (share|percentage|proportion|number|amount|price|sum|figure)|by how much)\b")),
    ("time", re.compile(
        # "when" asks about time before an event ("When was…"); "when X, …" opens a clause, and "when should
        # I…", "quand faut-il…" ask for a condition.
        r"\b(quand(?! (faut|doi[st]|doivent|peu[tx]|peuvent|convient|utiliser))|a quelle (heure|date|epoque)|"
        r"quel(le)? (jour|heure|date|annee|mois|nuit|soir)|en quelle annee|depuis quand|"
        r"when (exactly )?(did|was|were|is|are|will|has|had)|"
        r"what (time|day|date|year|month|night)|which (day|date|year|month|night)|on which (day|night|date)|"
        r"in which year|since when|how long|combien de temps|how much time)\b")),  # "quelques minutes" answers
    ("person", re.compile(r"\b(qui|quelles? personnes?|who|whom|whose|which (person|people))\b")),
    ("name", re.compile(r"\b(comment s'appelle|quel(le)? est (le nom|l'appellation)|"
                        r"what is the name|what is .{1,40} called)\b")),
]

# A number is written in digits or in words ("gratuit" answers a price); "un", "one" are left out, being
# articles as often.
_NUMBER = re.compile(r"\d|\b(zero|gratuit(e|s|es|ement)?|free of charge|"
                     r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|"
                     r"cinquante|soixante|cent|mille|millions?|milliards?|douzaines?|centaines?|milliers?|moitie|"
                     r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
                     r"sixty|hundreds?|thousands?|millions?|billions?|dozens?|once|twice|half)\b")
_MONTHS = (r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
           r"january|february|march|april|may|june|july|august|september|october|november|december")
_DAYS = r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_DURATIONS = r"secondes?|minutes?|heures?|jours?|semaines?|mois|ans|annees?|seconds?|hours?|days?|weeks?|months?|years?"
_TIME = re.compile(rf"\b(\d{{1,2}} ?h|\d{{1,2}}:\d{{2}}|\d{{4}}|{_MONTHS}|{_DAYS}|{_DURATIONS}|"
                   r"midi|minuit|noon|midnight|soir|nuit|matin|weekend|week-end)\b")
_CAPITALISED = re.compile(r"\b[A-ZÀ-Ý][\w’'-]*[a-zà-ÿ][\w’'-]*")
_FULL_NAME = re.compile(r"\b([A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)\s+([A-ZÀ-Ý][a-zà-ÿ]+)\b")


def answer_type(question: str) -> AnswerType | None:
    folded = fold(question).replace("’", "'")
    for kind, cue in _CUES:
        if cue.search(folded):
            return kind
    return None


def offers(sentence: str, kind: AnswerType, question: str) -> bool:
    """Does `sentence` hold something of `kind` that the question does not already say?"""
    if kind == "number":
        return bool(_NUMBER.search(fold(sentence)))
    if kind == "time":
        return bool(_TIME.search(fold(sentence)))
    known = {fold(w) for w in re.findall(r"[\w’'-]+", question)}
    if kind == "person":  # a person is named with two capitalised words: "Mira Murati"
        return any(fold(first) not in known or fold(last) not in known for first, last in _FULL_NAME.findall(sentence))
    names = _CAPITALISED.findall(sentence)[1:]  # the first word is capitalised anyway
    return any(fold(n) not in known for n in names)
