"""The service keeps answering while its index changes, and over a long run.

The soak test runs for ten minutes, so `make test` leaves it out; `make soak` runs it.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Self

import httpx
import pytest

from eval.bench.server import served
from eval.dataset import DEFAULT_SET, load_set
from qa.api.app import create_app
from qa.container import build_index
from qa.service import QAService
from tests.helpers import qa_index, serving

QUESTIONS = [item.question for item in load_set(DEFAULT_SET)]
NOTE = "Le club de voile de Valcourt a été fondé en 1987 par Jeanne Martin. Il compte 240 membres.".encode()


class Readers:
    """Threads asking questions until stopped; they record every failure they see."""

    def __init__(self, url: str, known_documents: set[str], count: int = 3):
        self.url, self.known = url, known_documents
        self.answered, self.failures = 0, []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._ask, args=(seed,)) for seed in range(count)]

    def _ask(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self._stop.is_set():
                try:
                    response = http.post("/v1/ask", json={"question": rng.choice(QUESTIONS)})
                    problem = None if response.status_code == 200 else f"HTTP {response.status_code}: {response.text}"
                    if not problem:
                        cited = {c["doc_id"] for c in response.json()["citations"]}
                        if not cited <= self.known or any(not c["text"] for c in response.json()["citations"]):
                            problem = f"citations outside the index: {cited - self.known}"
                except httpx.HTTPError as exc:
                    problem = repr(exc)
                with self._lock:
                    if problem:
                        self.failures.append(problem)
                    else:
                        self.answered += 1

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


@pytest.mark.slow
def test_questions_keep_being_answered_while_documents_are_indexed(indexed_copy, corpus_copy):
    service = QAService.from_settings(indexed_copy("under-load", rate_limit_per_minute=0))
    known = {d.doc_id for d in service.parts.store.documents()} | {"voile"}
    article = min(corpus_copy.glob("*.txt"))

    with (serving(create_app(service)) as url, Readers(url, known) as readers,
          httpx.Client(base_url=url, timeout=120) as http):
        for _ in range(3):
            uploaded = http.post("/v1/documents", files=[("files", ("voile.txt", NOTE, "text/plain"))])
            assert uploaded.status_code == 200, uploaded.text
            assert http.delete("/v1/documents/voile").status_code == 204
        article.write_text(article.read_text(encoding="utf-8") + "\n\nLe conseil s’est réuni une dernière fois.",
                           encoding="utf-8")
        report = service.index_folder(corpus_copy)
        time.sleep(2)

    service.close()
    assert report.updated == [article.stem]
    assert readers.failures == []
    assert readers.answered >= 20


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


@pytest.mark.soak
def test_a_ten_minute_soak_has_no_errors_and_memory_stays_flat(indexed_copy):
    """Moderate, mixed traffic; memory after the first minute is the baseline."""
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    settings = indexed_copy("soak")
    known = {d.doc_id for d in build_index(settings).store.documents()} | {"voile"}

    with served(settings.data_dir, embedding_cache=settings.embedding_cache_path) as (url, server):
        pid = server.process.pid
        samples: list[tuple[float, float]] = []
        with Readers(url, known, count=4) as readers, httpx.Client(base_url=url, timeout=120) as http:
            started, rounds = time.monotonic(), 0
            while (elapsed := time.monotonic() - started) < seconds:
                if rounds % 6 == 0:  # about once a minute, a document comes and goes
                    upload = [("files", ("voile.txt", NOTE, "text/plain"))]
                    assert http.post("/v1/documents", files=upload).status_code == 200
                    assert http.delete("/v1/documents/voile").status_code == 204
                question = {"role": "user", "content": random.choice(QUESTIONS)}
                streamed = http.post("/v1/chat/completions",
                                     json={"model": "grounded-qa", "stream": True, "messages": [question]})
                assert streamed.status_code == 200
                samples.append((elapsed, rss_mb(pid)))
                rounds += 1
                time.sleep(10)

    baseline = next(mb for t, mb in samples if t >= min(60, seconds / 5))
    growth = (samples[-1][1] - baseline) / baseline
    print(f"\nsoak: {seconds:.0f} s, {readers.answered} answers, {len(readers.failures)} failures, "
          f"RSS {baseline:.0f} MB after warm-up -> {samples[-1][1]:.0f} MB at the end ({growth:+.1%}), "
          f"peak {max(mb for _, mb in samples):.0f} MB")
    assert readers.failures == []
    assert growth < 0.10


@pytest.mark.slow
def test_qa_index_in_another_process_changes_what_a_running_server_answers_and_loses_nothing(
    indexed_copy, corpus_copy
):
    """`qa serve` and `qa index` on one embedded store: each sees the other's writes."""
    settings = indexed_copy("served-and-indexed")
    voile = "Qui a fondé le club de voile de Valcourt ?"
    aviron = "Combien de rameurs compte le club d’aviron de Valcourt ?"

    with served(settings.data_dir, embedding_cache=settings.embedding_cache_path) as (url, _), \
            httpx.Client(base_url=url, timeout=120) as http:
        def cited(question: str) -> set[str]:
            response = http.post("/v1/ask", json={"question": question})
            assert response.status_code == 200, response.text
            return {c["doc_id"] for c in response.json()["citations"]}

        assert "voile" not in cited(voile)
        (corpus_copy / "voile.txt").write_bytes(NOTE)
        qa_index(settings, corpus_copy)
        assert "voile" in cited(voile)

        (corpus_copy / "voile.txt").unlink()
        qa_index(settings, corpus_copy)
        for question in [voile, *QUESTIONS[:10]]:
            assert "voile" not in cited(question)

        # The server writes after the other process did, then the other process writes again.
        rowing = "Le club d’aviron de Valcourt compte 85 rameurs.".encode()
        assert http.post("/v1/documents", files=[("files", ("aviron.txt", rowing, "text/plain"))]).status_code == 200
        (corpus_copy / "voile.txt").write_bytes(NOTE)
        qa_index(settings, corpus_copy)
        assert "aviron" in cited(aviron) and "voile" in cited(voile)

    # A fresh reader (this process never opened the store) reads it from disk: every write above is there.
    fresh = QAService.from_settings(settings)
    for question, doc_id in ((voile, "voile"), (aviron, "aviron")):
        answer = fresh.ask(question).model_dump()
        assert doc_id in {c["doc_id"] for c in answer["citations"]}
    fresh.close()
