"""The Gradio chat, mounted in the FastAPI app at "/".

Only presentation: every answer, document list, upload and removal goes through
the same QAService object the HTTP API uses, behind the same gate (`qa.api.auth`):
the chat shows document management to admins only, and its handlers check the
role again, since the chat's Gradio API can be called without the page.

The page is a top bar (title, interface language), the conversation
(`ui/conversation.py`) and the document panel (`ui/documents.py`). Gradio names
each event's endpoint in that API after its handler (/respond, /upload, /remove…),
so a handler's name and parameters are part of the chat's API.
"""

from __future__ import annotations

import gradio as gr

from qa.api.auth import LOGOUT_PATH, Gate
from qa.service import QAService
from ui.conversation import Conversation
from ui.documents import DocumentPanel
from ui.labels import I18N, LANGUAGE_NAMES, label, pick_language
from ui.render import CSS

# Gradio translates its own words (drop zone, "Examples", column menus) in the browser; its locale
# is switched through `changeLocale`, which its core module exports, so they follow our switch.
# The choice is remembered in the browser; without one, the browser's language decides.
SET_LOCALE = """
async (lang) => {
  const core = performance.getEntriesByType("resource").map(e => e.name)
    .find(name => /\\/assets\\/core-[\\w-]+\\.js$/.test(name));
  if (core) (await import(core)).changeLocale(lang);
  document.documentElement.lang = lang;
  delete document.documentElement.dataset.drawn;
  return lang;
}
"""
# The page opens at the top: no autofocus, which scrolled a phone down to the question box.
ON_LOAD = f"""
async (_, query) => {{
  const lang = [localStorage.getItem("qa-language"), ...(navigator.languages || [navigator.language])]
    .map(l => (l || "").slice(0, 2).toLowerCase()).find(l => l === "fr" || l === "en") || "en";
  window.scrollTo(0, 0);
  return [await ({SET_LOCALE})(lang), query];
}}
"""
SWITCH = f"""
async (lang, query) => {{
  localStorage.setItem("qa-language", lang);
  return [await ({SET_LOCALE})(lang), query];
}}
"""
# Marks the page drawn in its language, for tests to wait on.
DRAWN = "() => { document.documentElement.dataset.drawn = document.documentElement.lang; }"


def build_ui(service: QAService) -> gr.Blocks:
    """The page: the top bar, then the conversation beside the document panel, all in one interface language."""
    settings = service.settings
    gate = Gate.from_settings(settings)
    with gr.Blocks(title="Grounded QA", analytics_enabled=False) as demo:
        ui_language = gr.State("fr")
        heading, language = _top_bar(gate)
        with gr.Row(equal_height=False):
            conversation = Conversation(service)
            documents = DocumentPanel(service, gate)
        conversation.listen(ui_language)
        documents.listen(ui_language)
        _follow_language(demo, gate, ui_language, heading, language, documents)
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    return demo


def _top_bar(gate: Gate) -> tuple[gr.Markdown, gr.Radio]:
    """The title (with a sign-out link behind a key) and the interface language switch."""
    with gr.Row(elem_id="top"):
        with gr.Column(scale=1, min_width=300, elem_id="heading"):
            heading = gr.Markdown(_heading("fr", gate))
        language = gr.Radio([(name, code) for code, name in LANGUAGE_NAMES.items()], value="fr",
                            label=I18N("language"), scale=0, min_width=240, elem_id="ui-language", container=False)
    return heading, language


def _follow_language(demo: gr.Blocks, gate: Gate, ui_language: gr.State, heading: gr.Markdown, language: gr.Radio,
                     documents: DocumentPanel) -> None:
    """One interface language at a time: the browser's first, then the person's choice."""

    def show_language(lang: str, query: str, request: gr.Request):
        lang = lang if lang in LANGUAGE_NAMES else pick_language(request.headers.get("accept-language"))
        return lang, lang, _heading(lang, gate), *documents.in_language(lang, query, request)

    shown = [ui_language, language, heading, *documents.redrawn]
    # The drop zone writes Gradio's words once, when it is drawn: hidden, then drawn again in the new locale.
    redraw = (lambda: gr.update(visible=True), None, [documents.files])
    quietly = {"queue": False, "show_progress": "hidden"}
    demo.load(show_language, [language, documents.search], shown, js=ON_LOAD, **quietly).then(
        *redraw, **quietly).then(None, js=DRAWN, **quietly)
    language.input(show_language, [language, documents.search], shown, js=SWITCH, **quietly).then(
        *redraw, **quietly).then(None, js=DRAWN, **quietly)


def _heading(lang: str, gate: Gate) -> str:
    signed_in = "" if gate.is_open else f" · [{label(lang, 'logout')}]({LOGOUT_PATH})"
    return f"## {label(lang, 'title')}\n{label(lang, 'subtitle')}{signed_in}"


def mount(app, service: QAService):
    """Serve the chat at "/" beside the API routes already on `app`."""
    return gr.mount_gradio_app(
        app,
        build_ui(service),
        path="/",
        footer_links=[],
        max_file_size=service.settings.max_upload_bytes,
        ssr_mode=False,
        enable_monitoring=False,
        css=CSS,
        i18n=I18N,
    )
