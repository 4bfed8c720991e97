"""Does a passage support a claim?  A judge built from the embedder, word overlap and grammar.

No LLM judge is needed: a claim counts as supported when the passage says the
same thing in the same words (lexical containment) or in other words, possibly in
another language (embedding similarity), and never when the claim states a
number, a name, a month or a weekday the passage does not.  The threshold is
calibrated on the labelled French and English examples in
tests/data/support_examples.jsonl.  An embedder is not an entailment model: it
scores « Sam Altman a été remplacé par Mira Murati » and "Sam Altman replaced Mira
Murati" alike.  So the sentence that supports a claim best must also not contradict
it: no negation on one side only, no participants in swapped roles, no quantities
in the other order, and a relation between two names must be shown (see
`contradicts`).  Measured on the hand-labelled pairs of tests/data/verifier_pairs.jsonl
by `python -m eval.verifier`.  The evaluation's citation metrics and the answer
verifier use this same scorer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.keyword.tokens import keyword_tokens
from index.text.language import detect_language, fold
from index.text.sentences import sentence_spans
from qa.pipeline.support.clauses import NAME_PREFIX, WORD, sentences_of
from qa.pipeline.support.facts import (
    CALENDAR,
    attribute_elsewhere,
    closed_classes_present,
    denied_elsewhere,
    negation_differs,
    normalise_times,
    number_words,
    numbers_elsewhere,
    numbers_in,
    numbers_swapped,
)
from qa.pipeline.support.roles import relation_unverified, roles_swapped

SUPPORT_THRESHOLD = 0.45
VECTORS_KEPT = 4_096  # passage and claim vectors a scorer keeps (1.5 MB)
FRAMING_WORDS = 6  # words around a quote that only frame it: "According to the documents:"
_OUTER_QUOTE = re.compile(r"[«“](.+)[»”]", re.DOTALL)  # from the first opening mark to the last closing one
# e5 similarities live in a narrow band: at FLOOR a claim is unrelated, FLOOR + SPAN a
# paraphrase.  A claim and a passage in two languages score lower for the same meaning.
SIMILARITY_FLOOR = {"same": 0.86, "cross": 0.80}
SIMILARITY_SPAN = 0.12


class SupportScorer:
    """Scores how well passages support a claim; `supports` is the verdict at the calibrated threshold."""

    def __init__(self, embed_model: BaseEmbedding, threshold: float = SUPPORT_THRESHOLD):
        self.embed_model = embed_model
        self.threshold = threshold
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # the most recently used texts last
        self._vectors_lock = threading.Lock()

    def _embedded(self, texts: list[str]) -> np.ndarray:
        """Passage vectors of `texts`, each embedded once while it is among the VECTORS_KEPT last used:
        answers cite the same sentences again and again, and each is judged against several claims."""
        with self._vectors_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self.embed_model.get_text_embedding_batch(missing) if missing else []
        with self._vectors_lock:
            self._vectors.update(zip(missing, np.asarray(fresh, dtype=np.float32)))
            vectors = np.stack([self._vectors[t] for t in texts])
            for text in texts:
                self._vectors.move_to_end(text)
            while len(self._vectors) > VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return vectors

    def score(self, claim: str, passages: Sequence[str], passage_vectors: np.ndarray | None = None,
              context: str = "") -> float:
        """How well `passages` (sentences or whole passages) support `claim`, in [0, 1].

        `passage_vectors`, when given, are the stored vectors of `passages` (which are
        then single sentences); otherwise passages are split and embedded here.
        `context` (the question) may supply names the claim repeats; numbers must be
        in the passages, so a false premise in a question ("in 2024") is not confirmed.

        A sentence that says the same words or the same meaning still does not support
        the claim when it says the opposite (a negation one side only), or when it gives
        the claim's two participants the other roles (who replaced whom): see `contradicts`.
        """
        if is_a_quote_of(claim, passages):  # the checks below are for claims in other words
            return 1.0
        claim = normalise_times(claim.strip())
        if not claim or not passages:
            return 0.0
        joined = " ".join(passages)
        if not numbers_in(claim) <= numbers_in(joined) | number_words(joined):
            return 0.0
        if not _names_present(claim, f"{joined} {context}"):
            return 0.0
        if not closed_classes_present(claim, joined) or denied_elsewhere(claim, joined):
            return 0.0
        units = [s for p in passages for s in sentences_of(p)]
        if passage_vectors is not None and len(passage_vectors) != len(units):
            units = list(passages)  # the stored vectors are of the passages as given
        # Words must come together, in one sentence or two adjacent ones, not from all over.
        windows = [(i, i + 1) for i in range(len(units))] + [(i, i + 2) for i in range(len(units) - 1)]
        texts = [" ".join(units[a:b]) for a, b in windows]
        lexical = [containment(claim, text) for text in texts]
        # The window that says the claim best is the one that must not contradict it: a
        # sentence that shares some names elsewhere in the passage does not rescue it.
        best = max(range(len(texts)), key=lambda w: lexical[w])
        if lexical[best] >= self.threshold:  # said in the passage's own words: no need to embed
            return 0.0 if contradicts(claim, texts[best]) else lexical[best]
        if passage_vectors is None:  # embedded with the claim, in one batch
            vectors = self._embedded([*units, claim])
            passage_vectors, claim_vector = vectors[:-1], vectors[-1]
        else:
            claim_vector = self._embedded([claim])[0]
        similarities = passage_vectors @ claim_vector
        floor = SIMILARITY_FLOOR["same" if detect_language(claim) == detect_language(joined) else "cross"]
        scores = [
            float(np.clip(max(words, (float(np.max(similarities[a:b])) - floor) / SIMILARITY_SPAN), 0.0, 1.0))
            for (a, b), words in zip(windows, lexical)
        ]
        best = max(range(len(texts)), key=lambda w: scores[w])  # the first of equals: one sentence before two
        return 0.0 if contradicts(claim, texts[best]) else scores[best]

    def supports(self, claim: str, passages: Sequence[str], passage_vectors: np.ndarray | None = None,
                 context: str = "") -> bool:
        return self.score(claim, passages, passage_vectors, context) >= self.threshold


def is_a_quote_of(claim: str, passages: Sequence[str]) -> bool:
    """Whether the claim is a passage's own words between quotation marks, framed in a few words
    ("D’après les documents : « … » [1]"): a verbatim quote cannot misstate its source."""
    match = _OUTER_QUOTE.search(claim)
    if not match or len(WORD.findall(claim[: match.start()] + claim[match.end() :])) > FRAMING_WORDS:
        return False
    quoted = " ".join(match.group(1).split()).strip("«»“” ")
    return bool(quoted) and any(quoted in " ".join(p.split()) for p in passages)


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
    prefixes = {fold(w)[:NAME_PREFIX] for w in WORD.findall(passage)}
    for start, end in sentence_spans(claim):
        for word in WORD.findall(claim[start:end])[1:]:
            # "Zoom", "Google"; acronyms are left out, as they translate ("CEO" / "PDG")
            is_name = word[0].isupper() and any(c.islower() for c in word) and len(word) >= 3
            if is_name and fold(word) not in CALENDAR and fold(word)[:NAME_PREFIX] not in prefixes:
                return False
    return True


def contradicts(claim: str, passage: str) -> bool:
    """The passage, though it shares the claim's words, says something else.

    Either a negation that one side has and the other has not, or the claim's
    participants in swapped roles: the one acted upon in the passage acts in the
    claim (« Murati a remplacé Altman » against « Altman a été remplacé par Murati »
    is fine, against « Pour remplacer Murati, ... a choisi Altman » it is not), or two
    numbers the other way round (« de 360 à 376 » / "from 376 to 360").
    """
    return (
        numbers_elsewhere(claim, passage)
        or attribute_elsewhere(claim, passage)
        or negation_differs(claim, passage)
        or numbers_swapped(claim, passage)
        or roles_swapped(claim, passage)
        or relation_unverified(claim, passage)
    )
