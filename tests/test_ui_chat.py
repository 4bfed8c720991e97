"""Issue 18, items 2 and 3 in a real browser: no lost input, stages shown as they happen.

The served service pauses between the events of its answer stream, as a slow model
would, so what the page shows while it waits can be seen. Each test runs at 1280x900
and at 390x844 and saves a screenshot in test-artifacts/ui/.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import VIEWPORTS, served_chat
from tests.test_ui import SHOTS

pytestmark = pytest.mark.slow

PAUSE = 0.8  # seconds between two events of an answer stream


def slowed(service):
    ask_stream = service.ask_stream

    def slowly(*args, **kwargs):
        for event in ask_stream(*args, **kwargs):
            time.sleep(PAUSE)
            yield event

    service.ask_stream = slowly


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embedding_cache_dir):
    with served_chat(tmp_path_factory.mktemp("ui-chat-index"), embedding_cache_dir, slowed) as url:
        yield url


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def page(open_page, app_url, viewport):
    page = open_page(app_url, *VIEWPORTS[viewport], locale="fr-FR")
    page.wait_for_selector("html[data-drawn=fr]", timeout=60_000)
    yield page
    assert page.console_errors == []


def shoot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
    shoot(page, f"chat-typing-while-streaming-{viewport}")
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
    assert page.locator("#chat .answer.stopped").inner_text() == "Réponse interrompue."
    assert page.locator("#send").is_enabled() and not page.locator("#stop").is_visible()
    page.wait_for_timeout(int(8 * PAUSE * 1000))  # the cancelled answer never comes back
    assert page.locator("#chat .answer").count() == 1 and page.locator("#chat .source-card").count() == 0
    assert box.input_value() == "un brouillon"
    shoot(page, f"chat-stopped-{viewport}")


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
    shoot(page, f"chat-stage-reading-{viewport}")
    finished(page, 1)
    assert page.evaluate("window.stages") == ["searching", "reading", "writing"]
    assert page.locator("#chat .stages").count() == 0  # gone once the answer is there
