"""The evaluation harness measures what it claims, and the extractive generator passes the gate."""

import json

import pytest

from eval.dataset import EvalSetError, fact_found, load_set
from eval.metrics import answer_language, first_hit, hit_rate, mean_reciprocal_rank
from qa.pipeline.citations import cited_sentences


def test_facts_match_without_case_accents_or_typographic_quotes():
    assert fact_found("employes", "505 EMPLOYÉS ont signé")
    assert fact_found("l'entreprise", "l’entreprise")
    assert not fact_found("(?<!\\d)50(?!\\d)", "505 employés")


def test_answer_sentences_keep_the_markers_that_follow_them():
    text = "D’après les documents : « Ils ont signé. » [1] Par ailleurs : « Ils sont 770. » [2][3] Rien ici."
    assert [(s.claim, s.markers) for s in cited_sentences(text)] == [
        ("D’après les documents : « Ils ont signé. »", [1]),
        ("Par ailleurs : « Ils sont 770. »", [2, 3]),
        ("Rien ici.", []),
    ]
    assert [(s.claim, s.markers) for s in cited_sentences("Shear was chosen [1]. He led Twitch. [2]")] == [
        ("Shear was chosen.", [1]),
        ("He led Twitch.", [2]),
    ]
    headings = "According to the documents: “Sam Altman is fired” [1] Also: “Microsoft hires him” [2]"
    assert [(s.claim, s.markers) for s in cited_sentences(headings)] == [
        ("According to the documents: “Sam Altman is fired”", [1]),
        ("Also: “Microsoft hires him”", [2]),
    ]


def test_the_language_of_an_answer_ignores_its_quotes():
    assert answer_language("According to the documents: “Les employés ont signé la lettre.” [1]") == "en"
    assert answer_language("D’après les documents : « The board fired him. » [1]") == "fr"


def test_a_hit_is_where_the_passages_first_hold_every_fact():
    passages = ["nothing", "700 employés", "770 employés"]
    assert first_hit(["700"], passages) == 1
    assert first_hit(["700", "770"], passages) == 2
    assert first_hit(["999"], passages) is None


def test_hit_at_k_and_mrr_count_a_question_never_hit_as_a_miss():
    ranks = [0, 1, 4, None]
    assert hit_rate(ranks, 1) == 0.25
    assert hit_rate(ranks, 2) == 0.5
    assert hit_rate(ranks, 5) == 0.75
    assert mean_reciprocal_rank(ranks) == (1 + 1 / 2 + 1 / 5) / 4
    assert hit_rate([], 5) is None and mean_reciprocal_rank([]) is None


def test_a_broken_eval_set_is_reported_with_its_line(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"id": "a", "lang": "fr", "question": "Q ?", "answerable": True}) + "\n{oops\n")
    with pytest.raises(EvalSetError, match="set.jsonl:2"):
        load_set(path)


def test_our_sets_are_well_formed():
    from eval.calibrate import CALIBRATION_SET
    from eval.dataset import DEFAULT_SET

    demo, calibration = load_set(DEFAULT_SET), load_set(CALIBRATION_SET)
    assert {i.question for i in demo}.isdisjoint(i.question for i in calibration)
    for items in (demo, calibration):
        assert sum(i.lang == "fr" for i in items) >= 25 and sum(i.lang == "en" for i in items) >= 25
        assert sum(not i.answerable for i in items) >= 10
    assert sum(len(i.docs) >= 2 for i in demo) >= 8
