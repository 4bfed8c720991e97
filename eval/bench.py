"""Benchmarks that print their figures (they are not timed tests).

    qa bench [--out DIR] [--skip SECTION ...]

One process, one run, on this machine:
- retrieval quality and latency, ours against a plain llama-index pipeline;
- indexing speed in words/s on real manuals, cold and on an unchanged corpus;
- query latency: retrieval, extractive answer, local LLM (first verified sentence, total);
- retrieval latency as the index grows to 100k chunks;
- HTTP throughput under 16 concurrent clients, start-up time and memory.
Figures go to the terminal, to bench.json and to latency_vs_size.png.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from eval.dataset import DEFAULT_SET, load_set
from eval.metrics import first_hit

SECTIONS = ("quality", "indexing", "latency", "server", "scale")
SCALE_SIZES = (1_000, 10_000, 100_000)
LOAD_CLIENTS, LOAD_SECONDS = 16, 30


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(float(np.percentile(samples_ms, 50)), 1),
        "p95_ms": round(float(np.percentile(samples_ms, 95)), 1),
        "mean_ms": round(statistics.fmean(samples_ms), 1),
    }


def timed(function: Callable, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def _say(line: str) -> None:
    print(line, flush=True)


# -- the service under test ----------------------------------------------------------------
def bench_settings(data_dir: Path, **overrides):
    from qa.settings import Settings

    values = {"generator": "extractive", "rate_limit_per_minute": 0, **overrides}
    return Settings(_env_file=None, data_dir=data_dir, **values)


def ask_latency(url: str, requests: int, generator: str = "extractive") -> dict[str, float]:
    """Time `requests` sequential /v1/ask calls after one warm-up pass over the questions."""
    questions = [item.question for item in load_set(DEFAULT_SET)]
    samples = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for question in questions[:5]:  # warm caches and code paths
            client.post("/v1/ask", json={"question": question, "generator": generator}).raise_for_status()
        for i in range(requests):
            started = time.perf_counter()
            response = client.post("/v1/ask", json={"question": questions[i % len(questions)], "generator": generator})
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return percentiles(samples)


# -- 1. retrieval quality against a plain llama-index pipeline ---------------------------
def quality(service, corpus: Path, workdir: Path) -> dict:
    """Hit@5, MRR and retrieval latency: ours and VectorStoreIndex over Chroma, same embedder."""
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.store.chroma import chroma_client

    settings = service.settings
    collection = chroma_client(path=str(workdir / "baseline")).get_or_create_collection(
        "baseline", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    baseline = VectorStoreIndex.from_documents(
        SimpleDirectoryReader(str(corpus), file_extractor={}).load_data(),
        storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
        embed_model=service.parts.embed_model,
        transformations=[SentenceSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)],
    ).as_retriever(similarity_top_k=5)
    systems = {
        "baseline": lambda q: [hit.node.get_content() for hit in baseline.retrieve(q)],
        "ours": lambda q: [hit.text for hit in service.search(q, 5)],
    }
    items = [item for item in load_set(DEFAULT_SET) if item.answerable]
    for search in systems.values():  # warm up both
        search(items[0].question)
    result: dict = {}
    for name, search in systems.items():
        per_language: dict = {}
        latencies = []
        for language in ("fr", "en"):
            ranks = []
            for item in (i for i in items if i.lang == language):
                passages, ms = timed(search, item.question)
                latencies.append(ms)
                ranks.append(first_hit(item.must, passages))
            per_language[language] = {
                "hit@5": round(sum(r is not None for r in ranks) / len(ranks), 3),
                "mrr": round(sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks), 3),
            }
        result[name] = {**per_language, "latency": percentiles(latencies)}
    result["ratio"] = {
        **{f"{lang}_{m}": round(result["ours"][lang][m] / max(result["baseline"][lang][m], 1e-9), 2)
           for lang in ("fr", "en") for m in ("hit@5", "mrr")},
        "latency_p50": round(result["ours"]["latency"]["p50_ms"] / result["baseline"]["latency"]["p50_ms"], 2),
    }
    return result


# -- 2. indexing speed -----------------------------------------------------------------------
# Measured on real manuals, not on the demo's five short articles: the three French Debian
# manuals of eval/corpora.py side by side (about 99,000 words of HTML: prose, tables, code).
MANUALS = ("debian-faq", "developers-reference", "maint-guide")


def manuals(workdir: Path) -> Path | None:
    """The Debian manuals in one folder (fetched once into the corpora cache), or None when they cannot be."""
    from eval.corpora import CorpusError, fetch

    folder = workdir / "manuals"
    try:
        for name in MANUALS:
            shutil.copytree(fetch(name), folder / name)
    except CorpusError as exc:
        _say(f"  {exc}")
        return None
    return folder


def indexing(corpus: Path, workdir: Path) -> dict:
    """Cold indexing (empty vector cache) in words/s, the keyword index's share of it, and a
    re-index of the unchanged corpus."""
    from index.embedding.cache import EmbeddingCache
    from index.keyword.bm25 import KeywordIndex
    from index.loaders import load_document
    from qa.container import build_index, word_embedder

    settings = bench_settings(workdir / "cold", embedding_cache=workdir / "cold-cache.sqlite3")
    parts = build_index(settings)
    load = os.getloadavg()[0]
    report, cold_ms = timed(parts.indexer.index_folder, corpus)
    again, warm_ms = timed(parts.indexer.index_folder, corpus)
    words = sum(len(load_document(Path(d.source), corpus.resolve()).text.split()) for d in parts.store.documents())
    # The BM25 postings and the lexicon again, with a cold word cache: their part of the cold run.
    words_cache = EmbeddingCache(workdir / "lexicon-cache.sqlite3", parts.store.embedder)
    keyword = KeywordIndex(workdir / "keyword", embed_words=word_embedder(parts.embed_model, words_cache))
    _, keyword_ms = timed(keyword.rebuild, parts.store.iter_chunks(), 0)
    # Bare embedding speed on a sample of the chunks (no cache, no sentences).
    texts = [t for _, page, _ in parts.store.iter_chunks() for t in page]
    sample = texts[:: max(1, len(texts) // 200)]
    tokens = sum(_e5_model().token_count(t) for t in sample)
    _, embed_ms = timed(parts.embed_model.get_text_embedding_batch, sample)
    return {
        "corpus": str(corpus),
        "load_average": round(load, 2),
        "documents": len(report.added),
        "words": words,
        "chunks": report.new_chunks,
        "texts_embedded": report.embedded,  # chunks and sentences
        "cold_seconds": round(cold_ms / 1000, 2),
        "cold_words_per_s": round(words / (cold_ms / 1000)),
        "cold_chunks_per_s": round(report.new_chunks / (cold_ms / 1000), 2),
        "keyword_index_seconds": round(keyword_ms / 1000, 2),
        "lexicon_words": keyword.lexicon_size,
        "mean_chunk_tokens": round(tokens / len(sample), 1),
        "embedding_tokens_per_s": round(tokens / (embed_ms / 1000), 1),
        "unchanged_reindex_ms": round(warm_ms, 1),
        "unchanged_reindex_embedded": again.embedded,
    }


def _e5_model():
    from index.embedding.models import _e5_model

    return _e5_model()


# -- 3. query latency ------------------------------------------------------------------------
def latency(service, llm_service=None, questions: int = 40, llm_questions: int = 12) -> dict:
    items = load_set(DEFAULT_SET)
    sample = [items[i % len(items)].question for i in range(questions)]
    service.search(sample[0])
    result = {
        "retrieval": percentiles([timed(service.search, q)[1] for q in sample]),
        "extractive_answer": percentiles([timed(service.ask, q, generator="extractive")[1] for q in sample]),
    }
    if llm_service is not None:
        first_sentences, totals = [], []
        llm_service.ask(sample[0], generator="llm")  # the first call processes the fixed prompt prefix
        for question in random.Random(7).sample([i.question for i in items], llm_questions):
            started, first = time.perf_counter(), None
            for event in llm_service.ask_stream(question, generator="llm"):
                if first is None and getattr(event, "text", "").strip():
                    first = (time.perf_counter() - started) * 1000
            totals.append((time.perf_counter() - started) * 1000)
            first_sentences.append(first if first is not None else totals[-1])
        result["llm_first_verified_sentence"] = percentiles(first_sentences)
        result["llm_total"] = percentiles(totals)
    return result


# -- 4. scale --------------------------------------------------------------------------------
def scale(service, workdir: Path, sizes=SCALE_SIZES, queries: int = 30) -> dict:
    """Retrieval latency on synthetic indexes of growing size.

    Synthetic chunks are pairs of real corpus sentences, with vectors made from the
    real e5 vectors of those sentences (normalised sums), so real e5 queries meet a
    realistic vector space without embedding 100k texts.
    """
    from index.chunking import chunk_nodes, sentence_records
    from index.keyword.bm25 import KeywordIndex
    from index.loaders import SourceDocument
    from index.store.chroma import ChunkStore, chroma_client
    from qa.pipeline.retrieval import HybridRetriever

    pool = service.parts.store.sentences.get(include=["documents", "embeddings"])
    sentences, vectors = pool["documents"], np.asarray(pool["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(0)
    questions = [item.question for item in load_set(DEFAULT_SET)]
    query_vectors = [np.asarray(service.parts.embed_model.get_query_embedding(q), dtype=np.float32) for q in questions]
    results = {}
    for size in sizes:
        folder = workdir / f"scale-{size}"
        store = ChunkStore(chroma_client(path=str(folder / "chroma")), "scale", service.parts.store.embedder,
                           service.parts.store.dimension)
        build_started = time.perf_counter()
        per_doc = 1000  # big documents: few, large writes keep the 100k build to minutes
        for d in range(size // per_doc):
            picks = rng.integers(0, len(sentences), size=per_doc * 2)
            texts = [" ".join(sentences[i].split()) for i in picks]
            offsets, position = [], 0
            for text in texts:
                offsets.append((position, position + len(text)))
                position += len(text) + 1
            document = SourceDocument(f"synthetic-{d:05d}", f"synthetic/{d}.txt", " ".join(texts), f"Synthetic {d}",
                                      None, "fr", f"{d:064x}")
            bounds = [(offsets[2 * c][0], offsets[2 * c + 1][1]) for c in range(per_doc)]
            nodes = chunk_nodes(document, bounds, offsets, "synthetic")
            sentence_vectors = vectors[picks] + rng.normal(0, 0.01, (len(picks), vectors.shape[1])).astype(np.float32)
            sentence_vectors /= np.linalg.norm(sentence_vectors, axis=1, keepdims=True)
            chunk_vectors = sentence_vectors[0::2] + sentence_vectors[1::2]
            chunk_vectors /= np.linalg.norm(chunk_vectors, axis=1, keepdims=True)
            store.write_version(nodes, chunk_vectors, sentence_records(document, nodes, offsets, sentence_vectors))
        keyword = KeywordIndex(folder / "keyword" / "scale", embed_words=service.parts.keyword.embed_words)
        keyword.rebuild(store.iter_chunks(), store.bump_generation())
        build_s = time.perf_counter() - build_started
        retriever = HybridRetriever(store, keyword, service.parts.embed_model, candidates=service.settings.candidates,
                                    max_top_k=service.settings.max_top_k)
        from llama_index.core.schema import QueryBundle

        def bundle(i):
            return QueryBundle(questions[i], embedding=query_vectors[i].tolist())

        sample = [i % len(questions) for i in range(queries)]
        timings = {
            "dense_chunks": [timed(retriever.dense.retrieve, bundle(i))[1] for i in sample],
            "dense_sentences": [timed(retriever.sentences.retrieve, bundle(i))[1] for i in sample],
            "keyword": [timed(keyword.search, questions[i], service.settings.candidates)[1] for i in sample],
            "fused": [timed(retriever.fusion.retrieve, bundle(i))[1] for i in sample],
        }
        results[size] = {"build_seconds": round(build_s, 1), **{k: percentiles(v) for k, v in timings.items()}}
        _say(f"  scale {size:>7} chunks: built in {build_s:.0f} s; fused p50 {results[size]['fused']['p50_ms']} ms")
    return results


def scale_ask(workdir: Path, size: int, requests: int = 60) -> dict:
    """Extractive /v1/ask over HTTP against the largest synthetic index."""
    folder = workdir / f"scale-{size}"
    with served(folder, collection="scale") as (url, _):
        return ask_latency(url, requests)


# -- 5. HTTP under load, start-up and memory -------------------------------------------------
class served:
    """`qa serve` as a child process on loopback (what a deployment runs)."""

    def __init__(self, data_dir: Path, local_llm: bool = False, **env):
        self.data_dir, self.local_llm, self.env = data_dir, local_llm, env

    def __enter__(self):
        from qa.loopback import answers, free_port

        port = free_port()
        env = {**os.environ, "QA_DATA_DIR": str(self.data_dir), "QA_RATE_LIMIT_PER_MINUTE": "0",
               "QA_GENERATOR": "auto" if self.local_llm else "extractive", "QA_LOCAL_LLM": str(self.local_llm).lower(),
               **{f"QA_{k.upper()}": str(v) for k, v in self.env.items()}}
        started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        if not answers(f"{url}/healthz", 120, interval=0.05, keep_waiting=lambda: self.process.poll() is None):
            raise RuntimeError("the server did not start")
        self.ready_seconds = round(time.perf_counter() - started, 2)
        return url, self

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the server and its children (the local model server)."""
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
        return round(total / 1024, 1)

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found + [g for c in found for g in _children(c)]


def http_load(url: str, clients: int = LOAD_CLIENTS, seconds: float = LOAD_SECONDS) -> dict:
    """`clients` threads posting /v1/ask (extractive) back to back for `seconds`."""
    questions = [item.question for item in load_set(DEFAULT_SET)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = http.post("/v1/ask", json={"question": rng.choice(questions), "generator": "extractive"})
                    ok = response.status_code == 200
                    problem = None if ok else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    problem = type(exc).__name__
                with lock:
                    (errors.append(problem) if problem else latencies.append((time.perf_counter() - started) * 1000))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(latencies), "errors": len(errors),
            "requests_per_s": round(len(latencies) / elapsed, 1), **percentiles(latencies)}


def server(data_dir: Path, with_llm: bool) -> dict:
    result = {}
    with served(data_dir) as (url, process):
        result["ready_seconds"] = process.ready_seconds
        result["warm_ask"] = ask_latency(url, 100)
        result["load"] = http_load(url)
        result["peak_rss_mb"] = process.peak_rss_mb()
    if with_llm:
        with served(data_dir, local_llm=True) as (url, process):
            result["ready_seconds_with_local_llm"] = process.ready_seconds
            deadline = time.perf_counter() + 300
            while "llm" not in _generators(url) or _ask(url, "llm").get("generator") != "llm":
                if time.perf_counter() > deadline:
                    break
                time.sleep(2)
            for question in ("Qui est Emmett Shear ?", "How many employees signed the letter?"):
                _ask(url, "llm", question)
            result["peak_rss_mb_with_local_llm"] = process.peak_rss_mb()
    return result


def _generators(url: str) -> list[str]:
    return httpx.get(f"{url}/healthz", timeout=5).json()["generators"]


def _ask(url: str, generator: str, question: str = "Qui est Emmett Shear ?") -> dict:
    return httpx.post(f"{url}/v1/ask", json={"question": question, "generator": generator}, timeout=120).json()


# -- the whole run ---------------------------------------------------------------------------
def run(corpus: Path, out_dir: Path, skip: tuple[str, ...] = (), manual: Path | None = None) -> dict:
    """Every section not skipped.  Indexing speed is measured on `manual` when given, else on
    the Debian manuals when they can be fetched, else on `corpus`."""
    from qa.generation import local_llm
    from qa.service import QAService

    if unknown := set(skip) - set(SECTIONS):
        raise ValueError(f"unknown benchmark section(s) {', '.join(sorted(unknown))}; sections: {', '.join(SECTIONS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        if "indexing" not in skip:
            manual = manual or manuals(workdir) or corpus
            _say(f"indexing {manual} cold…")
            figures["indexing"] = indexing(manual, workdir)
        demo_dir = workdir / "demo"
        service = QAService.from_settings(bench_settings(demo_dir))
        service.index_folder(corpus)
        if "quality" not in skip:
            _say("retrieval quality against a plain llama-index pipeline…")
            figures["quality"] = quality(service, corpus, workdir)
        with_llm = local_llm.runtime_installed()
        if "latency" not in skip:
            _say("query latency…")
            llm_service = None
            if with_llm:
                llm_service = QAService.from_settings(bench_settings(demo_dir, generator="llm"))
                llm_service.wait_until_ready(300)
            figures["latency"] = latency(service, llm_service)
            if llm_service:
                llm_service.close()
        if "server" not in skip:
            _say("HTTP server: start-up, warm latency, 16 clients for 30 s, memory…")
            service.close()
            figures["server"] = server(demo_dir, with_llm)
        if "scale" not in skip:
            _say("retrieval latency as the index grows…")
            service = QAService.from_settings(bench_settings(demo_dir))
            figures["scale"] = scale(service, workdir)
            figures["scale_ask"] = scale_ask(workdir, max(SCALE_SIZES))
        figures["seconds"] = round(time.perf_counter() - started, 1)
    (out_dir / "bench.json").write_text(json.dumps(figures, indent=2))
    if "scale" in figures:
        _plot_scale(figures["scale"], out_dir / "latency_vs_size.png")
    return figures


def _plot_scale(scale_figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(scale_figures, key=int)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for kind in ("dense_chunks", "dense_sentences", "keyword", "fused"):
        ax.plot([int(s) for s in sizes], [scale_figures[s][kind]["p50_ms"] for s in sizes], marker="o", label=kind)
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title("Retrieval latency against index size")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def table(figures: dict) -> str:
    """The figures as a readable text table."""
    rows: list[tuple[str, str]] = []
    if "quality" in figures:
        q = figures["quality"]
        ours, baseline = q["ours"], q["baseline"]
        for lang in ("fr", "en"):
            rows.append((f"hit@5 {lang} (ours / baseline)",
                         f"{ours[lang]['hit@5']:.2f} / {baseline[lang]['hit@5']:.2f}"))
            rows.append((f"MRR {lang} (ours / baseline)", f"{ours[lang]['mrr']:.2f} / {baseline[lang]['mrr']:.2f}"))
        rows.append(("retrieval p50 ms (ours / baseline)",
                     f"{ours['latency']['p50_ms']} / {baseline['latency']['p50_ms']} (x{q['ratio']['latency_p50']})"))
    if "indexing" in figures:
        i = figures["indexing"]
        rows += [
            ("indexing, cold (words/s)", (f"{i['cold_words_per_s']} ({i['words']:,} words, {i['documents']} documents, "
                                          f"{i['chunks']} chunks in {i['cold_seconds']} s; "
                                          f"load average {i['load_average']})")),
            ("  of which BM25 and lexicon (s, words embedded)",
             f"{i['keyword_index_seconds']}, {i['lexicon_words']:,}"),
            ("embedding chunks alone (tokens/s)",
             f"{i['embedding_tokens_per_s']} (~{i['mean_chunk_tokens']} tokens/chunk)"),
            ("re-index unchanged corpus",
             f"{i['unchanged_reindex_ms']} ms, {i['unchanged_reindex_embedded']} texts embedded"),
        ]
    if "latency" in figures:
        for name, p in figures["latency"].items():
            rows.append((f"{name} p50 / p95 ms", f"{p['p50_ms']} / {p['p95_ms']}"))
    if "server" in figures:
        s = figures["server"]
        load = s["load"]
        with_llm = (f" ({s['ready_seconds_with_local_llm']} with the local LLM starting)"
                    if "ready_seconds_with_local_llm" in s else "")
        rows += [
            ("server ready after (s)", f"{s['ready_seconds']}{with_llm}"),
            ("warm /v1/ask p50 / p95 ms", f"{s['warm_ask']['p50_ms']} / {s['warm_ask']['p95_ms']}"),
            (f"{load['clients']} clients x {load['seconds']} s",
             (f"{load['requests_per_s']} req/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
              f"{load['errors']} errors")),
            ("peak RSS MB (extractive / with local LLM)",
             f"{s['peak_rss_mb']} / {s.get('peak_rss_mb_with_local_llm', '–')}"),
        ]
    if "scale" in figures:
        for size, f in sorted(figures["scale"].items(), key=lambda kv: int(kv[0])):
            rows.append((f"{int(size):,} chunks: dense / sentences / keyword / fused p50 ms",
                         " / ".join(str(f[kind]["p50_ms"])
                                    for kind in ("dense_chunks", "dense_sentences", "keyword", "fused"))))
        a = figures["scale_ask"]
        rows.append((f"/v1/ask at {max(SCALE_SIZES):,} chunks p50 / p95 ms", f"{a['p50_ms']} / {a['p95_ms']}"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
