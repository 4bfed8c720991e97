"""Shared fixtures: a real Chroma on disk, the real bundled embedder, the demo corpus.

Indexing the demo corpus takes a little while on two cores, so one indexed copy
serves every test that only reads; tests that change an index build their own in
tmp_path.  All of them share one embedding cache, so no text is embedded twice.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qa.components import stay_offline
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
