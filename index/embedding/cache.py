"""Passage vectors kept on disk by (model fingerprint, text hash).

Unchanged text is never embedded twice: not on a re-index, not when a file is
edited in one place, not when a document is removed and added back.
llama-index's own `embeddings_cache` is not used because it keys by text alone, so
a passage vector could be served for a query of the same words (e5 embeds the two
differently).  A damaged cache file is set aside and rebuilt, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

KEYS_PER_SELECT = 500  # well under SQLite's limit on bound parameters per statement


class EmbeddingCache:
    def __init__(self, path: Path, fingerprint: str):
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            db = self._connect()
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            return db
        except sqlite3.DatabaseError as exc:
            broken = self.path.with_suffix(".corrupt")
            log.warning("embedding cache %s is damaged (%s); moved to %s and rebuilt", self.path, exc, broken)
            self.path.replace(broken)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return db

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}\n{text}".encode()).hexdigest()

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {self._key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        items = list(keys)
        with self._lock:
            for i in range(0, len(items), KEYS_PER_SELECT):
                batch = items[i : i + KEYS_PER_SELECT]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch
                ).fetchall()
                for key, blob in rows:
                    found[keys[key]] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        rows = [(self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def embed(
        self, texts: Sequence[str], embed_texts: Callable[[list[str]], list[list[float]]]
    ) -> tuple[np.ndarray, int]:
        """Vectors for `texts` in order, embedding only the ones not cached.

        Returns the vectors and how many texts had to be embedded.
        """
        unique = list(dict.fromkeys(texts))
        cached = self.get_many(unique)
        missing = [t for t in unique if t not in cached]
        if missing:
            fresh = dict(zip(missing, np.asarray(embed_texts(missing), dtype=np.float32)))
            self.put_many(fresh)
            cached.update(fresh)
        return np.stack([cached[t] for t in texts]) if texts else np.zeros((0, 0), np.float32), len(missing)
