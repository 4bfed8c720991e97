"""The names a question uses, which a collection that never mentions them cannot answer about."""

import pytest

from qa.pipeline.names import names


@pytest.mark.parametrize(("question", "expected"), [
    ("Comment déclarer des tests dans le fichier debian/tests/control ?", ["debian/tests/control"]),
    ("What does the Rules-Requires-Root field in debian/control control?", ["Rules-Requires-Root", "debian/control"]),
    ("À partir de quel niveau dh_missing échoue-t-il ?", ["dh_missing"]),
    ("How do you cross-compile a package for arm64 with python3-foo?", ["arm64", "python3-foo"]),
    ("Comment empaqueter un module Node.js ?", ["Node.js"]),
    ("When did OpenAI release GPT-4o at its DevDay?", ["OpenAI", "GPT-4o", "DevDay"]),
    ("Quelle décision la FTC a-t-elle prise ?", ["FTC"]),
    ("Which APIs does OpenAI's platform offer?", ["API", "OpenAI"]),
])
def test_code_digits_after_letters_and_inner_capitals_are_names(question, expected):
    assert names(question) == expected


@pytest.mark.parametrize("question", [
    "Combien d’employés ont signé la lettre ?",  # capitalised only at the start, hyphenated inversion
    "Qui a été nommée PDG par intérim ?".replace("PDG", "pdg"),
    "What is dput's per-user configuration file?",  # a hyphenated word
    "Which port replaced the 32-bit port in 2023-11-17, at 3.5 GHz?".replace("GHz", "ghz"),  # quantities, dates
    "Que s’est-il passé au 21e siècle ?",  # an ordinal
    "Which tools, e.g. linters, does it run on a 1.5B model (i.e. a small one)?",  # abbreviations, a quantity
    "WHO REPLACED MIRA MURATI AS CEO?",  # shouted: capitals say nothing
])
def test_words_that_are_not_names(question):
    assert names(question) == []


def test_acronyms_do_not_count_across_languages_where_they_are_translated():
    question = "Which AI company did Microsoft invest in, according to the FTC?"
    assert names(question) == ["AI", "FTC"]
    assert names(question, across_languages=True) == []  # IA in French; code and product names still count
    code_and_product = "How do you set DEB_BUILD_OPTIONS for GitLab?"
    assert names(code_and_product, across_languages=True) == ["DEB_BUILD_OPTIONS", "GitLab"]


def test_a_name_is_looked_up_in_the_spellings_texts_use_for_it():
    from qa.pipeline.names import spellings

    assert {"WiFi", "wifi", "Wi-Fi"} <= set(spellings("Wi-Fi"))
    assert {"Python 3", "python3"} <= set(spellings("Python3"))
    assert "Covid-19" in spellings("COVID-19")
    assert "iPhone" in spellings("iPhones")
    assert spellings("debian/rules")[0] == "debian/rules"  # as asked first: most texts write it so
