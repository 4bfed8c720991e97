"""Issue 18, item 7, without a browser: source cards numbered as the answer reads, excerpts centred on what it cites."""

from __future__ import annotations

import re

from qa.answer import Answer, AnswerSentence, Citation, Span
from ui.render import EXCERPT_CONTEXT, answer_html, highlighted, streaming_html

FILLER = "Le conseil se réunit chaque mois dans la grande salle de la mairie pour discuter des affaires courantes. "


def citation(n: int, text: str, cited: list[str], source: str = "/data/uploads/notes.txt") -> Citation:
    spans = [Span(start=100 + text.index(s), end=100 + text.index(s) + len(s)) for s in cited]
    return Citation(n=n, doc_id="000_abcdef", source=source, title="Notes du conseil", text=text, start=100,
                    end=100 + len(text), score=0.9, highlights=spans)


def test_a_lone_citation_is_card_one_and_marker_one():
    text = "Le phare mesure 42 mètres."
    answer = Answer(question="Combien mesure le phare ?", answer=f"D’après les documents : « {text} » [2]",
                    language="fr", abstained=False, generator="extractive",
                    sentences=[AnswerSentence(text=f"D’après les documents : « {text} » [2]", citations=[2])],
                    citations=[citation(2, text, [text])])
    shown = answer_html(answer)
    assert re.findall(r">\[(\d)\]<", shown) == ["1", "1"]  # the marker, then its card
    assert "[2]" not in shown


def test_cards_follow_the_order_the_answer_cites_them():
    first, second = "Le club compte 240 membres.", "Il a été fondé en 1987."
    answer = Answer(question="Parlez-moi du club", answer=f"« {first} » [3] « {second} » [1]", language="fr",
                    abstained=False, generator="extractive",
                    sentences=[AnswerSentence(text=f"« {first} » [3]", citations=[3]),
                               AnswerSentence(text=f"« {second} » [1]", citations=[1])],
                    citations=[citation(1, second, [second]), citation(3, first, [first])])
    shown = answer_html(answer)
    cards = re.findall(r'source-n">\[(\d)\]</span> <span class="source-title">[^<]*</span></div>'
                       r'<div class="source-meta">[^<]*</div><blockquote class="source-text">(.*?)</blockquote>', shown)
    assert [(n, re.search(r"<mark>(.*?)</mark>", body).group(1)) for n, body in cards] == [("1", first), ("2", second)]
    assert "notes.txt" in shown and "000_abcdef" not in shown  # the file name, not the id


def test_the_excerpt_is_centred_on_the_sentence_the_answer_quotes():
    heading, answering = "Le club de voile", "Le club de voile de Valcourt a été fondé en 1987 par Jeanne Martin."
    text = heading + "\n" + FILLER * 6 + answering + " " + FILLER * 6
    card = citation(1, text, [heading, answering])
    shown = highlighted(card, [f"« {answering} » [1]"])
    assert f"<mark>{answering}</mark>" in shown
    assert f"<mark>{heading}</mark>" not in shown  # evidence the answer does not quote is not marked
    before, after = shown.split(f"<mark>{answering}</mark>")
    assert before.startswith("…") and after.endswith("…")
    assert abs(len(before) - len(after)) < 40 and len(before) <= EXCERPT_CONTEXT + 2
    words = FILLER.split()
    assert before[1:].split()[0] in words and after[:-1].split()[-1] in words  # cut between words, not inside one


def test_an_abstention_speaks_the_question_language_whatever_the_interface():
    answer = Answer(question="What is the recipe?", answer="The documents do not say.", language="en",
                    abstained=True, generator="extractive")
    assert "No answer in the documents." in answer_html(answer)


def test_a_refusal_shows_why_when_the_documents_never_mention_a_name():
    answer = Answer(question="Qu’a annoncé OpenAI au DevDay ?", language="fr", abstained=True, generator="extractive",
                    answer="Je ne trouve pas la réponse à cette question dans les documents.",
                    notice="Les documents ne mentionnent nulle part « DevDay ».")
    assert '<div class="notice">Les documents ne mentionnent nulle part « DevDay ».</div>' in answer_html(answer)


def test_while_a_model_writes_the_passages_it_reads_are_shown_as_quotes():
    page = streaming_html("", "writing", "fr", ["505 employés ont signé la lettre.", "Ils exigent <la démission>."])
    assert page.count("<blockquote>") == 2 and "Ils exigent &lt;la démission&gt;." in page
    assert "<blockquote>" not in streaming_html("", "reading", "fr")
