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

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 30  # an in-process server that has not started by then will not
STOP_TIMEOUT_S = 10
REQUEST_TIMEOUT_S = 2  # one health request; the poll goes on until its own timeout


def free_port() -> int:
    """A port nothing listens on now, for a child server to bind."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app):
    """Serve `app` with uvicorn in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_S)


def answers(url: str, timeout: float, interval: float = 0.2, keep_waiting: Callable[[], bool] = lambda: True) -> bool:
    """Poll GET `url` until it answers 200; False once `timeout` s pass or `keep_waiting()` turns false
    (its process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and keep_waiting():
        try:
            if httpx.get(url, timeout=REQUEST_TIMEOUT_S).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False
