"""The whole `qa bench` run: every benchmark not skipped, on the demo corpus indexed once,
its figures written to bench.json and the scale chart."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from eval.bench import scale
from eval.bench.indexing import indexing, manuals
from eval.bench.latency import latency
from eval.bench.measure import bench_settings, say
from eval.bench.quality import quality
from eval.bench.server import LOCAL_LLM_START_S, server
from qa.container import build_index
from qa.generation import local_llm
from qa.service import QAService

SECTIONS = ("quality", "indexing", "latency", "server", "scale")
FIGURES_FILE, CHART_FILE = "bench.json", "latency_vs_size.png"


def run(corpus: Path, out_dir: Path, skip: tuple[str, ...] = (), manual: Path | None = None) -> dict:
    """Every section not skipped.  Indexing speed is measured on `manual` when given, else on
    the Debian manuals when they can be fetched, else on `corpus`."""
    if unknown := set(skip) - set(SECTIONS):
        raise ValueError(f"unknown benchmark section(s) {', '.join(sorted(unknown))}; sections: {', '.join(SECTIONS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        started = time.perf_counter()
        figures.update(_sections(corpus, Path(tmp), skip, manual))
        figures["seconds"] = round(time.perf_counter() - started, 1)
    (out_dir / FIGURES_FILE).write_text(json.dumps(figures, indent=2))
    if "scale" in figures:
        scale.plot(figures["scale"], out_dir / CHART_FILE)
    return figures


def _sections(corpus: Path, workdir: Path, skip: tuple[str, ...], manual: Path | None) -> dict:
    figures: dict = {}
    if "indexing" not in skip:
        manual = manual or manuals(workdir) or corpus
        say(f"indexing {manual} cold…")
        figures["indexing"] = indexing(manual, workdir)
    demo_dir = workdir / "demo"
    service = QAService.from_settings(bench_settings(demo_dir))
    service.index_folder(corpus)
    if "quality" not in skip:
        say("retrieval quality against a plain llama-index pipeline…")
        figures["quality"] = quality(service, corpus, workdir)
    with_llm = local_llm.runtime_installed()
    if "latency" not in skip:
        say("query latency…")
        figures["latency"] = _latency(service, demo_dir, with_llm)
    service.close()
    if "server" not in skip:
        say("HTTP server: start-up, warm latency, 16 clients for 30 s, memory…")
        figures["server"] = server(demo_dir, with_llm)
    if "scale" not in skip:
        say("retrieval latency as the index grows…")
        figures["scale"] = scale.scale(build_index(bench_settings(demo_dir)), workdir)
        figures["scale_ask"] = scale.scale_ask(workdir, max(scale.SCALE_SIZES))
    return figures


def _latency(service: QAService, demo_dir: Path, with_llm: bool) -> dict:
    """In-process latency, with the bundled model on a second service over the same index when it is installed."""
    if not with_llm:
        return latency(service)
    llm_service = QAService.from_settings(bench_settings(demo_dir, generator="llm"))
    try:
        llm_service.wait_until_ready(LOCAL_LLM_START_S)
        return latency(service, llm_service)
    finally:
        llm_service.close()
