"""The Gradio chat, mounted in the FastAPI app at "/".

Only presentation: every answer, document list, upload and removal goes through
the same QAService object the HTTP API uses, behind the same gate (`qa.api.auth`):
the chat shows document management to admins only, and its handlers check the
role again, since the chat's Gradio API can be called without the page.
"""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import pandas as pd

from index.store.chroma import DocumentRecord
from qa.answer import Answer
from qa.api.auth import LOGOUT_PATH, Gate, may_change_documents
from qa.service import Delta, QAService, Stage
from qa.validation import InvalidRequest
from ui.labels import I18N, LANGUAGE_NAMES, label, pick_language, reason
from ui.render import CSS, answer_html, stopped_html, streaming_html

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
# After an upload, bring the list (with the new document on top) into view.
SHOW_LIST = "() => document.querySelector('#documents')?.scrollIntoView({block: 'nearest', behavior: 'smooth'})"
FRESH_ROW = "background-color: #fff1a8; font-weight: 600"
TEXT_TYPES = {".txt": "type_text", ".md": "Markdown", ".markdown": "Markdown", ".html": "HTML", ".htm": "HTML",
              ".pdf": "PDF", ".docx": "Word", ".odt": "OpenDocument", ".epub": "EPUB"}


def build_ui(service: QAService) -> gr.Blocks:
    settings = service.settings
    gate = Gate.from_settings(settings)

    def is_admin(request: gr.Request | None) -> bool:
        return may_change_documents(gate.role_of(dict(request.headers) if request else {}))

    with gr.Blocks(title="Grounded QA", analytics_enabled=False) as demo:
        ui_language = gr.State("fr")
        history = gr.State([])  # plain-text turns sent to the service for follow-ups
        query = gr.State("")  # what the document list is filtered by (kept out of the upload and remove API)

        with gr.Row(elem_id="top"):
            with gr.Column(scale=1, min_width=300, elem_id="heading"):
                heading = gr.Markdown(_heading("fr", gate))
            language = gr.Radio([(name, code) for code, name in LANGUAGE_NAMES.items()], value="fr",
                                label=I18N("language"), scale=0, min_width=240, elem_id="ui-language", container=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                chat = gr.Chatbot(height="min(620px, 68vh)", elem_id="chat", buttons=["copy"], feedback_options=None,
                                  show_label=False, latex_delimiters=[], group_consecutive_messages=False)
                with gr.Row():
                    question = gr.Textbox(placeholder=I18N("placeholder"), label=I18N("question"), show_label=False,
                                          scale=5, min_width=160,
                                          elem_id="question", max_length=settings.max_question_chars)
                    send = gr.Button(I18N("send"), variant="primary", scale=1, min_width=90, elem_id="send")
                    stop = gr.Button(I18N("stop"), variant="stop", scale=1, min_width=90, elem_id="stop", visible=False)
                new = gr.Button(I18N("new"), size="sm", elem_id="new-conversation")
                if asked := service.example_questions():
                    gr.Examples([[q] for q in asked], inputs=[question], label=I18N("examples"))
            with gr.Column(scale=1, min_width=320):  # noqa: SIM117 - nested like the page it draws
                with gr.Accordion(I18N("documents"), open=True, elem_id="documents-box"):
                    search = gr.Textbox(placeholder=I18N("search"), label=I18N("search"), show_label=False,
                                        container=False, elem_id="document-search")
                    with gr.Column(elem_id="documents-scroll"):  # a narrow column scrolls the list sideways
                        table = gr.Dataframe(value=_document_table(service.documents(), "fr"), interactive=False,
                                             elem_id="documents", wrap=True, max_height=360, buttons=[],
                                             column_widths=["25%", "22%", "12%", "13%", "12%", "16%"])
                    with gr.Column(visible=gate.is_open, elem_id="manage-documents") as manage:
                        files = gr.File(label=I18N("upload"), file_count="multiple", elem_id="upload")
                        index_button = gr.Button(I18N("index"), elem_id="index")
                        with gr.Row():
                            to_remove = gr.Dropdown(choices=_removal_choices(service.documents()), value=None,
                                                    label=I18N("remove_which"), scale=3, min_width=200,
                                                    elem_id="remove-which")
                            remove_button = gr.Button(I18N("remove"), variant="stop", scale=1, min_width=100,
                                                      elem_id="remove")
                        with gr.Column(visible=False, elem_id="confirm-removal") as confirm_box:
                            confirm_text = gr.Markdown(elem_id="confirm-text")
                            with gr.Row():
                                confirm = gr.Button(I18N("confirm_remove"), variant="stop", elem_id="confirm-remove")
                                cancel = gr.Button(I18N("cancel"), elem_id="cancel-remove")
                    status = gr.Markdown(elem_id="documents-status")

        # -- questions: the box stays editable; while an answer is made, Send is disabled and Stop cancels it
        def respond(text: str, messages: list, turns: list, lang: str):
            text = (text or "").strip()
            if not text:
                yield messages, turns, gr.update(), gr.update(), gr.update()
                return
            busy, idle, unchanged = (gr.update(interactive=False), gr.update(visible=True)), \
                (gr.update(interactive=True), gr.update(visible=False)), (gr.update(), gr.update())
            messages = messages + [{"role": "user", "content": text},
                                   {"role": "assistant", "content": streaming_html("", "searching", lang)}]
            yield messages, turns, "", *busy
            written, stage, evidence = "", "searching", ()
            try:
                for event in service.ask_stream(text, history=turns):
                    if isinstance(event, Answer):
                        messages[-1] = {"role": "assistant", "content": answer_html(event)}
                        turns = turns + [{"role": "user", "content": text},
                                         {"role": "assistant", "content": event.answer}]
                        yield messages, turns[-settings.max_history_turns:], gr.update(), *idle
                        continue
                    if isinstance(event, Stage):
                        stage, evidence = event.name, event.evidence or evidence
                    elif isinstance(event, Delta):
                        written += event.text
                    messages[-1] = {"role": "assistant", "content": streaming_html(written, stage, lang, evidence)}
                    yield messages, turns, gr.update(), *unchanged
            except InvalidRequest as exc:
                messages[-1] = {"role": "assistant", "content": _error(lang, str(exc))}
                yield messages, turns, gr.update(), *idle
            except Exception as exc:  # noqa: BLE001 - shown to the person as a message, never as a traceback
                messages[-1] = {"role": "assistant", "content": _error(lang, type(exc).__name__)}
                yield messages, turns, gr.update(), *idle

        answering = gr.on([send.click, question.submit], respond, [question, chat, history, ui_language],
                          [chat, history, question, send, stop], concurrency_limit=settings.ui_concurrency,
                          concurrency_id="answers", trigger_mode="once", show_progress="hidden")

        def stopped(messages: list, lang: str):
            if messages and messages[-1].get("role") == "assistant":
                messages = messages[:-1] + [{"role": "assistant", "content": stopped_html(lang)}]
            return messages, gr.update(interactive=True), gr.update(visible=False)

        stop.click(stopped, [chat, ui_language], [chat, send, stop], cancels=[answering], queue=False)
        new.click(lambda: ([], []), None, [chat, history], cancels=[answering], queue=False).then(
            lambda: (gr.update(interactive=True), gr.update(visible=False)), None, [send, stop], queue=False)

        # -- documents
        def upload(paths: list[str] | None, lang: str, query: str, request: gr.Request,
                   progress=gr.Progress()):  # noqa: B008 - how Gradio hands a handler its progress bar
            if not is_admin(request):
                return label(lang, "forbidden"), gr.update(), gr.update(), None
            if not paths:
                return label(lang, "nothing"), gr.update(), gr.update(), None
            received = [(Path(p).name, Path(p).read_bytes()) for p in paths]
            indexing = label(lang, "indexing")
            progress(0, desc=indexing)
            outcome = service.add_documents(
                received, progress=lambda done, total: progress((done, max(total, 1)), desc=indexing, unit="chunks"))
            documents = service.documents()
            fresh = {doc_id for _, doc_id, _ in outcome.indexed}
            lines = []
            if fresh:
                names = ", ".join(label(lang, "indexed_one", title=_md(d.title), file=_md(_file(d)),
                                        chunks=_passages(lang, d.chunks))
                                  for d in documents if d.doc_id in fresh)
                lines.append(label(lang, "indexed", names=names))
            if outcome.rejected:
                items = "; ".join(label(lang, "rejected_one", file=_md(name), why=reason(lang, why))
                                  for name, why in outcome.rejected)
                lines.append(label(lang, "rejected", items=items))
            return ("\n\n".join(lines), _document_table(documents, lang, fresh, query),
                    gr.update(choices=_removal_choices(documents), value=None), None)

        index_button.click(upload, [files, ui_language, query], [status, table, to_remove, files],
                           concurrency_id="documents", concurrency_limit=1).then(None, js=SHOW_LIST)
        search.change(lambda text, lang: (text, _document_table(service.documents(), lang, query=text)),
                      [search, ui_language], [query, table], queue=False, show_progress="hidden",
                      trigger_mode="always_last")

        def ask_to_remove(doc_id: str | None, lang: str, request: gr.Request):
            record = _record(service, doc_id)
            if not is_admin(request):
                return label(lang, "forbidden"), gr.update(visible=False), gr.update()
            if record is None:
                return label(lang, "nothing_to_remove" if not doc_id else "not_found"), gr.update(visible=False), \
                    gr.update()
            question = label(lang, "confirm_question", title=_md(record.title), file=_md(_file(record)),
                             chunks=_passages(lang, record.chunks))
            return "", gr.update(visible=True), question

        remove_button.click(ask_to_remove, [to_remove, ui_language], [status, confirm_box, confirm_text], queue=False)
        # The confirmation names the chosen document: choosing another one closes it.
        hide = (lambda: gr.update(visible=False), None, [confirm_box])
        cancel.click(*hide, queue=False)
        to_remove.input(*hide, queue=False)

        def remove(doc_id: str | None, lang: str, query: str, request: gr.Request):
            if not is_admin(request):
                return label(lang, "forbidden"), gr.update(), gr.update(), gr.update(visible=False)
            record = _record(service, doc_id)
            removed = record is not None and service.remove_document(record.doc_id)
            message = label(lang, "removed", title=_md(record.title), file=_md(_file(record))) if removed \
                else label(lang, "not_found")
            documents = service.documents()
            return (message, _document_table(documents, lang, query=query),
                    gr.update(choices=_removal_choices(documents), value=None), gr.update(visible=False))

        confirm.click(remove, [to_remove, ui_language, query], [status, table, to_remove, confirm_box],
                      concurrency_id="documents", concurrency_limit=1)

        # -- one interface language at a time: the browser's first, then the person's choice
        def show_language(lang: str, query: str, request: gr.Request):
            lang = lang if lang in LANGUAGE_NAMES else pick_language(request.headers.get("accept-language"))
            admin = is_admin(request)
            documents = service.documents()
            return (lang, lang, _heading(lang, gate), _document_table(documents, lang, query=query),
                    gr.update(choices=_removal_choices(documents) if admin else [], value=None),
                    gr.update(visible=admin),
                    gr.update(visible=False))

        # The drop zone writes Gradio's words once, when it is drawn: hidden, then drawn again in the new locale.
        shown = [ui_language, language, heading, table, to_remove, manage, files]
        redraw = (lambda: gr.update(visible=True), None, [files])
        quietly = {"queue": False, "show_progress": "hidden"}
        # Marks the page drawn in its language, for tests to wait on.
        drawn = "() => { document.documentElement.dataset.drawn = document.documentElement.lang; }"
        demo.load(show_language, [language, search], shown, js=ON_LOAD, **quietly).then(*redraw, **quietly).then(
            None, js=drawn, **quietly)
        language.input(show_language, [language, search], shown, js=SWITCH, **quietly).then(*redraw, **quietly).then(
            None, js=drawn, **quietly)
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    return demo


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


def _heading(lang: str, gate: Gate) -> str:
    signed_in = "" if gate.is_open else f" · [{label(lang, 'logout')}]({LOGOUT_PATH})"
    return f"## {label(lang, 'title')}\n{label(lang, 'subtitle')}{signed_in}"


def _error(lang: str, message: str) -> str:
    return f'<div class="answer abstained">{html.escape(label(lang, "error", message=message))}</div>'


def _file(record: DocumentRecord) -> str:
    return Path(record.source).name


def _md(text: str) -> str:
    """Text from a document, safe inside Markdown: no markup, no HTML."""
    return html.escape(text).replace("`", "'").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")


def _passages(lang: str, n: int) -> str:
    return label(lang, "passage" if n == 1 else "passages", n=n)


def _record(service: QAService, doc_id: str | None) -> DocumentRecord | None:
    return next((d for d in service.documents() if d.doc_id == doc_id), None) if doc_id else None


def _by_title(documents: list[DocumentRecord]) -> list[DocumentRecord]:
    return sorted(documents, key=lambda d: (d.title.casefold(), _file(d).casefold()))


def _document_table(documents: list[DocumentRecord], lang: str, fresh: set[str] = frozenset(), query: str = ""):
    """The documents by title whose row holds every word of `query`, headers in `lang`.

    Just-uploaded ones come first, highlighted, whatever the query: an upload is seen where it lands.
    """
    ordered = sorted(_by_title(documents), key=lambda d: d.doc_id not in fresh)
    rows = [[d.title, _file(d), _type(d, lang), d.date or "", _language_name(d.language, lang), d.chunks]
            for d in ordered]
    wanted = query.casefold().split()
    kept = [i for i, (d, row) in enumerate(zip(ordered, rows))
            if d.doc_id in fresh or all(w in " ".join(map(str, row)).casefold() for w in wanted)]
    ordered, rows = [ordered[i] for i in kept], [rows[i] for i in kept]
    frame = pd.DataFrame(rows, columns=label(lang, "columns"))
    if not fresh:
        return frame
    marks = [FRESH_ROW if d.doc_id in fresh else "" for d in ordered]
    return frame.style.apply(lambda row: [marks[row.name]] * len(row), axis=1)


def _type(record: DocumentRecord, lang: str) -> str:
    kind = TEXT_TYPES.get(Path(record.source).suffix.lower(), Path(record.source).suffix.lstrip(".").upper())
    return label(lang, kind) if kind.startswith("type_") else kind


def _language_name(code: str, lang: str) -> str:
    return label(lang, f"language_{code}") if code in LANGUAGE_NAMES else code


def _removal_choices(documents: list[DocumentRecord]) -> list[tuple[str, str]]:
    return [(f"{d.title} — {_file(d)}", d.doc_id) for d in _by_title(documents)]
