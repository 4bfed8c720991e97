"""Benchmarks that print their figures (not timed tests).

    qa bench [--url URL] [--requests N]

Warm latency of POST /v1/ask over real HTTP on loopback, with the extractive
generator, on the evaluation set's questions.
"""

from __future__ import annotations

import statistics
import time

import httpx
import numpy as np

from eval.dataset import DEFAULT_SET, load_set


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(float(np.percentile(samples_ms, 50)), 1),
        "p95_ms": round(float(np.percentile(samples_ms, 95)), 1),
        "mean_ms": round(statistics.fmean(samples_ms), 1),
    }


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
