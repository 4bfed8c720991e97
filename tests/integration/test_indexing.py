"""Indexing is incremental, idempotent, survives bad files and being killed."""

import shutil

import pytest

from index.indexer import Rejection
from index.keyword.bm25 import KeywordIndex
from index.loaders import load_document
from index.store.chroma import ChunkStore, searchable_text
from index.store.client import chroma_client
from index.store.errors import StoreError
from index.text.sentences import sections, unit_spans
from qa.container import build_index
from qa.settings import Settings
from tests.helpers import DATA


def small_corpus(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shear.txt").write_text("Emmett Shear, cofondateur de Twitch, devient PDG par intérim d’OpenAI. " * 3)
    (folder / "murati.md").write_text(
        "# Mira Murati\n\nMira Murati était directrice de la technologie. Elle a été nommée PDG.")
    return folder


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

    codes = {error.filename: error.code for error in report.errors}
    assert codes == {"vide.txt": "empty", "binaire.txt": "not_text", "photo.jpg": "unsupported_type",
                     "scan.pdf": "damaged", "lien-casse.txt": "unreadable"}
    reasons = {error.filename: error.message for error in report.errors}
    assert "empty" in reasons["vide.txt"] and "binary" in reasons["binaire.txt"]
    assert "unsupported" in reasons["photo.jpg"] and "PDF" in reasons["scan.pdf"]
    assert "unreadable" in reasons["lien-casse.txt"]
    assert sorted(report.added) == ["murati", "shear"]
    summary = report.summary(str(folder))
    assert summary.count("\n  ") == 5  # one line per bad file
    assert "\n  vide.txt: empty file" in summary


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
    assert KeywordIndex(settings.keyword_dir, embed_words=parts.keyword.embed_words).load()


def test_a_damaged_embedding_cache_is_set_aside_rebuilt_and_logged(make_settings, tmp_path, caplog):
    folder = small_corpus(tmp_path / "docs")
    cache = tmp_path / "cache.sqlite3"
    cache.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    settings = make_settings(embedding_cache=cache)

    report = build_index(settings).indexer.index_folder(folder)

    assert not report.errors and report.new_chunks > 0
    assert "embedding cache" in caplog.text and "damaged" in caplog.text
    assert cache.with_suffix(".corrupt").exists()
    assert build_index(settings).indexer.index_folder(folder).embedded == 0  # the rebuilt cache works


def test_a_file_over_the_size_limit_is_reported_and_never_read(make_settings, tmp_path):
    folder = small_corpus(tmp_path / "docs")
    with open(folder / "enorme.txt", "wb") as huge:
        huge.truncate(30_000_000)  # sparse: 30 MB without writing them
    report = build_index(make_settings(max_upload_bytes=20_000_000)).indexer.index_folder(folder)
    assert report.errors == [Rejection("enorme.txt", "too_large", "larger than the 20 MB file limit", {"limit_mb": 20})]
    assert sorted(report.added) == ["murati", "shear"]


# -- structure: chunks follow sections, know their heading path and page --------------------------
REAL = DATA / "real"


@pytest.fixture(scope="module")
def real_index(tmp_path_factory, embedding_cache_dir):
    """The real-document fixtures (HTML, PDF, Markdown, Word, OpenDocument, EPUB), indexed once."""
    folder = tmp_path_factory.mktemp("real-docs")
    for path in REAL.iterdir():
        if path.is_file() and path.name not in ("README.md", "make_fixtures.py"):
            shutil.copy(path, folder)
    settings = Settings(data_dir=tmp_path_factory.mktemp("real-index"), corpus_dir=folder,
                        embedding_cache=embedding_cache_dir / "embeddings.sqlite3", chroma_host=None,
                        generator="extractive", _env_file=None)
    report = build_index(settings).indexer.index_folder(folder)
    assert not report.errors and len(report.added) == 6
    return settings, {path.stem: load_document(path, folder) for path in folder.iterdir()}


def stored_chunks(settings, doc_id: str) -> list[tuple[str, dict]]:
    got = build_index(settings).store.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
    return sorted(zip(got["documents"], got["metadatas"]), key=lambda chunk: chunk[1]["chunk_index"])


@pytest.mark.slow
@pytest.mark.parametrize("doc_id", ["reference-ch06-printing.fr", "faq-ch01.fr", "printing-word"])
def test_a_chunk_never_straddles_two_sections_and_keeps_exact_offsets(real_index, doc_id):
    settings, documents = real_index
    document = documents[doc_id]
    runs = [(run[0].start, run[-1].end) for run in sections(document.blocks)]
    chunks = stored_chunks(settings, doc_id)
    assert len(chunks) > 1
    for text, meta in chunks:
        assert document.text[meta["start"] : meta["end"]] == text
        assert any(start <= meta["start"] and meta["end"] <= end for start, end in runs), text


@pytest.mark.slow
def test_the_heading_path_is_in_the_chunk_metadata(real_index):
    settings, _ = real_index
    sections_by_text = {text: meta["section"] for text, meta in stored_chunks(settings, "reference-ch06-printing.fr")}
    holding = [section for text, section in sections_by_text.items() if "CUPS en pointant" in text]
    assert holding == ["Chapitre 6. Applications réseau › 6.4. Le serveur et les utilitaires d’impression"]


@pytest.mark.slow
def test_each_pdf_chunk_knows_its_page(real_index):
    settings, _ = real_index
    chunks = stored_chunks(settings, "faq-ch01.fr")
    assert all(1 <= meta["page"] <= meta["page_end"] <= 3 for _, meta in chunks)
    assert [meta["page"] for text, meta in chunks if "Ian Murdock en 1993" in text] == [2]
    assert all("page" not in meta for _, meta in stored_chunks(settings, "reference-ch06-printing.fr"))


@pytest.mark.slow
def test_a_quote_is_a_whole_unit_and_its_citation_names_section_and_page(real_index):
    from eval.metrics import fragmentary_quotes
    from qa.service import QAService

    settings, documents = real_index
    service = QAService.from_settings(settings)
    try:
        printing = service.ask("Comment configurer CUPS avec un navigateur web ?")
        founder = service.ask("Qui a créé le projet Debian, et en quelle année ?")
    finally:
        service.close()
    units = {doc_id: unit_spans(doc.text, doc.blocks) for doc_id, doc in documents.items()}
    assert "« http://localhost:631/ »" in printing.answer  # the quote is not cut at the link
    assert fragmentary_quotes(printing, units) == [] and fragmentary_quotes(founder, units) == []
    cups = next(c for c in printing.citations if "CUPS en pointant" in c.text)
    assert cups.section == "Chapitre 6. Applications réseau › 6.4. Le serveur et les utilitaires d’impression"
    murdock = next(c for c in founder.citations if "Ian Murdock" in c.text)
    assert (murdock.doc_id, murdock.page) == ("faq-ch01.fr", 2)


def test_the_text_embedded_and_keyword_indexed_starts_with_the_heading_path():
    meta = {"section": "Chapitre 6. Applications réseau › 6.4. Le serveur et les utilitaires d’impression"}
    assert searchable_text("Vous pouvez configurer CUPS.", meta) == (
        "Chapitre 6. Applications réseau › 6.4. Le serveur et les utilitaires d’impression\n"
        "Vous pouvez configurer CUPS."
    )
    assert searchable_text("Texte sans titre.", {"section": ""}) == "Texte sans titre."
