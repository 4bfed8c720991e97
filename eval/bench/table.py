"""The figures of a run as a readable text table, one group of rows per benchmark."""

from __future__ import annotations

from eval.bench.scale import RETRIEVERS, SCALE_SIZES

Rows = list[tuple[str, str]]


def table(figures: dict) -> str:
    rows: Rows = []
    for section, rows_of in (("quality", _quality), ("indexing", _indexing), ("latency", _latency),
                             ("server", _server), ("scale", _scale)):
        if section in figures:
            rows += rows_of(figures)
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def _quality(figures: dict) -> Rows:
    q = figures["quality"]
    ours, baseline = q["ours"], q["baseline"]
    rows = []
    for lang in ("fr", "en"):
        rows.append((f"hit@5 {lang} (ours / baseline)", f"{ours[lang]['hit@5']:.2f} / {baseline[lang]['hit@5']:.2f}"))
        rows.append((f"MRR {lang} (ours / baseline)", f"{ours[lang]['mrr']:.2f} / {baseline[lang]['mrr']:.2f}"))
    rows.append(("retrieval p50 ms (ours / baseline)",
                 f"{ours['latency']['p50_ms']} / {baseline['latency']['p50_ms']} (x{q['ratio']['latency_p50']})"))
    return rows


def _indexing(figures: dict) -> Rows:
    i = figures["indexing"]
    return [
        ("indexing, cold (words/s)", (f"{i['cold_words_per_s']} ({i['words']:,} words, {i['documents']} documents, "
                                      f"{i['chunks']} chunks in {i['cold_seconds']} s; "
                                      f"load average {i['load_average']})")),
        ("  of which BM25 and lexicon (s, words embedded)", f"{i['keyword_index_seconds']}, {i['lexicon_words']:,}"),
        ("embedding chunks alone (tokens/s)",
         f"{i['embedding_tokens_per_s']} (~{i['mean_chunk_tokens']} tokens/chunk)"),
        ("re-index unchanged corpus",
         f"{i['unchanged_reindex_ms']} ms, {i['unchanged_reindex_embedded']} texts embedded"),
    ]


def _latency(figures: dict) -> Rows:
    return [(f"{name} p50 / p95 ms", f"{p['p50_ms']} / {p['p95_ms']}") for name, p in figures["latency"].items()]


def _server(figures: dict) -> Rows:
    s = figures["server"]
    load = s["load"]
    with_llm = (f" ({s['ready_seconds_with_local_llm']} with the local LLM starting)"
                if "ready_seconds_with_local_llm" in s else "")
    return [
        ("server ready after (s)", f"{s['ready_seconds']}{with_llm}"),
        ("warm /v1/ask p50 / p95 ms", f"{s['warm_ask']['p50_ms']} / {s['warm_ask']['p95_ms']}"),
        (f"{load['clients']} clients x {load['seconds']} s",
         (f"{load['requests_per_s']} req/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
          f"{load['errors']} errors")),
        ("peak RSS MB (extractive / with local LLM)",
         f"{s['peak_rss_mb']} / {s.get('peak_rss_mb_with_local_llm', '–')}"),
    ]


def _scale(figures: dict) -> Rows:
    rows = [(f"{int(size):,} chunks: dense / sentences / keyword / fused p50 ms",
             " / ".join(str(f[kind]["p50_ms"]) for kind in RETRIEVERS))
            for size, f in sorted(figures["scale"].items(), key=lambda kv: int(kv[0]))]
    a = figures["scale_ask"]
    rows.append((f"/v1/ask at {max(SCALE_SIZES):,} chunks p50 / p95 ms", f"{a['p50_ms']} / {a['p95_ms']}"))
    return rows
