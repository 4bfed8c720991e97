"""The support judge agrees with people on labelled claim/passage pairs, in both languages.

The examples are hand-written translations and near-misses, plus real answers of
the local model labelled by hand (those carry the question they answered).
"""

import json
from pathlib import Path

import pytest

from index.embedders import E5Embedding
from qa.support import SupportScorer

EXAMPLES = [json.loads(line) for line in (Path(__file__).parent / "data" / "support_examples.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def judge():
    return SupportScorer(E5Embedding())


def agreement(judge, examples):
    verdicts = [judge.supports(e["claim"], [e["passage"]], context=e.get("question", "")) == e["supported"] for e in examples]
    return sum(verdicts) / len(verdicts)


def test_the_judge_agrees_with_people_on_most_examples(judge):
    assert len(EXAMPLES) >= 100 and 0.35 < sum(e["supported"] for e in EXAMPLES) / len(EXAMPLES) < 0.65
    assert agreement(judge, EXAMPLES) >= 0.78


def test_the_judge_is_reliable_on_clear_translations_and_near_misses(judge):
    assert agreement(judge, [e for e in EXAMPLES if "question" not in e]) >= 0.85


def test_a_translated_claim_is_supported(judge):
    passage = "Il choisit Emmett Shear, co-fondateur de Twitch, pour succéder à Sam Altman, au moins par intérim."
    assert judge.supports("Emmett Shear, a co-founder of Twitch, was chosen to succeed Sam Altman.", [passage])


def test_a_wrong_number_or_a_name_absent_from_the_passage_is_not_supported(judge):
    passage = "En 2019, Microsoft investit un milliard de dollars dans OpenAI."
    assert not judge.supports("In 2021, Microsoft invested one billion dollars in OpenAI.", [passage])
    assert not judge.supports("In 2019, Google invested one billion dollars in OpenAI.", [passage])


def test_a_question_may_supply_names_but_not_figures(judge):
    passage = "Pour remplacer Sam Altman, OpenAI a choisi Mira Murati, nommée CEO par intérim."
    assert not judge.supports("Mira Murati left OpenAI in 2024.", [passage], context="What did Mira Murati do after 2024?")
