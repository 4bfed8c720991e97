"""What routes receive from FastAPI besides their body: the service the app serves, and the rate limit."""

from typing import Annotated

from fastapi import Depends, Request

from qa.api.errors import ApiError
from qa.service import QAService


def service_of(request: Request) -> QAService:
    """The service `create_app` was given (one app, one service; tests build several apps in a process)."""
    return request.app.state.service


Service = Annotated[QAService, Depends(service_of)]


def within_rate_limit(request: Request) -> None:
    """The per-client rate limit of /v1 (the gate has already checked who is asking)."""
    limiter = request.app.state.rate_limiter
    if limiter is None:
        return
    wait = limiter.wait_time(request.client.host if request.client else "unknown")
    if wait:
        raise ApiError(429, "rate_limited", f"too many requests; retry in {wait:.0f} s",
                       {"Retry-After": str(max(1, round(wait)))})
