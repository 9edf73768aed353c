"""Embeddings on disk, keyed by model and text hash, so only new or changed text is embedded."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

QUERY_CHUNK = 500
"""Keys per ``SELECT ... IN (...)``, under SQLite's bound-parameter limit (999 on old builds)."""
BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another process holding the database before giving up."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL
) WITHOUT ROWID
"""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# One lock per database file, shared by every EmbeddingCache in the process, so
# that moving a corrupt file aside never races another thread using it.
_path_locks: dict[Path, threading.Lock] = {}
_path_locks_guard = threading.Lock()


def text_key(text: str) -> str:
    """The cache key of a text: the SHA-256 hex digest of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _lock_for(path: Path) -> threading.Lock:
    with _path_locks_guard:
        return _path_locks.setdefault(path.absolute(), threading.Lock())


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EmbeddingCache:
    """A folder of SQLite files, one per model, mapping text keys to float32 vectors.

    Never fatal: an unreadable entry counts as missing (and is recomputed), a
    corrupt database file is moved aside to ``*.corrupt`` and started afresh, and
    a folder that cannot be written turns the cache off with a warning. Safe to
    share between threads (a connection per call, a lock per file) and between
    processes (SQLite in WAL mode).

    Args:
        directory: where the database files live; created on first use.

    Example:
        >>> cache = EmbeddingCache(default_cache_dir() / "embeddings")
        >>> cache.put_many("my-model", {text_key("hi"): vector})
        >>> cache.get_many("my-model", [text_key("hi")])
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, model_id: str) -> Path:
        """The database file of ``model_id``: a readable name plus a hash, so names never clash."""
        safe = _UNSAFE.sub("_", model_id).strip("._")[:80] or "model"
        digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:10]
        return self.directory / f"{safe}-{digest}.sqlite3"

    def get_many(
        self, model_id: str, keys: Sequence[str], *, dimension: int | None = None
    ) -> dict[str, np.ndarray]:
        """Vectors found for ``keys`` (missing or unusable entries are left out).

        Args:
            model_id: the model whose vectors to read.
            keys: text keys (see ``text_key``).
            dimension: when given, vectors of any other length count as missing.
        """
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        path = self.path_for(model_id)
        if not path.exists():
            return {}
        found: dict[str, np.ndarray] = {}
        with self._connect(path) as conn:
            if conn is None:
                return {}
            try:
                for chunk in _chunks(keys, QUERY_CHUNK):
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(
                        f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})",
                        tuple(chunk),
                    ).fetchall()
                    for key, dim, blob in rows:
                        vector = _decode(dim, blob, dimension)
                        if vector is not None:
                            found[key] = vector
            except sqlite3.OperationalError as err:  # locked, I/O error: a miss, not a crash
                _warn(f"Embedding cache {path} could not be read ({err}); embedding afresh.")
                return {}
            except sqlite3.DatabaseError as err:
                conn.close()
                self._recover(path, err)
                return {}
        return found

    def put_many(self, model_id: str, items: Mapping[str, np.ndarray]) -> None:
        """Store ``items`` (text key -> 1-D vector) as float32, replacing existing entries."""
        rows = []
        for key, vector in items.items():
            array = np.asarray(vector, dtype="<f4").reshape(-1)
            rows.append((key, int(array.shape[0]), array.tobytes()))
        if not rows:
            return
        path = self.path_for(model_id)
        for attempt in range(2):
            with self._connect(path) as conn:
                if conn is None:
                    return
                try:
                    with conn:
                        conn.executemany(
                            "INSERT OR REPLACE INTO embeddings (key, dim, vector) VALUES (?, ?, ?)",
                            rows,
                        )
                    return
                except sqlite3.OperationalError as err:
                    _warn(f"Embedding cache {path} could not be written ({err}); not cached.")
                    return
                except sqlite3.DatabaseError as err:
                    conn.close()
                    if attempt:
                        _warn(f"Embedding cache {path} is unusable ({err}); not cached.")
                        return
                    self._recover(path, err)

    @contextmanager
    def _connect(self, path: Path) -> Iterator[sqlite3.Connection | None]:
        """An open connection to ``path`` with the schema in place, or ``None`` if unusable.

        Holds the file's lock for the duration, and closes the connection after.
        """
        with _lock_for(path):
            conn = self._open(path)
            if conn is None:
                yield None
                return
            try:
                yield conn
            finally:
                conn.close()

    def _open(self, path: Path) -> sqlite3.Connection | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            _warn(f"Embedding cache folder {path.parent} cannot be created ({err}); cache off.")
            return None
        for attempt in range(2):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
                return conn
            except sqlite3.OperationalError as err:
                if conn is not None:
                    conn.close()
                _warn(f"Embedding cache {path} cannot be opened ({err}); cache off for now.")
                return None
            except sqlite3.DatabaseError as err:
                if conn is not None:
                    conn.close()
                if attempt:
                    _warn(f"Embedding cache {path} is unusable ({err}); cache off for now.")
                    return None
                self._recover(path, err)
        return None

    @staticmethod
    def _recover(path: Path, err: Exception) -> None:
        """Move a corrupt database and its WAL files to ``*.corrupt``; caller holds the lock."""
        _warn(
            f"Embedding cache {path} is corrupt ({err}); moved aside to "
            f"{path.name}.corrupt and started afresh."
        )
        for suffix in ("", "-wal", "-shm"):
            source = path.with_name(path.name + suffix)
            if source.exists():
                try:
                    os.replace(source, source.with_name(source.name + ".corrupt"))
                except OSError:
                    source.unlink(missing_ok=True)


def _decode(dim: object, blob: object, expected: int | None) -> np.ndarray | None:
    """The stored vector, or ``None`` when it is malformed, the wrong size, or not finite."""
    if not isinstance(dim, int) or not isinstance(blob, bytes) or dim <= 0:
        return None
    if len(blob) != 4 * dim or (expected is not None and dim != expected):
        return None
    vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    if not np.isfinite(vector).all():
        return None
    return vector


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)
