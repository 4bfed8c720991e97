"""Query latency in process: retrieval, the extractive answer and, when the bundled model runs,
its first verified sentence and whole answer."""

from __future__ import annotations

import random
import time

from eval.bench.measure import percentiles, timed
from eval.dataset import DEFAULT_SET, load_set
from qa.service import QAService


def latency(service: QAService, llm_service: QAService | None = None, questions: int = 40,
            llm_questions: int = 12) -> dict:
    items = load_set(DEFAULT_SET)
    sample = [items[i % len(items)].question for i in range(questions)]
    service.search(sample[0])
    result = {
        "retrieval": percentiles([timed(service.search, q)[1] for q in sample]),
        "extractive_answer": percentiles([timed(service.ask, q, generator="extractive")[1] for q in sample]),
    }
    if llm_service is not None:
        llm_service.ask(sample[0], generator="llm")  # the first call processes the fixed prompt prefix
        picked = random.Random(7).sample([i.question for i in items], llm_questions)
        first_sentences, totals = zip(*(_streamed(llm_service, question) for question in picked))
        result["llm_first_verified_sentence"] = percentiles(list(first_sentences))
        result["llm_total"] = percentiles(list(totals))
    return result


def _streamed(service: QAService, question: str) -> tuple[float, float]:
    """Ms to the first verified sentence shown (the whole answer's when none is) and to the end."""
    started, first = time.perf_counter(), None
    for event in service.ask_stream(question, generator="llm"):
        if first is None and getattr(event, "text", "").strip():
            first = (time.perf_counter() - started) * 1000
    total = (time.perf_counter() - started) * 1000
    return (first if first is not None else total), total
