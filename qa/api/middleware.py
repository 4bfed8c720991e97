"""Limits on what one client may send: the size of a request body, and how many requests a minute.

FastAPI's own `max_body_size` is not used: it would cap the chat's upload route (Gradio,
mounted beside the API) at the JSON limit, and it answers before the gate does.
"""

import threading
import time
from collections import OrderedDict

from qa.api.errors import error_response

# Multipart uploads get the upload limit; every other body the JSON one.
UPLOAD_PATHS = frozenset({"/v1/documents", "/gradio_api/upload"})
BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
SECONDS_PER_MINUTE = 60.0


class BodyLimit:
    """Refuse bodies over the limit before the app sees them.

    The body is read up to the limit (trusting no Content-Length) and replayed to
    the app; one byte more and the client gets a 413 instead.
    """

    def __init__(self, app, json_limit: int, upload_limit: int):
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in BODILESS_METHODS:
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
        self.rate, self.burst, self.max_clients = per_minute / SECONDS_PER_MINUTE, burst, max_clients
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
