"""Answer generators: they turn numbered passages into cited prose.

A generator sees only the evidence the service chose, grouped into numbered
passages, and writes text with [n] markers.  Everything else (retrieval,
abstention, verification, citation objects) stays in the pipeline, so generators
are small and interchangeable; what the pipeline must treat differently from one
generator to the next is said by the generator itself (see `AnswerGenerator`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from llama_index.core.schema import TextNode

from qa.phrases import phrase
from qa.pipeline.evidence import QUOTED_SENTENCES, Evidence
from qa.pipeline.followup import carry_over


@dataclass
class Passage:
    """A retrieved chunk shown to the generator under marker [n]."""

    n: int
    node: TextNode
    evidence: list[Evidence] = field(default_factory=list)


class GeneratorUnavailable(Exception):
    """The generator cannot answer right now (server down, timeout, rate limit)."""


class AnswerGenerator(Protocol):
    """What the pipeline asks of a generator: where generators differ, each says so here."""

    name: str
    evidence_sentences: int
    """How many of the best sentences it reads."""
    verbatim: bool
    """Whether it writes the documents' own words.  A quote the verifier does not confirm may then
    be shown, flagged (unless strict), where a sentence of its own would be a claim; and there is
    nothing to show ahead of its text, which is the evidence itself."""
    fallback: str | None
    """The generator that answers when this one cannot, before anything was sent (None: none)."""

    def stream(self, question: str, language: str, passages: list[Passage]) -> Iterator[str]:
        """Yield the answer text as it is produced, with [n] markers."""
        ...

    def reads(self, passages: Sequence[Passage]) -> dict[int, list[str]]:
        """The sentences it reads under each marker: what its sentences are verified against."""
        ...

    def rewrite(self, question: str, history: Sequence[dict]) -> str:
        """The follow-up `question` made standalone with the conversation."""
        ...


class ExtractiveGenerator:
    """Quotes the best source sentences verbatim, framed in the question's language.

    No model, no network: the fastest answer, and every word of the quotes is in
    the sources.
    """

    name = "extractive"
    evidence_sentences = QUOTED_SENTENCES  # quotes stay short
    verbatim = True
    fallback = None

    def stream(self, question: str, language: str, passages: list[Passage]) -> Iterator[str]:
        opening, closing = phrase(language, "quote")
        ordered = sorted(((e, p.n) for p in passages for e in p.evidence), key=lambda item: -item[0].score)
        for position, (evidence, n) in enumerate(ordered):
            lead = phrase(language, "lead" if position == 0 else "also")
            yield f"{' ' if position else ''}{lead} {opening}{_clean(evidence.sentence.text)}{closing} [{n}]"

    def reads(self, passages: Sequence[Passage]) -> dict[int, list[str]]:
        return {p.n: [e.sentence.text for e in p.evidence] for p in passages}

    def rewrite(self, question: str, history: Sequence[dict]) -> str:
        """Without a model, the names and figures of the previous question are carried over."""
        return carry_over(question, history)


def _clean(sentence: str) -> str:
    """Sentence text fit for quoting inside other quotes."""
    return " ".join(sentence.split()).strip("«»“” ")
