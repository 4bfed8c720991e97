"""The question-answering service: the one object the CLI, HTTP API and chat call.

ask = validate -> make a follow-up standalone -> retrieve (hybrid) -> score
sentences -> abstain when the evidence is too weak -> generate with [n] markers
-> verify each sentence against what it cites -> attach only the cited passages.
When the LLM fails (down, slow, rate-limited) or writes nothing the verifier can
support, the answer is quoted from the documents instead, and `notice` says so.

Streaming is verified: a sentence is sent once it is complete and checked, so the
text a client receives is exactly the final answer, and a fallback never follows
rejected text.  A model's sentence the verifier cannot support is never sent, in any
mode.  Strict mode holds quotes to the same rule; otherwise a quote the verifier
does not confirm is still shown, flagged `supported: false`: it is the document's
own words, where a model's sentence would be a claim.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from index.indexer import IndexReport
from index.loaders import SUPPORTED_SUFFIXES, doc_id_for, safe_filename, sniff_suffix
from index.loaders.structure import SECTION_SEPARATOR
from index.store.chroma import DocumentRecord
from index.text.language import detect_language
from qa.answer import Answer, AnswerSentence, SearchHit
from qa.container import Generators, IndexParts, build_generators, build_index
from qa.generation.base import AnswerGenerator, GeneratorUnavailable, Passage
from qa.generation.llm import LLMGenerator, evidence_shown
from qa.phrases import phrase
from qa.pipeline.abstention import AbstentionModel, Features, evidence_features
from qa.pipeline.citations import citations_for, verify_as_written
from qa.pipeline.evidence import Evidence, score_sentences, select_evidence
from qa.pipeline.followup import carry_over, needs_conversation, previous_question
from qa.pipeline.retrieval import HybridRetriever
from qa.pipeline.support import SupportScorer
from qa.settings import Settings
from qa.validation import InvalidRequest, valid_history, valid_question, valid_top_k

# Fitted by `python -m eval.calibrate` on the demo's calibration set (bundled e5 embedder); the
# multi-corpus refit lost recall on the demo at more false abstentions, see the README.
CALIBRATED_ABSTENTION = AbstentionModel(weights=(-18.0282, 0.1466, 0.4327, -0.8993), bias=15.3635, threshold=0.5854)

# How much evidence each generator gets: quotes stay short; a model may weigh more.
EVIDENCE_SENTENCES = {"extractive": 3, "llm": 5}
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.(?:\d+\.?)*)\s+")  # "1.2.", "6.4", "A.1" before a heading


class UnverifiedAnswer(GeneratorUnavailable):
    """The model answered, but the verifier supports none of its sentences: quote the documents instead."""


@dataclass
class Upload:
    indexed: list[tuple[str, str, int]]  # (file name, doc_id, chunks)
    rejected: list[tuple[str, str]]  # (file name, reason)
    report: IndexReport


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


class QAService:
    def __init__(
        self,
        parts: IndexParts,
        generators: Generators,
        abstention: AbstentionModel = CALIBRATED_ABSTENTION,
    ):
        self.parts = parts
        self.settings = parts.settings
        self.generators = generators
        self.abstention = abstention
        self.judge = SupportScorer(parts.embed_model)
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
        language = detect_language(question)
        timings: dict[str, float] = {}

        yield Stage("searching")
        standalone = self._standalone(question, history, chosen)
        scored = self._scored_sentences(standalone or question, top_k)
        timings["retrieval"] = _ms(started)
        yield Stage("reading")
        answer = Answer(question=question, answer="", language=language, abstained=False,
                        generator=chosen.name, standalone_question=standalone)

        generation_started = time.perf_counter()
        text, passages = "", []
        best = scored[0] if scored else None
        features = evidence_features(standalone or question, language, best, self.parts.keyword)
        if self.abstention.abstains(features):  # too little evidence, whatever the generator
            answer.abstained = True
        elif chosen.name == "llm":
            try:
                text, passages, answer.sentences = yield from self._generate(chosen, answer, scored)
            except GeneratorUnavailable as exc:  # nothing was sent yet: the quotes are the whole answer
                answer.notice = (phrase(language, "llm_unverified") if isinstance(exc, UnverifiedAnswer)
                                 else phrase(language, "llm_fallback", reason=str(exc)))
                chosen = self.generators.available["extractive"]
            else:
                answer.abstained = not text
        if chosen.name == "extractive" and not answer.abstained:
            answer.generator = "extractive"
            passages = _number_passages(select_evidence(scored, EVIDENCE_SENTENCES["extractive"]))
            yield Stage("writing")
            pieces = chosen.stream(question, language, passages)
            text, answer.sentences, _ = yield from self._verified(pieces, _quoted(passages), question,
                                                                   keep_unsupported=not strict)
            answer.abstained = not text
        timings["generation"] = _ms(generation_started)

        if answer.abstained:
            text = phrase(language, "abstain")
            answer.sentences = []
            yield Delta(text)
        answer.answer = text
        answer.citations = [] if answer.abstained else citations_for(text, passages)
        timings["total"] = _ms(started)
        answer.timings_ms = timings
        yield answer

    def _generate(self, generator: AnswerGenerator, answer: Answer, scored: list[Evidence]):
        """LLM text over the evidence, sent sentence by sentence as each is verified ("" when it found no answer)."""
        passages = _number_passages(select_evidence(scored, EVIDENCE_SENTENCES["llm"]))
        shown = evidence_shown(passages)
        yield Stage("writing", tuple(sentence for sentences in shown.values() for sentence in sentences))
        pieces = generator.stream(answer.question, answer.language, passages)
        text, sentences, rejected = yield from self._verified(pieces, shown, answer.question)
        if rejected and not text:
            raise UnverifiedAnswer("no sentence of the model's answer is supported by the passages it cites")
        return text, passages, sentences

    def _verified(self, pieces: Iterator[str], shown: dict[int, list[str]], question: str,
                  keep_unsupported: bool = False):
        """Send each sentence once it is complete and verified; return (text sent, its sentences, any rejected).

        A generator that fails after some sentences were sent leaves those as the answer:
        they are verified, and the quotes cannot follow them (their passages are numbered apart).
        """
        sent: list[AnswerSentence] = []
        rejected = False
        try:
            for verdict in verify_as_written(pieces, shown, self.judge, question):
                if verdict.supported or keep_unsupported:
                    yield Delta((" " if sent else "") + verdict.text)
                    sent.append(verdict)
                rejected |= not verdict.supported
        except GeneratorUnavailable:
            if not sent:
                raise
        return " ".join(v.text for v in sent), sent, rejected

    def _standalone(self, question: str, history: list[dict], chosen: AnswerGenerator) -> str | None:
        """The follow-up rewritten with its context; None for a question that stands alone, which is
        answered exactly as if it were asked first."""
        if not previous_question(history) or not needs_conversation(question):
            return None
        if isinstance(chosen, LLMGenerator):
            try:
                return chosen.rewrite(question, history)
            except GeneratorUnavailable:
                pass
        return carry_over(question, history)

    def abstention_features(self, question: str) -> Features:
        """What the abstention decision sees for `question` (for calibration)."""
        question = valid_question(question, self.settings)
        scored = self._scored_sentences(question, self.settings.top_k)
        return evidence_features(question, detect_language(question), scored[0] if scored else None, self.parts.keyword)

    def _scored_sentences(self, question: str, top_k: int) -> list[Evidence]:
        retrieved = self.retriever.retrieve(question, top_k)
        sentences = self.parts.store.sentences_of([hit.node for hit in retrieved.nodes])
        return score_sentences(question, retrieved.query_vector, retrieved.nodes, sentences)

    def search(self, question: str, top_k: int | None = None) -> list[SearchHit]:
        """The passages retrieval finds for a question, best first."""
        retrieved = self.retriever.retrieve(valid_question(question, self.settings), valid_top_k(top_k, self.settings))
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
        headings: dict[str, dict[str, int]] = {}  # doc_id -> question -> first chunk asking it
        seen = 0
        for _, _, metadatas in self.parts.store.iter_chunks(page=1000):
            for meta in metadatas:
                heading = _NUMBERING.sub("", (meta.get("section") or "").split(SECTION_SEPARATOR)[-1]).strip()
                if heading.endswith("?") and 12 <= len(heading) <= 120:
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
        """Store uploaded files under the data folder and index them.

        Names are reduced to plain file names; content must really be of a
        supported type.  Each file ends up indexed or rejected with a reason.
        """
        uploads = self.settings.uploads_dir
        uploads.mkdir(parents=True, exist_ok=True)
        accepted: list[Path] = []
        rejected: list[tuple[str, str]] = []
        for name, data in files:
            filename = safe_filename(name)
            suffix = Path(filename).suffix.lower()
            if len(data) > self.settings.max_upload_bytes:
                limit_mb = self.settings.max_upload_bytes // 1_000_000
                rejected.append((filename, f"larger than the {limit_mb} MB upload limit"))
            elif not data.strip():
                rejected.append((filename, "empty file"))
            elif sniff_suffix(data, suffix) is None:
                rejected.append((filename, _not_what_it_claims(suffix)))
            else:
                target = (uploads / filename).resolve()
                if target.parent != uploads.resolve():  # safe_filename makes this impossible; checked anyway
                    rejected.append((filename, "invalid file name"))
                    continue
                target.write_bytes(data)
                accepted.append(target)
        report = self.parts.indexer.index_files(accepted, uploads, progress) if accepted else IndexReport()
        rejected += report.errors
        ids = {path: doc_id_for(path, uploads.resolve()) for path in accepted}
        indexed = [(path.name, doc_id, report.chunks_by_doc[doc_id])
                   for path, doc_id in ids.items() if doc_id in report.chunks_by_doc]
        return Upload(indexed, rejected, report)

    def remove_document(self, doc_id: str) -> bool:
        """Remove a document from the index (and its uploaded file, if it was uploaded)."""
        sources = [Path(d.source) for d in self.documents() if d.doc_id == doc_id]
        removed = self.parts.indexer.remove(doc_id)
        for source in sources:
            if removed and source.is_relative_to(self.settings.uploads_dir.resolve()):
                source.unlink(missing_ok=True)
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
        """The generator asked for; `auto` is the one that measures best: a configured server's model,
        else quotes, which beat the bundled 1.5B model on correctness in both languages (README)."""
        name = name or self.settings.generator
        if name == "auto":
            name = "llm" if "llm" in self.generators.available and self.settings.openai_configured else "extractive"
        if name not in self.generators.available:
            raise InvalidRequest(
                f"unknown or unavailable generator {name!r}; "
                f"available: {', '.join(['auto', *sorted(self.generators.available)])}",
                "unknown_generator",
            )
        return self.generators.available[name]


def _not_what_it_claims(suffix: str) -> str:
    if suffix not in SUPPORTED_SUFFIXES:
        return f"unsupported file type '{suffix or 'none'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
    kind = {".pdf": "a PDF", ".html": "an HTML page", ".htm": "an HTML page", ".docx": "a Word document",
            ".odt": "an OpenDocument text", ".epub": "an EPUB book"}.get(suffix, "text")
    return f"the file is named {suffix} but its content is not {kind}"


def _number_passages(evidence: list[Evidence]) -> list[Passage]:
    """Group the chosen sentences by chunk; number chunks by their best sentence."""
    passages: dict[str, Passage] = {}
    for item in evidence:
        passage = passages.setdefault(item.node.node_id, Passage(n=len(passages) + 1, node=item.node))
        passage.evidence.append(item)
    return list(passages.values())


def _quoted(passages: list[Passage]) -> dict[int, list[str]]:
    return {p.n: [e.sentence.text for e in p.evidence] for p in passages}


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
