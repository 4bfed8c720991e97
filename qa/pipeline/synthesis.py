"""The last step of an answer: a generator writes over the chosen evidence, and each of its
sentences is sent only once it is complete and verified.

This is llama-index's response synthesizer for one generator (quotes or a model):
it numbers the passages the generator reads, streams what it writes through the
support judge, and hands back the text that was sent.  The streamed text is exactly
the final answer: a sentence is never taken back.  A model's sentence the verifier
cannot support is never sent; a quote (the documents' own words) may be, flagged
`supported: false`, unless the request is strict.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from qa.answer import AnswerSentence, Delta, Stage
from qa.generation.base import AnswerGenerator, GeneratorUnavailable, Passage
from qa.pipeline.citations import verify_as_written
from qa.pipeline.evidence import Evidence, select_evidence
from qa.pipeline.support.scorer import SupportScorer


@dataclass
class Written:
    """What a generator wrote: the text sent, each sentence's verdict, the passages it was shown, and
    whether the verifier rejected any sentence."""

    text: str
    sentences: list[AnswerSentence]
    passages: list[Passage]
    rejected: bool


class VerifiedSynthesizer:
    """One generator's answers over scored evidence, streamed as verified sentences."""

    def __init__(self, generator: AnswerGenerator, judge: SupportScorer):
        self.generator = generator
        self.judge = judge

    def synthesize(self, question: str, language: str, scored: list[Evidence],
                   strict: bool) -> Generator[Stage | Delta, None, Written]:
        """Yield the "writing" stage and each verified sentence as a delta; return what was written.

        Raises GeneratorUnavailable when the generator fails before a sentence was sent.
        """
        generator = self.generator
        passages = number_passages(select_evidence(scored, generator.evidence_sentences, language=language))
        read = generator.reads(passages)
        ahead = () if generator.verbatim else tuple(sentence for sentences in read.values() for sentence in sentences)
        yield Stage("writing", ahead)
        pieces = generator.stream(question, language, passages)
        sent, rejected = yield from self._verified(pieces, read, question, generator.verbatim and not strict)
        return Written(" ".join(v.text for v in sent), sent, passages, rejected)

    def _verified(self, pieces: Iterator[str], read: dict[int, list[str]], question: str,
                  keep_unsupported: bool) -> Generator[Delta, None, tuple[list[AnswerSentence], bool]]:
        """Send each sentence once it is complete and verified; return the sentences sent and whether any
        was rejected.

        A generator that fails after some sentences were sent leaves those as the answer:
        they are verified, and a fallback's text cannot follow them (its passages are numbered apart).
        """
        sent: list[AnswerSentence] = []
        rejected = False
        try:
            for verdict in verify_as_written(pieces, read, self.judge, question):
                if verdict.supported or keep_unsupported:
                    yield Delta((" " if sent else "") + verdict.text)
                    sent.append(verdict)
                rejected |= not verdict.supported
        except GeneratorUnavailable:
            if not sent:
                raise
        return sent, rejected


def number_passages(evidence: list[Evidence]) -> list[Passage]:
    """Group the chosen sentences by chunk; number chunks by their best sentence."""
    passages: dict[str, Passage] = {}
    for item in evidence:
        passage = passages.setdefault(item.node.node_id, Passage(n=len(passages) + 1, node=item.node))
        passage.evidence.append(item)
    return list(passages.values())
