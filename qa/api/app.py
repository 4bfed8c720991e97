"""HTTP API (FastAPI) over the QA service, assembled from one router per feature.

- `/v1/ask` (JSON) and `/v1/ask/stream` (Server-Sent Events), `/v1/search` (`qa.api.ask`);
- `/v1/chat/completions` and `/v1/models`, so OpenAI clients can talk to the corpus (`qa.api.openai_compat`);
- `/v1/documents` to list, upload and delete documents (`qa.api.documents`);
- one error shape everywhere: {"error": {"code": ..., "message": ...}} (`qa.api.errors`).

When keys are configured, `qa.api.auth.GateMiddleware` closes every route but
`/healthz` and the login page (the chat mounted beside the API too); `/v1/*` is
rate-limited per client, behind trusted proxies by the address they forward.
Request bodies are capped before they are read (`qa.api.middleware`).
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from qa.api import ask, documents, openai_compat
from qa.api.auth import Gate, GateMiddleware
from qa.api.dependencies import Service, within_rate_limit
from qa.api.errors import ERROR_RESPONSES, add_error_handlers
from qa.api.middleware import BodyLimit, RateLimiter
from qa.api.schemas import Health, request_bodies
from qa.service import QAService
from qa.settings import Settings

log = logging.getLogger(__name__)

CORS_METHODS = ["GET", "POST", "DELETE"]
CORS_HEADERS = ["Authorization", "Content-Type"]


def create_app(service: QAService) -> FastAPI:
    """The API over `service`, which stays its builder's to close."""
    settings = service.settings
    gate = Gate.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        (log.warning if gate.is_open else log.info)("%s", gate.describe())
        yield

    app = FastAPI(
        title="Grounded QA",
        version="0.1.0",
        description="Questions in French or English, answered from your documents with cited passages.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst,
                                         settings.rate_limit_clients) if settings.rate_limit_per_minute else None
    _add_middleware(app, settings, gate)
    add_error_handlers(app)
    app.add_api_route("/healthz", healthz, response_model=Health, tags=["service"])

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(within_rate_limit)], responses=ERROR_RESPONSES)
    v1.include_router(ask.router(request_bodies(settings, sorted(service.generators.available))))
    v1.include_router(openai_compat.router)
    v1.include_router(documents.router(settings.max_upload_files))
    app.include_router(v1)
    return app


def healthz(service: Service) -> dict:
    return service.health()


def _add_middleware(app: FastAPI, settings: Settings, gate: Gate) -> None:
    """The last added runs first: forwarded addresses, CORS preflights, the gate, then body limits."""
    app.add_middleware(BodyLimit, json_limit=settings.max_json_bytes, upload_limit=settings.max_body_bytes)
    app.add_middleware(GateMiddleware, gate=gate)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=CORS_METHODS,
                           allow_headers=CORS_HEADERS)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
