"""The answer object: one shape for the CLI, the HTTP API, the chat and the evaluation, and the events
that stream it (stages, then text deltas, then the answer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field


class Span(BaseModel):
    start: int
    end: int


class Citation(BaseModel):
    n: int = Field(description="The marker [n] used in the answer.")
    doc_id: str
    source: str
    title: str
    date: str | None = None
    text: str = Field(description="The cited passage.")
    start: int = Field(description="Offset of the passage in the source text.")
    end: int
    score: float
    highlights: list[Span] = Field(default_factory=list, description="Cited sentences, as offsets in the source text.")
    section: str | None = Field(None, description="The passage's heading path, e.g. \"Chapitre 6 › 6.4. Impression\".")
    page: int | None = Field(None, description="The page the passage starts on (PDF, 1-based).")
    page_end: int | None = Field(None, description="The page it ends on, when it runs over a page break.")


class AnswerSentence(BaseModel):
    text: str
    citations: list[int] = Field(default_factory=list)
    supported: bool = True


class Answer(BaseModel):
    question: str
    answer: str
    language: Literal["fr", "en"]
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    generator: str
    sentences: list[AnswerSentence] = Field(default_factory=list)
    standalone_question: str | None = Field(None, description="The follow-up question rewritten with its context.")
    notice: str | None = Field(None, description="Something the user should know, e.g. a fallback.")
    timings_ms: dict[str, float] = Field(default_factory=dict)


class SearchHit(BaseModel):
    """A retrieved passage, before any answer is written."""

    rank: int
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float


@dataclass
class Delta:
    """A piece of answer text, as it is produced."""

    text: str


@dataclass
class Stage:
    """What the service is doing before text arrives ("searching", "reading", "writing"), so a
    reader waiting on a slow model sees progress rather than a blank.  When a model writes,
    `evidence` holds the sentences it reads, so they can be shown at once."""

    name: str
    evidence: tuple[str, ...] = ()
