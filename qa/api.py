"""HTTP API (FastAPI) over the QA service.  Every error has one JSON shape:
{"error": {"code": ..., "message": ...}}.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.answer import Answer, SearchHit
from qa.service import InvalidRequest, QAService

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="The question, in French or English.")
    top_k: int | None = Field(None, description="How many passages to retrieve.")
    generator: str | None = Field(None, description='"auto", "extractive" or "llm".')


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str
    top_k: int | None = None


class SearchResponse(BaseModel):
    hits: list[SearchHit]


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


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}}, headers=headers)


ERRORS = {422: {"model": ErrorResponse}, 400: {"model": ErrorResponse}}


def create_app(service: QAService) -> FastAPI:
    app = FastAPI(
        title="Grounded QA",
        version="0.1.0",
        description="Questions in French or English, answered from your documents with cited passages.",
    )

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest):
        return error_response(422, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        return error_response(422, "invalid_request", problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, _code_for(exc.status_code), str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal_error", "the server hit an unexpected error; it has been logged")

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> dict:
        return service.health()

    @app.post("/v1/ask", response_model=Answer, responses=ERRORS, tags=["questions"])
    def ask(request: AskRequest) -> Answer:
        return service.ask(request.question, top_k=request.top_k, generator=request.generator)

    @app.post("/v1/search", response_model=SearchResponse, responses=ERRORS, tags=["questions"])
    def search(request: SearchRequest) -> SearchResponse:
        return SearchResponse(hits=service.search(request.question, top_k=request.top_k))

    return app


def _code_for(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}.get(status, "http_error")
