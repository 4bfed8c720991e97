"""When to say "the documents do not hold the answer".

A small logistic model over four signals of the retrieved evidence, fitted on the
calibration set (eval/sets/calibration.jsonl, never the evaluation set) by
`python -m eval.calibrate`, which prints the numbers kept below (`CALIBRATED_ABSTENTION`):
- how close in meaning the best sentence is to the question (cosine similarity);
- how many of the question's words, weighted by rarity, that sentence contains;
- the share of the question's words the index has never seen ("tarte", "tatin",
  "Toner", "2024" in a corpus about OpenAI in November 2023);
- whether that sentence is in another language than the question: across
  languages similarities run lower and most words are unknown, for answerable
  questions too, so the other three signals are read differently.
Unknown words are counted as written, not through the keyword index's
translations: those are good enough to find passages, but too noisy to decide
that a word is known (names and rare words get spurious ones).  Question words
("combien", "how many") are not counted.
The decision threshold keeps false abstentions under 10% in each language on the
calibration set.

Whatever the model says, a question is refused when it uses a name the collection never
mentions (`qa.pipeline.names`), or asks how many or when and none of the sentences an
answer could quote holds a number or a time: on-topic questions about something a
manual does not cover take the same four signals as answerable ones, but they often name
it, or ask for a figure the manual never gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.keyword.bm25 import KeywordIndex
from index.keyword.tokens import is_question_word, words_with_terms
from qa.phrases import phrase, quoted
from qa.pipeline.answer_types import answer_type, offers
from qa.pipeline.evidence import QUOTED_SENTENCES, Evidence
from qa.pipeline.names import names, spellings

Features = tuple[float, float, float, float]


@dataclass(frozen=True)
class AbstentionModel:
    weights: Features
    bias: float
    threshold: float

    def probability(self, features: Features) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features))
        return 1.0 / (1.0 + math.exp(-z))

    def abstains(self, features: Features) -> bool:
        return self.probability(features) >= self.threshold


# Fitted by `python -m eval.calibrate` on the demo's calibration set (bundled e5 embedder); why not
# on more corpora: docs/decisions.md, Abstention.
CALIBRATED_ABSTENTION = AbstentionModel(weights=(-18.0282, 0.1466, 0.4327, -0.8993), bias=15.3635, threshold=0.5854)


@dataclass(frozen=True)
class Abstention:
    """The step after sentence scoring: whether the evidence is too weak to answer from, whatever the
    generator (llama-index would call it a node postprocessor that may leave no node)."""

    keyword: KeywordIndex
    mentions: Callable[[Sequence[str]], bool]  # whether some passage of the collection holds one of these texts
    model: AbstentionModel = CALIBRATED_ABSTENTION

    def features(self, question: str, language: str, scored: list[Evidence]) -> Features:
        return evidence_features(question, language, scored[0] if scored else None, self.keyword)

    def abstains(self, question: str, language: str, scored: list[Evidence]) -> bool:
        return self.refusal(question, language, scored) is not None

    def refusal(self, question: str, language: str, scored: list[Evidence]) -> Refusal | None:
        """None when the evidence can be answered from; otherwise the refusal, with what to tell the user
        when a rule says more than "too little evidence"."""
        if unmentioned := self.unmentioned(question, language, scored):
            return Refusal(phrase(language, "unmentioned", names=quoted(language, unmentioned)))
        if lacks_figure(question, scored):
            return Refusal(phrase(language, f"no_{answer_type(question)}"))
        return Refusal() if self.model.abstains(self.features(question, language, scored)) else None

    def unmentioned(self, question: str, language: str, scored: list[Evidence]) -> list[str]:
        """The names `question` uses that no passage holds."""
        across = bool(scored) and scored[0].node.metadata.get("language") != language
        return [name for name in names(question, across_languages=across) if not self.mentions(spellings(name))]


@dataclass(frozen=True)
class Refusal:
    notice: str | None = None  # why, shown beside the answer


def lacks_figure(question: str, scored: list[Evidence]) -> bool:
    """Whether `question` asks how many or when, and none of the sentences a quoted answer may hold has a
    number or a time (in digits or in words; a count answers "when" too: "trois hivers")."""
    kind = answer_type(question)
    if kind not in ("number", "time"):
        return False
    kinds = {"number", kind}
    return not any(offers(e.sentence.text, k, question) for e in scored[:QUOTED_SENTENCES] for k in kinds)


def evidence_features(question: str, language: str, best: Evidence | None, keyword: KeywordIndex) -> Features:
    """(similarity of the best sentence, its word overlap, share of unknown words, other language)."""
    if best is None:
        return 0.0, 0.0, 1.0, 0.0
    words = [terms for word, terms in words_with_terms(question) if not is_question_word(word)]
    unknown = sum(not keyword.knows(terms) for terms in words) / len(words) if words else 0.0
    return best.dense, best.lexical, unknown, float(best.node.metadata.get("language") != language)
