"""The question-answering service: the one object the CLI, HTTP API and chat call.

ask = validate -> make a follow-up standalone -> retrieve (hybrid) -> score
sentences -> abstain when the evidence is too weak -> write with the chosen
generator, each sentence verified against what it cites -> attach only the cited
passages.  The steps are built by `qa.container.build_pipeline`; each can be used
and tested alone.  When the model fails (down, slow, rate-limited) or writes
nothing the verifier can support, its fallback (the quotes) writes the answer
instead, and `notice` says so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, Sequence
from itertools import zip_longest
from pathlib import Path

from index.indexer import IndexReport
from index.loaders.structure import SECTION_SEPARATOR
from index.store.chroma import DocumentRecord
from index.text.language import detect_language
from qa.answer import Answer, Delta, SearchHit, Stage
from qa.container import Generators, IndexParts, build_generators, build_index, build_pipeline
from qa.generation.base import AnswerGenerator, GeneratorUnavailable
from qa.phrases import phrase
from qa.pipeline.abstention import Features
from qa.pipeline.citations import citations_for
from qa.pipeline.evidence import Evidence
from qa.pipeline.followup import standalone_question
from qa.pipeline.support.scorer import SupportScorer
from qa.pipeline.synthesis import Written
from qa.settings import Settings
from qa.uploads import Upload
from qa.validation import InvalidRequest, valid_history, valid_question, valid_top_k

_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.(?:\d+\.?)*)\s+")  # "1.2.", "6.4", "A.1" before a heading
EXAMPLE_QUESTION_CHARS = (12, 120)  # shorter is not a question worth offering, longer does not fit a button
EXAMPLE_SCAN_PAGE = 1000  # chunks read from the store at a time


class QAService:
    """Questions, search and documents over one index, with the generators on offer."""

    def __init__(self, parts: IndexParts, generators: Generators):
        self.parts = parts
        self.settings = parts.settings
        self.generators = generators
        self.pipeline = build_pipeline(parts, generators)

    @property
    def judge(self) -> SupportScorer:
        """The support judge answers are verified with, for judging answers from outside (evaluation)."""
        return self.pipeline.judge

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> QAService:
        settings = settings or Settings()
        return cls(build_index(settings), build_generators(settings))

    def close(self) -> None:
        self.generators.close()

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until the local model (if one is starting) can answer."""
        server = self.generators.local_server
        return server.wait_ready(timeout) if server else True

    # -- questions -----------------------------------------------------------------------
    def ask(self, question: str, top_k: int | None = None, generator: str | None = None,
            history: Sequence[dict] | None = None, strict: bool | None = None) -> Answer:
        for event in self.ask_stream(question, top_k, generator, history, strict):
            if isinstance(event, Answer):
                return event
        raise RuntimeError("the answer stream ended without an answer")

    def ask_stream(self, question: str, top_k: int | None = None, generator: str | None = None,
                   history: Sequence[dict] | None = None,
                   strict: bool | None = None) -> Iterator[Stage | Delta | Answer]:
        """Yield stages and text deltas as the answer is made, then the complete, verified Answer."""
        started = time.perf_counter()
        question = valid_question(question, self.settings)
        top_k = valid_top_k(top_k, self.settings)
        history = valid_history(history, self.settings)
        chosen = self._generator(generator)
        strict = self.settings.strict_citations if strict is None else strict
        answer = Answer(question=question, answer="", language=detect_language(question), abstained=False,
                        generator=chosen.name)

        yield Stage("searching")
        answer.standalone_question = standalone_question(question, history, chosen.rewrite)
        asked = answer.standalone_question or question
        scored = self.evidence(asked, top_k)
        timings = {"retrieval": _ms(started)}
        yield Stage("reading")

        writing_started = time.perf_counter()
        written = None
        refusal = self.pipeline.abstention.refusal(asked, answer.language, scored)
        if refusal is None:
            written = yield from self._write(answer, chosen, scored, strict)
        timings["generation"] = _ms(writing_started)

        if written and written.text:
            answer.answer, answer.sentences = written.text, written.sentences
            answer.citations = citations_for(written.text, written.passages)
        else:  # too little evidence, or nothing the generator could say from it
            answer.abstained = True
            answer.answer = phrase(answer.language, "abstain")
            if refusal is not None and refusal.notice:
                answer.notice = refusal.notice
            yield Delta(answer.answer)
        timings["total"] = _ms(started)
        answer.timings_ms = timings
        yield answer

    def _write(self, answer: Answer, generator: AnswerGenerator, scored: list[Evidence],
               strict: bool) -> Generator[Stage | Delta, None, Written]:
        """The verified text of `generator`, or of its fallback when it fails or the verifier supports none of
        its sentences: nothing was sent then, so the fallback's text is the whole answer."""
        while True:
            try:
                written = yield from self.pipeline.writers[generator.name].synthesize(
                    answer.question, answer.language, scored, strict)
            except GeneratorUnavailable as exc:
                if generator.fallback is None:
                    raise
                answer.notice = phrase(answer.language, "llm_fallback", reason=str(exc))
            else:
                if written.text or not written.rejected or generator.fallback is None:
                    answer.generator = generator.name
                    return written
                answer.notice = phrase(answer.language, "llm_unverified")
            generator = self.generators.available[generator.fallback]

    def evidence(self, question: str, top_k: int) -> list[Evidence]:
        """Every sentence of the `top_k` chunks retrieval finds for `question`, scored, best first."""
        return self.pipeline.scoring.postprocess(question, self.pipeline.retriever.retrieve(question, top_k))

    def abstention_features(self, question: str) -> Features:
        """What the abstention decision sees for `question` (for calibration)."""
        question = valid_question(question, self.settings)
        scored = self.evidence(question, self.settings.top_k)
        return self.pipeline.abstention.features(question, detect_language(question), scored)

    def search(self, question: str, top_k: int | None = None) -> list[SearchHit]:
        """The passages retrieval finds for a question, best first."""
        question, top_k = valid_question(question, self.settings), valid_top_k(top_k, self.settings)
        retrieved = self.pipeline.retriever.retrieve(question, top_k)
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

    def example_questions(self, limit: int = 4, scanned: int = 5000) -> list[str]:
        """Questions the documents ask themselves (FAQ-style headings), one per document first.

        Examples must fit what is loaded, so they come from it; a folder with no such
        heading gets none rather than questions about some other corpus.
        """
        shortest, longest = EXAMPLE_QUESTION_CHARS
        headings: dict[str, dict[str, int]] = {}  # doc_id -> question -> first chunk asking it
        seen = 0
        for _, _, metadatas in self.parts.store.iter_chunks(page=EXAMPLE_SCAN_PAGE):
            for meta in metadatas:
                heading = _NUMBERING.sub("", (meta.get("section") or "").split(SECTION_SEPARATOR)[-1]).strip()
                if heading.endswith("?") and shortest <= len(heading) <= longest:
                    found = headings.setdefault(meta["doc_id"], {})
                    found[heading] = min(found.get(heading, meta["chunk_index"]), meta["chunk_index"])
            seen += len(metadatas)
            if seen >= scanned:
                break
        in_order = [sorted(found, key=found.get) for _, found in sorted(headings.items())]
        return [q for turn in zip_longest(*in_order) for q in turn if q][:limit]

    def index_folder(self, folder: Path, progress=None) -> IndexReport:
        return self.parts.indexer.index_folder(folder, progress)

    def add_documents(self, files: Sequence[tuple[str, bytes]], progress=None) -> Upload:
        """Store uploaded files under the data folder and index them (see `qa.uploads`)."""
        return self.parts.uploads.add(files, progress)

    def remove_document(self, doc_id: str) -> bool:
        """Remove a document from the index (and its uploaded file, if it was uploaded)."""
        sources = [Path(d.source) for d in self.documents() if d.doc_id == doc_id]
        removed = self.parts.indexer.remove(doc_id)
        if removed:
            self.parts.uploads.discard(sources)
        return removed

    def health(self) -> dict:
        documents = self.documents()
        return {
            "status": "ok",
            "documents": len(documents),
            "chunks": sum(d.chunks for d in documents),
            "generators": sorted(self.generators.available),
        }

    def _generator(self, name: str | None) -> AnswerGenerator:
        """The generator asked for (`auto` resolved by the settings), if it is on offer."""
        name = self.settings.generator_for(name)
        if name not in self.generators.available:
            raise InvalidRequest(
                f"unknown or unavailable generator {name!r}; "
                f"available: {', '.join(['auto', *sorted(self.generators.available)])}",
                "unknown_generator",
            )
        return self.generators.available[name]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
