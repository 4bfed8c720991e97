"""Past one machine: API processes beside a real Chroma server (`chroma run`).

Two `qa serve` processes share one Chroma server: what one indexes, the other
answers from, with the same answers; each keeps its own keyword postings and
refreshes them when Chroma's generation moves.  When Chroma goes away, requests
fail fast with a 503 and recover on their own when it is back.
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from eval.bench.server import served
from qa.loopback import LOOPBACK, answers, free_port
from tests.helpers import DEMO_CORPUS

pytestmark = pytest.mark.slow
CHROMA = Path(sys.executable).with_name("chroma")


def wait_for(url: str, timeout: float = 60) -> None:
    if not answers(url, timeout):
        raise TimeoutError(url)


class ChromaServer:
    def __init__(self, path: Path):
        self.path, self.port, self.process = path, free_port(), None

    def start(self) -> ChromaServer:
        command = [str(CHROMA), "run", "--path", str(self.path), "--host", LOOPBACK, "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"http://{LOOPBACK}:{self.port}/api/v2/heartbeat")
        return self

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, embedding_cache_dir):
    root = tmp_path_factory.mktemp("cluster")
    chroma = ChromaServer(root / "chroma").start()
    apis = [served(root / name, embedding_cache=embedding_cache_dir / "embeddings.sqlite3", chroma_host=LOOPBACK,
                   chroma_port=chroma.port).start() for name in ("api-1", "api-2")]  # both start at once
    with ExitStack() as running:
        (first_url, _), (second_url, _) = [running.enter_context(api) for api in apis]
        yield chroma, first_url, second_url
    if chroma.process.poll() is None:
        chroma.stop()


QUESTIONS = ["Combien d’employés ont signé la lettre ?", "Who is Emmett Shear?", "Quand ChatGPT a-t-il été lancé ?"]


def ask(url: str, question: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=60)


def test_what_one_process_indexes_the_other_answers_from(cluster):
    _, first, second = cluster
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(DEMO_CORPUS.glob("*.txt"))]
    uploaded = httpx.post(f"{first}/v1/documents", files=files, timeout=600)
    assert uploaded.status_code == 200 and len(uploaded.json()["documents"]) == 5
    assert httpx.get(f"{second}/healthz").json()["documents"] == 5
    for question in QUESTIONS:
        from_first, from_second = ask(first, question).json(), ask(second, question).json()
        assert from_first["answer"] == from_second["answer"]
        assert [c["doc_id"] for c in from_first["citations"]] == [c["doc_id"] for c in from_second["citations"]]
    assert "505" in ask(second, QUESTIONS[0]).json()["answer"]


def test_a_document_added_through_one_process_is_found_by_keyword_in_the_other(cluster):
    _, first, second = cluster
    note = "Le club d’aviron Zéphyrine de Valcourt compte 317 rameurs.".encode()
    files = [("files", ("aviron.txt", note, "text/plain"))]
    assert httpx.post(f"{first}/v1/documents", files=files, timeout=120).status_code == 200
    hits = httpx.post(f"{second}/v1/search", json={"question": "Zéphyrine", "top_k": 1}, timeout=60).json()["hits"]
    assert hits[0]["doc_id"] == "aviron"
    assert httpx.delete(f"{second}/v1/documents/aviron").status_code == 204
    assert "aviron" not in [d["doc_id"] for d in httpx.get(f"{first}/v1/documents").json()["documents"]]


def test_chroma_going_away_gives_a_fast_503_then_recovers(cluster):
    chroma, first, _ = cluster
    chroma.stop()
    try:
        started = time.monotonic()
        response = ask(first, QUESTIONS[1])
        assert time.monotonic() - started < 10
        assert response.status_code == 503 and response.json()["error"]["code"] == "store_unavailable"
        assert httpx.get(f"{first}/healthz", timeout=10).status_code == 503
    finally:
        chroma.start()
    wait_for(f"{first}/healthz", timeout=60)
    assert ask(first, QUESTIONS[1]).status_code == 200
