"""Sentence vectors come from their chunk's forward pass: indexing embeds each chunk once,
and an edited document re-embeds only the chunks whose text changed."""

import numpy as np

from index.embedders import in_context
from qa.components import build_index

PARAGRAPHS = [
    f"Le club {name} de Valcourt a été fondé en {1900 + 7 * i}. Il compte {40 + i} membres. "
    f"Ses entraînements ont lieu le {day} au bord du lac, sauf en hiver."
    for i, (name, day) in enumerate([("d’aviron", "lundi"), ("de voile", "mardi"), ("de natation", "mercredi"),
                                     ("de plongée", "jeudi"), ("de canoë", "vendredi"), ("de kayak", "samedi")])
]


def write_clubs(folder, paragraphs):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clubs.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    return folder


def test_each_chunk_is_embedded_once_and_its_sentences_read_in_context(make_settings, tmp_path):
    parts = build_index(make_settings(chunk_size=64, chunk_overlap=8, embedding_cache=tmp_path / "cache.sqlite3"))
    report = parts.indexer.index_folder(write_clubs(tmp_path / "docs", PARAGRAPHS))

    assert report.new_chunks > 3 and report.embedded == report.new_chunks
    got = parts.store.sentences.get(include=["documents", "embeddings", "metadatas"])
    order = np.argsort([meta["index"] for meta in got["metadatas"]])
    texts = [got["documents"][i] for i in order]
    stored = np.asarray([got["embeddings"][i] for i in order], dtype=np.float32)
    separately = np.asarray(parts.embed_model.get_text_embedding_batch(in_context(texts)), dtype=np.float32)
    assert ((stored * separately).sum(axis=1) > 0.9).all()


def test_an_edited_document_re_embeds_only_its_changed_chunks(make_settings, tmp_path):
    folder = write_clubs(tmp_path / "docs", PARAGRAPHS)
    parts = build_index(make_settings(chunk_size=64, chunk_overlap=8, embedding_cache=tmp_path / "cache.sqlite3"))
    first = parts.indexer.index_folder(folder)

    write_clubs(folder, [*PARAGRAPHS[:-1], PARAGRAPHS[-1].replace("samedi", "dimanche")])
    second = parts.indexer.index_folder(folder)

    assert second.updated == ["clubs"] and second.new_chunks == first.new_chunks
    assert 1 <= second.embedded <= 2 and second.from_cache == second.new_chunks - second.embedded
