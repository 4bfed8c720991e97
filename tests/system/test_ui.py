"""The chat in a real browser (Debian chromium driven by playwright).

Screenshots land in test-artifacts/ui/ (git-ignored) for a person to look at.
Every request the page makes must stay on the machine.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import choose_files, full_page_shot, served_chat

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_url(indexed_copy):
    with served_chat(indexed_copy("ui-index")) as url:
        yield url


@pytest.fixture
def page(open_page, app_url):
    page = open_page(app_url)
    page.wait_for_selector("html[data-drawn=fr]", timeout=60_000)  # drawn in the browser's language
    yield page
    assert page.console_errors == []


def ask(page, question: str):
    before = page.locator("#chat .answer:not(.streaming)").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat .answer:not(.streaming)').length > {before}",
                           timeout=120_000)
    return page.locator("#chat .answer:not(.streaming)").last


def shoot(page, name: str):
    """Screenshot with the latest question and its answer scrolled into view.

    The chat scrolls itself to the bottom as an answer renders, so scroll up again once it settled.
    """
    for _ in range(2):
        page.locator("#chat").evaluate("e => { const rows = e.querySelectorAll('.message-row');"
                                       " if (rows.length > 1)"
                                       " rows[rows.length - 2].scrollIntoView({block: 'start'}); }")
        page.wait_for_timeout(500)
    full_page_shot(page, name)


def test_a_french_question_shows_the_answer_with_its_source_cards(page):
    answer = ask(page, "Combien d’employés ont signé la lettre ?")
    assert "505" in answer.inner_text() and "D’après les documents" in answer.inner_text()
    card = page.locator("#chat .source-card").first
    card.wait_for()
    assert "505" in card.inner_text()
    assert page.locator("#chat .source-card mark").count() >= 1
    marker = page.locator("#chat a.marker").first
    target = marker.get_attribute("href")
    assert target.startswith("#") and page.locator(target).count() == 1
    shoot(page, "french-answer")


def test_an_english_follow_up_keeps_the_conversation(page):
    ask(page, "Qui a été nommée PDG par intérim après le renvoi de Sam Altman ?")
    follow_up = ask(page, "And who replaced her?")
    assert follow_up.inner_text().startswith("According to the documents")
    assert page.locator("#chat .answer:not(.streaming)").count() == 2
    shoot(page, "english-follow-up")
    page.click("#new-conversation")
    page.wait_for_function("document.querySelectorAll('#chat .answer').length === 0")


def test_an_unanswerable_question_shows_the_abstention(page):
    answer = ask(page, "Quelle est la recette de la tarte tatin ?")
    assert "abstained" in answer.get_attribute("class")
    assert "Pas de réponse dans les documents" in answer.inner_text()
    shoot(page, "abstention")


def test_an_uploaded_document_becomes_answerable(page, tmp_path):
    note = tmp_path / "club-de-voile.txt"
    note.write_text("Le club de voile de Valcourt a été fondé en 1987 par Jeanne Martin. Il compte 240 membres.")
    choose_files(page, note)
    page.click("#index")
    page.wait_for_selector("#documents-status:has-text('club-de-voile')", timeout=120_000)
    assert page.locator("#documents :text('club-de-voile')").count() >= 1
    answer = ask(page, "Qui a fondé le club de voile de Valcourt ?")
    assert "Jeanne Martin" in answer.inner_text()
    assert "club-de-voile" in page.locator("#chat .source-card").last.inner_text()
    shoot(page, "uploaded-document")


def test_a_bad_upload_gets_a_readable_message(page, tmp_path):
    fake = tmp_path / "rapport.pdf"
    fake.write_text("pas vraiment un PDF")
    choose_files(page, fake)
    page.click("#index")
    status = page.locator("#documents-status")
    status.locator("text=/Refusé/").wait_for(timeout=60_000)
    assert re.search(r"rapport\.pdf : le contenu n’est pas celui d’un fichier \.pdf", status.inner_text())


def test_markup_in_a_document_is_shown_as_text_never_run(page, tmp_path):
    trap = tmp_path / "piege.txt"
    trap.write_text('Le phare de Valcourt mesure 42 mètres. '
                    '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>')
    choose_files(page, trap)
    page.click("#index")
    page.wait_for_selector("#documents-status:has-text('piege')", timeout=120_000)
    answer = ask(page, "Combien mesure le phare de Valcourt ?")
    assert "42" in answer.inner_text()
    assert page.evaluate("window.pwned === undefined")
    assert "onerror" in page.locator("#chat .source-card").last.inner_text()  # visible as text


def test_the_interface_switches_to_english(page):
    page.get_by_label("English").check()
    page.wait_for_selector("#send:has-text('Send')")
    assert page.locator("#new-conversation").inner_text() == "New conversation"
