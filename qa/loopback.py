"""Loopback helpers: a free port for a child server, and waiting for a local server to answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx

LOOPBACK = "127.0.0.1"
REQUEST_TIMEOUT_S = 2  # one health request; the poll goes on until its own timeout


def free_port() -> int:
    """A port nothing listens on now, for a child server to bind."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


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
