"""The support judge agrees with people on labelled claim/passage pairs, in both languages."""

import json
from pathlib import Path

import pytest

from index.embedders import E5Embedding
from qa.support import SupportScorer

EXAMPLES = [json.loads(line) for line in (Path(__file__).parent / "data" / "support_examples.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def judge():
    return SupportScorer(E5Embedding())


def test_the_judge_agrees_with_the_labels(judge):
    verdicts = [judge.supports(e["claim"], [e["passage"]]) == e["supported"] for e in EXAMPLES]
    assert len(EXAMPLES) >= 30
    assert sum(verdicts) / len(verdicts) >= 0.9


def test_the_threshold_separates_supported_from_unsupported_claims(judge):
    supported = [judge.score(e["claim"], [e["passage"]]) for e in EXAMPLES if e["supported"]]
    assert min(supported) >= judge.threshold  # no supported claim is rejected


def test_a_translated_claim_is_supported(judge):
    passage = "Il choisit Emmett Shear, co-fondateur de Twitch, pour succéder à Sam Altman, au moins par intérim."
    assert judge.supports("Emmett Shear, a co-founder of Twitch, was chosen to succeed Sam Altman.", [passage])


def test_a_wrong_number_or_a_name_absent_from_the_passage_is_not_supported(judge):
    passage = "En 2019, Microsoft investit un milliard de dollars dans OpenAI."
    assert not judge.supports("In 2021, Microsoft invested one billion dollars in OpenAI.", [passage])
    assert not judge.supports("In 2019, Google invested one billion dollars in OpenAI.", [passage])
