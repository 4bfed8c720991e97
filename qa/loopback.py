"""Loopback helpers: a free port, waiting for a local server to answer, and the app served
inside this process (benchmarks and tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import httpx
import uvicorn


def free_port() -> int:
    """A port nothing listens on now, for a child server to bind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app):
    """Serve `app` with uvicorn in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def answers(url: str, timeout: float, interval: float = 0.2, keep_waiting: Callable[[], bool] = lambda: True) -> bool:
    """Poll GET `url` until it answers 200; False once `timeout` s pass or `keep_waiting()` turns false
    (its process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and keep_waiting():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False
