"""OpenAI-compatible routes, `/v1/chat/completions` and `/v1/models`, so OpenAI clients can talk to the corpus.

Replies are OpenAI's own types, sent without the optional fields there is nothing
for (unset); the answer's citations ride along beside the text.  One route answers
JSON or, with `"stream": true`, server-sent events, so it returns FastAPI's
`EventSourceResponse` of events in FastAPI's wire format rather than being a
generator route, which could only stream.
"""

import logging
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, format_sse_event
from openai.types import Model
from openai.types.chat import ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.completion_usage import CompletionUsage

from qa.answer import Answer, Delta
from qa.api.dependencies import Service
from qa.api.errors import ApiError, started, stream_failure
from qa.api.schemas import (
    ChatCompletionRequest,
    ChatMessageIn,
    GroundedChatCompletion,
    GroundedChatCompletionChunk,
    ModelList,
)
from qa.validation import InvalidRequest

log = logging.getLogger(__name__)

# Model names clients may ask for, and the generator each one means (None: the service's default).
MODEL_IDS = {"grounded-qa": None, "grounded-qa-extractive": "extractive", "grounded-qa-llm": "llm"}
MODEL_OWNER = "grounded-qa"
MODEL_CREATED = 0  # the models have no release date
COMPLETION_ID_CHARS = 24
NO_TOKENS_COUNTED = CompletionUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
# The same headers FastAPI sends on the streams it encodes itself.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
STREAM_RESPONSES = {200: {"content": {"text/event-stream": {}},
                          "description": "with stream: chat.completion.chunk events, then [DONE]"}}

router = APIRouter(tags=["openai"])


@router.get("/models", response_model=ModelList)
def models() -> ModelList:
    return ModelList(data=[Model(id=model, object="model", created=MODEL_CREATED, owned_by=MODEL_OWNER)
                           for model in MODEL_IDS])


@router.post("/chat/completions", response_model=GroundedChatCompletion, response_model_exclude_unset=True,
             responses=STREAM_RESPONSES)
def chat_completions(body: ChatCompletionRequest, service: Service):
    if body.model not in MODEL_IDS:
        raise ApiError(404, "model_not_found", f"unknown model {body.model!r}; see GET /v1/models")
    question, history = conversation(body.messages)
    generator = MODEL_IDS[body.model]
    reply = {"id": f"chatcmpl-{uuid.uuid4().hex[:COMPLETION_ID_CHARS]}", "created": int(time.time()),
             "model": body.model}
    if body.stream:
        events = started(service.ask_stream(question, generator=generator, history=history))
        return EventSourceResponse(chunk_stream(events, reply), headers=STREAM_HEADERS)
    answer = service.ask(question, generator=generator, history=history)
    return GroundedChatCompletion(
        **reply, object="chat.completion", usage=NO_TOKENS_COUNTED,
        choices=[Choice(index=0, message=ChatCompletionMessage(role="assistant", content=answer.answer),
                        finish_reason="stop")],
        citations=answer.citations, abstained=answer.abstained)


def conversation(messages: list[ChatMessageIn]) -> tuple[str, list[dict]]:
    """The last user message is the question; the user and assistant turns before it are its history."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    last_question = max((i for i, m in enumerate(turns) if m.role == "user"), default=None)
    if last_question is None:
        raise InvalidRequest("the messages hold no question from the user", "invalid_messages")
    history = [{"role": m.role, "content": m.text()} for m in turns[:last_question]]
    return turns[last_question].text(), history


def chunk_stream(events: Iterator, reply: dict) -> Iterator[bytes]:
    """OpenAI's stream: the role, each piece of verified text, a last chunk with the citations, then [DONE]."""

    def chunk(delta: ChoiceDelta, finish_reason: str | None = None, **cited) -> bytes:
        body = GroundedChatCompletionChunk(
            **reply, **cited, object="chat.completion.chunk",
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish_reason)])
        return format_sse_event(data_str=body.model_dump_json(exclude_unset=True))

    yield chunk(ChoiceDelta(role="assistant", content=""))
    try:
        for event in events:
            if isinstance(event, Delta):
                yield chunk(ChoiceDelta(content=event.text))
            elif isinstance(event, Answer):
                yield chunk(ChoiceDelta(), "stop", citations=event.citations, abstained=event.abstained)
    except Exception as exc:
        log.exception("streaming failed")
        yield format_sse_event(data_str=stream_failure(exc).model_dump_json())
    yield format_sse_event(data_str="[DONE]")
