"""Passage vectors kept on disk by (model fingerprint, text hash).

Unchanged text is never embedded twice: not on a re-index, not when a file is
edited in one place, not when a document is removed and added back.
llama-index's own `embeddings_cache` is not used because it keys by text alone, so
a passage vector could be served for a query of the same words (e5 embeds the two
differently).  A damaged cache file is set aside and rebuilt, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

Passage = tuple[str, Sequence[tuple[int, int]]]  # a text and character spans in it


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

    def embed(self, texts: Sequence[str], embed_texts: Callable[[list[str]], list[list[float]]]) -> tuple[np.ndarray, int]:
        """Vectors for `texts` in order, embedding only the ones not cached.

        Returns the vectors and how many texts had to be embedded.
        """
        rows, embedded = self._through([self._key(t) for t in texts], texts,
                                       lambda missing: np.asarray(embed_texts(missing), dtype=np.float32))
        return np.stack(rows) if rows else np.zeros((0, 0), np.float32), embedded

    def embed_passages(self, passages: Sequence[Passage],
                       embed_passages: Callable[[list[Passage]], list[np.ndarray]]) -> tuple[list[np.ndarray], int]:
        """For each (text, spans): the text's vector then its spans' vectors, as rows of one matrix.

        Keyed by the text and its spans together, since a span's vector depends on the
        whole text it was read in.  Returns the matrices and how many passages had to be embedded.
        """
        keys = [self._key(f"spans {json.dumps(spans)}\n{text}") for text, spans in passages]
        rows, embedded = self._through(keys, passages, embed_passages)
        return [row.reshape(len(spans) + 1, -1) for row, (_, spans) in zip(rows, passages)], embedded

    def _through(self, keys: list[str], items: Sequence, compute: Callable[[list], Sequence[np.ndarray]]
                 ) -> tuple[list[np.ndarray], int]:
        """The cached array of each key, computing (and storing) those of the missing keys' items."""
        unique = dict(zip(keys, items))
        found = self._get(list(unique))
        missing = [key for key in unique if key not in found]
        if missing:
            fresh = dict(zip(missing, compute([unique[key] for key in missing])))
            self._put(fresh)
            found.update(fresh)
        return [found[key] for key in keys], len(missing)

    def _get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                batch = keys[i : i + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch
                ).fetchall()
                found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        return found

    def _put(self, arrays: dict[str, np.ndarray]) -> None:
        rows = [(key, np.asarray(array, dtype=np.float32).tobytes()) for key, array in arrays.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
