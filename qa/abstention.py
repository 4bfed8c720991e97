"""When to say "the documents do not hold the answer".

A small logistic model over three signals of the retrieved evidence, fitted on the
calibration set (eval/sets/calibration.jsonl, never the evaluation set) by
`python -m eval.calibrate`, which prints the numbers kept below:
- how strongly the best sentence matches the question (its evidence score);
- the share of the question's words the index has never seen, when question and
  evidence share a language ("tarte", "tatin" in a corpus about OpenAI);
- whether the question names something (a capitalised name, a number) the index
  has never seen ("Helen Toner", "2024").
The decision threshold keeps false abstentions under 10% on the calibration set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.keyword import KeywordIndex, query_tokens_by_word
from index.language import fold
from qa.evidence import Evidence

# Month and day names are translated, not spelled alike ("March" / "mars"): not names.
_CALENDAR = frozenset(
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
    "january february march april may june july august september october november december "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class AbstentionModel:
    weights: tuple[float, float, float]
    bias: float
    threshold: float

    def probability(self, features: tuple[float, float, float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features))
        return 1.0 / (1.0 + math.exp(-z))

    def abstains(self, features: tuple[float, float, float]) -> bool:
        return self.probability(features) >= self.threshold


def evidence_features(question: str, language: str, best: Evidence | None, keyword: KeywordIndex) -> tuple[float, float, float]:
    """(best evidence score, share of unknown words, unknown name) for the model above."""
    if best is None:
        return 0.0, 1.0, 1.0
    same_language = best.node.metadata.get("language") == language
    words = query_tokens_by_word(question)
    unknown = sum(not keyword.knows(terms) for terms in words) / len(words) if words and same_language else 0.0
    return best.score, unknown, float(_names_unknown(question, keyword))


def _names_unknown(question: str, keyword: KeywordIndex) -> bool:
    words = _WORD.findall(question)
    for position, word in enumerate(words):
        is_name = position > 0 and word[0].isupper() and len(word) > 1 and fold(word) not in _CALENDAR
        if (is_name or word.isdigit()) and not keyword.knows(set().union(*query_tokens_by_word(word) or [set()])):
            return True
    return False
