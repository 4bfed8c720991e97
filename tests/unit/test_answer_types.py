"""What kind of answer a question asks for, and whether a sentence holds one, in French and English."""

import pytest

from qa.pipeline.answer_types import answer_type, offers


@pytest.mark.parametrize(("question", "kind"), [
    ("Combien d’employés ont signé la lettre ?", "number"),
    ("How many employees signed the letter?", "number"),
    ("Quand ChatGPT a-t-il été mis en ligne ?", "time"),
    ("When was ChatGPT launched?", "time"),
    ("When exactly did the board meet?", "time"),
    ("When submitting a translation as a bug report, which tags should it carry?", None),  # "when" asks no time
    ("When should a package use Pre-Depends?", None),  # a condition
    ("Quand faut-il utiliser le champ Pre-Depends ?", None),
    ("Qui a remplacé Mira Murati ?", "person"),
    ("Combien de temps dure le gel de la distribution ?", "time"),  # a duration, "quelques mois" answers it
    ("How much time does a build take?", "time"),
])
def test_the_question_word_says_what_is_asked_for(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize(("sentence", "kind"), [
    ("505 employés ont signé la lettre.", "number"),
    ("Deux options sont proposées.", "number"),  # a number in words
    ("The delays are currently two, five or ten days.", "number"),
    ("Debian est gratuit.", "number"),  # what a price question may get
    ("Le gardien y a vécu pendant trois semaines.", "time"),  # a duration
    ("The freeze began in January.", "time"),
])
def test_a_figure_is_found_in_digits_or_in_words(sentence, kind):
    assert offers(sentence, kind, "?")


@pytest.mark.parametrize(("sentence", "kind"), [
    ("Un paquet est une archive.", "number"),  # "un" is an article as often as a number
    ("Le phare est peint en rouge et blanc.", "time"),
])
def test_a_sentence_without_a_figure_offers_none(sentence, kind):
    assert not offers(sentence, kind, "?")
