"""Issue 18, items 4 and 5: the page on a phone and a desktop, in one language at a time.

Each test runs at 1280x900 and at 390x844 and saves a screenshot in test-artifacts/ui/.
"""

from __future__ import annotations

import pytest

from tests.helpers import VIEWPORTS, choose_files, full_page_shot, opened, served_chat

pytestmark = pytest.mark.slow


FAQ = """# Le club de voile

## Qui a fondé le club de voile de Valcourt ?

Le club de voile de Valcourt a été fondé en 1987 par Jeanne Martin.
"""


@pytest.fixture(scope="module")
def app_url(indexed_copy):
    """The demo corpus plus a page of questions, so the chat shows examples."""
    def add_faq(service):
        service.add_documents([("club-faq.md", FAQ.encode())])

    with served_chat(indexed_copy("ui-layout-index"), add_faq) as url:
        yield url


def visible_text(page) -> str:
    return page.locator("body").inner_text()


def test_the_page_opens_at_the_top_with_a_readable_title(open_page, app_url, viewport):
    page = opened(open_page, app_url, viewport, "fr-FR")
    width, _ = VIEWPORTS[viewport]
    assert page.evaluate("window.scrollY") == 0
    title = page.locator("#heading h2")
    box = title.bounding_box()
    assert box["y"] < 100 and box["width"] >= min(300, width - 60)
    line = float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 30"))
    assert box["height"] <= 2.2 * line  # one line on a desktop, two at most on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing pushes the page sideways
    send = page.locator("#send").bounding_box()
    assert send["width"] >= 60 and send["x"] + send["width"] <= width
    full_page_shot(page, f"layout-{viewport}")
    assert page.console_errors == []


@pytest.mark.parametrize("locale, words, absent", [
    ("fr-FR", ["Questions sur vos documents", "Déposez le fichier ici", "Indexer", "Exemples", "titre", "fichier",
               "passages", "français"],
     ["Drop File Here", "Click to Upload", "Examples", "Send", "title", "French"]),
    ("en-US", ["Questions about your documents", "Drop File Here", "Click to Upload", "Index", "Examples", "title",
               "file", "passages", "French"],
     ["Déposez", "Cliquez", "Indexer", "Exemples", "Envoyer", "titre", "fichier", "français"]),
])
def test_the_browser_language_is_the_interface_language(open_page, app_url, viewport, locale, words, absent):
    page = opened(open_page, app_url, viewport, locale)
    page.wait_for_selector(f"#heading:has-text('{words[0]}')")
    text = visible_text(page)
    for word in words:
        assert word in text
    for word in absent:
        assert word not in text
    assert page.evaluate("document.documentElement.lang") == locale[:2]
    full_page_shot(page, f"language-{locale}-{viewport}")
    assert page.console_errors == []


def test_switching_language_changes_every_label_and_is_remembered(open_page, app_url, viewport):
    page = opened(open_page, app_url, viewport, "fr-FR")
    page.get_by_label("English").check()
    page.wait_for_selector("html[data-drawn=en]")
    text = visible_text(page)
    for word in ("Questions about your documents", "Send", "New conversation", "Index", "Document to remove",
                 "Click to Upload", "Examples", "title", "file", "language", "passages", "French"):
        assert word in text
    for word in ("Envoyer", "Déposez", "Cliquez", "Indexer", "Exemples", "titre", "fichier", "langue", "français"):
        assert word not in text
    assert page.locator("#question textarea").get_attribute("placeholder") == "Your question…"
    full_page_shot(page, f"switched-to-english-{viewport}")
    page.reload(wait_until="load")
    page.wait_for_selector("html[data-drawn=en]", timeout=60_000)
    assert "Drop File Here" in visible_text(page)
    page.get_by_label("Français").check()
    page.wait_for_selector("html[data-drawn=fr]")
    assert "Déposez le fichier ici" in visible_text(page)
    assert "Drop File Here" not in visible_text(page)
    assert page.console_errors == []


def test_an_unsupported_file_is_refused_in_the_interface_language(open_page, app_url, viewport, tmp_path):
    program = tmp_path / "outil.exe"
    program.write_bytes(b"MZ\x90\x00 not a document")
    page = opened(open_page, app_url, viewport, "fr-FR")
    choose_files(page, program)
    page.click("#index")
    status = page.locator("#documents-status")
    status.locator("text=/Refusé/").wait_for(timeout=60_000)
    assert "outil.exe : type de fichier non pris en charge (.exe)" in status.inner_text()
    assert "Invalid file type" not in visible_text(page)
    full_page_shot(page, f"refused-upload-{viewport}")
    assert page.console_errors == []


def test_an_answer_speaks_the_question_language_in_either_interface(open_page, app_url, viewport):
    page = opened(open_page, app_url, viewport, "en-US")
    page.fill("#question textarea", "Quelle est la recette de la tarte tatin ?")
    page.click("#send")
    answer = page.locator("#chat .answer.abstained")
    answer.wait_for(timeout=120_000)
    assert answer.inner_text().startswith("Pas de réponse dans les documents.")
    assert "No answer" not in answer.inner_text()
    assert page.locator("#send").inner_text() == "Send"
    full_page_shot(page, f"french-answer-english-interface-{viewport}")
    assert page.console_errors == []
