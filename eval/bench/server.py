"""`qa serve` as a deployment runs it: start-up time, warm /v1/ask latency, throughput under
concurrent clients, and peak memory with and without the bundled model."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Self

import httpx
import psutil

from eval.bench.measure import percentiles
from eval.dataset import DEFAULT_SET, load_set
from qa.loopback import answers, free_port

LOAD_CLIENTS, LOAD_SECONDS = 16, 30
SERVER_START_S, LOCAL_LLM_START_S = 120, 300
LLM_QUESTIONS = ("Qui est Emmett Shear ?", "How many employees signed the letter?")


class served:
    """`qa serve` as a child process on loopback (what a deployment runs)."""

    def __init__(self, data_dir: Path, local_llm: bool = False, **env):
        self.data_dir, self.local_llm, self.env = data_dir, local_llm, env
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        """Start the server without waiting for it, so that several start at once; `with` waits."""
        if self.process is None:
            self.port = free_port()
            env = {**os.environ, "QA_DATA_DIR": str(self.data_dir), "QA_RATE_LIMIT_PER_MINUTE": "0",
                   "QA_GENERATOR": "auto" if self.local_llm else "extractive",
                   "QA_LOCAL_LLM": str(self.local_llm).lower(),
                   **{f"QA_{k.upper()}": str(v) for k, v in self.env.items()}}
            self.started = time.perf_counter()
            self.process = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(self.port)],
                                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __enter__(self):
        process = self.start().process
        url = f"http://127.0.0.1:{self.port}"
        if not answers(f"{url}/healthz", SERVER_START_S, interval=0.05, keep_waiting=lambda: process.poll() is None):
            raise RuntimeError("the server did not start")
        self.ready_seconds = round(time.perf_counter() - self.started, 2)
        return url, self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class PeakMemory:
    """The highest resident memory of a process and its descendants (the local model server)
    together, sampled while the block runs: psutil reads current memory, not a peak."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.process, self.interval = psutil.Process(pid), interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Self:
        self._sampler.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sampler.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_bytes / 2**20, 1)

    def _sample(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, self._resident_bytes())
            if self._stop.wait(self.interval):
                return

    def _resident_bytes(self) -> int:
        total = 0
        try:
            tree = [self.process, *self.process.children(recursive=True)]
        except psutil.Error:  # the server has exited
            return 0
        for process in tree:
            try:
                total += process.memory_info().rss
            except psutil.Error:  # a child that exited meanwhile
                pass
        return total


def server(data_dir: Path, with_llm: bool) -> dict:
    result = {}
    with served(data_dir) as (url, process), PeakMemory(process.process.pid) as memory:
        result["ready_seconds"] = process.ready_seconds
        result["warm_ask"] = ask_latency(url, 100)
        result["load"] = http_load(url)
    result["peak_rss_mb"] = memory.peak_mb
    if with_llm:
        with served(data_dir, local_llm=True) as (url, process), PeakMemory(process.process.pid) as memory:
            result["ready_seconds_with_local_llm"] = process.ready_seconds
            _wait_for_local_llm(url, LOCAL_LLM_START_S)
            for question in LLM_QUESTIONS:
                _ask(url, "llm", question)
        result["peak_rss_mb_with_local_llm"] = memory.peak_mb
    return result


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
                    problem = None if response.status_code == 200 else f"HTTP {response.status_code}"
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


def _wait_for_local_llm(url: str, timeout: float) -> None:
    """Until the bundled model, loading in the background, answers (or `timeout` s pass)."""
    deadline = time.perf_counter() + timeout
    while "llm" not in _generators(url) or _ask(url, "llm").get("generator") != "llm":
        if time.perf_counter() > deadline:
            return
        time.sleep(2)


def _generators(url: str) -> list[str]:
    return httpx.get(f"{url}/healthz", timeout=5).json()["generators"]


def _ask(url: str, generator: str, question: str = LLM_QUESTIONS[0]) -> dict:
    return httpx.post(f"{url}/v1/ask", json={"question": question, "generator": generator}, timeout=120).json()
