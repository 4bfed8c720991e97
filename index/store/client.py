"""Connecting to Chroma, and one client shared by threads while the store may reopen it.

An unreachable Chroma server is reported as `StoreUnavailable` whatever the call, so the
store's collections are reached through `LiveCollection`, which also follows the store's
current client: `ChromaVectorStore` and threads mid-question keep the object they were given.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings

from index.store.errors import StoreError, StoreUnavailable

if TYPE_CHECKING:
    from index.store.chroma import ChunkStore

CHROMA_PORT = 8000  # `chroma run`'s default


def chroma_client(path: str | None = None, host: str | None = None, port: int = CHROMA_PORT, ssl: bool = False):
    """An embedded on-disk client, or an HTTP client when a server host is given."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        except Exception as exc:  # chromadb raises bare ValueError/ConnectionError here
            raise StoreUnavailable(f"cannot reach the Chroma server at {host}:{port}: {exc}") from exc
    if path is None:
        raise StoreError("a Chroma path or host is required")
    return chromadb.PersistentClient(path=path, settings=settings)


@contextmanager
def reporting_unreachable_server():
    """Report a Chroma server that cannot be reached (refused, reset, timed out) as `StoreUnavailable`."""
    try:
        yield
    except httpx.TransportError as exc:
        raise StoreUnavailable(f"the Chroma server cannot be reached: {exc}") from exc


class ClientInUse:
    """Calls on the client run side by side; reopening it waits for the calls in flight and holds
    new ones back, so that no call meets a closed client.  The reopening thread passes through."""

    def __init__(self):
        self._changed = threading.Condition()
        self._calls = 0
        self._reopener: int | None = None

    @contextmanager
    def calling(self):
        with self._changed:
            if self._reopener == threading.get_ident():
                yield
                return
            self._changed.wait_for(lambda: self._reopener is None)
            self._calls += 1
        try:
            yield
        finally:
            with self._changed:
                self._calls -= 1
                self._changed.notify_all()

    @contextmanager
    def reopening(self):
        with self._changed:
            self._changed.wait_for(lambda: self._reopener is None)
            self._reopener = threading.get_ident()
            self._changed.wait_for(lambda: self._calls == 0)
        try:
            yield
        finally:
            with self._changed:
                self._reopener = None
                self._changed.notify_all()


class LiveCollection:
    """One of the store's collections as its client has it now.

    The store may reopen its client after this object was handed out (to `ChromaVectorStore`,
    to a thread mid-question): each call goes to the collection of the current client, never
    while it is being reopened, and reports an unreachable server as `StoreUnavailable`.
    """

    def __init__(self, store: ChunkStore, name: str):
        self._store, self._name = store, name

    def __getattr__(self, attribute: str):
        value = getattr(self._store.opened[self._name], attribute)
        if not callable(value):  # a collection's name or metadata, read when it was opened
            return value

        def call(*args, **kwargs):
            with self._store.in_use.calling(), reporting_unreachable_server():
                return getattr(self._store.opened[self._name], attribute)(*args, **kwargs)

        return call
