"""The support judge agrees with people on labelled claim/passage pairs, in both languages.

The examples are hand-written translations and near-misses, plus real answers of
the local model labelled by hand (those carry the question they answered).
"""

import json

import pytest

from index.embedding.models import E5Embedding
from qa.pipeline.support.scorer import SupportScorer
from tests.helpers import DATA

EXAMPLES = [json.loads(line)
            for line in (DATA / "support_examples.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def judge():
    return SupportScorer(E5Embedding())


def agreement(judge, examples):
    verdicts = [judge.supports(e["claim"], [e["passage"]], context=e.get("question", "")) == e["supported"]
                for e in examples]
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
    assert not judge.supports("Mira Murati left OpenAI in 2024.", [passage],
                              context="What did Mira Murati do after 2024?")


# --- Who did what to whom, negations, dates and numbers: what a similarity cannot see. ---

# The issue's passage: Murati replaced Altman, then Emmett Shear replaced Murati.
REPLACEMENTS = (
    "Mira Murati, nommée PDG par intérim, a été remplacée par Emmett Shear. Chez OpenAI, Sam Altman "
    "a été remplacé par Mira Murati."
)
# The demo article's own words for the same facts.
MURATI = (
    "Pour remplacer Sam Altman, OpenAI a choisi Mira Murati, nommée CEO par intérim. Il s’agit de "
    "l’ancienne directrice de la technologie d’OpenAI."
)


def test_the_issue_example_an_inverted_replacement_is_not_supported(judge):
    assert not judge.supports("OpenAI a remplacé Mira Murati par Sam Altman.", [REPLACEMENTS])
    assert not judge.supports("OpenAI a remplacé Mira Murati par Sam Altman.", [MURATI])


@pytest.mark.parametrize(
    "claim, supported",
    [
        ("Mira Murati a remplacé Sam Altman.", True),
        ("Emmett Shear a remplacé Mira Murati.", True),
        ("Sam Altman a remplacé Mira Murati.", False),
        ("Mira Murati replaced Sam Altman.", True),
        ("Sam Altman was replaced by Mira Murati.", True),
        ("Mira Murati was replaced by Sam Altman.", False),
    ],
)
def test_who_replaced_whom_in_either_voice_and_language(judge, claim, supported):
    assert judge.supports(claim, [REPLACEMENTS]) is supported


def test_an_infinitive_clause_gives_its_object_to_the_claim(judge):
    assert judge.supports("Mira Murati a remplacé Sam Altman comme CEO par intérim.", [MURATI])
    assert judge.supports("OpenAI chose Mira Murati to replace Sam Altman.", [MURATI])
    # Nothing in the passage puts Altman before Murati: the English inversion is not shown as supported.
    assert not judge.supports("Sam Altman replaced Mira Murati as interim CEO.", [MURATI])


def test_swapped_participants_are_not_supported(judge):
    hired = (
        "Nouveau coup de théâtre ce lundi 20 novembre 2023 : Microsoft a embauche Sam Altman, ex-numéro "
        "1 d’OpenAI, trois jours après son limogeage surprise."
    )
    assert judge.supports("Microsoft a embauché Sam Altman trois jours après son limogeage.", [hired])
    assert not judge.supports("Sam Altman a embauché Microsoft.", [hired])
    depends = "Le paquet A dépend du paquet B si B doit absolument être installé pour pouvoir exécuter A."
    assert judge.supports("Package A depends on package B.", [depends])
    assert not judge.supports("Package B depends on package A.", [depends])
    assert not judge.supports("Le paquet B dépend du paquet A.", [depends])


def test_a_negation_on_one_side_only_is_not_supported(judge):
    passage = (
        "Personne n’aurait été averti au préalable, tandis que Sam Altman a appris la nouvelle lors d’un "
        "appel Google Meet. Microsoft, qui détient OpenAI à 49 %, n’avait pas été prévenu."
    )
    assert judge.supports("Microsoft n'avait pas été prévenu.", [passage])
    assert judge.supports("Microsoft had not been warned.", [passage])
    assert not judge.supports("Microsoft avait été prévenu à l'avance.", [passage])
    # The negation of another clause does not deny what the claim says, nor support its denial.
    assert judge.supports("Sam Altman learned the news during a Google Meet call.", [passage])
    assert not judge.supports("Sam Altman n'a pas appris la nouvelle lors d'un appel Google Meet.", [passage])


def test_ne_que_restricts_and_does_not_deny(judge):
    passage = (
        "Actuellement, Debian n'est disponible que pour Linux, mais avec Debian GNU/Hurd et Debian pour "
        "les noyaux BSD, nous avons aussi commencé à fournir comme plate-forme de développement des "
        "systèmes d'exploitation autres que ceux basés sur Linux."
    )
    assert judge.supports("Debian n'est disponible que pour Linux.", [passage])
    assert judge.supports("Debian is only available for Linux.", [passage])


def test_months_and_weekdays_must_match(judge):
    passage = (
        "Greg Brockman et Sam Altman ont été démis de leurs fonctions par le conseil d’administration "
        "d’OpenAI le vendredi 17 novembre."
    )
    assert judge.supports("OpenAI's board removed Sam Altman on Friday, November 17.", [passage])
    assert not judge.supports("Le conseil a démis Sam Altman de ses fonctions le vendredi 17 octobre.", [passage])
    assert not judge.supports("Le conseil a démis Sam Altman de ses fonctions le lundi 17 novembre.", [passage])
    assert not judge.supports("OpenAI's board removed Sam Altman on Friday, December 17.", [passage])
    # The issue's bakery note: a date the note never gives is not its closing day.
    assert not judge.supports("La boulangerie est fermée le 3 mars.", ["Elle est fermée le mardi."])
    assert not judge.supports("The bakery is closed on Mondays.", ["Elle est fermée le mardi."])


def test_numbers_in_words_hours_and_their_order(judge):
    hired = (
        "Nouveau coup de théâtre ce lundi 20 novembre 2023 : Microsoft a embauche Sam Altman, ex-numéro "
        "1 d’OpenAI, trois jours après son limogeage surprise."
    )
    assert not judge.supports("Microsoft a embauché Sam Altman cinq jours après son limogeage.", [hired])
    evening = "En fin de journée, le vendredi 17 novembre, vers 21 heures en France, OpenAI est entré dans le chaos."
    assert judge.supports("OpenAI entered chaos around 9 pm on Friday, November 17.", [evening])
    assert not judge.supports("OpenAI entered chaos around 11 pm on Friday, November 17.", [evening])
    stock = "Pour l'anecdote, l'action de Microsoft est passée de 360 à 376 $ depuis l'annonce du recrutement."
    assert judge.supports("L'action de Microsoft est passée de 360 à 376 dollars.", [stock])
    assert not judge.supports("Microsoft's share price fell from 376 to 360 dollars.", [stock])


# --- The labelled pairs (eval/verifier.py): the checks were tuned on the development half only. ---


def test_the_labelled_pairs_cover_both_languages_and_every_kind():
    from eval.verifier import SUPPORTED_KINDS, UNSUPPORTED_KINDS, load_pairs, split_of

    pairs = load_pairs()
    assert len(pairs) >= 150
    assert {p["lang"] for p in pairs} == {"fr", "en"}
    assert {p["kind"] for p in pairs} == set(SUPPORTED_KINDS) | set(UNSUPPORTED_KINDS)
    assert all(p["supported"] == (p["kind"] in SUPPORTED_KINDS) for p in pairs)
    assert len({(p["claim"], p["passage"]) for p in pairs}) == len(pairs)
    splits = [split_of(p) for p in pairs]
    assert 0.35 < splits.count("heldout") / len(splits) < 0.65


@pytest.fixture(scope="module")
def heldout(judge):
    from eval.verifier import load_pairs, measure

    return measure(judge, load_pairs("heldout")).overall()


@pytest.mark.slow  # measures 213 pairs: about 10 s
@pytest.mark.xfail(
    strict=True,
    reason="not met yet: held-out precision 0.82, recall 0.90; what is left is listed by `python -m eval.verifier`",
)
def test_the_verifier_meets_the_issue_bar_on_the_held_out_pairs(heldout):
    assert heldout.precision >= 0.95 and heldout.recall >= 0.8


@pytest.mark.slow
def test_the_verifier_does_not_regress_on_the_held_out_pairs(heldout):
    # Measured floors: 0.82 / 0.90 on the three held-out batches when written, from 0.60 / 0.95 before these checks.
    assert heldout.precision >= 0.78 and heldout.recall >= 0.88


def test_a_number_or_a_title_that_belongs_to_something_else_is_not_supported(judge):
    stake = (
        "D’après la presse américaine, Microsoft aurait cherché à racheter 49 % d’OpenAI (dans une offre "
        "qui la valorisait à 29 milliards de $)."
    )
    assert judge.supports("Microsoft aurait cherché à racheter 49 % d'OpenAI.", [stake])
    assert not judge.supports("Microsoft aurait cherché à racheter 29 % d'OpenAI.", [stake])
    leavers = (
        "Plusieurs cadres majeurs d’OpenAI, dont Greg Brockman (cofondateur et président d’OpenAI), "
        "Jakub Pachocki (directeur de la recherche) et Szymon Sidor (un chercheur) ont annoncé qu’ils "
        "quittaient l’entreprise."
    )
    assert judge.supports("Greg Brockman était le président d'OpenAI.", [leavers])
    assert not judge.supports("Szymon Sidor était le président d'OpenAI.", [leavers])
    ports = "Le deuxième effort de portage est celui du noyau BSD."
    assert judge.supports("The BSD kernel was the second porting effort.", [ports])
    assert not judge.supports("The BSD kernel was the first porting effort.", [ports])


def test_a_quote_of_the_passage_framed_in_a_few_words_is_supported_and_an_altered_one_is_not():
    from qa.pipeline.support.scorer import is_a_quote_of

    passage = ("Pourtant, dimanche, le journal a affirmé que d’importants investisseurs, au premier rang desquels "
               "Microsoft, « faisaient des efforts pour faire revenir Sam Altman ». Le conseil a refusé.")
    quote = ("Pourtant, dimanche, le journal a affirmé que d’importants investisseurs, au premier rang desquels "
             "Microsoft, « faisaient des efforts pour faire revenir Sam Altman ».")
    assert is_a_quote_of(f"D’après les documents : « {quote} » [1]", [passage])
    assert is_a_quote_of(f"According to the documents: “{quote}” [1]", [passage])
    assert not is_a_quote_of(f"D’après les documents : « {quote.replace('Microsoft', 'Google')} » [1]", [passage])
    framed_at_length = f"Le journal, qui cite des sources nombreuses et anonymes, écrit que « {quote} »"
    assert not is_a_quote_of(framed_at_length, [passage])
