"""Benchmarks that print their figures (they are not timed tests).

    qa bench [--out DIR] [--skip SECTION ...]

One process, one run, on this machine, one module per benchmark:
- `quality`: retrieval quality and latency, ours against a plain llama-index pipeline;
- `indexing`: indexing speed in words/s on real manuals, cold and on an unchanged corpus;
- `latency`: query latency: retrieval, extractive answer, local LLM (first verified sentence, total);
- `scale`: retrieval latency as the index grows to 100k chunks;
- `server`: HTTP throughput under 16 concurrent clients, start-up time and memory.
`runner` runs them and writes bench.json and latency_vs_size.png; `table` prints the figures.
"""
