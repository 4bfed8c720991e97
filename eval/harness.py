"""Run an evaluation set against the service, in-process or over HTTP.

A set can also be replayed as one conversation: each question is asked with the
turns before it as history, the way the chat asks it, which shows whether earlier
turns change the answer to a question that stands alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import httpx

from eval.dataset import EvalItem
from eval.metrics import ItemResult, score_item
from qa.answer import Answer
from qa.pipeline.support.scorer import SupportScorer

RETRIEVAL_DEPTH = 5
CONVERSATION_TURNS = 20  # the history the chat keeps (Settings.max_history_turns)


class Target(Protocol):
    def ask(self, question: str, history: Sequence[dict] = ()) -> Answer: ...

    def search(self, question: str, top_k: int) -> list[str]: ...


class InProcess:
    """The service object itself (what `make test` gates on)."""

    def __init__(self, service, generator: str | None = None):
        self.service = service
        self.generator = generator

    def ask(self, question: str, history: Sequence[dict] = ()) -> Answer:
        return self.service.ask(question, generator=self.generator, history=history)

    def search(self, question: str, top_k: int) -> list[str]:
        return [hit.text for hit in self.service.search(question, top_k)]


class TargetError(ConnectionError):
    """The server under evaluation cannot be reached or refused a request."""


class OverHttp:
    """A running server: POST /v1/ask for answers, POST /v1/search for retrieval."""

    def __init__(self, url: str, generator: str | None = None, api_key: str | None = None, timeout: float = 120.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)
        self.generator = generator

    def _post(self, path: str, body: dict) -> dict:
        try:
            response = self.client.post(path, json={k: v for k, v in body.items() if v is not None})
        except httpx.HTTPError as exc:
            raise TargetError(f"cannot reach {self.client.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise TargetError(f"{self.client.base_url}{path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def ask(self, question: str, history: Sequence[dict] = ()) -> Answer:
        body = {"question": question, "generator": self.generator, "history": list(history) or None}
        return Answer.model_validate(self._post("/v1/ask", body))

    def search(self, question: str, top_k: int) -> list[str]:
        return [hit["text"] for hit in self._post("/v1/search", {"question": question, "top_k": top_k})["hits"]]


def answers(items: list[EvalItem], target: Target, conversation: bool = False) -> Iterator[tuple[Answer, float]]:
    """Each item's answer and its latency in ms; with `conversation`, asked after the items before it."""
    history: list[dict] = []
    for item in items:
        started = time.perf_counter()
        answer = target.ask(item.question, history[-CONVERSATION_TURNS:] if conversation else ())
        yield answer, round((time.perf_counter() - started) * 1000, 1)
        history += [{"role": "user", "content": item.question}, {"role": "assistant", "content": answer.answer}]


def run(
    items: list[EvalItem],
    target: Target,
    judge: SupportScorer,
    progress: Callable[[int, int], None] | None = None,
    conversation: bool = False,
) -> list[ItemResult]:
    results = []
    for done, (item, (answer, latency)) in enumerate(zip(items, answers(items, target, conversation)), start=1):
        retrieved = target.search(item.question, RETRIEVAL_DEPTH)
        results.append(score_item(ItemResult(item, answer, retrieved, latency), judge))
        if progress:
            progress(done, len(items))
    return results
