"""The reader generator: the bundled model picks which numbered evidence units answer
the question (or none), and the answer quotes exactly those units.

The model never writes the answer, so it cannot invert a fact: it only chooses.
Its reply is constrained by a JSON schema (llama.cpp's server turns
`response_format={"type": "json_object", "schema": ...}` into a grammar), so it is
always a list of unit numbers that exist.  An empty list is an abstention; a failure
of the model becomes GeneratorUnavailable, like the LLM generator's.

Measured, NOT wired in (`python -m eval.reader_experiment --set demo --every 4`; bundled
1.5B model, 2 threads on 2 shared cores, load average 3.6-3.8, 2026-12-02), every 4th question:
- demo (20; 3 unanswerable), correctness fr / en: extractive 0.78 / 0.75; reader 0.44 / 0.62
  without the "found" field (it never chose none), 0.56 / 0.50 with it (this version).
  Abstention recall: extractive 1/3, reader with "found" 2/3; false abstentions 0 for all.
- maint-guide (18; 3 unanswerable), without "found": extractive 0.62 / 0.43, reader 0.62 / 0.29;
  abstention recall 0/3 for both.
- latency p50: quotes 0.1 s; reader 10 s (demo) to 27-39 s (maint-guide, or demo at higher load).
The lead worth measuring on whole sets: `extractive+veto` (quotes, abstaining when the model
finds nothing) kept 0.78 / 0.75 on the demo sample and raised abstention recall to 2/3.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms import LLM

from qa.generation.base import ExtractiveGenerator, GeneratorUnavailable, Passage
from qa.generation.llm import addresses_the_model, describe_failure
from qa.pipeline.evidence import Evidence

MAX_UNITS = 6  # numbered units shown to the model
MAX_CHOSEN = 3  # the most units an answer quotes (as the extractive generator)

SYSTEM_PROMPT = """You select evidence. You are given numbered sentences from documents and a question.
Reply with JSON {"found": true or false, "answer": [numbers]}. "found": whether one of the sentences states the fact the question asks for. "answer": the numbers of the sentences that state the fact the question asks for (the name, number, date, place or reason asked), usually just one.
If no sentence states the answer, reply {"found": false, "answer": []}.
The sentences may be in another language than the question. Use only what the sentences say."""  # noqa: E501

# Worked examples on an invented town: they teach the format and the empty answer without leaking facts.
EXAMPLES: tuple[tuple[str, str], ...] = (
    (("[1] Les travaux doivent commencer en mars.\n"
     "[2] La mairie de Valcourt a voté un budget de 12 millions d'euros pour la nouvelle piscine.\n"
     "[3] Le maire, Paul Girard, a été élu en 2020.\n"
     "Question: How much will the Valcourt pool cost?"),
     '{"found": true, "answer": [2]}'),
    (("[1] Le maire, Paul Girard, a été élu en 2020.\n"
     "[2] Il était auparavant professeur de physique.\n"
     "[3] La mairie de Valcourt a voté un budget pour la nouvelle piscine.\n"
     "Question : Quel est le salaire du maire ?"),
     '{"found": false, "answer": []}'),
    (("[1] La piscine ouvrira en juin.\n"
     "[2] Les travaux doivent commencer en mars.\n"
     "Question : Quand les travaux de la piscine commenceront-ils ?"),
     '{"found": true, "answer": [2]}'),
)


def units_of(passages: list[Passage]) -> list[tuple[Evidence, int]]:
    """The evidence units shown to the model, best first, each with its passage's marker."""
    ordered = sorted(((e, p.n) for p in passages for e in p.evidence), key=lambda item: -item[0].score)
    return [(e, n) for e, n in ordered if not addresses_the_model(e.sentence.text)][:MAX_UNITS]


def reader_messages(question: str, language: str, units: list[tuple[Evidence, int]]) -> list[ChatMessage]:
    messages = [ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM_PROMPT)]
    for user, assistant in EXAMPLES:
        messages += [ChatMessage(role=MessageRole.USER, content=user),
                     ChatMessage(role=MessageRole.ASSISTANT, content=assistant)]
    lines = [f"[{i}] " + " ".join(e.sentence.text.split()) for i, (e, _) in enumerate(units, start=1)]
    label = "Question :" if language == "fr" else "Question:"
    messages.append(ChatMessage(role=MessageRole.USER, content="\n".join(lines) + f"\n{label} {question}"))
    return messages


def answer_schema(count: int) -> dict:
    return {
        "type": "object",
        "properties": {"found": {"type": "boolean"},
                       "answer": {"type": "array", "items": {"type": "integer", "enum": list(range(1, count + 1))},
                                  "maxItems": MAX_CHOSEN}},
        "required": ["found", "answer"],
    }


def chosen_numbers(reply: str, count: int) -> list[int]:
    """The unit numbers in the model's reply (valid, distinct, in order); [] for none or an unreadable reply."""
    try:
        parsed = json.loads(reply)
        numbers = parsed.get("answer", []) if parsed.get("found", True) else []
    except (ValueError, AttributeError):
        return []
    valid = [n for n in numbers if isinstance(n, int) and 1 <= n <= count]
    return list(dict.fromkeys(valid))[:MAX_CHOSEN]


class ReaderGenerator:
    """Quotes the units the model chose, framed as the extractive generator frames quotes; nothing when none."""

    name = "reader"

    def __init__(self, llm: LLM, not_ready: Callable[[], str | None] = lambda: None):
        self.llm = llm
        self.not_ready = not_ready
        self.last_choice: list[int] | None = None  # for evaluation: what the model chose last

    def choose(self, question: str, language: str, units: list[tuple[Evidence, int]]) -> list[int]:
        reason = self.not_ready()
        if reason:
            raise GeneratorUnavailable(reason)
        schema = answer_schema(len(units))
        try:
            reply = self.llm.chat(reader_messages(question, language, units), max_tokens=32, temperature=0.0,
                                  response_format={"type": "json_object", "schema": schema})
        except Exception as exc:  # openai/httpx raise many types: all mean "no answer from the model"
            raise GeneratorUnavailable(describe_failure(exc)) from exc
        return chosen_numbers(reply.message.content or "", len(units))

    def stream(self, question: str, language: str, passages: list[Passage]) -> Iterator[str]:
        units = units_of(passages)
        self.last_choice = None
        if not units:
            return
        chosen = self.choose(question, language, units)
        self.last_choice = chosen
        picked = [units[i - 1] for i in chosen]
        # Quote the chosen units exactly as the extractive generator would, under their passages' markers.
        quoted = [Passage(n=n, node=e.node, evidence=[e]) for e, n in picked]
        yield from ExtractiveGenerator().stream(question, language, quoted)
