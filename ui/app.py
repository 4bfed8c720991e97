"""The Gradio chat, mounted in the FastAPI app at "/".

Only presentation: every answer, document list, upload and removal goes through
the same QAService object the HTTP API uses, behind the same gate (`qa.auth`):
the chat shows document management to admins only, and its handlers check the
role again, since the chat's Gradio API can be called without the page.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from index.loaders import SUPPORTED_SUFFIXES
from qa.answer import Answer
from qa.auth import LOGOUT_PATH, Gate, may_change_documents
from qa.service import Delta, InvalidRequest, QAService
from ui.labels import label
from ui.render import CSS, answer_html, streaming_html

LANGUAGES = {"Français": "fr", "English": "en"}


def build_ui(service: QAService) -> gr.Blocks:
    settings = service.settings
    gate = Gate.from_settings(settings)

    def is_admin(request: gr.Request | None) -> bool:
        return may_change_documents(gate.role_of(dict(request.headers) if request else {}))

    with gr.Blocks(title="Grounded QA", analytics_enabled=False) as demo:
        ui_language = gr.State("fr")
        history = gr.State([])  # plain-text turns sent to the service for follow-ups

        with gr.Row():
            heading = gr.Markdown(_heading("fr", gate))
            language = gr.Radio(list(LANGUAGES), value="Français", label=label("fr", "language"), scale=0, min_width=240,
                                elem_id="ui-language", container=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(height=620, elem_id="chat", buttons=["copy"], feedback_options=None, show_label=False,
                                  latex_delimiters=[], group_consecutive_messages=False)
                with gr.Row():
                    question = gr.Textbox(placeholder=label("fr", "placeholder"), show_label=False, scale=5,
                                          elem_id="question", max_length=settings.max_question_chars, autofocus=True)
                    send = gr.Button(label("fr", "send"), variant="primary", scale=1, elem_id="send")
                new = gr.Button(label("fr", "new"), size="sm", elem_id="new-conversation")
                if asked := service.example_questions():
                    gr.Examples([[q] for q in asked], inputs=[question], label=label("fr", "examples"))
            with gr.Column(scale=2):
                with gr.Accordion(label("fr", "documents"), open=True) as documents_box:
                    table = gr.Dataframe(headers=label("fr", "columns"), value=lambda: _document_rows(service),
                                         interactive=False, elem_id="documents", wrap=True,
                                         column_widths=["36%", "44%", "20%"], max_height=320)
                    with gr.Column(visible=gate.is_open, elem_id="manage-documents") as manage:
                        files = gr.File(label=label("fr", "upload"), file_count="multiple",
                                        file_types=list(SUPPORTED_SUFFIXES), elem_id="upload")
                        index_button = gr.Button(label("fr", "index"), elem_id="index")
                        with gr.Row():
                            to_remove = gr.Dropdown(choices=_document_ids(service), label=label("fr", "remove_which"),
                                                    scale=3, elem_id="remove-which")
                            remove_button = gr.Button(label("fr", "remove"), variant="stop", scale=1, elem_id="remove")
                    status = gr.Markdown(elem_id="documents-status")

        def respond(text: str, messages: list, turns: list, lang: str):
            text = (text or "").strip()
            if not text:
                yield messages, turns, ""
                return
            messages = messages + [{"role": "user", "content": text}, {"role": "assistant", "content": streaming_html("")}]
            yield messages, turns, ""
            written = ""
            try:
                for event in service.ask_stream(text, history=turns):
                    if isinstance(event, Delta):
                        written += event.text
                        messages[-1] = {"role": "assistant", "content": streaming_html(written)}
                        yield messages, turns, ""
                    elif isinstance(event, Answer):
                        messages[-1] = {"role": "assistant", "content": answer_html(event, lang)}
                        turns = turns + [{"role": "user", "content": text}, {"role": "assistant", "content": event.answer}]
                        yield messages, turns[-settings.max_history_turns:], ""
            except InvalidRequest as exc:
                messages[-1] = {"role": "assistant", "content": _error(lang, str(exc))}
                yield messages, turns, ""
            except Exception as exc:  # shown to the person as a message, never as a traceback
                messages[-1] = {"role": "assistant", "content": _error(lang, type(exc).__name__)}
                yield messages, turns, ""

        for trigger in (send.click, question.submit):
            trigger(respond, [question, chat, history, ui_language], [chat, history, question],
                    concurrency_limit=settings.ui_concurrency, concurrency_id="answers")
        new.click(lambda: ([], [], ""), None, [chat, history, question], queue=False)

        def upload(paths: list[str] | None, lang: str, request: gr.Request, progress=gr.Progress()):
            if not is_admin(request):
                return label(lang, "forbidden"), gr.update(), gr.update(), None
            if not paths:
                return label(lang, "nothing"), gr.update(), gr.update(), None
            received = [(Path(p).name, Path(p).read_bytes()) for p in paths]
            progress(0, desc=label(lang, "indexing"))
            outcome = service.add_documents(
                received, progress=lambda done, total: progress((done, max(total, 1)), desc=label(lang, "indexing"), unit="chunks"))
            lines = []
            if outcome.indexed:
                lines.append(label(lang, "indexed", n=len(outcome.indexed), names=", ".join(d for _, d, _ in outcome.indexed)))
            if outcome.rejected:
                lines.append(label(lang, "rejected", items="; ".join(f"{name}: {why}" for name, why in outcome.rejected)))
            return "\n\n".join(lines), _document_rows(service), gr.update(choices=_document_ids(service)), None

        index_button.click(upload, [files, ui_language], [status, table, to_remove, files], concurrency_id="documents",
                           concurrency_limit=1)

        def remove(doc_id: str | None, lang: str, request: gr.Request):
            if not is_admin(request):
                return label(lang, "forbidden"), gr.update(), gr.update()
            if not doc_id:
                return label(lang, "nothing"), gr.update(), gr.update()
            removed = service.remove_document(doc_id)
            message = label(lang, "removed" if removed else "not_found", doc_id=doc_id)
            return message, _document_rows(service), gr.update(choices=_document_ids(service), value=None)

        remove_button.click(remove, [to_remove, ui_language], [status, table, to_remove], concurrency_id="documents",
                            concurrency_limit=1)

        def switch(choice: str):
            lang = LANGUAGES[choice]
            return (
                lang,
                _heading(lang, gate),
                gr.update(label=label(lang, "language")),
                gr.update(placeholder=label(lang, "placeholder")),
                gr.update(value=label(lang, "send")),
                gr.update(value=label(lang, "new")),
                gr.update(label=label(lang, "documents")),
                gr.update(headers=label(lang, "columns")),
                gr.update(label=label(lang, "upload")),
                gr.update(value=label(lang, "index")),
                gr.update(label=label(lang, "remove_which")),
                gr.update(value=label(lang, "remove")),
            )

        language.change(switch, [language], [ui_language, heading, language, question, send, new, documents_box, table,
                                             files, index_button, to_remove, remove_button], queue=False)
        def on_load(request: gr.Request):
            admin = is_admin(request)
            return _document_rows(service), gr.update(choices=_document_ids(service) if admin else []), \
                gr.update(visible=admin)

        demo.load(on_load, None, [table, to_remove, manage], queue=False)
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
    )


def _heading(lang: str, gate: Gate) -> str:
    signed_in = "" if gate.is_open else f" · [{label(lang, 'logout')}]({LOGOUT_PATH})"
    return f"## {label(lang, 'title')}\n{label(lang, 'subtitle')}{signed_in}"


def _error(lang: str, message: str) -> str:
    import html

    return f'<div class="answer abstained">{html.escape(label(lang, "error", message=message))}</div>'


def _document_rows(service: QAService) -> list[list]:
    return [[d.doc_id, d.title, d.chunks] for d in service.documents()]


def _document_ids(service: QAService) -> list[str]:
    return [d.doc_id for d in service.documents()]
