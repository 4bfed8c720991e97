"""Does a passage support a claim?  A judge built from the embedder and word overlap.

No LLM judge is needed: a claim counts as supported when the passage says the
same thing in the same words (lexical containment) or in other words, possibly in
another language (embedding similarity), and never when the claim states a
number or a name the passage does not.  The threshold is calibrated on the labelled French
and English examples in tests/data/support_examples.jsonl: translations and
near-misses written by hand, and real answers of the local model labelled by
hand.  It agrees with those labels four times in five: an embedder is not an
entailment model, so the verdicts flag, they do not prove.  The evaluation's
citation metrics and the answer verifier use this same scorer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.keyword import keyword_tokens
from index.language import detect_language, fold
from index.sentences import sentence_spans

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]+")
NAME_PREFIX = 5
SUPPORT_THRESHOLD = 0.45
# e5 similarities live in a narrow band: at FLOOR a claim is unrelated, FLOOR + SPAN a
# paraphrase.  A claim and a passage in two languages score lower for the same meaning.
SIMILARITY_FLOOR = {"same": 0.86, "cross": 0.80}
SIMILARITY_SPAN = 0.12


class SupportScorer:
    def __init__(self, embed_model: BaseEmbedding, threshold: float = SUPPORT_THRESHOLD):
        self.embed_model = embed_model
        self.threshold = threshold

    def score(self, claim: str, passages: Sequence[str], passage_vectors: np.ndarray | None = None, context: str = "") -> float:
        """How well `passages` (sentences or whole passages) support `claim`, in [0, 1].

        `passage_vectors`, when given, are the stored vectors of `passages` (which are
        then single sentences); otherwise passages are split and embedded here.
        `context` (the question) may supply names the claim repeats; numbers must be
        in the passages, so a false premise in a question ("in 2024") is not confirmed.
        """
        claim = claim.strip()
        if not claim or not passages:
            return 0.0
        joined = " ".join(passages)
        if not _numbers(claim) <= _numbers(joined) or not _names_present(claim, f"{joined} {context}"):
            return 0.0
        units = [s for p in passages for s in _sentences(p)]
        # Words must come together, in one sentence or two adjacent ones, not from all over.
        windows = units + [f"{a} {b}" for a, b in zip(units, units[1:])]
        lexical = max(containment(claim, window) for window in windows)
        if lexical >= self.threshold:  # said in the passage's own words: no need to embed
            return lexical
        if passage_vectors is None:
            passage_vectors = np.asarray(self.embed_model.get_text_embedding_batch(units), dtype=np.float32)
        claim_vector = np.asarray(self.embed_model.get_text_embedding(claim), dtype=np.float32)
        similarity = float(np.max(passage_vectors @ claim_vector))
        floor = SIMILARITY_FLOOR["same" if detect_language(claim) == detect_language(joined) else "cross"]
        semantic = (similarity - floor) / SIMILARITY_SPAN
        return float(np.clip(max(lexical, semantic), 0.0, 1.0))

    def supports(self, claim: str, passages: Sequence[str], passage_vectors: np.ndarray | None = None, context: str = "") -> bool:
        return self.score(claim, passages, passage_vectors, context) >= self.threshold


def containment(claim: str, passage: str) -> float:
    """Share of the claim's content words (stemmed) that appear in the passage."""
    claim_terms = set(keyword_tokens(claim, detect_language(claim)))
    if not claim_terms:
        return 0.0
    passage_terms = set(keyword_tokens(passage, detect_language(passage)))
    return len(claim_terms & passage_terms) / len(claim_terms)


def _names_present(claim: str, passage: str) -> bool:
    """Every proper name of the claim (a capitalised word inside a sentence) is in the passage.

    Names are compared on their first letters, accent-folded, so that a name
    written in the other language still matches ("Congress" / "Congrès").
    """
    prefixes = {fold(w)[:NAME_PREFIX] for w in _WORD.findall(passage)}
    for start, end in sentence_spans(claim):
        for word in _WORD.findall(claim[start:end])[1:]:
            # "Zoom", "Google"; acronyms are left out, as they translate ("CEO" / "PDG")
            if word[0].isupper() and any(c.islower() for c in word) and len(word) >= 3:
                if fold(word)[:NAME_PREFIX] not in prefixes:
                    return False
    return True


def _numbers(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _NUMBER.findall(text)}


def _sentences(passage: str) -> list[str]:
    return [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
