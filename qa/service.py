"""The question-answering service: the one object the CLI, HTTP API and chat call.

ask = validate -> retrieve (hybrid) -> score sentences -> abstain or pick evidence
-> generate with [n] markers -> attach the cited passages.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.indexer import IndexReport
from index.language import detect_language
from index.store import DocumentRecord
from qa.abstention import AbstentionModel, evidence_features
from qa.answer import Answer, Citation, SearchHit, Span
from qa.components import IndexParts, build_index
from qa.evidence import Evidence, score_sentences, select_evidence
from qa.generators import AnswerGenerator, ExtractiveGenerator, Passage
from qa.phrases import phrase
from qa.retrieval import HybridRetriever
from qa.settings import Settings

MARKER = re.compile(r"\[(\d+)\]")


class InvalidRequest(ValueError):
    """A request the service refuses; the message is meant for the user."""

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.code = code


# Fitted by `python -m eval.calibrate` on eval/sets/calibration.jsonl (bundled e5 embedder).
CALIBRATED_ABSTENTION = AbstentionModel(weights=(-7.8168, 3.867, -0.2502), bias=6.3801, threshold=0.4674)


@dataclass
class Delta:
    """A piece of answer text, as it is produced."""

    text: str


class QAService:
    def __init__(
        self,
        parts: IndexParts,
        generators: dict[str, AnswerGenerator],
        abstention: AbstentionModel = CALIBRATED_ABSTENTION,
    ):
        self.parts = parts
        self.settings = parts.settings
        self.generators = generators
        self.abstention = abstention
        self.retriever = HybridRetriever(
            parts.store,
            parts.keyword,
            parts.embed_model,
            candidates=self.settings.candidates,
            max_top_k=self.settings.max_top_k,
            before_search=parts.indexer.refresh_keyword_index,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> QAService:
        settings = settings or Settings()
        return cls(build_index(settings), {"extractive": ExtractiveGenerator()})

    # -- questions -----------------------------------------------------------------------
    def ask(self, question: str, top_k: int | None = None, generator: str | None = None) -> Answer:
        for event in self.ask_stream(question, top_k, generator):
            if isinstance(event, Answer):
                return event
        raise RuntimeError("the answer stream ended without an answer")

    def ask_stream(self, question: str, top_k: int | None = None, generator: str | None = None) -> Iterator[Delta | Answer]:
        """Yield text deltas as the generator writes, then the complete Answer."""
        started = time.perf_counter()
        question = self._valid_question(question)
        top_k = self._valid_top_k(top_k)
        chosen = self._generator(generator)
        language = detect_language(question)
        timings: dict[str, float] = {}

        scored = self._scored_sentences(question, top_k)
        timings["retrieval"] = _ms(started)

        features = evidence_features(question, language, scored[0] if scored else None, self.parts.keyword)
        if self.abstention.abstains(features):
            text = phrase(language, "abstain")
            yield Delta(text)
            yield Answer(question=question, answer=text, language=language, abstained=True, generator=chosen.name,
                         timings_ms={**timings, "total": _ms(started)})
            return

        passages = _number_passages(select_evidence(scored))
        generation_started = time.perf_counter()
        parts: list[str] = []
        for piece in chosen.stream(question, language, passages):
            parts.append(piece)
            yield Delta(piece)
        text = "".join(parts)
        timings["generation"] = _ms(generation_started)
        timings["total"] = _ms(started)
        yield Answer(
            question=question,
            answer=text,
            language=language,
            abstained=False,
            citations=_citations(text, passages),
            generator=chosen.name,
            timings_ms=timings,
        )

    def abstention_features(self, question: str) -> tuple[float, float, float]:
        """What the abstention decision sees for `question` (for calibration)."""
        question = self._valid_question(question)
        scored = self._scored_sentences(question, self.settings.top_k)
        return evidence_features(question, detect_language(question), scored[0] if scored else None, self.parts.keyword)

    def _scored_sentences(self, question: str, top_k: int) -> list[Evidence]:
        retrieved = self.retriever.retrieve(question, top_k)
        sentences = self.parts.store.sentences_of([hit.node for hit in retrieved.nodes])
        return score_sentences(question, retrieved.query_vector, retrieved.nodes, sentences)

    def search(self, question: str, top_k: int | None = None) -> list[SearchHit]:
        """The passages retrieval finds for a question, best first."""
        retrieved = self.retriever.retrieve(self._valid_question(question), self._valid_top_k(top_k))
        return [
            SearchHit(
                rank=rank,
                doc_id=hit.node.metadata["doc_id"],
                source=hit.node.metadata["source"],
                title=hit.node.metadata["title"],
                text=hit.node.text,
                start=hit.node.metadata["start"],
                end=hit.node.metadata["end"],
                score=round(hit.score or 0.0, 4),
            )
            for rank, hit in enumerate(retrieved.nodes, start=1)
        ]

    # -- documents -----------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        return self.parts.store.documents()

    def index_folder(self, folder: Path, progress=None) -> IndexReport:
        return self.parts.indexer.index_folder(folder, progress)

    def health(self) -> dict:
        documents = self.documents()
        return {
            "status": "ok",
            "documents": len(documents),
            "chunks": sum(d.chunks for d in documents),
            "generators": sorted(self.generators),
        }

    # -- validation ----------------------------------------------------------------------
    def _valid_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise InvalidRequest("the question must be a string")
        question = question.replace("\x00", "").strip()
        if not question:
            raise InvalidRequest("the question is empty", "empty_question")
        if len(question) > self.settings.max_question_chars:
            raise InvalidRequest(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}",
                "question_too_long",
            )
        return question

    def _valid_top_k(self, top_k: int | None) -> int:
        if top_k is None:
            return self.settings.top_k
        if not 1 <= top_k <= self.settings.max_top_k:
            raise InvalidRequest(f"top_k must be between 1 and {self.settings.max_top_k}", "invalid_top_k")
        return top_k

    def _generator(self, name: str | None) -> AnswerGenerator:
        name = name or self.settings.generator
        if name == "auto":
            name = "llm" if "llm" in self.generators else "extractive"
        if name not in self.generators:
            raise InvalidRequest(
                f"unknown or unavailable generator {name!r}; available: {', '.join(['auto', *sorted(self.generators)])}",
                "unknown_generator",
            )
        return self.generators[name]


def _number_passages(evidence: list[Evidence]) -> list[Passage]:
    """Group the chosen sentences by chunk; number chunks by their best sentence."""
    passages: dict[str, Passage] = {}
    for item in evidence:
        passage = passages.setdefault(item.node.node_id, Passage(n=len(passages) + 1, node=item.node))
        passage.evidence.append(item)
    return list(passages.values())


def _citations(text: str, passages: list[Passage]) -> list[Citation]:
    """The passages the text actually cites, in marker order."""
    cited = {int(m) for m in MARKER.findall(text)}
    citations = []
    for passage in passages:
        if passage.n not in cited:
            continue
        meta = passage.node.metadata
        citations.append(
            Citation(
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
            )
        )
    return citations


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
