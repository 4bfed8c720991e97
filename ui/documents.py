"""The document panel: the indexed documents as a list to search; for admins, upload and removal.

The panel is drawn for every role and its management part shown to admins only; the
upload and remove handlers check the role again, since the chat's Gradio API can be
called without the page.
"""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import pandas as pd

from index.store.chroma import DocumentRecord
from qa.api.auth import Gate, may_change_documents
from qa.service import QAService
from ui.labels import I18N, LANGUAGE_NAMES, label, reason

# After an upload, bring the list (with the new document on top) into view.
SHOW_LIST = "() => document.querySelector('#documents')?.scrollIntoView({block: 'nearest', behavior: 'smooth'})"
FRESH_ROW = "background-color: #fff1a8; font-weight: 600"
TEXT_TYPES = {".txt": "type_text", ".md": "Markdown", ".markdown": "Markdown", ".html": "HTML", ".htm": "HTML",
              ".pdf": "PDF", ".docx": "Word", ".odt": "OpenDocument", ".epub": "EPUB"}


class DocumentPanel:
    """The panel's components and the handlers of its events."""

    def __init__(self, service: QAService, gate: Gate):
        self.service, self.gate = service, gate
        self.query = gr.State("")  # what the list is filtered by (kept out of the upload and remove API)
        documents = service.documents()
        with gr.Column(scale=1, min_width=320), gr.Accordion(I18N("documents"), open=True, elem_id="documents-box"):
            self.search = gr.Textbox(placeholder=I18N("search"), label=I18N("search"), show_label=False,
                                     container=False, elem_id="document-search")
            with gr.Column(elem_id="documents-scroll"):  # a narrow column scrolls the list sideways
                self.table = gr.Dataframe(value=_document_table(documents, "fr"), interactive=False,
                                          elem_id="documents", wrap=True, max_height=360, buttons=[],
                                          column_widths=["25%", "22%", "12%", "13%", "12%", "16%"])
            with gr.Column(visible=gate.is_open, elem_id="manage-documents") as self.manage:
                self._build_management(documents)
            self.status = gr.Markdown(elem_id="documents-status")

    def _build_management(self, documents: list[DocumentRecord]) -> None:
        """Upload and index files; choose a document to remove, then confirm."""
        self.files = gr.File(label=I18N("upload"), file_count="multiple", elem_id="upload")
        self.index_button = gr.Button(I18N("index"), elem_id="index")
        with gr.Row():
            self.to_remove = gr.Dropdown(choices=_removal_choices(documents), value=None, label=I18N("remove_which"),
                                         scale=3, min_width=200, elem_id="remove-which")
            self.remove_button = gr.Button(I18N("remove"), variant="stop", scale=1, min_width=100, elem_id="remove")
        with gr.Column(visible=False, elem_id="confirm-removal") as self.confirm_box:
            self.confirm_text = gr.Markdown(elem_id="confirm-text")
            with gr.Row():
                self.confirm = gr.Button(I18N("confirm_remove"), variant="stop", elem_id="confirm-remove")
                self.cancel = gr.Button(I18N("cancel"), elem_id="cancel-remove")

    def listen(self, ui_language: gr.State) -> None:
        """Index, search, and remove after a confirmation that names the document."""
        self.index_button.click(self.upload, [self.files, ui_language, self.query],
                                [self.status, self.table, self.to_remove, self.files],
                                concurrency_id="documents", concurrency_limit=1).then(None, js=SHOW_LIST)
        self.search.change(lambda text, lang: (text, _document_table(self.service.documents(), lang, query=text)),
                           [self.search, ui_language], [self.query, self.table], queue=False,
                           show_progress="hidden", trigger_mode="always_last")
        self.remove_button.click(self.ask_to_remove, [self.to_remove, ui_language],
                                 [self.status, self.confirm_box, self.confirm_text], queue=False)
        # The confirmation names the chosen document: choosing another one closes it.
        hide = (lambda: gr.update(visible=False), None, [self.confirm_box])
        self.cancel.click(*hide, queue=False)
        self.to_remove.input(*hide, queue=False)
        self.confirm.click(self.remove, [self.to_remove, ui_language, self.query],
                           [self.status, self.table, self.to_remove, self.confirm_box],
                           concurrency_id="documents", concurrency_limit=1)

    def in_language(self, lang: str, query: str, request: gr.Request) -> tuple:
        """Updates for `redrawn`: the list in `lang`, management for admins only, the drop zone hidden to redraw."""
        admin = self._is_admin(request)
        documents = self.service.documents()
        return (_document_table(documents, lang, query=query),
                gr.update(choices=_removal_choices(documents) if admin else [], value=None),
                gr.update(visible=admin),
                gr.update(visible=False))

    @property
    def redrawn(self) -> list[gr.components.Component]:
        """What `in_language` updates, in its order."""
        return [self.table, self.to_remove, self.manage, self.files]

    def upload(self, paths: list[str] | None, lang: str, query: str, request: gr.Request,
               progress=gr.Progress()):  # noqa: B008 - how Gradio hands a handler its progress bar
        """Index the files, then show the list with the new documents on top, highlighted."""
        if not self._is_admin(request):
            return label(lang, "forbidden"), gr.update(), gr.update(), None
        if not paths:
            return label(lang, "nothing"), gr.update(), gr.update(), None
        received = [(Path(p).name, Path(p).read_bytes()) for p in paths]
        indexing = label(lang, "indexing")
        progress(0, desc=indexing)
        outcome = self.service.add_documents(
            received, progress=lambda done, total: progress((done, max(total, 1)), desc=indexing, unit="chunks"))
        documents = self.service.documents()
        fresh = {doc_id for _, doc_id, _ in outcome.indexed}
        lines = []
        if fresh:
            names = ", ".join(label(lang, "indexed_one", title=_md(d.title), file=_md(_file(d)),
                                    chunks=_passages(lang, d.chunks))
                              for d in documents if d.doc_id in fresh)
            lines.append(label(lang, "indexed", names=names))
        if outcome.rejected:
            items = "; ".join(label(lang, "rejected_one", file=_md(r.filename), why=_md(reason(lang, r)))
                              for r in outcome.rejected)
            lines.append(label(lang, "rejected", items=items))
        return ("\n\n".join(lines), _document_table(documents, lang, fresh, query),
                gr.update(choices=_removal_choices(documents), value=None), None)

    def ask_to_remove(self, doc_id: str | None, lang: str, request: gr.Request):
        """The confirmation, naming the document and how many passages go with it."""
        record = self._record(doc_id)
        if not self._is_admin(request):
            return label(lang, "forbidden"), gr.update(visible=False), gr.update()
        if record is None:
            return label(lang, "nothing_to_remove" if not doc_id else "not_found"), gr.update(visible=False), \
                gr.update()
        question = label(lang, "confirm_question", title=_md(record.title), file=_md(_file(record)),
                         chunks=_passages(lang, record.chunks))
        return "", gr.update(visible=True), question

    def remove(self, doc_id: str | None, lang: str, query: str, request: gr.Request):
        """Remove the confirmed document, then show the list without it."""
        if not self._is_admin(request):
            return label(lang, "forbidden"), gr.update(), gr.update(), gr.update(visible=False)
        record = self._record(doc_id)
        removed = record is not None and self.service.remove_document(record.doc_id)
        message = label(lang, "removed", title=_md(record.title), file=_md(_file(record))) if removed \
            else label(lang, "not_found")
        documents = self.service.documents()
        return (message, _document_table(documents, lang, query=query),
                gr.update(choices=_removal_choices(documents), value=None), gr.update(visible=False))

    def _is_admin(self, request: gr.Request | None) -> bool:
        return may_change_documents(self.gate.role_of(dict(request.headers) if request else {}))

    def _record(self, doc_id: str | None) -> DocumentRecord | None:
        return next((d for d in self.service.documents() if d.doc_id == doc_id), None) if doc_id else None


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


def _removal_choices(documents: list[DocumentRecord]) -> list[tuple[str, str]]:
    return [(f"{d.title} — {_file(d)}", d.doc_id) for d in _by_title(documents)]


def _by_title(documents: list[DocumentRecord]) -> list[DocumentRecord]:
    return sorted(documents, key=lambda d: (d.title.casefold(), _file(d).casefold()))


def _file(record: DocumentRecord) -> str:
    return Path(record.source).name


def _type(record: DocumentRecord, lang: str) -> str:
    kind = TEXT_TYPES.get(Path(record.source).suffix.lower(), Path(record.source).suffix.lstrip(".").upper())
    return label(lang, kind) if kind.startswith("type_") else kind


def _language_name(code: str, lang: str) -> str:
    return label(lang, f"language_{code}") if code in LANGUAGE_NAMES else code


def _passages(lang: str, n: int) -> str:
    return label(lang, "passage" if n == 1 else "passages", n=n)


def _md(text: str) -> str:
    """Text from a document, safe inside Markdown: no markup, no HTML."""
    return html.escape(text).replace("`", "'").replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")
