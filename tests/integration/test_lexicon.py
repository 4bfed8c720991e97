"""The keyword index bridges languages: a question word the postings do not hold
stands for its translations among the indexed words, found with the bundled
multilingual embedder (no dictionary to download)."""

from index.keyword.bm25 import KeywordIndex
from index.keyword.tokens import keyword_tokens
from qa.container import build_index


def french_corpus(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lettre.txt").write_text(
        "La lettre des employés a été envoyée dans la nuit au conseil d’administration. "
        "Les journalistes attendent la réponse du conseil."
    )
    (folder / "budget.txt").write_text("Le budget de la piscine municipale a été voté en mars par la mairie.")
    return folder


def test_english_words_stand_for_their_french_translations(make_settings, tmp_path):
    parts = build_index(make_settings())
    parts.indexer.index_folder(french_corpus(tmp_path / "docs"))

    (_, letter), (_, night) = parts.keyword.question_terms("letter night")

    assert keyword_tokens("lettre", "fr")[0] in letter
    assert keyword_tokens("nuit", "fr")[0] in night
    hits = parts.keyword.search("Which letter was sent at night?", 3)
    assert hits and hits[0][0].startswith("lettre#")


def test_a_word_with_no_counterpart_in_the_documents_stays_unknown(make_settings, tmp_path):
    parts = build_index(make_settings())
    parts.indexer.index_folder(french_corpus(tmp_path / "docs"))

    ((_, boil),) = parts.keyword.question_terms("boil")

    assert not parts.keyword.knows(boil)
    assert parts.keyword.search("boil", 3) == []


def test_words_the_documents_hold_are_taken_as_they_are(make_settings, tmp_path):
    parts = build_index(make_settings())
    parts.indexer.index_folder(french_corpus(tmp_path / "docs"))

    ((_, piscine),) = parts.keyword.question_terms("piscine")

    assert piscine == {keyword_tokens("piscine", "fr")[0], keyword_tokens("piscine", "en")[0]}


def test_the_lexicon_is_saved_with_the_postings(make_settings, tmp_path):
    settings = make_settings()
    parts = build_index(settings)
    parts.indexer.index_folder(french_corpus(tmp_path / "docs"))

    reloaded = KeywordIndex(settings.keyword_dir, embed_words=parts.keyword.embed_words)
    assert reloaded.load()
    ((_, letter),) = reloaded.question_terms("letter")
    assert keyword_tokens("lettre", "fr")[0] in letter


def test_postings_saved_without_a_lexicon_are_rebuilt_with_one(make_settings, tmp_path):
    settings = make_settings()
    parts = build_index(settings)
    parts.indexer.index_folder(french_corpus(tmp_path / "docs"))
    plain = KeywordIndex(settings.keyword_dir)
    plain.rebuild(parts.store.iter_chunks(), parts.store.generation())

    assert not KeywordIndex(settings.keyword_dir, embed_words=parts.keyword.embed_words).load()
