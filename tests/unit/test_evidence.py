"""Which units an answer quotes: across languages, the best unit comes with the unit before it."""

from __future__ import annotations

import numpy as np
from llama_index.core.schema import TextNode

from index.store.chroma import Sentence
from qa.pipeline.evidence import Evidence, select_evidence

UNITS = ("Le paquet cron-apt met à jour le système.", "Il tourne chaque nuit.", "Les journaux vont dans /var/log.")
TEXT = " ".join(UNITS)


def scored(order: list[int]) -> list[Evidence]:
    """Every unit of the passage as scored evidence, best first in `order`, with orthogonal vectors."""
    node = TextNode(text=TEXT, id_="chunk", metadata={"start": 0, "language": "fr"})
    evidence, start = {}, 0
    for i, unit in enumerate(UNITS):
        vector = np.eye(len(UNITS), dtype=np.float32)[i]
        sentence = Sentence(f"s{i}", "doc", i, start, start + len(unit), unit, vector, 0)
        evidence[i] = sentence
        start += len(unit) + 1
    return [Evidence(evidence[i], node, 0, 0.8, 0.0, 0.8 - rank * 0.01) for rank, i in enumerate(order)]


def quoted(language: str, order: list[int]) -> list[str]:
    return [e.sentence.text for e in select_evidence(scored(order), max_sentences=2, language=language)]


def test_an_english_question_on_french_text_quotes_the_best_unit_with_the_unit_before_it():
    assert quoted("en", [1, 2, 0]) == ["Le paquet cron-apt met à jour le système. Il tourne chaque nuit.", UNITS[2]]


def test_a_french_question_on_french_text_quotes_the_best_unit_alone():
    assert quoted("fr", [1, 2, 0]) == [UNITS[1], UNITS[2]]


def test_the_unit_before_is_not_quoted_twice_nor_sought_before_the_first_unit():
    assert quoted("en", [1, 0, 2]) == [UNITS[1], UNITS[0]]
    assert quoted("en", [0, 2, 1]) == [UNITS[0], UNITS[2]]
