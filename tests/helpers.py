"""Helpers shared by several test modules (fixtures live in conftest.py).

Test modules import these from here, never from conftest.py or from one another.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from qa.settings import REPO_ROOT, Settings

DEMO_CORPUS = REPO_ROOT / "corpus"
DATA = REPO_ROOT / "tests" / "data"  # fixtures: real document excerpts, labelled pairs


def sse_events(response: httpx.Response) -> Iterator[tuple[str | None, dict]]:
    """(event name, decoded data) for each server-sent event of a streamed response."""
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


def run_cli(args: list[str], settings: Settings, **popen) -> subprocess.Popen:
    """`qa ARGS` as a child process on the index `settings` name, answering with quotes; its output is piped."""
    env = {**os.environ, "QA_DATA_DIR": str(settings.data_dir),
           "QA_EMBEDDING_CACHE": str(settings.embedding_cache_path), "QA_GENERATOR": "extractive"}
    return subprocess.Popen([sys.executable, "-m", "qa.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


# `qa index` runs forked from a server that has already imported what it imports (4 of its 6 s of
# start-up here): a run is a whole `qa index` in a child process, without the wait for its imports.
QA_INDEX_IMPORTS = ["qa.cli", "qa.container", "index.indexer", "index.embedding.e5_engine", "chromadb"]


def _qa_index(folder: str, environment: dict[str, str]) -> None:
    from qa.cli import main

    os.environ.update(environment)
    raise SystemExit(main(["index", folder]))


def in_a_child(target: Callable[..., None], *args) -> multiprocessing.Process:
    """`target(*args)` started in a child process forked from one that has imported the stack."""
    forked = multiprocessing.get_context("forkserver")
    forked.set_forkserver_preload(QA_INDEX_IMPORTS)
    process = forked.Process(target=target, args=args)
    process.start()
    return process


def forked_qa_index(settings: Settings, folder: Path) -> multiprocessing.Process:
    """`qa index FOLDER` started in a child process on the index `settings` name, answering with quotes."""
    environment = {"QA_DATA_DIR": str(settings.data_dir), "QA_EMBEDDING_CACHE": str(settings.embedding_cache_path),
                   "QA_GENERATOR": "extractive"}
    return in_a_child(_qa_index, str(folder), environment)


def qa_index(settings: Settings, folder: Path) -> None:
    """`qa index FOLDER` in a child process, to its end, which must be a success."""
    process = forked_qa_index(settings, folder)
    process.join(timeout=600)
    assert process.exitcode == 0


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread of this process; yield its base URL.

    Shutdown does not wait for open streams (a Gradio client keeps one): a test is over when it returns.
    """
    import threading

    import uvicorn

    from qa.loopback import LOOPBACK, free_port

    port = free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", proxy_headers=False,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def served_chat(settings: Settings, adapt: Callable | None = None) -> Iterator[str]:
    """The API with the chat mounted, over the index `settings` name, served on loopback; yields its URL.

    `adapt(service)` may change the service before it is served (a slower stream, say).  The app is
    imported here, not at the top: every test session imports this module, few serve the chat.
    """
    from qa.api.app import create_app
    from qa.service import QAService
    from ui.app import mount

    service = QAService.from_settings(settings)
    if adapt:
        adapt(service)
    try:
        with serving(mount(create_app(service), service)) as url:
            yield url
    finally:
        service.close()


# -- the chat in a real browser (the `open_page` fixture opens the pages) --------------------
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
SHOTS = REPO_ROOT / "test-artifacts" / "ui"


def opened(open_page, url: str, viewport: str, locale: str):
    """The chat page once it is drawn in the language the browser asks for."""
    page = open_page(url, *VIEWPORTS[viewport], locale=locale)
    page.wait_for_selector(f"html[data-drawn={locale[:2]}]", timeout=60_000)
    return page


def full_page_shot(page, name: str) -> None:
    """A screenshot in test-artifacts/ui/ for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def choose_files(page, *paths) -> None:
    """Put files in the drop zone and wait until they are uploaded (listed by name), before indexing them."""
    page.set_input_files("#upload input[type=file]", [str(p) for p in paths])
    for path in paths:
        page.wait_for_selector(f"#upload :text('{path.name}')", timeout=60_000)
