"""Questions: `/v1/ask` (the answer as JSON), `/v1/ask/stream` (the same as server-sent events)
and `/v1/search` (the passages alone)."""

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from qa.answer import Answer, Delta, Stage
from qa.api.dependencies import Service
from qa.api.errors import STREAM_ERROR_RESPONSES, started, stream_failure
from qa.api.schemas import CitationList, RequestBodies, SearchResponse, TextDelta

log = logging.getLogger(__name__)

AnswerEvents = Iterator[Stage | Delta | Answer]
STREAM_RESPONSES = {**STREAM_ERROR_RESPONSES, 200: {"description": "delta*, citations, done (or error)"}}


def router(bodies: RequestBodies) -> APIRouter:
    """The question routes, typed with this app's bodies (their limits come from its settings)."""
    AskRequest, SearchRequest = bodies.ask, bodies.search
    questions = APIRouter(tags=["questions"])

    def started_answer(body: AskRequest, service: Service) -> AnswerEvents:
        """The answer's events, started before the stream opens."""
        return started(service.ask_stream(**body.service_arguments()))

    @questions.post("/ask", response_model=Answer)
    def ask(body: AskRequest, service: Service) -> Answer:
        return service.ask(**body.service_arguments())

    @questions.post("/ask/stream", response_class=EventSourceResponse, responses=STREAM_RESPONSES)
    def ask_stream(events: Annotated[AnswerEvents, Depends(started_answer)]) -> Iterator[ServerSentEvent]:
        yield from answer_stream(events)

    @questions.post("/search", response_model=SearchResponse)
    def search(body: SearchRequest, service: Service) -> SearchResponse:
        return SearchResponse(hits=service.search(body.question, top_k=body.top_k))

    return questions


def answer_stream(events: AnswerEvents) -> Iterator[ServerSentEvent]:
    """delta events as text comes, then one citations event, then done; error on failure."""
    try:
        for event in events:
            if isinstance(event, Delta):
                yield ServerSentEvent(event="delta", data=TextDelta(text=event.text))
            elif isinstance(event, Answer):  # stages are for the chat; this stream's events are its contract
                yield ServerSentEvent(event="citations", data=CitationList(citations=event.citations))
                yield ServerSentEvent(event="done", data=event)
    except Exception as exc:
        log.exception("streaming failed")
        yield ServerSentEvent(event="error", data=stream_failure(exc))
