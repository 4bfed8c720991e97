"""Issue 18, items 1 and 6: documents people recognise, uploads seen where they land, no removal by accident.

Each test runs at 1280x900 and at 390x844 and saves a screenshot in test-artifacts/ui/.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import VIEWPORTS, choose_files, full_page_shot, opened, served_chat

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_url(indexed_copy):
    with served_chat(indexed_copy("ui-documents-index")) as url:
        yield url


@pytest.fixture
def page(open_page, app_url, viewport):
    page = opened(open_page, app_url, viewport, "fr-FR")
    yield page
    assert page.console_errors == []


def rows(page) -> list[list[str]]:
    return [[c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
            for row in page.locator("#documents .virtual-row").all()]


def upload(page, path):
    choose_files(page, path)
    page.click("#index")
    page.wait_for_selector(f"#documents-status:has-text('{path.name}')", timeout=120_000)


def test_the_list_shows_each_document_by_title_with_its_details(page, viewport):
    headers = [h.strip() for h in page.locator("#documents [role=columnheader]").all_inner_texts()]
    assert headers == ["titre", "fichier", "type", "date", "langue", "passages"]
    listed = rows(page)
    assert len(listed) == 5
    titles = [r[0] for r in listed]
    assert titles == sorted(titles, key=str.casefold)
    for title, file, kind, date, language, passages in listed:
        assert not re.fullmatch(r"\d{3}_[0-9a-f]{16}", title)  # a title, not an id
        assert re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", file)
        assert (kind, language) == ("Texte", "français") and int(passages) > 0
        assert date == "" or re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", date)
    page.fill("#document-search textarea", "board")
    page.wait_for_function("document.querySelectorAll('#documents .virtual-row').length === 2")
    assert all("board" in " ".join(r).casefold() for r in rows(page))
    full_page_shot(page, f"documents-search-{viewport}")


def test_an_upload_shows_its_progress_and_lands_in_view(page, viewport, tmp_path):
    note = tmp_path / f"phare-{viewport}.md"
    note.write_text(f"# Le phare de Valcourt ({viewport})\n\n"
                    + "\n\n".join(f"Le gardien note le passage du navire numéro {n} devant le phare, par temps clair."
                                  for n in range(60)))
    page.evaluate("""() => { window.sawProgress = false;
        new MutationObserver(() => { window.sawProgress ||= document.body.innerText.includes('Indexation'); })
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    upload(page, note)
    assert page.evaluate("window.sawProgress")
    status = page.locator("#documents-status").inner_text()
    assert re.search(rf"Ajouté : Le phare de Valcourt \({viewport}\) \(phare-{viewport}\.md, \d+ passages\)", status)
    first = page.locator("#documents .virtual-row").first
    assert first.inner_text().startswith(f"Le phare de Valcourt ({viewport})")
    assert "Markdown" in first.inner_text()
    highlighted = first.locator("[role=gridcell]").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert highlighted == "rgb(255, 241, 168)"
    page.wait_for_timeout(800)  # the list scrolls into view
    box, height = first.bounding_box(), VIEWPORTS[viewport][1]
    assert 0 <= box["y"] and box["y"] + box["height"] <= height
    full_page_shot(page, f"documents-uploaded-{viewport}")


def test_removal_asks_first_and_names_the_document(page, viewport, tmp_path):
    note = tmp_path / f"moulin-{viewport}.txt"
    note.write_text(f"Le moulin de Valcourt ({viewport}) tourne depuis 1820. Il moud du blé.")
    upload(page, note)
    title = f"Le moulin de Valcourt ({viewport}) tourne depuis 1820"
    choice = page.locator("#remove-which input")
    assert choice.input_value() == ""  # nothing preselected
    page.click("#remove")
    page.wait_for_selector("#documents-status:has-text('Choisissez d’abord le document à retirer')")
    assert any(r[1] == note.name for r in rows(page))

    choice.click()
    choice.fill("moulin")
    page.locator("#remove-which [role=option]", has_text=note.name).click()
    page.click("#remove")
    confirmation = page.locator("#confirm-removal").last
    confirmation.wait_for()
    assert title in confirmation.inner_text() and note.name in confirmation.inner_text()
    full_page_shot(page, f"documents-confirm-removal-{viewport}")
    page.click("#cancel-remove")
    confirmation.wait_for(state="hidden")
    assert any(r[1] == note.name for r in rows(page))

    page.click("#remove")
    confirmation.wait_for()
    page.click("#confirm-remove")
    page.wait_for_selector("#documents-status:has-text('Retiré')", timeout=60_000)
    assert f"Retiré : {title} ({note.name})." in page.locator("#documents-status").inner_text()
    assert not any(r[1] == note.name for r in rows(page))
    assert choice.input_value() == ""
    choice.click()
    assert page.locator("#remove-which [role=option]", has_text=note.name).count() == 0
