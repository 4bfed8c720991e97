"""What every benchmark shares: timing, percentiles, progress lines and the service's settings."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qa.settings import Settings


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(float(np.percentile(samples_ms, 50)), 1),
        "p95_ms": round(float(np.percentile(samples_ms, 95)), 1),
        "mean_ms": round(statistics.fmean(samples_ms), 1),
    }


def timed(function: Callable, *args, **kwargs) -> tuple[object, float]:
    """The function's result and how long it took, in ms."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def say(line: str) -> None:
    """A progress line, shown at once (a run takes minutes)."""
    print(line, flush=True)


def bench_settings(data_dir: Path, **overrides) -> Settings:
    """Extractive answers and no rate limit, whatever the environment says."""
    values = {"generator": "extractive", "rate_limit_per_minute": 0, **overrides}
    return Settings(_env_file=None, data_dir=data_dir, **values)
