"""The index survives what kills or starves `qa index`: SIGKILL at any moment, a full disk.

Only child processes write these indexes: an in-process Chroma client would keep a stale view of them.
"""

import random
import signal
import sqlite3
import time
from contextlib import closing

import pytest

from qa.container import build_index
from tests.helpers import forked_qa_index, qa_index, run_cli


def index_state(parts):
    chunks = parts.store.chunks.get(include=[])["ids"]
    sentences = parts.store.sentences.get(include=[])["ids"]
    return sorted(chunks), sorted(sentences)


def demo_answers(parts_settings) -> list[tuple[str, list[str]]]:
    """The answer and cited passages of every eval question, from a fresh service."""
    from eval.dataset import DEFAULT_SET, load_set
    from qa.service import QAService

    service = QAService.from_settings(parts_settings)
    try:
        answers = [service.ask(item.question) for item in load_set(DEFAULT_SET)]
    finally:
        service.close()
    return [(a.answer, [(c.doc_id, c.start, c.end) for c in a.citations]) for a in answers]


@pytest.mark.slow
def test_twenty_sigkills_in_a_row_then_one_run_leave_the_index_a_clean_run_builds(
    make_settings, corpus_copy, tmp_path, demo_service
):
    """Each round edits an article, starts `qa index` and kills it at a random moment of the run. Runs keep
    their vector cache, as a user's do (it starts with the demo's vectors): a run embeds only the edited
    article's new texts, so most of its time is the writes a kill must never leave half done."""
    vectors = tmp_path / "vectors.sqlite3"
    with closing(sqlite3.connect(demo_service.settings.embedding_cache_path)) as demo, \
            closing(sqlite3.connect(vectors)) as own:
        demo.backup(own)
    killed = make_settings(data_dir=tmp_path / "killed", corpus_dir=corpus_copy, embedding_cache=vectors)
    articles = sorted(corpus_copy.glob("*.txt"))
    rng = random.Random(20)

    def edit(round_number: int | str) -> None:
        article = rng.choice(articles)
        article.write_text(article.read_text(encoding="utf-8") + f"\n\nMise à jour n° {round_number} de l’article.",
                           encoding="utf-8")

    # Only child processes touch this index: an in-process Chroma client would keep a stale view of it.
    run_seconds = 0.0
    for label in ("first", "timed"):  # the first run builds the index and starts the fork server
        edit(label)
        started = time.monotonic()
        qa_index(killed, corpus_copy)
        run_seconds = time.monotonic() - started

    interrupted = 0
    for round_number in range(1, 61):
        edit(round_number)
        process = forked_qa_index(killed, corpus_copy)
        time.sleep(rng.uniform(0.1, 0.95) * run_seconds)
        interrupted += process.is_alive()
        process.kill()  # SIGKILL
        process.join()
        if interrupted == 20:
            break
    assert interrupted == 20, f"only {interrupted} runs were still running when killed"

    qa_index(killed, corpus_copy)
    clean = make_settings(data_dir=tmp_path / "clean", corpus_dir=corpus_copy)
    build_index(clean).indexer.index_folder(corpus_copy)
    expected = index_state(build_index(clean))
    parts = build_index(killed)
    chunk_ids, sentence_ids = index_state(parts)
    assert (chunk_ids, sentence_ids) == expected
    assert len(set(chunk_ids)) == len(chunk_ids) and len(set(sentence_ids)) == len(sentence_ids)
    parts.indexer.refresh_keyword_index()
    assert sorted(parts.keyword.chunk_ids) == expected[0]
    assert demo_answers(killed) == demo_answers(clean)


def limit_file_size(limit: int):
    """For a child process: files cannot grow past `limit` bytes (writes fail with EFBIG)."""

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_a_full_disk_while_indexing_is_a_clear_error_and_the_previous_index_survives(
    make_settings, corpus_copy, tmp_path
):
    settings = make_settings()
    build_index(settings).indexer.index_folder(corpus_copy)
    before = index_state(build_index(settings))
    answers_before = demo_answers(settings)
    article = next(corpus_copy.glob("*.txt"))
    copy = article.read_text(encoding="utf-8").replace("OpenAI", "Open AI")
    (corpus_copy / "copie.txt").write_text(copy, encoding="utf-8")
    largest = max(f.stat().st_size for f in settings.data_dir.rglob("*") if f.is_file())

    process = run_cli(["index", str(corpus_copy)], settings, preexec_fn=limit_file_size(largest))
    _, err = process.communicate(timeout=600)

    assert process.returncode == 2, err
    assert err.startswith("qa: error: the disk is full") and "Traceback" not in err
    indexed = [d.doc_id for d in build_index(settings).store.documents()]
    assert indexed == sorted(p.stem for p in corpus_copy.glob("*") if p.stem != "copie")
    assert demo_answers(settings) == answers_before

    qa_index(settings, corpus_copy)
    chunks, _ = index_state(build_index(settings))
    assert set(before[0]) < set(chunks)
