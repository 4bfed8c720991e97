"""Issue 18, items 2, 3 and 7 in a real browser: no lost input, visible stages, source cards as the answer reads.

The served service pauses between the events of its answer stream, as a slow model
would, so what the page shows while it waits can be seen (tests that only read the
finished answer take the `unhurried` fixture). Each test runs at 1280x900
and at 390x844 and saves a screenshot in test-artifacts/ui/.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.helpers import choose_files, full_page_shot, opened, served_chat

pytestmark = pytest.mark.slow

PAUSE = 0.8  # seconds between two events of an answer stream
pace = {"pause": PAUSE}


def slowed(service):
    ask_stream = service.ask_stream

    def slowly(*args, **kwargs):
        for event in ask_stream(*args, **kwargs):
            time.sleep(pace["pause"])
            yield event

    service.ask_stream = slowly


@pytest.fixture(autouse=True)
def paced():
    """Each test starts with answers that pause between events; it may drop the pauses when it has seen
    what needed them."""
    pace["pause"] = PAUSE


@pytest.fixture
def unhurried(paced):
    """For a test that reads only the finished answer: the stream does not pause."""
    pace["pause"] = 0


@pytest.fixture(scope="module")
def app_url(indexed_copy):
    with served_chat(indexed_copy("ui-chat-index"), slowed) as url:
        yield url


@pytest.fixture
def page(open_page, app_url, viewport):
    page = opened(open_page, app_url, viewport, "fr-FR")
    yield page
    assert page.console_errors == []


def finished(page, count: int):
    page.wait_for_function(f"document.querySelectorAll('#chat .answer:not(.streaming)').length >= {count}",
                           timeout=120_000)


def test_a_question_typed_while_an_answer_streams_is_kept(page, viewport):
    box = page.locator("#question textarea")
    box.fill("Combien d’employés ont signé la lettre ?")
    page.click("#send")
    page.wait_for_selector("#chat .answer.streaming")
    assert page.locator("#send").is_disabled() and page.locator("#stop").is_visible()
    follow_up = "Qui a été nommée PDG par intérim ?"
    box.fill(follow_up)
    box.press("Enter")  # sent while the first answer streams: refused, not lost
    full_page_shot(page, f"chat-typing-while-streaming-{viewport}")
    pace["pause"] = 0  # what follows reads only finished answers
    finished(page, 1)
    assert box.input_value() == follow_up
    assert page.locator("#send").is_enabled() and not page.locator("#stop").is_visible()
    assert page.locator("#chat .answer").count() == 1
    page.click("#send")
    finished(page, 2)
    assert box.input_value() == ""
    said = page.locator("#chat").inner_text()
    assert "Combien d’employés" in said and follow_up in said and "Mira Murati" in said


def test_stop_cancels_the_answer_and_keeps_what_was_typed(page, viewport):
    box = page.locator("#question textarea")
    box.fill("Combien d’employés ont signé la lettre ?")
    page.click("#send")
    page.wait_for_selector("#chat .answer.streaming")
    box.fill("un brouillon")
    page.click("#stop")
    page.wait_for_selector("#chat .answer.stopped")
    pace["pause"] = 0  # the rest of the cancelled stream, if anything still sent it, arrives at once
    assert page.locator("#chat .answer.stopped").inner_text() == "Réponse interrompue."
    assert page.locator("#send").is_enabled() and not page.locator("#stop").is_visible()
    page.wait_for_timeout(int(2 * PAUSE * 1000))  # the cancelled answer never comes back
    assert page.locator("#chat .answer").count() == 1 and page.locator("#chat .source-card").count() == 0
    assert box.input_value() == "un brouillon"
    full_page_shot(page, f"chat-stopped-{viewport}")


def test_the_stages_show_as_they_happen(page, viewport):
    page.evaluate("""() => { window.stages = [];
        new MutationObserver(() => {
            const now = document.querySelector('#chat .stage.current')?.className.match(/stage-(\\w+)/)[1];
            if (now && window.stages[window.stages.length - 1] !== now) window.stages.push(now);
        }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
    page.fill("#question textarea", "Combien d’employés ont signé la lettre ?")
    page.click("#send")
    page.wait_for_selector("#chat .stage.current.stage-reading")
    assert "Lecture des passages trouvés…" in page.locator("#chat .stages").inner_text()
    assert page.locator("#chat .stage.done.stage-searching").count() == 1
    full_page_shot(page, f"chat-stage-reading-{viewport}")
    finished(page, 1)
    assert page.evaluate("window.stages") == ["searching", "reading", "writing"]
    assert page.locator("#chat .stages").count() == 0  # gone once the answer is there


def test_cards_are_numbered_as_the_answer_cites_them(page, viewport, unhurried):
    page.fill("#question textarea", "Qui a été nommée PDG par intérim après le renvoi de Sam Altman ?")
    page.click("#send")
    finished(page, 1)
    answer = page.locator("#chat .answer").last.inner_text()
    markers = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", answer)))
    assert markers == list(range(1, len(markers) + 1))
    cards = page.locator("#chat .source-card")
    assert [int(n.strip("[]")) for n in cards.locator(".source-n").all_inner_texts()] == markers
    for n in markers:
        quote = re.search(rf"«\s*([^»]+?)\s*»\s*\[{n}\]", answer)
        marked = " ".join(cards.nth(n - 1).locator("mark").all_inner_texts())
        assert quote and " ".join(quote.group(1).split()) in " ".join(marked.split())
    for meta in cards.locator(".source-meta").all_inner_texts():
        assert re.search(r"\d{3}_[0-9a-f]{16}\.txt", meta)  # the file name
    full_page_shot(page, f"chat-cards-{viewport}")


LOCKS = {"desktop": ("Valcourt", "Paul Bertin"), "phone": ("Montrond", "Louis Garnier")}  # one file per run


def test_a_markdown_source_reads_as_text(page, viewport, tmp_path, unhurried):
    place, engineer = LOCKS[viewport]
    notes = tmp_path / f"ecluse-{viewport}.md"
    notes.write_text(f"# L’écluse de {place}\n\n## Histoire\n\n"
                     f"L’écluse de {place} a été construite en **1854** par l’ingénieur *{engineer}*.\n\n"
                     "- Elle mesure 38 mètres.\n- Elle a été rénovée en `1990`.\n")
    choose_files(page, notes)
    page.click("#index")
    page.wait_for_selector(f"#documents-status:has-text('{notes.name}')", timeout=120_000)
    page.fill("#question textarea", f"Qui a construit l’écluse de {place} ?")
    page.click("#send")
    finished(page, 1)
    card = page.locator("#chat .source-card").first
    assert engineer in card.locator("mark").inner_text()
    assert notes.name in card.locator(".source-meta").inner_text()
    for syntax in ("#", "**", "`", "- Elle"):
        assert syntax not in card.locator(".source-text").inner_text()
    full_page_shot(page, f"chat-markdown-card-{viewport}")
