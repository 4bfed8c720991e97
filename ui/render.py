"""Answers as HTML for the chat: markers that link to source cards, highlighted spans.

Everything that comes from a document or a model is escaped here, so text in a
document is shown as text, never run as markup or script.
"""

from __future__ import annotations

import html
import re
import uuid

from qa.answer import Answer, Citation
from ui.labels import label

_MARKER = re.compile(r"\[(\d+)\]")


def streaming_html(text: str) -> str:
    """The answer while it is being written: plain, escaped."""
    return f'<div class="answer streaming">{html.escape(text)}<span class="cursor">▍</span></div>'


def answer_html(answer: Answer, ui_language: str) -> str:
    """The finished answer, then its numbered source cards."""
    if answer.abstained:
        body = f'<div class="answer abstained"><strong>{html.escape(label(ui_language, "abstained"))}</strong> {html.escape(answer.answer)}</div>'
        return body + _notice(answer)
    prefix = f"a{uuid.uuid4().hex[:8]}"  # card anchors unique to this answer
    sentences = answer.sentences or []
    if sentences:
        parts = [_sentence_html(s.text, s.supported, prefix, ui_language) for s in sentences]
        body = " ".join(parts)
    else:
        body = _link_markers(html.escape(answer.answer), prefix)
    cards = "".join(_card(c, prefix, ui_language) for c in answer.citations)
    sources = (f'<div class="sources"><div class="sources-title">{html.escape(label(ui_language, "sources"))}</div>{cards}</div>'
               if cards else "")
    return f'<div class="answer">{body}</div>{_notice(answer)}{sources}'


def _sentence_html(text: str, supported: bool, prefix: str, ui_language: str) -> str:
    inner = _link_markers(html.escape(text), prefix)
    if supported:
        return inner
    hint = html.escape(label(ui_language, "unsupported"))
    return f'<span class="unsupported" title="{hint}">{inner} <span class="flag" aria-label="{hint}">⚠</span></span>'


def _link_markers(escaped: str, prefix: str) -> str:
    return _MARKER.sub(lambda m: f'<a class="marker" href="#{prefix}-{m.group(1)}">[{m.group(1)}]</a>', escaped)


def _card(citation: Citation, prefix: str, ui_language: str) -> str:
    where = (citation.doc_id, citation.section or "", _pages(citation), citation.date or "")
    meta = " · ".join(html.escape(x) for x in where if x)
    return (
        f'<div class="source-card" id="{prefix}-{citation.n}">'
        f'<div class="source-head"><span class="source-n">[{citation.n}]</span> '
        f'<span class="source-title">{html.escape(citation.title)}</span></div>'
        f'<div class="source-meta">{meta}</div>'
        f'<blockquote class="source-text">{highlighted(citation)}</blockquote></div>'
    )


def _pages(citation: Citation) -> str:
    """The page label of a PDF passage: "p. 12", or "p. 12–13" when it runs over a page break."""
    if citation.page is None:
        return ""
    return f"p. {citation.page}" + (f"–{citation.page_end}" if citation.page_end else "")


EXCERPT_CONTEXT = 220  # characters shown around the cited sentences


def highlighted(citation: Citation) -> str:
    """The passage around its cited sentences, which are wrapped in <mark>."""
    spans = sorted((max(s.start, citation.start) - citation.start, min(s.end, citation.end) - citation.start)
                   for s in citation.highlights if s.end > citation.start and s.start < citation.end)
    text = citation.text
    first = max(0, spans[0][0] - EXCERPT_CONTEXT) if spans else 0
    last = min(len(text), spans[-1][1] + EXCERPT_CONTEXT) if spans else len(text)
    out, cursor = ["…" if first else ""], first
    for start, end in spans:
        start = max(start, cursor)
        if start >= end:
            continue
        out.append(html.escape(text[cursor:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        cursor = end
    out.append(html.escape(text[cursor:last]) + ("…" if last < len(text) else ""))
    return "".join(out).replace("\n", "<br>")


def _notice(answer: Answer) -> str:
    return f'<div class="notice">{html.escape(answer.notice)}</div>' if answer.notice else ""


CSS = """
.answer { line-height: 1.55; }
.answer.abstained { background: #fff7e6; border-left: 4px solid #f0a020; padding: 8px 12px; border-radius: 6px; }
.answer .marker { font-weight: 600; text-decoration: none; color: #2a5bd7; padding: 0 1px; }
.unsupported { text-decoration: underline dotted #c0392b; text-underline-offset: 3px; }
.unsupported .flag { color: #c0392b; font-size: 0.85em; }
.notice { margin-top: 6px; font-size: 0.85em; color: #8a5a00; font-style: italic; }
.sources { margin-top: 10px; display: flex; flex-direction: column; gap: 8px; }
.sources-title { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.05em; color: #667; }
.source-card { border: 1px solid #d8dde6; border-radius: 8px; padding: 8px 10px; background: #fafbfd; }
.source-card:target { border-color: #2a5bd7; box-shadow: 0 0 0 2px #2a5bd733; }
.source-head { font-weight: 600; font-size: 0.92em; line-height: 1.35; }
.source-n { color: #2a5bd7; }
.source-meta { font-size: 0.8em; color: #778; margin: 2px 0 4px; }
.source-text { margin: 0; font-size: 0.88em; color: #333; border: none; padding: 0; line-height: 1.5; }
.source-text mark { background: #fff1a8; padding: 0 1px; border-radius: 2px; }
.cursor { opacity: 0.6; }
#documents table, #documents td, #documents th, #documents span { font-family: var(--font) !important; font-size: 0.85rem; }
#ui-language { max-width: 260px; }
"""
