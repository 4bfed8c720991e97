"""Shared fixtures: a real Chroma on disk, the real bundled embedder, the demo corpus.

Indexing the demo corpus takes a little while on two cores, so one indexed copy
serves every test that only reads; tests that change an index build their own in
tmp_path.  All of them share one embedding cache, so no text is embedded twice.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from qa.container import stay_offline
from qa.settings import REPO_ROOT, Settings

stay_offline()
# Tests describe the default, offline product: a developer's own settings must not leak in.
for _key in [k for k in os.environ if k.startswith(("QA_", "OPENAI_"))]:
    del os.environ[_key]

DEMO_CORPUS = REPO_ROOT / "corpus"


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture
def make_settings(tmp_path, embedding_cache_dir):
    """Settings for a fresh index in tmp_path that reuses the session's embedding cache."""

    def make(**overrides) -> Settings:
        values = {
            "data_dir": tmp_path / "data",
            "corpus_dir": DEMO_CORPUS,
            "embedding_cache": embedding_cache_dir / "embeddings.sqlite3",
            "chroma_host": None,
            "generator": "extractive",
            **overrides,
        }
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory, embedding_cache_dir) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("demo-index"),
        corpus_dir=DEMO_CORPUS,
        embedding_cache=embedding_cache_dir / "embeddings.sqlite3",
        chroma_host=None,
        generator="extractive",
        _env_file=None,
    )


@pytest.fixture(scope="session")
def demo_service(demo_settings):
    """A service over the indexed demo corpus (read-only: do not index into it)."""
    from qa.service import QAService

    service = QAService.from_settings(demo_settings)
    report = service.index_folder(DEMO_CORPUS)
    assert not report.errors
    return service


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, folder)
    return folder


# -- a real browser: Debian's chromium driven by playwright -------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
SHOTS = REPO_ROOT / "test-artifacts" / "ui"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


def opened(open_page, url: str, viewport: str, locale: str):
    """The chat page once it is drawn in the language the browser asks for."""
    page = open_page(url, *VIEWPORTS[viewport], locale=locale)
    page.wait_for_selector(f"html[data-drawn={locale[:2]}]", timeout=60_000)
    return page


def full_page_shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@contextmanager
def served_chat(data_dir: Path, embedding_cache_dir: Path, adapt=None):
    """The API with the chat mounted, over its own index of the demo corpus, answering extractively.

    `adapt(service)` may change the service before it is served (a slower stream, say).
    """
    from qa.api.app import create_app
    from qa.loopback import serving
    from qa.service import QAService
    from ui.app import mount

    settings = Settings(_env_file=None, data_dir=data_dir, generator="extractive", chroma_host=None,
                        embedding_cache=embedding_cache_dir / "embeddings.sqlite3")
    service = QAService.from_settings(settings)
    service.index_folder(DEMO_CORPUS)
    if adapt:
        adapt(service)
    with serving(mount(create_app(service), service)) as url:
        yield url
    service.close()


@pytest.fixture
def open_page(browser):
    """Open pages of a local server; every request a page makes must stay on this machine.

    Each page keeps what it wrote to the console as errors in `page.console_errors`.
    """
    from urllib.parse import urlparse

    contexts, outside = [], []

    def guard(route):
        url = route.request.url
        if urlparse(url).hostname in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:")):
            return route.continue_()
        outside.append(url)
        return route.abort()

    def open_(url: str, width: int = 1400, height: int = 1000, locale: str = "fr-FR"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        page.route("**/*", guard)
        page.goto(url, wait_until="load")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert outside == [], f"the page tried to reach other hosts: {outside}"
