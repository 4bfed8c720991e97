"""Grounding metrics: retrieval, correctness, citations, abstention, language, latency.

Each question is scored on its own (`score_item`), then results are averaged per
language and overall (`summarise`).  Sentence support follows ALCE (Gao et al.
2023) with our embedder-and-overlap judge in place of an NLI model:
- citation recall: a cited statement is supported by the union of its citations;
- citation precision: a citation counts when the statement is supported and the
  citation either supports it alone or is needed by the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from eval.dataset import EvalItem, all_facts_found
from index.text.language import detect_language
from qa.answer import Answer
from qa.pipeline.citations import MARKER, cited_sentences, markers_in
from qa.pipeline.support.scorer import SupportScorer

_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")


@dataclass
class Statement:
    text: str
    cited: list[int]
    supported: bool
    relevant_citations: int


@dataclass
class ItemResult:
    item: EvalItem
    answer: Answer
    retrieved: list[str]
    latency_ms: float
    first_hit: int | None = None  # rank (0-based) where retrieved passages first hold every key fact
    correct: bool | None = None  # None for unanswerable questions
    citations_ok: bool | None = None  # for correct answers: facts in cited passages, markers resolve
    language_ok: bool = False
    statements: list[Statement] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        if self.item.answerable:
            return not self.correct or self.citations_ok is False
        return not self.answer.abstained


def answer_language(text: str) -> str:
    """The language of the answer's own words: quotes and markers left out."""
    return detect_language(MARKER.sub(" ", _QUOTED.sub(" ", text)))


def first_hit(patterns: list[str], passages: list[str]) -> int | None:
    """Smallest rank r such that passages[:r+1] together hold every key fact."""
    for rank in range(len(passages)):
        if all_facts_found(patterns, " ".join(passages[: rank + 1])):
            return rank
    return None


def hit_rate(ranks: Sequence[int | None], k: int) -> float | None:
    """Hit@k: the share of questions whose key facts are all in the first k passages (ranks from `first_hit`)."""
    return sum(r is not None and r < k for r in ranks) / len(ranks) if ranks else None


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """MRR over questions, a question whose facts are never all found counting 0 (ranks from `first_hit`)."""
    return sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks) if ranks else None


def score_item(result: ItemResult, judge: SupportScorer) -> ItemResult:
    item, answer = result.item, result.answer
    result.language_ok = answer_language(answer.answer) == item.lang
    if item.answerable:
        result.first_hit = first_hit(item.must, result.retrieved)
        result.correct = not answer.abstained and all_facts_found(item.must, answer.answer)
        if result.correct:
            cited_text = " ".join(c.text for c in answer.citations)
            markers = set(markers_in(answer.answer))
            result.citations_ok = all_facts_found(item.must, cited_text) and markers <= {c.n for c in answer.citations}
    if not answer.abstained:
        passages = {c.n: c.text for c in answer.citations}
        result.statements = [
            _judge_statement(s.claim, s.markers, passages, judge) for s in cited_sentences(answer.answer) if s.markers
        ]
    return result


def _judge_statement(text: str, cited: list[int], passages: dict[int, str], judge: SupportScorer) -> Statement:
    cited = list(dict.fromkeys(cited))
    texts = [passages[n] for n in cited if n in passages]
    supported = bool(texts) and len(texts) == len(cited) and judge.supports(text, texts)
    relevant = 0
    if supported:
        for n in cited:
            others = [passages[m] for m in cited if m != n]
            if judge.supports(text, [passages[n]]) or not (others and judge.supports(text, others)):
                relevant += 1
    return Statement(text, cited, supported, relevant)


Units = Mapping[str, Sequence[tuple[int, int]]]  # doc_id -> its evidence units (start, end), in text order


def fragmentary_quotes(answer: Answer, units: Units) -> list[str]:
    """Quoted spans that are not one or more whole units of their document (none is a pass).

    A quote is a citation's highlighted span; it must begin where a unit begins and
    end where one ends: a whole sentence, list item, table row or code line, never
    a piece cut at markup.  `units` comes from the indexed documents
    (`index.text.sentences.unit_spans(document.text, document.blocks)`).
    """
    fragments = []
    for citation in answer.citations:
        doc_units = units.get(citation.doc_id, ())
        starts, ends = {start for start, _ in doc_units}, {end for _, end in doc_units}
        for span in citation.highlights:
            if span.start not in starts or span.end not in ends:
                fragments.append(citation.text[max(span.start - citation.start, 0) : span.end - citation.start])
    return fragments


def quotes_are_whole_units(answer: Answer, units: Units) -> bool:
    """Whether every quote of the answer is made of whole units (see `fragmentary_quotes`)."""
    return not fragmentary_quotes(answer, units)


GROUPS = ("fr", "en", "all")


def summarise(results: list[ItemResult], k: int = 5) -> dict[str, dict[str, float | int | None]]:
    return {group: _summary([r for r in results if group == "all" or r.item.lang == group], k) for group in GROUPS}


def _summary(results: list[ItemResult], k: int) -> dict[str, float | int | None]:
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    correct = [r for r in answerable if r.correct]
    abstained = [r for r in results if r.answer.abstained]
    statements = [s for r in results for s in r.statements]
    citations = sum(len(s.cited) for s in statements)
    latencies = [r.latency_ms for r in results]
    ranks = [r.first_hit for r in answerable]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "hit@1": _rounded(hit_rate(ranks, 1)),
        f"hit@{k}": _rounded(hit_rate(ranks, k)),
        "mrr": _rounded(mean_reciprocal_rank(ranks)),
        "correctness": _share(len(correct), len(answerable)),
        "citation_support": _share(sum(bool(r.citations_ok) for r in correct), len(correct)),
        "citation_recall": _share(sum(s.supported for s in statements), len(statements)),
        "citation_precision": _share(sum(s.relevant_citations for s in statements), citations),
        "abstention_precision": _share(sum(not r.item.answerable for r in abstained), len(abstained)),
        "abstention_recall": _share(sum(r.answer.abstained for r in unanswerable), len(unanswerable)),
        "false_abstention": _share(sum(r.answer.abstained for r in answerable), len(answerable)),
        "language_match": _share(sum(r.language_ok for r in results), len(results)),
        "latency_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "latency_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
    }


def _share(part: float, whole: int) -> float | None:
    return _rounded(part / whole) if whole else None


def _rounded(share: float | None) -> float | None:
    return None if share is None else round(share, 4)
