"""Shared fixtures: a real Chroma on disk, the real bundled embedder, the demo corpus.

The demo corpus is indexed once per session (the embedder loads once per process):
tests that only read share that index through `demo_service`; tests that change an
index take their own copy of its data folder from `indexed_copy`, which is much
cheaper than indexing again.  Every index shares one embedding cache, so no text is
embedded twice.  Plain helpers live in tests/helpers.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from qa.container import stay_offline
from qa.settings import Settings
from tests.helpers import DEMO_CORPUS, VIEWPORTS

stay_offline()
# Tests describe the default, offline product: a developer's own settings must not leak in.
for _key in [k for k in os.environ if k.startswith(("QA_", "OPENAI_"))]:
    del os.environ[_key]


def offline_settings(embedding_cache_dir: Path, **values) -> Settings:
    """Settings (`data_dir` among `values`) for an embedded index of the demo corpus that answers with quotes
    and shares the session's embedding cache, unless `values` say otherwise."""
    defaults = {
        "corpus_dir": DEMO_CORPUS,
        "embedding_cache": embedding_cache_dir / "embeddings.sqlite3",
        "chroma_host": None,
        "generator": "extractive",
    }
    return Settings(_env_file=None, **{**defaults, **values})


@pytest.fixture(scope="session")
def embedding_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture
def make_settings(tmp_path, embedding_cache_dir):
    """Settings for a fresh, empty index in tmp_path."""
    return lambda **overrides: offline_settings(embedding_cache_dir, **{"data_dir": tmp_path / "data", **overrides})


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory, embedding_cache_dir) -> Settings:
    return offline_settings(embedding_cache_dir, data_dir=tmp_path_factory.mktemp("demo-index"))


@pytest.fixture(scope="session")
def demo_service(demo_settings):
    """A service over the indexed demo corpus (read-only: do not index into it)."""
    from qa.service import QAService

    service = QAService.from_settings(demo_settings)
    report = service.index_folder(DEMO_CORPUS)
    assert not report.errors
    yield service
    service.close()


@pytest.fixture(scope="session")
def indexed_copy(demo_service, tmp_path_factory, embedding_cache_dir):
    """`indexed_copy(name, **overrides)`: settings over a new copy of the indexed demo corpus, for a test that writes.

    Its documents keep the demo corpus as their source, so indexing another folder into it
    replaces the documents whose file differs there but never removes one.
    """

    def copy(name: str = "demo-copy", **overrides) -> Settings:
        data_dir = tmp_path_factory.mktemp(name)
        shutil.copytree(demo_service.settings.data_dir, data_dir, dirs_exist_ok=True)
        return offline_settings(embedding_cache_dir, **{**overrides, "data_dir": data_dir})

    return copy


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


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    """A browser test that takes it runs at each size."""
    return request.param


@pytest.fixture
def open_page(browser):
    """Open pages of a local server; every request a page makes must stay on this machine.

    Each page keeps what it wrote to the console as errors in `page.console_errors`.
    """
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
