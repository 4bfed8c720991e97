"""The BM25 postings on disk: several processes may rebuild them at once and none loses."""

import threading

from index.keyword.bm25 import KeywordIndex


def _pages(generation: int):
    texts = [f"Le port {631 + generation} sert au serveur d'impression.", "Le paquet cups fournit le serveur."]
    return [([f"doc#{generation}::{i}" for i in range(len(texts))], texts, [{"language": "fr"}] * len(texts))]


def test_writers_saving_the_postings_at_once_all_finish_and_leave_a_loadable_copy(tmp_path):
    """A server catching up and `qa index` committing may both save the postings: neither may crash
    the other (each used to delete the other's half-written copy)."""
    directory = tmp_path / "keyword" / "documents"
    failures = []

    def rebuild_often(first_generation: int):
        own = KeywordIndex(directory)  # one per writer, as in separate processes
        try:
            for generation in range(first_generation, first_generation + 40, 2):
                own.rebuild(_pages(generation), generation)
        except Exception as exc:  # noqa: BLE001 - any failure of a writer fails the test
            failures.append(exc)

    writers = [threading.Thread(target=rebuild_often, args=(start,)) for start in (0, 1)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()

    assert failures == []
    reader = KeywordIndex(directory)
    assert reader.load()
    assert reader.generation == 39  # the newest generation either writer saved
    assert reader.search("serveur d'impression", 2)


def test_an_older_generation_never_replaces_a_newer_one_on_disk(tmp_path):
    directory = tmp_path / "documents"
    KeywordIndex(directory).rebuild(_pages(5), 5)
    late = KeywordIndex(directory)
    late.rebuild(_pages(3), 3)  # a process that caught up with an older view saves after

    assert late.generation == 3  # it answers from what it built
    reader = KeywordIndex(directory)
    assert reader.load() and reader.generation == 5
