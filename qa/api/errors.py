"""One error shape everywhere, {"error": {"code", "message"}}, and every handler that makes it."""

import logging
from collections.abc import Iterator
from itertools import chain

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from index.store.errors import StorageFull, StoreUnavailable
from qa.api.schemas import ErrorBody, ErrorResponse
from qa.validation import InvalidRequest

log = logging.getLogger(__name__)

# What the OpenAPI spec says every /v1 route may answer besides its success.
ERROR_STATUSES = (400, 401, 403, 404, 413, 415, 422, 429, 503)
ERROR_RESPONSES = {status: {"model": ErrorResponse} for status in ERROR_STATUSES}
# The same for a route whose responses default to server-sent events: its errors are JSON all the same.
JSON_ERROR = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}}}
STREAM_ERROR_RESPONSES = {status: {"content": JSON_ERROR} for status in ERROR_STATUSES}
# Chroma restarting takes seconds: a client told to come back after this is likely to succeed.
STORE_RETRY_AFTER_S = 5
CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}


class ApiError(Exception):
    """A refusal a route decides itself: its status, code and message go to the client as they are,
    with `extra` fields of the error object that the route's spec documents (a rejected upload's files)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra


def error_body(code: str, message: str) -> ErrorResponse:
    return ErrorResponse(error=ErrorBody(code=code, message=message))


def error_response(status: int, code: str, message: str, headers: dict | None = None,
                   extra: dict | None = None) -> JSONResponse:
    content = error_body(code, message).model_dump()
    content["error"].update(extra or {})
    return JSONResponse(status_code=status, content=content, headers=headers)


def started(events: Iterator) -> Iterator:
    """`events` with its first one already made: a request the service refuses is then a JSON 4xx,
    before a stream's 200 is sent."""
    return chain([next(events)], events)


def stream_failure(exc: Exception) -> ErrorResponse:
    """The last event of a stream that broke after it started (its status was already sent)."""
    return error_body("stream_failed", str(exc) or type(exc).__name__)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(InvalidRequest, _invalid)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(StorageFull, _storage_full)
    app.add_exception_handler(Exception, _unexpected)


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers, exc.extra)


async def _invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
    return error_response(422, exc.code, str(exc))


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {_readable(e)}" for e in exc.errors())
    return error_response(422, "invalid_request", problems or "invalid request")


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:  # list every method of the path, not only the first route's
        headers = {"Allow": ", ".join(_methods_for(request))}
    return error_response(exc.status_code, CODES.get(exc.status_code, "http_error"), str(exc.detail), headers)


async def _store_unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
    log.warning("vector store unavailable: %s", exc)
    return error_response(503, "store_unavailable", "the vector store (Chroma) cannot be reached; retry shortly",
                          {"Retry-After": str(STORE_RETRY_AFTER_S)})


async def _storage_full(_: Request, exc: StorageFull) -> JSONResponse:
    log.error("%s", exc)
    return error_response(507, "storage_full", str(exc))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal_error", "the server hit an unexpected error; it has been logged")


def _readable(error: dict) -> str:
    if error["type"] == "string_pattern_mismatch":
        return "must hold some text and no NUL character"
    return error["msg"]


def _methods_for(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= route.methods
    return sorted(methods)
