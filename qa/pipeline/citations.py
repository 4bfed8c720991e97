"""Reading and checking the [n] markers of an answer.

Every generator writes markers; this module splits an answer into sentences with
the markers that belong to them, drops markers that point to no passage, and
asks the support judge whether each sentence is backed by what it cites.  The
evaluation reads answers with the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.text.sentences import sentence_spans
from qa.answer import AnswerSentence, Citation, Span
from qa.pipeline.support.scorer import SupportScorer

if TYPE_CHECKING:
    from qa.generation.base import Passage

MARKER = re.compile(r"\s*\[(\d+)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+\])+")
_WORDS = re.compile(r"[^\W\d_]{2,}")
# A new sentence starts after a run of markers when a capital follows: "… » [1] Par ailleurs"
_AFTER_MARKERS = re.compile(r"(?<=\])\s+(?=[A-ZÀ-Ý«“])")


@dataclass(frozen=True)
class CitedSentence:
    text: str  # with its markers
    claim: str  # without them
    markers: list[int]


def markers_in(text: str) -> list[int]:
    return [int(n) for n in MARKER.findall(text)]


def drop_unknown_markers(text: str, known: set[int]) -> str:
    return MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in known else "", text)


def cited_sentences(text: str) -> list[CitedSentence]:
    """Sentences of an answer, each with the markers that follow it.

    A marker written after the full stop ("… Twitch. [1]") belongs to the sentence
    before it, not to the next one; markers followed by a capital end a sentence
    even without a full stop (quotes of headings do not end with one).
    """
    pieces = [piece[a:b] for piece in _AFTER_MARKERS.split(text) for a, b in sentence_spans(piece)]
    merged: list[str] = []
    for piece in pieces:
        leading = _LEADING_MARKERS.match(piece)
        if leading and merged:
            merged[-1] += " " + leading.group(0).strip()
            piece = piece[leading.end() :].strip()
        if piece:
            merged.append(piece)
    return [CitedSentence(s, MARKER.sub("", s).strip(), markers_in(s)) for s in merged]


def verify(
    text: str,
    passages: Mapping[int, Sequence[str]],
    judge: SupportScorer,
    question: str = "",
) -> tuple[str, list[AnswerSentence]]:
    """Check each sentence against the passages it cites.

    `passages` maps a marker to the sentences shown under it.  Markers to unknown
    passages are removed; a sentence with no marker gets the marker of a passage
    that supports it, if one does; unsupported sentences are flagged.  Returns the
    answer text and the per-sentence verdicts.
    """
    text = drop_unknown_markers(text, set(passages))
    verdicts: list[AnswerSentence] = []
    repaired = False
    for sentence in cited_sentences(text):
        markers = list(dict.fromkeys(sentence.markers))
        if not _WORDS.search(sentence.claim):  # list numbering, stray punctuation
            continue
        if markers:
            evidence = [s for n in markers for s in passages[n]]
            supported = judge.supports(sentence.claim, evidence, context=question)
            written = sentence.text
        else:
            markers = [n for n, shown in passages.items()
                       if judge.supports(sentence.claim, shown, context=question)][:1]
            supported = bool(markers)
            written = sentence.text + "".join(f" [{n}]" for n in markers)
            repaired |= supported
        verdicts.append(AnswerSentence(text=written, citations=markers, supported=supported))
    return (" ".join(v.text for v in verdicts) if repaired else text), verdicts


def verify_as_written(
    pieces: Iterable[str],
    passages: Mapping[int, Sequence[str]],
    judge: SupportScorer,
    question: str = "",
) -> Iterator[AnswerSentence]:
    """The verdict on each sentence of a text being written, as soon as the sentence is complete.

    A sentence is complete once the next one has begun with a word: markers written
    after its full stop ("… Twitch. [1]") still belong to it until then.  The last
    sentence is judged when the writing ends.
    """
    written, judged = "", 0
    for piece in pieces:
        written += piece
        sentences = cited_sentences(written)
        complete = max((i for i, s in enumerate(sentences) if _WORDS.search(s.claim)), default=0)
        for sentence in sentences[judged:complete]:
            yield from verify(sentence.text, passages, judge, question)[1]
        judged = max(judged, complete)
    for sentence in cited_sentences(written)[judged:]:
        yield from verify(sentence.text, passages, judge, question)[1]


def citations_for(text: str, passages: Sequence[Passage]) -> list[Citation]:
    """The passages the text actually cites, in marker order, with where they are in their document."""
    cited = set(markers_in(text))
    return [_citation(p) for p in passages if p.n in cited]


def _citation(passage: Passage) -> Citation:
    meta = passage.node.metadata
    page = meta.get("page")
    return Citation(
        n=passage.n,
        doc_id=meta["doc_id"],
        source=meta["source"],
        title=meta["title"],
        date=meta.get("date") or None,
        text=passage.node.text,
        start=meta["start"],
        end=meta["end"],
        score=round(max(e.score for e in passage.evidence), 4),
        highlights=[Span(start=e.sentence.start, end=e.sentence.end) for e in passage.evidence],
        section=meta.get("section") or None,
        page=page,
        page_end=meta.get("page_end") if page is not None and meta.get("page_end") != page else None,
    )
