"""Which sentences of the retrieved passages answer the question.

Every sentence already has a vector (computed at indexing), so scoring is a dot
product plus a lexical overlap weighted by how rare each question word is among
the candidates: cheap at query time, and the same signals decide abstention and,
later, which sentences an LLM gets to see.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
from llama_index.core.schema import NodeWithScore, TextNode

from index.keyword.tokens import keyword_tokens, query_tokens_by_word
from index.store.chroma import ChunkStore, Sentence
from qa.pipeline.answer_types import answer_type, offers
from qa.pipeline.retrieval import Retrieved

FRAGMENT_WORDS = 6


@dataclass(frozen=True)
class Evidence:
    sentence: Sentence
    node: TextNode  # the best-ranked retrieved chunk holding the sentence
    rank: int  # that chunk's rank in retrieval (0 = first)
    dense: float  # cosine similarity between question and sentence
    lexical: float  # share of the question's (rarity-weighted) words found in the sentence
    score: float


@dataclass(frozen=True)
class ScoringWeights:
    lexical: float = 0.15
    rank: float = 0.02
    answer_type: float = 0.03  # holds the kind of thing asked for (a number for "how many")
    question: float = 0.05  # a question in a document rarely answers one
    fragment: float = 0.03  # headings and fragments under FRAGMENT_WORDS words


def score_sentences(
    question: str,
    query_vector: np.ndarray,
    nodes: list[NodeWithScore],
    sentences: list[Sentence],
    weights: ScoringWeights = ScoringWeights(),
) -> list[Evidence]:
    """All sentences of the retrieved chunks, best first."""
    if not sentences:
        return []
    home = _home_chunks(nodes)
    vectors = np.stack([s.vector for s in sentences])
    dense = vectors @ query_vector
    lexical = lexical_overlap(question,
                              [(s.text, home[(s.doc_id, s.index)][1].metadata["language"]) for s in sentences])
    kind = answer_type(question)
    scored = []
    for s, d, lex in zip(sentences, dense, lexical):
        rank, node = home[(s.doc_id, s.index)]
        score = (
            float(d)
            + weights.lexical * lex
            + weights.rank / (rank + 1)
            + (weights.answer_type if kind and offers(s.text, kind, question) else 0.0)
            - (weights.question if s.text.rstrip(" »”\"").endswith("?") else 0.0)
            - (weights.fragment if len(s.text.split()) < FRAGMENT_WORDS else 0.0)
        )
        scored.append(Evidence(s, node, rank, float(d), lex, score))
    return sorted(scored, key=lambda e: e.score, reverse=True)


class SentenceScoring:
    """The step after retrieval: the sentences of the retrieved chunks, read from the store with their
    vectors, scored against the question (llama-index would call it a node postprocessor; here the
    nodes it returns are sentences)."""

    def __init__(self, store: ChunkStore, weights: ScoringWeights = ScoringWeights()):
        self.store = store
        self.weights = weights

    def postprocess(self, question: str, retrieved: Retrieved) -> list[Evidence]:
        """Every sentence of the retrieved chunks, best first."""
        sentences = self.store.sentences_of([hit.node for hit in retrieved.nodes])
        return score_sentences(question, retrieved.query_vector, retrieved.nodes, sentences, self.weights)


def lexical_overlap(question: str, texts: list[tuple[str, str]]) -> list[float]:
    """For each (text, language), the rarity-weighted share of question words it contains."""
    words = query_tokens_by_word(question)
    if not words or not texts:
        return [0.0] * len(texts)
    token_sets = [set(keyword_tokens(text, language)) for text, language in texts]
    present = [[bool(stems & tokens) for stems in words] for tokens in token_sets]
    document_frequency = Counter(i for row in present for i, hit in enumerate(row) if hit)
    n = len(texts)
    weight = [math.log(1 + n / (1 + document_frequency[i])) for i in range(len(words))]
    total = sum(weight)
    return [sum(w for w, hit in zip(weight, row) if hit) / total for row in present]


# Runners-up within this score of the best sentence are quoted too: the answer is
# often in the second or third sentence (the margin: docs/decisions.md, Answers).
EVIDENCE_MARGIN = 0.08
NEAR_DUPLICATE = 0.95  # cosine above which two sentences say the same thing: quoting both adds nothing


QUOTED_SENTENCES = 3  # at most, in an answer made of quotes


def select_evidence(scored: list[Evidence], max_sentences: int = QUOTED_SENTENCES, margin: float = EVIDENCE_MARGIN,
                    language: str | None = None) -> list[Evidence]:
    """The best sentence, plus close runners-up that add something new, each completed (see `completed`);
    across languages, the best one also takes the unit before it (see `with_unit_before`)."""
    if not scored:
        return []
    chosen = [scored[0]]
    for candidate in scored[1:]:
        if len(chosen) == max_sentences or candidate.score < scored[0].score - margin:
            break
        if all(_distinct(candidate, c) for c in chosen):
            chosen.append(candidate)
    units = {(e.sentence.doc_id, e.sentence.index): e.sentence for e in scored}
    chosen = [completed(e, units) for e in chosen]
    if language is not None and chosen[0].node.metadata["language"] != language:
        chosen[0] = with_unit_before(chosen[0], units, chosen[1:])
    return chosen


def with_unit_before(evidence: Evidence, units: dict[tuple[str, int], Sentence], others: list[Evidence]) -> Evidence:
    """The evidence joined with the unit before it, when that unit is in the same passage and not quoted already.

    A unit's vector is embedded with the unit before it (index/indexer.py), so the unit
    after an answer holds the answer's words too.  Within one language, word overlap
    tells the two apart; across languages it cannot, and the best-scoring unit is often
    the one after the answer (docs/decisions.md, Answers).
    """
    unit = evidence.sentence
    before = units.get((unit.doc_id, unit.index - 1))
    if before is None or any((e.sentence.doc_id, e.sentence.index) == (unit.doc_id, before.index) for e in others):
        return evidence
    return _spanning(evidence, before, unit)


def completed(evidence: Evidence, units: dict[tuple[str, int], Sentence]) -> Evidence:
    """The evidence joined with the unit that completes it, when it announces one.

    "Pour afficher la cible par défaut, lancez la commande" or "… the following
    packages:" says nothing alone: what it announces is the next block (a code line,
    a list item, a table row).  A unit that ends with a colon, or a prose block that
    ends without final punctuation, is quoted together with the unit after it, when
    that unit is in the same passage.  The quote stays whole units: it starts where
    one starts and ends where the next ends.
    """
    unit = evidence.sentence
    following = units.get((unit.doc_id, unit.index + 1))
    node = evidence.node
    if following is None or not _announces(unit.text, node.text[unit.end - node.metadata["start"] :]):
        return evidence
    return _spanning(evidence, unit, following)


def _spanning(evidence: Evidence, first: Sentence, last: Sentence) -> Evidence:
    """The evidence quoting from `first`'s start to `last`'s end, whole units of its passage; unchanged when
    one of them lies in another chunk (quote what the passage holds)."""
    node = evidence.node
    start, end = first.start - node.metadata["start"], last.end - node.metadata["start"]
    if start < 0 or end > len(node.text):
        return evidence
    joined = replace(evidence.sentence, start=first.start, end=last.end, text=node.text[start:end])
    return replace(evidence, sentence=joined)


def _announces(text: str, after: str) -> bool:
    """Whether a unit announces the one after it: a final colon, or a block of prose cut before its full stop."""
    text = text.rstrip()
    if text.endswith(":"):
        return True
    ends_a_block = after[: len(after) - len(after.lstrip())].count("\n") > 0
    return ends_a_block and text[-1:].isalnum() and len(text.split()) >= FRAGMENT_WORDS


def _distinct(a: Evidence, b: Evidence) -> bool:
    return float(a.sentence.vector @ b.sentence.vector) < NEAR_DUPLICATE and a.sentence.text != b.sentence.text


def _home_chunks(nodes: list[NodeWithScore]) -> dict[tuple[str, int], tuple[int, TextNode]]:
    """Map (doc_id, sentence index) to the best-ranked chunk that contains it."""
    home: dict[tuple[str, int], tuple[int, TextNode]] = {}
    for rank, hit in enumerate(nodes):
        meta = hit.node.metadata
        for j in range(meta["sentence_first"], meta["sentence_last"] + 1):
            home.setdefault((meta["doc_id"], j), (rank, hit.node))
    return home
