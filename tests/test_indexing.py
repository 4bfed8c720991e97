"""Indexing is incremental, idempotent, survives bad files and being killed."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from index.keyword import KeywordIndex
from index.store import ChunkStore, StoreError, chroma_client
from qa.components import build_index


def small_corpus(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shear.txt").write_text("Emmett Shear, cofondateur de Twitch, devient PDG par intérim d’OpenAI. " * 3)
    (folder / "murati.md").write_text("# Mira Murati\n\nMira Murati était directrice de la technologie. Elle a été nommée PDG.")
    return folder


def index_state(parts):
    chunks = parts.store.chunks.get(include=[])["ids"]
    sentences = parts.store.sentences.get(include=[])["ids"]
    return sorted(chunks), sorted(sentences)


def test_a_second_run_on_an_unchanged_folder_embeds_nothing(make_settings, tmp_path):
    folder = small_corpus(tmp_path / "docs")
    parts = build_index(make_settings(embedding_cache=tmp_path / "private-cache.sqlite3"))
    first = parts.indexer.index_folder(folder)
    assert sorted(first.added) == ["murati", "shear"] and first.new_chunks > 0 and first.embedded > 0

    second = parts.indexer.index_folder(folder)
    assert second.new_chunks == 0 and second.embedded == 0
    assert sorted(second.unchanged) == ["murati", "shear"]
    assert "0 new chunks" in second.summary(str(folder))


def test_a_changed_file_replaces_its_chunks_and_a_removed_file_loses_them(make_settings, tmp_path):
    folder = small_corpus(tmp_path / "docs")
    parts = build_index(make_settings())
    parts.indexer.index_folder(folder)
    before = {r.doc_id: r for r in parts.store.documents()}

    (folder / "shear.txt").write_text("Emmett Shear a dirigé Twitch jusqu’en mars. Il promet un audit indépendant.")
    (folder / "murati.md").unlink()
    report = parts.indexer.index_folder(folder)

    assert report.updated == ["shear"] and report.removed == ["murati"]
    after = {r.doc_id: r for r in parts.store.documents()}
    assert list(after) == ["shear"]
    assert after["shear"].content_hash != before["shear"].content_hash
    texts = parts.store.chunks.get(where={"doc_id": "shear"}, include=["documents"])["documents"]
    assert texts == ["Emmett Shear a dirigé Twitch jusqu’en mars. Il promet un audit indépendant."]
    assert parts.store.chunk_count() == after["shear"].chunks
    assert parts.keyword.search("audit indépendant", 5)[0][0].startswith("shear#")


def test_chunks_keep_exact_offsets_into_the_source(demo_service):
    from qa.settings import REPO_ROOT

    got = demo_service.parts.store.chunks.get(include=["documents", "metadatas"])
    assert got["ids"]
    for text, meta in zip(got["documents"], got["metadatas"]):
        source = (REPO_ROOT / "corpus" / f"{meta['doc_id']}.txt").read_text()
        assert source[meta["start"] : meta["end"]] == text


def test_bad_files_are_reported_and_never_stop_the_run(make_settings, tmp_path):
    folder = small_corpus(tmp_path / "docs")
    (folder / "vide.txt").write_bytes(b"")
    (folder / "binaire.txt").write_bytes(bytes(range(256)))
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4\n%%EOF")
    (folder / "lien-casse.txt").symlink_to(tmp_path / "nowhere.txt")
    parts = build_index(make_settings())

    report = parts.indexer.index_folder(folder)

    reasons = dict(report.errors)
    assert set(reasons) == {"vide.txt", "binaire.txt", "photo.jpg", "scan.pdf", "lien-casse.txt"}
    assert "empty" in reasons["vide.txt"] and "binary" in reasons["binaire.txt"]
    assert "unsupported" in reasons["photo.jpg"] and "PDF" in reasons["scan.pdf"]
    assert "unreadable" in reasons["lien-casse.txt"]
    assert sorted(report.added) == ["murati", "shear"]
    summary = report.summary(str(folder))
    assert summary.count("\n  ") == 5  # one line per bad file


def test_an_index_built_by_one_embedder_refuses_another(make_settings):
    settings = make_settings()
    parts = build_index(settings)
    client = chroma_client(path=str(settings.chroma_path))
    with pytest.raises(StoreError, match="built with embedder"):
        ChunkStore(client, settings.collection, "openai/text-embedding-3-small/1536", 1536)
    assert parts.store.chunk_count() == 0


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_damaged_keyword_index_is_rebuilt_from_chroma(make_settings, tmp_path, damage):
    folder = small_corpus(tmp_path / "docs")
    settings = make_settings()
    build_index(settings).indexer.index_folder(folder)
    state = settings.keyword_dir / "state.json"
    if damage == "missing":
        state.unlink()
    else:
        state.write_text("{not json")

    parts = build_index(settings)
    parts.indexer.refresh_keyword_index()

    assert parts.keyword.search("Twitch", 3)[0][0].startswith("shear#")
    assert KeywordIndex(settings.keyword_dir).load()


def run_cli(args, settings, **kwargs):
    env = {**os.environ, "QA_DATA_DIR": str(settings.data_dir), "QA_EMBEDDING_CACHE": str(settings.embedding_cache_path)}
    return subprocess.Popen([sys.executable, "-m", "qa.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_an_indexing_run_killed_with_sigkill_is_completed_by_the_next_run(make_settings, corpus_copy, tmp_path):
    clean = make_settings(data_dir=tmp_path / "clean")
    build_index(clean).indexer.index_folder(corpus_copy)
    expected = index_state(build_index(clean))

    killed = make_settings(data_dir=tmp_path / "killed", embedding_cache=tmp_path / "cold-cache.sqlite3")
    process = run_cli(["index", str(corpus_copy)], killed)
    time.sleep(random.uniform(4.0, 9.0))
    process.send_signal(signal.SIGKILL)
    process.wait()

    finished = run_cli(["index", str(corpus_copy)], killed)
    out, err = finished.communicate(timeout=600)
    assert finished.returncode == 0, err
    parts = build_index(killed)
    assert index_state(parts) == expected
    parts.indexer.refresh_keyword_index()
    assert sorted(parts.keyword.chunk_ids) == expected[0]
