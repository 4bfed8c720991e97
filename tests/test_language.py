"""The language of a question decides the language of its answer."""

import pytest

from index.language import detect_language


@pytest.mark.parametrize(
    "question",
    ["Combien d’employés ont signé la lettre ?", "Qui est Emmett Shear ?", "Et qui l’a remplacée ?", "Emmett Shear ?",
     "Pourquoi Altman a-t-il été licencié ?"],
)
def test_french_questions(question):
    assert detect_language(question) == "fr"


@pytest.mark.parametrize(
    "question",
    ["How many employees signed the letter?", "Who is Emmett Shear?", "When was Altman fired?", "Emmett Shear?",
     "What did Satya Nadella say?"],
)
def test_english_questions(question):
    assert detect_language(question) == "en"
