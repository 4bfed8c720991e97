"""Answer generators: they turn numbered passages into cited prose.

A generator sees only the evidence the service chose, grouped into numbered
passages, and writes text with [n] markers.  Everything else (retrieval,
abstention, citation objects) stays in the service, so generators are small and
interchangeable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from llama_index.core.schema import TextNode

from qa.phrases import phrase
from qa.pipeline.evidence import Evidence


@dataclass
class Passage:
    """A retrieved chunk shown to the generator under marker [n]."""

    n: int
    node: TextNode
    evidence: list[Evidence] = field(default_factory=list)


class GeneratorUnavailable(Exception):
    """The generator cannot answer right now (server down, timeout, rate limit)."""


class AnswerGenerator(Protocol):
    name: str

    def stream(self, question: str, language: str, passages: list[Passage]) -> Iterator[str]:
        """Yield the answer text as it is produced, with [n] markers."""
        ...


class ExtractiveGenerator:
    """Quotes the best source sentences verbatim, framed in the question's language.

    No model, no network: the fastest answer, and every word of the quotes is in
    the sources.
    """

    name = "extractive"

    def stream(self, question: str, language: str, passages: list[Passage]) -> Iterator[str]:
        opening, closing = phrase(language, "quote")
        ordered = sorted(((e, p.n) for p in passages for e in p.evidence), key=lambda item: -item[0].score)
        for position, (evidence, n) in enumerate(ordered):
            lead = phrase(language, "lead" if position == 0 else "also")
            yield f"{' ' if position else ''}{lead} {opening}{_clean(evidence.sentence.text)}{closing} [{n}]"


def _clean(sentence: str) -> str:
    """Sentence text fit for quoting inside other quotes."""
    return " ".join(sentence.split()).strip("«»“” ")
