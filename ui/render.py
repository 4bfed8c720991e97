"""Answers as HTML for the chat: markers that link to source cards, highlighted spans.

Everything that comes from a document or a model is escaped here, so text in a
document is shown as text, never run as markup or script.  Words inside an
answer (its abstention heading, "Sources") follow the answer's language, which
is the question's, so one bubble never mixes two languages.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

from qa.answer import Answer, Citation
from ui.labels import label

_MARKER = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"\w{3,}")
STAGES = ("searching", "reading", "writing")


def streaming_html(text: str, stage: str, ui_language: str, evidence: Sequence[str] = ()) -> str:
    """The answer while it is being prepared: the stage reached, the passages a model is reading
    (quotes to read while it writes), then the text written so far."""
    steps = []
    for name in STAGES:
        state = "done" if STAGES.index(name) < STAGES.index(stage) else "current" if name == stage else "todo"
        steps.append(f'<li class="stage {state} stage-{name}">{html.escape(label(ui_language, name))}</li>')
    read = "".join(f"<blockquote>{html.escape(' '.join(sentence.split()))}</blockquote>" for sentence in evidence)
    read = f'<div class="evidence-read">{read}</div>' if read else ""
    written = f'<div class="written">{html.escape(text)}<span class="cursor">▍</span></div>' if text else ""
    return (f'<div class="answer streaming"><ol class="stages" aria-live="polite">{"".join(steps)}</ol>'
            f"{read}{written}</div>")


def stopped_html(ui_language: str) -> str:
    return f'<div class="answer stopped">{html.escape(label(ui_language, "stopped"))}</div>'


def answer_html(answer: Answer) -> str:
    """The finished answer, then its source cards, numbered 1, 2… in the order the answer cites them."""
    language = answer.language
    if answer.abstained:
        heading = html.escape(label(language, "abstained"))
        body = f'<div class="answer abstained"><strong>{heading}</strong> {html.escape(answer.answer)}</div>'
        return body + _notice(answer)
    prefix = f"a{uuid.uuid4().hex[:8]}"  # card anchors unique to this answer
    shown = {n: i for i, n in enumerate(dict.fromkeys(int(m) for m in _MARKER.findall(answer.answer)), start=1)}
    sentences = answer.sentences or []
    if sentences:
        body = " ".join(_sentence_html(s.text, s.supported, prefix, shown, language) for s in sentences)
    else:
        body = _link_markers(html.escape(answer.answer), prefix, shown)
    quoted = {c.n: [s.text for s in sentences if c.n in s.citations] for c in answer.citations}
    cited = sorted((c for c in answer.citations if c.n in shown), key=lambda c: shown[c.n])
    cards = "".join(_card(c, shown[c.n], quoted[c.n], prefix) for c in cited)
    title = html.escape(label(language, "sources"))
    sources = f'<div class="sources"><div class="sources-title">{title}</div>{cards}</div>' if cards else ""
    return f'<div class="answer">{body}</div>{_notice(answer)}{sources}'


def _sentence_html(text: str, supported: bool, prefix: str, shown: dict[int, int], language: str) -> str:
    inner = _link_markers(html.escape(text), prefix, shown)
    if supported:
        return inner
    hint = html.escape(label(language, "unsupported"))
    return f'<span class="unsupported" title="{hint}">{inner} <span class="flag" aria-label="{hint}">⚠</span></span>'


def _link_markers(escaped: str, prefix: str, shown: dict[int, int]) -> str:
    def link(m: re.Match) -> str:
        n = shown.get(int(m.group(1)))
        return f'<a class="marker" href="#{prefix}-{n}">[{n}]</a>' if n else ""

    return _MARKER.sub(link, escaped)


def _card(citation: Citation, n: int, quoted: list[str], prefix: str) -> str:
    where = (Path(citation.source).name, citation.section or "", _pages(citation), citation.date or "")
    meta = " · ".join(html.escape(x) for x in where if x)
    return (
        f'<div class="source-card" id="{prefix}-{n}">'
        f'<div class="source-head"><span class="source-n">[{n}]</span> '
        f'<span class="source-title">{html.escape(citation.title)}</span></div>'
        f'<div class="source-meta">{meta}</div>'
        f'<blockquote class="source-text">{highlighted(citation, quoted)}</blockquote></div>'
    )


def _pages(citation: Citation) -> str:
    """The page label of a PDF passage: "p. 12", or "p. 12–13" when it runs over a page break."""
    if citation.page is None:
        return ""
    return f"p. {citation.page}" + (f"–{citation.page_end}" if citation.page_end else "")


EXCERPT_CONTEXT = 220  # characters shown on each side of the cited sentence


def highlighted(citation: Citation, quoted: Sequence[str] = ()) -> str:
    """The passage around the sentence the answer cites, which is wrapped in <mark>.

    Of the passage's evidence sentences, those the answer's citing sentences repeat
    are marked; the excerpt is centred on the first of them, so the sentence that
    answers is never cut away while a neighbouring one is shown.
    """
    text = citation.text
    spans = sorted((max(s.start, citation.start) - citation.start, min(s.end, citation.end) - citation.start)
                   for s in citation.highlights if s.end > citation.start and s.start < citation.end)
    spans = _cited(spans, text, quoted)
    if not spans:
        return _lines(html.escape(text))
    first = _word_boundary(text, max(0, spans[0][0] - EXCERPT_CONTEXT), backwards=True)
    last = _word_boundary(text, min(len(text), spans[0][1] + EXCERPT_CONTEXT), backwards=False)
    out, cursor = ["…" if first else ""], first
    for start, end in spans:
        start, end = max(start, cursor), min(end, last)
        if start >= end:
            continue
        out.append(html.escape(text[cursor:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        cursor = end
    out.append(html.escape(text[cursor:last]) + ("…" if last < len(text) else ""))
    return _lines("".join(out))


def _lines(escaped: str) -> str:
    """Line breaks as <br>, one for a run of blank lines, none before or after the excerpt."""
    return re.sub(r"\s*\n\s*", "<br>", escaped.strip())


def _cited(spans: list[tuple[int, int]], text: str, quoted: Sequence[str]) -> list[tuple[int, int]]:
    """The spans an answer sentence repeats (the closest one at least), in text order.

    A span counts when most of its words are in one citing sentence and make up most of
    that sentence: a heading whose two words the answer also uses is not what it quotes.
    """
    said = [words for sentence in quoted if (words := _words(sentence))]
    if not spans or not said:
        return spans

    def match(span: tuple[int, int]) -> float:
        words = _words(text[span[0]:span[1]])
        return max(min(len(words & s) / max(len(words), 1), len(words & s) / len(s)) for s in said)

    best = max(spans, key=match)
    return [s for s in spans if s == best or match(s) >= 0.6]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _word_boundary(text: str, at: int, backwards: bool) -> int:
    """`at` moved to the nearest space, so an excerpt never starts or ends inside a word."""
    if at <= 0 or at >= len(text):
        return at
    found = text.rfind(" ", 0, at) if backwards else text.find(" ", at)
    return at if found == -1 else found + (1 if backwards else 0)


def _notice(answer: Answer) -> str:
    return f'<div class="notice">{html.escape(answer.notice)}</div>' if answer.notice else ""


CSS = """
.answer { line-height: 1.55; }
.answer.abstained { background: #fff7e6; border-left: 4px solid #f0a020; padding: 8px 12px; border-radius: 6px; }
.answer.stopped { color: #667; font-style: italic; }
.answer .marker { font-weight: 600; text-decoration: none; color: #2a5bd7; padding: 0 1px; }
.stages { list-style: none; margin: 0 0 6px; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
.stages { font-size: 0.9em; }
.evidence-read blockquote { margin: 4px 0; padding: 2px 8px; border-left: 3px solid #d4d4d8; color: #52525b;
  font-size: 0.9em; }
.stage.todo { color: #99a; }
.stage.done { color: #4a7; }
.stage.done::before { content: "✓ "; }
.stage.current { color: #2a5bd7; font-weight: 600; }
.stage.current::before { content: "● "; animation: pulse 1s ease-in-out infinite alternate; }
@keyframes pulse { from { opacity: 1; } to { opacity: 0.2; } }
.unsupported { text-decoration: underline dotted #c0392b; text-underline-offset: 3px; }
.unsupported .flag { color: #c0392b; font-size: 0.85em; }
.notice { margin-top: 6px; font-size: 0.85em; color: #8a5a00; font-style: italic; }
.sources { margin-top: 10px; display: flex; flex-direction: column; gap: 8px; }
.sources-title { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.05em; color: #667; }
.source-card { border: 1px solid #d8dde6; border-radius: 8px; padding: 8px 10px; background: #fafbfd; }
.source-card:target { border-color: #2a5bd7; box-shadow: 0 0 0 2px #2a5bd733; }
.source-head { font-weight: 600; font-size: 0.92em; line-height: 1.35; }
.source-n { color: #2a5bd7; }
.source-meta { font-size: 0.8em; color: #778; margin: 2px 0 4px; overflow-wrap: anywhere; }
.source-text { margin: 0; font-size: 0.88em; color: #333; border: none; padding: 0; line-height: 1.5; }
.source-text mark { background: #fff1a8; padding: 0 1px; border-radius: 2px; }
.cursor { opacity: 0.6; }
#documents table, #documents td, #documents th, #documents span { font-family: var(--font) !important; }
#documents table, #documents td, #documents th, #documents span { font-size: 0.85rem; }
#documents th, #documents th span { word-break: normal !important; overflow-wrap: normal !important; }
#documents [role=gridcell], #documents [role=gridcell] * { word-break: normal !important; }
#documents [role=gridcell], #documents [role=gridcell] * { overflow-wrap: break-word !important; }
#confirm-removal { border: 2px solid #e0474c; border-radius: 8px; padding: 8px 10px; background: #fff5f5; }
#documents-scroll { overflow-x: auto; }  /* six columns need 560 px: narrower, the list scrolls sideways */
#documents { min-width: 560px !important; }
#heading { min-width: min(100%, 300px); }
#heading h2 { margin-bottom: 4px; }
#ui-language { max-width: 260px; }
#send:disabled { opacity: 0.45; cursor: not-allowed; }
"""
