"""Persistence of the engine's derived vector state in the instance folder.

The database is the source of truth; the embeddings of the texts (and the faiss indexes built
from them) are derived state that is expensive to recompute with the real model. They are saved
as ``index/vectors.npz`` with a header (format version, encoder name, dimension, checksum) and
the faiss indexes and the lexical model next to it (``BLOB_FILES``), laid out to be memory-mapped
by every serving process (``index_files``). Anything lost, truncated, corrupt, of another format version or of
another encoder is detected on load, reported, and ignored: the caller then re-encodes from the
database without a manual step.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class VectorFileError(ValueError):
    """The saved vectors cannot be used (missing, corrupt, other version or other encoder)."""


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def index_dir(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / "index"


def save_vectors(folder: Path, encoder_name: str, vectors: dict[str, np.ndarray], blobs: dict[str, bytes] | None = None) -> Path:
    """Write the text -> vector cache (and optional blobs: the faiss indexes, the lexical model)
    atomically; returns the file."""
    texts = sorted(vectors)
    dim = int(next(iter(vectors.values())).shape[0]) if vectors else 0
    matrix = np.stack([vectors[t] for t in texts]).astype(np.float32) if texts else np.zeros((0, dim), np.float32)
    payload = io.BytesIO()
    np.savez(payload, texts=np.array(texts, dtype=object).astype(str), vectors=matrix)
    body = payload.getvalue()
    header = {
        "format": FORMAT_VERSION,
        "encoder": encoder_name,
        "dim": dim,
        "count": len(texts),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    folder = Path(folder)
    _atomic_write(folder / "vectors.npz", body)
    for name, blob in (blobs or {}).items():
        # a new file replaces the old one's name only: a process that maps the old file keeps
        # reading it (its inode) until it opens the new one
        _atomic_write(folder / BLOB_FILES[name], blob)
        if name in LEGACY_FILES:
            (folder / LEGACY_FILES[name]).unlink(missing_ok=True)
    _atomic_write(folder / "vectors.json", json.dumps(header, indent=1).encode())
    return folder / "vectors.npz"


def load_vectors(folder: Path, encoder_name: str) -> dict[str, np.ndarray]:
    """The saved text -> vector cache; raises VectorFileError if it cannot be trusted."""
    folder = Path(folder)
    head_file, body_file = folder / "vectors.json", folder / "vectors.npz"
    if not head_file.exists() or not body_file.exists():
        raise VectorFileError(f"{folder}: no saved vectors")
    try:
        header = json.loads(head_file.read_text())
    except (ValueError, OSError) as exc:
        raise VectorFileError(f"{head_file}: unreadable header ({exc})") from None
    if header.get("format") != FORMAT_VERSION:
        raise VectorFileError(f"{head_file}: format {header.get('format')!r}, expected {FORMAT_VERSION}")
    if header.get("encoder") != encoder_name:
        raise VectorFileError(f"{head_file}: made by encoder {header.get('encoder')!r}, not {encoder_name!r}")
    body = body_file.read_bytes()
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise VectorFileError(f"{body_file}: checksum mismatch (truncated or corrupt)")
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as z:
            texts, matrix = z["texts"], z["vectors"]
    except (ValueError, OSError, KeyError) as exc:
        raise VectorFileError(f"{body_file}: unreadable ({exc})") from None
    if matrix.shape != (header.get("count"), header.get("dim")) or len(texts) != matrix.shape[0]:
        raise VectorFileError(f"{body_file}: shape {matrix.shape} does not match its header")
    return {str(t): matrix[i] for i, t in enumerate(texts)}


#: The parts the engine saves beside the vectors (``Engine.index_blobs``) and their files: the
#: two faiss indexes (each a faiss index followed by the ids and a checksum) and the lexical
#: model with its rows and their inverted indexes (uncompressed, aligned arrays). Both are laid
#: out to be memory-mapped (``index_files``): workers started from them share one copy.
BLOB_FILES = {"orders": "orders.faiss", "workers": "workers.faiss", "lexical": "lexical.bin"}
#: the lexical model's file of older versions (an ``np.savez`` archive): still read, and
#: removed once the new file is written
LEGACY_FILES = {"lexical": "lexical.npz"}
INDEX_NAMES = tuple(BLOB_FILES)


def load_index_blobs(folder: Path) -> dict[str, bytes]:
    """The saved blobs by name (those present and readable). Each faiss blob carries its own
    checksum and encoder name, and the engine uses one only for exactly the ids and vectors it
    holds (``matcher.index.VectorIndex.holds``); the lexical one only for exactly the texts it was
    fitted on (``matcher.tfidf.load``), so nothing here needs to be trusted."""
    out: dict[str, bytes] = {}
    for name, path in index_files(folder).items():
        try:
            out[name] = path.read_bytes()
        except OSError:
            continue
    return out


def index_files(folder: Path) -> dict[str, Path]:
    """The saved parts' files by name (those present; an older version's file where the current
    one is missing), for the engine to map (``Engine(saved_indexes=...)``): the same checks as
    :func:`load_index_blobs` apply, and a process never writes to a mapped file."""
    out: dict[str, Path] = {}
    for name in INDEX_NAMES:
        for file in (BLOB_FILES[name], LEGACY_FILES.get(name)):
            if file and (Path(folder) / file).is_file():
                out[name] = Path(folder) / file
                break
    return out


def load_vectors_or_empty(folder: Path, encoder_name: str) -> dict[str, np.ndarray]:
    """Like load_vectors, but a missing or bad file only logs and returns an empty cache."""
    try:
        return load_vectors(folder, encoder_name)
    except VectorFileError as exc:
        log.warning("vector cache not used, re-encoding from the database: %s", exc)
        return {}
