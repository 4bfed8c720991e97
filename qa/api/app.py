"""HTTP API (FastAPI) over the QA service.

- `/v1/ask` (JSON) and `/v1/ask/stream` (Server-Sent Events), `/v1/search`;
- `/v1/chat/completions` and `/v1/models`, so OpenAI clients can talk to the corpus;
- `/v1/documents` to list, upload and delete documents;
- one error shape everywhere: {"error": {"code": ..., "message": ...}}.

When keys are configured, `qa.api.auth.GateMiddleware` closes every route but
`/healthz` and the login page (the chat mounted beside the API too); `/v1/*` is
rate-limited per client, behind trusted proxies by the address they forward.
Request bodies are capped before they are read.
"""


import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from index.loaders import SUPPORTED_SUFFIXES
from index.store.chroma import StorageFull, StoreUnavailable
from qa.answer import Answer, SearchHit
from qa.api.auth import Gate, GateMiddleware
from qa.service import Delta, QAService
from qa.validation import InvalidRequest

log = logging.getLogger(__name__)

MODEL_IDS = {"grounded-qa": None, "grounded-qa-extractive": "extractive", "grounded-qa-llm": "llm"}


# -- request and response bodies ---------------------------------------------------------
class SearchResponse(BaseModel):
    hits: list[SearchHit]


class ChatMessageIn(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts: keep the text ones
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request; sampling options are accepted and ignored.

    The last message from the user is the question; earlier user and assistant
    messages are the conversation.
    """

    model_config = ConfigDict(extra="allow")

    model: str = "grounded-qa"
    messages: list[ChatMessageIn] = Field(
        min_length=1,
        json_schema_extra={
            "contains": {"type": "object", "properties": {"role": {"const": "user"}}, "required": ["role"]},
        },
    )
    stream: bool = False


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    date: str | None
    language: str
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class UploadedDocument(BaseModel):
    filename: str
    doc_id: str
    chunks: int


class UploadProblem(BaseModel):
    filename: str
    message: str


class UploadResult(BaseModel):
    documents: list[UploadedDocument]
    errors: list[UploadProblem]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    generators: list[str]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}}, headers=headers)


ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 415, 422, 429, 503)}
# Multipart uploads get the upload limit; every other body the JSON one.
UPLOAD_PATHS = frozenset({"/v1/documents", "/gradio_api/upload"})


# -- limits ----------------------------------------------------------------------------
class BodyLimit:
    """Refuse bodies over the limit before the app sees them.

    The body is read up to the limit (trusting no Content-Length) and replayed to
    the app; one byte more and the client gets a 413 instead.
    """

    def __init__(self, app, json_limit: int, upload_limit: int):
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.upload_limit if scope["path"].rstrip("/") in UPLOAD_PATHS else self.json_limit
        too_large = error_response(413, "too_large", f"the request body is over the {limit} byte limit")
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await too_large(scope, receive, send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                return await too_large(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await self.app(scope, replay, send)


class RateLimiter:
    """A token bucket per client: `per_minute` sustained, bursts up to `burst`.

    Memory stays bounded: past `max_clients` addresses the least recently seen
    is forgotten (which only gives it a full bucket again).
    """

    def __init__(self, per_minute: int, burst: int, max_clients: int):
        self.rate, self.burst, self.max_clients = per_minute / 60.0, burst, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_time(self, client: str) -> float:
        """0 when the request may go ahead, else seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            self._buckets.move_to_end(client)
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return 0.0 if allowed else (1 - tokens) / self.rate

    @property
    def clients(self) -> int:
        """How many client addresses are remembered now."""
        return len(self._buckets)


def request_models(settings, generators: list[str]):
    """The request bodies, with the limits of these settings written into the OpenAPI spec."""
    text = r"^[^\x00]*\S[^\x00]*$"  # something to read, and no NUL characters
    question_field = Field(min_length=1, max_length=settings.max_question_chars, pattern=text,
                           description="The question, in French or English.")
    top_k_field = Field(None, ge=1, le=settings.max_top_k, description="How many passages to retrieve.")
    top_k_type = Annotated[int, BeforeValidator(_integral)]  # JSON Schema calls 5.0 an integer too
    generator_name = Literal[("auto", *generators)]  # type: ignore[misc]

    class Turn(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        role: Literal["user", "assistant"]
        content: str = Field(max_length=settings.max_history_turn_chars, pattern=r"^[^\x00]*$")

    class AskRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        question: str = question_field
        top_k: top_k_type | None = top_k_field
        generator: generator_name | None = Field(None, description="Which generator writes the answer.")
        history: list[Turn] = Field(default_factory=list, max_length=settings.max_history_turns,
                                    description="Earlier turns, oldest first, for follow-up questions.")
        strict: bool | None = Field(None, description="Also drop quotes the passages do not confirm (otherwise shown "
                                    "with supported: false); a model's unsupported sentence is never sent.")

    class SearchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

        question: str = question_field
        top_k: top_k_type | None = top_k_field

    return AskRequest, SearchRequest


def _integral(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


# -- the app ---------------------------------------------------------------------------
def create_app(service: QAService) -> FastAPI:
    settings = service.settings
    AskRequest, SearchRequest = request_models(settings, sorted(service.generators.available))
    gate = Gate.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        (log.warning if gate.is_open else log.info)("%s", gate.describe())
        yield  # the service belongs to whoever built it, who closes it

    app = FastAPI(
        title="Grounded QA",
        version="0.1.0",
        description="Questions in French or English, answered from your documents with cited passages.",
        lifespan=lifespan,
    )
    # The last added runs first: forwarded addresses, CORS preflights, the gate, then body limits.
    app.add_middleware(BodyLimit, json_limit=settings.max_json_bytes, upload_limit=settings.max_body_bytes)
    app.add_middleware(GateMiddleware, gate=gate)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst, settings.rate_limit_clients) \
        if settings.rate_limit_per_minute else None

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest):
        return error_response(422, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {_readable(e)}"
                             for e in exc.errors())
        return error_response(422, "invalid_request", problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # list every method of the path, not only the first route's
            headers = {"Allow": ", ".join(_methods_for(app, request.scope))}
        return error_response(exc.status_code, _code_for(exc.status_code), str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        # The model client turns its own network errors into fallbacks, so a transport
        # error reaching here is the Chroma server's: tell the client to retry.
        if isinstance(exc, (StoreUnavailable, httpx.TransportError)):
            log.warning("vector store unavailable: %s", exc)
            return error_response(503, "store_unavailable",
                                  "the vector store (Chroma) cannot be reached; retry shortly", {"Retry-After": "5"})
        if isinstance(exc, StorageFull):
            log.error("%s", exc)
            return error_response(507, "storage_full", str(exc))
        log.exception("unexpected error")
        return error_response(500, "internal_error", "the server hit an unexpected error; it has been logged")

    def rate_limit(request: Request) -> None:
        """The per-client rate limit (the gate has already checked who is asking)."""
        if limiter:
            wait = limiter.wait_time(request.client.host if request.client else "unknown")
            if wait:
                raise ApiError(429, "rate_limited", f"too many requests; retry in {wait:.0f} s",
                               {"Retry-After": str(max(1, round(wait)))})

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> dict:
        return service.health()

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(rate_limit)], responses=ERRORS)

    @v1.post("/ask", response_model=Answer, tags=["questions"])
    def ask(request: AskRequest) -> Answer:
        return service.ask(request.question, top_k=request.top_k, generator=request.generator,
                           history=[t.model_dump() for t in request.history], strict=request.strict)

    @v1.post("/ask/stream", tags=["questions"], response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "delta*, citations, done (or error)"}})
    async def ask_stream(request: AskRequest) -> StreamingResponse:
        events = service.ask_stream(request.question, top_k=request.top_k, generator=request.generator,
                                    history=[t.model_dump() for t in request.history], strict=request.strict)
        first = await run_in_threadpool(next, events)  # validation errors surface here, as JSON 4xx
        return StreamingResponse(_sse(first, events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @v1.post("/search", response_model=SearchResponse, tags=["questions"])
    def search(request: SearchRequest) -> SearchResponse:
        return SearchResponse(hits=service.search(request.question, top_k=request.top_k))

    @v1.get("/models", tags=["openai"])
    def models() -> dict:
        return {"object": "list", "data": [
            {"id": model, "object": "model", "created": 0, "owned_by": "grounded-qa"} for model in MODEL_IDS]}

    @v1.post("/chat/completions", tags=["openai"])
    async def chat_completions(request: ChatCompletionRequest):
        if request.model not in MODEL_IDS:
            raise ApiError(404, "model_not_found", f"unknown model {request.model!r}; see GET /v1/models")
        turns = [m for m in request.messages if m.role in ("user", "assistant")]
        last_question = max((i for i, m in enumerate(turns) if m.role == "user"), default=None)
        if last_question is None:
            raise InvalidRequest("the messages hold no question from the user", "invalid_messages")
        question = turns[last_question].text()
        history = [{"role": m.role, "content": m.text()} for m in turns[:last_question]]
        events = service.ask_stream(question, generator=MODEL_IDS[request.model], history=history)
        first = await run_in_threadpool(next, events)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if request.stream:
            return StreamingResponse(_openai_chunks(first, events, completion_id, created, request.model),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        answer = await run_in_threadpool(_final, first, events)
        return {
            "id": completion_id, "object": "chat.completion", "created": created, "model": request.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "citations": [c.model_dump() for c in answer.citations],
            "abstained": answer.abstained,
        }

    @v1.get("/documents", response_model=DocumentList, tags=["documents"])
    def list_documents() -> DocumentList:
        return DocumentList(documents=[
            DocumentOut(doc_id=d.doc_id, title=d.title, source=d.source, date=d.date, language=d.language,
                        chunks=d.chunks)
            for d in service.documents()])

    @v1.post("/documents", response_model=UploadResult, tags=["documents"])
    async def upload_documents(
        files: Annotated[list[UploadFile], File(
            description=f"{', '.join(SUPPORTED_SUFFIXES)} files",
            json_schema_extra={"minItems": 1, "maxItems": settings.max_upload_files},
        )],
    ) -> UploadResult:
        if len(files) > settings.max_upload_files:
            raise ApiError(422, "too_many_files", f"at most {settings.max_upload_files} files per upload")
        received = []
        for upload in files:
            data = await upload.read(settings.max_upload_bytes + 1)
            received.append((upload.filename or "document", data))
        outcome = await run_in_threadpool(service.add_documents, received)
        result = UploadResult(
            documents=[UploadedDocument(filename=name, doc_id=doc_id, chunks=chunks)
                       for name, doc_id, chunks in outcome.indexed],
            errors=[UploadProblem(filename=name, message=message) for name, message in outcome.rejected],
        )
        if not result.documents:
            status = 413 if any("limit" in e.message for e in result.errors) else 415
            raise ApiError(status, "upload_rejected", "; ".join(f"{e.filename}: {e.message}" for e in result.errors))
        return result

    @v1.delete("/documents/{doc_id:path}", status_code=204, tags=["documents"])
    def delete_document(doc_id: str) -> Response:
        if not service.remove_document(doc_id):
            raise ApiError(404, "not_found", f"no document {doc_id!r}")
        return Response(status_code=204)

    app.include_router(v1)
    return app


# -- streaming -------------------------------------------------------------------------
def _final(first, events: Iterator) -> Answer:
    for event in _chain(first, events):
        if isinstance(event, Answer):
            return event
    raise RuntimeError("the answer stream ended without an answer")


def _chain(first, events: Iterator) -> Iterator:
    yield first
    yield from events


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _sse(first, events: Iterator) -> AsyncIterator[str]:
    """delta events as text comes, then one citations event, then done; error on failure."""
    try:
        async for event in iterate_in_threadpool(_chain(first, events)):
            if isinstance(event, Delta):
                yield _event("delta", {"text": event.text})
            elif isinstance(event, Answer):  # stages are for the chat; this stream's events are its contract
                yield _event("citations", {"citations": [c.model_dump() for c in event.citations]})
                yield _event("done", event.model_dump())
    except Exception as exc:
        log.exception("streaming failed")
        yield _event("error", {"error": {"code": "stream_failed", "message": str(exc) or type(exc).__name__}})


async def _openai_chunks(first, events: Iterator, completion_id: str, created: int, model: str) -> AsyncIterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for event in iterate_in_threadpool(_chain(first, events)):
            if isinstance(event, Delta):
                yield chunk({"content": event.text})
            elif isinstance(event, Answer):
                yield chunk({}, "stop", citations=[c.model_dump() for c in event.citations], abstained=event.abstained)
    except Exception as exc:
        log.exception("streaming failed")
        yield f"data: {json.dumps({'error': {'code': 'stream_failed', 'message': str(exc)}})}\n\n"
    yield "data: [DONE]\n\n"


def _readable(error: dict) -> str:
    if error["type"] == "string_pattern_mismatch":
        return "must hold some text and no NUL character"
    return error["msg"]


def _methods_for(app: FastAPI, scope) -> list[str]:
    from starlette.routing import Match

    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({**scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= route.methods
    return sorted(methods)


def _code_for(status: int) -> str:
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}
    return codes.get(status, "http_error")
