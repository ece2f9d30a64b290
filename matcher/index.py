"""Nearest-neighbour search over normalised embeddings, keyed by string ids.

:class:`VectorIndex` follows scikit-learn's estimator habits: ``__init__`` only stores
its keyword arguments, :meth:`VectorIndex.fit` validates and sets the learned state
(trailing underscore) and returns ``self``, and every other method on an unfitted
index raises :class:`NotFittedError`.

Cosine similarity is the inner product of L2-normalised float32 vectors
(:func:`matcher.encoder.l2_normalize` is applied to everything that comes in). Below
``exact_threshold`` vectors the index is an exact ``faiss.IndexFlatIP``; above it an
approximate IVF-flat (or, on request, HNSW) index. faiss rows carry stable int64
labels; the string ids live in Python next to them, never inside faiss.

Persistence goes to and from ``bytes`` (:meth:`VectorIndex.to_bytes`,
:meth:`VectorIndex.from_bytes`); the caller decides where the bytes are stored. The bytes are a
plain faiss index followed by a trailer (the ids, the labels, the parameters and a checksum of
everything), so a saved file can be memory-mapped (:meth:`VectorIndex.open`): the vectors are
then read from the OS page cache, one copy shared by every process that maps the file. A mapped
index takes a private copy of its faiss index before its first change (copy on write; a mapped
file is never written through). A blob from another format version, a damaged blob, or one
built for another encoder raises :class:`IndexVersionError` so the caller can rebuild; blobs of
format 1 (header first, faiss index last) are still read.

Every public method of a fitted index holds an internal lock, so searches and upserts
from different threads (e.g. web request threads) are serialised rather than racing
inside faiss.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import struct
import threading
from typing import Any, Iterable, Sequence

import faiss
import numpy as np

from .encoder import l2_normalize

log = logging.getLogger(__name__)

__all__ = ["VectorIndex", "IndexVersionError", "NotFittedError", "FORMAT_VERSION"]

#: Version of the byte layout written by :meth:`VectorIndex.to_bytes`. Bump it whenever
#: the layout or the meaning of a field changes; other versions are then rejected (except
#: format 1, still read).
FORMAT_VERSION = 2
_MAGIC = b"CBVECIDX"
_DIGEST_SIZE = 32
# format 1: magic (8) | format version u32 | header length u32 | blake2b digest of the rest (32),
# then the header, the vectors, the labels and the faiss index
_PREFIX = struct.Struct(f"<8sII{_DIGEST_SIZE}s")
# format 2: the faiss index (faiss.serialize_index, readable by faiss.read_index as it is), the
# header, the labels, then this trailer: magic (8) | format version u32 | header length u32 |
# faiss length u64 | blake2b digest of everything before the trailer (32)
_MAGIC2 = b"CBVIDX2\x00"
_TRAILER = struct.Struct(f"<8sIIQ{_DIGEST_SIZE}s")
#: faiss reads the codes of flat storage and of IVF lists in place from a mapped file (the HNSW
#: graph and the id maps are read into memory); nothing may be written through the mapping
_MMAP_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY

_KINDS = ("auto", "flat", "ivf", "hnsw")


class NotFittedError(ValueError, AttributeError):
    """A method of :class:`VectorIndex` was called before :meth:`VectorIndex.fit`."""


class IndexVersionError(ValueError):
    """A serialised index cannot be used: another format version, truncated or corrupt
    bytes, or a dimension/encoder different from the one expected. Rebuild the index."""


class VectorIndex:
    """Inner-product nearest-neighbour index over string ids.

    Args:
        exact_threshold: with ``kind="auto"``, at most this many vectors get an exact
            ``IndexFlatIP``; more get an approximate IVF-flat index.
        nlist: number of IVF cells; ``None`` picks ``sqrt(n)`` (at most ``n // 39``,
            faiss' minimum of training points per cell).
        nprobe: IVF cells visited per query (higher: better recall, slower).
        kind: ``"auto"``, ``"flat"`` (always exact), ``"ivf"`` or ``"hnsw"``.
        hnsw_m: HNSW graph degree (``kind="hnsw"`` only).
        ef_search: HNSW search breadth (``kind="hnsw"`` only).
        encoder_name: name of the encoder that made the vectors; stored in the bytes so
            that a model change is detected on load.
        seed: seed of the IVF k-means training, so that builds are reproducible.

    Fitted attributes: ``ids_`` (list of ids in row order), ``dim_``, ``kind_``
    (the resolved kind), ``nlist_`` (IVF only). ``len(index)`` is the number of ids.
    """

    def __init__(
        self,
        exact_threshold: int = 20000,
        nlist: int | None = None,
        nprobe: int = 16,
        kind: str = "auto",
        *,
        hnsw_m: int = 32,
        ef_search: int = 128,
        encoder_name: str | None = None,
        seed: int = 1234,
    ) -> None:
        self.exact_threshold = exact_threshold
        self.nlist = nlist
        self.nprobe = nprobe
        self.kind = kind
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        self.encoder_name = encoder_name
        self.seed = seed

    # ------------------------------------------------------------------ helpers
    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        fitted = f", fitted: {self.kind_} n={len(self)} dim={self.dim_}" if self._is_fitted() else ""
        return f"VectorIndex({params}{fitted})"

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (as scikit-learn's ``get_params``)."""
        return {
            "exact_threshold": self.exact_threshold,
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "kind": self.kind,
            "hnsw_m": self.hnsw_m,
            "ef_search": self.ef_search,
            "encoder_name": self.encoder_name,
            "seed": self.seed,
        }

    def _is_fitted(self) -> bool:
        return "_index" in self.__dict__

    def _check_fitted(self, method: str) -> None:
        if not self._is_fitted():
            raise NotFittedError(
                f"This VectorIndex is not fitted yet; call fit(ids, vectors) or "
                f"VectorIndex.from_bytes(...) before {method}()."
            )

    def _validate_params(self) -> None:
        _check_int("exact_threshold", self.exact_threshold, 0)
        if self.nlist is not None:
            _check_int("nlist", self.nlist, 1)
        _check_int("nprobe", self.nprobe, 1)
        _check_int("hnsw_m", self.hnsw_m, 2)
        _check_int("ef_search", self.ef_search, 1)
        _check_int("seed", self.seed, 0)
        if self.kind not in _KINDS:
            raise ValueError(
                f"The 'kind' parameter of VectorIndex must be a str among {set(_KINDS)}. Got {self.kind!r} instead."
            )
        if self.encoder_name is not None and not isinstance(self.encoder_name, str):
            raise TypeError(
                f"The 'encoder_name' parameter of VectorIndex must be a str or None. Got {self.encoder_name!r} instead."
            )

    @property
    def ids_(self) -> list[str]:
        self._check_fitted("ids_")
        return list(self._ids)

    @property
    def dim_(self) -> int:
        self._check_fitted("dim_")
        return self._dim

    @property
    def kind_(self) -> str:
        self._check_fitted("kind_")
        return self._kind

    def __len__(self) -> int:
        self._check_fitted("len")
        return len(self._ids)

    def __contains__(self, id_: object) -> bool:
        self._check_fitted("contains")
        return id_ in self._row

    # ---------------------------------------------------------------- building
    def fit(self, ids: Sequence[str], vectors: np.ndarray) -> "VectorIndex":
        """Index ``vectors`` (one row per id; rows are L2-normalised here).

        Raises:
            ValueError: parameters out of range, ``ids`` not unique strings, a length
                mismatch, a non-2-D or non-finite ``vectors``.
        """
        self._validate_params()
        id_list = _check_ids(ids, "fit")
        if len(set(id_list)) != len(id_list):
            seen: set[str] = set()
            dup = next(i for i in id_list if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise ValueError(f"The 'ids' parameter of fit must be unique. Got {dup!r} more than once.")
        x = _check_vectors(vectors, "fit", len(id_list), None)
        n, dim = x.shape
        if dim < 1:
            raise ValueError("The 'vectors' parameter of fit must have at least one column. Got 0 instead.")

        kind = self.kind
        if kind == "auto":
            kind = "flat" if n <= self.exact_threshold else "ivf"
        nlist = None
        if kind == "ivf":
            if n == 0:
                raise ValueError("kind='ivf' needs at least one vector to train on. Got 0 instead.")
            nlist = self.nlist if self.nlist is not None else max(1, min(int(math.sqrt(n)), n // 39))
            if nlist > n:
                raise ValueError(
                    f"The 'nlist' parameter of VectorIndex must be at most the number of vectors ({n}). Got {nlist} instead."
                )

        self._lock = threading.RLock()
        self._dim = dim
        self._kind = kind
        self.nlist_ = nlist
        self._index = self._new_faiss_index(kind, dim, nlist, x)
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._labels = np.empty(0, dtype=np.int64)
        self._label_row: dict[int, int] = {}
        self._dead: set[int] = set()  # HNSW cannot delete: tombstoned labels
        self._next_label = 0
        self._mapped = False
        self._append(id_list, x)
        log.info("built %s index: %d vectors of dim %d", kind, n, dim)
        return self

    def _new_faiss_index(self, kind: str, dim: int, nlist: int | None, train: np.ndarray) -> faiss.Index:
        if kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if kind == "ivf":
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = self.seed
            index.train(train)
            index.nprobe = self.nprobe
            # vectors are read back by id (exact fallback, persistence): no second copy kept
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
            return index  # faiss' Python wrapper keeps a reference to the quantizer
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = max(40, 2 * self.hnsw_m)
            inner.hnsw.efSearch = self.ef_search
            return faiss.IndexIDMap2(inner)
        raise AssertionError(kind)

    @property
    def mapped_(self) -> bool:
        """True while the faiss index reads its vectors from a memory-mapped file (:meth:`open`)."""
        self._check_fitted("mapped_")
        return self._mapped

    def _own(self) -> None:
        """Before a change: replace a mapped faiss index by a private copy (copy on write), so the
        file, and every other process mapping it, stays as it is. faiss aborts the process on a
        change of a mapped vector, so every mutation goes through here first."""
        if self._mapped:
            index = faiss.deserialize_index(faiss.serialize_index(self._index))
            self._index = self._tuned(index)
            self._mapped = False
            log.info("mapped %s index copied before a change", self._kind)

    def _tuned(self, index: Any) -> Any:
        """``index`` with this index's search parameters set (they live in Python)."""
        if self._kind == "ivf":
            faiss.extract_index_ivf(index).nprobe = self.nprobe
        elif self._kind == "hnsw":
            faiss.downcast_index(index.index).hnsw.efSearch = self.ef_search
        return index

    def _append(self, ids: list[str], x: np.ndarray) -> None:
        if not ids:
            return
        self._own()
        labels = np.arange(self._next_label, self._next_label + len(ids), dtype=np.int64)
        self._next_label += len(ids)
        self._index.add_with_ids(x, labels)
        start = len(self._ids)
        self._ids.extend(ids)
        for offset, (id_, label) in enumerate(zip(ids, labels.tolist())):
            self._row[id_] = start + offset
            self._label_row[label] = start + offset
        self._labels = np.concatenate([self._labels, labels])

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> "VectorIndex":
        """Add new ids. Raises ``ValueError`` if one is already indexed (use :meth:`upsert`)."""
        self._check_fitted("add")
        with self._lock:
            id_list = _check_ids(ids, "add")
            present = [i for i in id_list if i in self._row]
            if present or len(set(id_list)) != len(id_list):
                what = present[0] if present else "a repeated id"
                raise ValueError(
                    f"The 'ids' parameter of add must be new and unique; {what!r} is already there. "
                    "Use upsert() to replace vectors."
                )
            x = _check_vectors(vectors, "add", len(id_list), self._dim)
            self._append(id_list, x)
        return self

    def remove(self, ids: Iterable[str]) -> int:
        """Remove ids from the index; unknown ids are ignored. Returns how many were removed."""
        self._check_fitted("remove")
        with self._lock:
            if isinstance(ids, str):
                ids = [ids]
            rows = sorted({self._row[i] for i in ids if i in self._row})
            if not rows:
                return 0
            labels = self._labels[rows]
            self._own()
            if self._kind == "hnsw":
                self._dead.update(labels.tolist())
            else:
                # IDSelectorArray: the only selector IVF's hash-table direct map accepts
                sel = np.ascontiguousarray(labels, dtype=np.int64)
                removed = self._index.remove_ids(faiss.IDSelectorArray(len(sel), faiss.swig_ptr(sel)))
                if removed != len(rows):  # pragma: no cover - would be a faiss bug
                    raise RuntimeError(f"faiss removed {removed} vectors instead of {len(rows)}")
            if len(rows) <= 64:
                self._swap_out(rows)
            else:
                keep = np.ones(len(self._ids), dtype=bool)
                keep[rows] = False
                self._ids = [i for i, k in zip(self._ids, keep.tolist()) if k]
                self._labels = self._labels[keep]
                self._rebuild_maps()
            if self._kind == "hnsw" and len(self._dead) > max(1000, len(self._ids) // 4):
                self._rebuild_hnsw()
            return len(rows)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> "VectorIndex":
        """Insert or replace: each id ends up exactly once, with its new vector."""
        self._check_fitted("upsert")
        with self._lock:
            id_list = _check_ids(ids, "upsert")
            x = _check_vectors(vectors, "upsert", len(id_list), self._dim)
            # the last vector wins if an id is given twice
            last = {id_: pos for pos, id_ in enumerate(id_list)}
            order = sorted(last.values())
            id_list = [id_list[p] for p in order]
            x = x[order]
            self.remove([i for i in id_list if i in self._row])
            self._append(id_list, x)
        return self

    def _swap_out(self, rows: list[int]) -> None:
        """Drop a few rows in O(1) each: the last row moves into each hole (an upsert of one id
        then costs the same at 100 and at 100,000 vectors; only the row order changes)."""
        end = len(self._ids)
        labels = self._labels.copy()
        for r in sorted(rows, reverse=True):  # every row above r that goes is gone already
            end -= 1
            del self._row[self._ids[r]]
            del self._label_row[int(labels[r])]
            if r != end:
                self._ids[r], labels[r] = self._ids[end], labels[end]
                self._row[self._ids[r]] = r
                self._label_row[int(labels[r])] = r
        del self._ids[end:]
        self._labels = labels[:end]

    def _rebuild_maps(self) -> None:
        self._row = {id_: r for r, id_ in enumerate(self._ids)}
        self._label_row = {label: r for r, label in enumerate(self._labels.tolist())}

    def _rebuild_hnsw(self) -> None:
        log.info("rebuilding HNSW graph without %d deleted vectors", len(self._dead))
        vectors = self._vectors_at()
        index = self._new_faiss_index("hnsw", self._dim, None, vectors)
        index.add_with_ids(vectors, self._labels)
        self._index = index
        self._mapped = False
        self._dead = set()

    # ---------------------------------------------------------------- querying
    def search(
        self, queries: np.ndarray, k: int, allowed: set[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """The ``k`` most similar ids for each query, best first, as ``(id, cosine)``.

        Args:
            queries: ``(m, dim)`` array, or one ``(dim,)`` vector (then ``m == 1``).
            k: number of results wanted per query (fewer if fewer ids qualify).
            allowed: if given, only these ids may be returned. The index is asked for
                more than ``k`` and filtered afterwards; when that leaves fewer than
                ``k`` results (or few ids are allowed) the allowed rows are searched
                exactly instead.

        Returns:
            One list per query of at most ``k`` pairs; faiss ``-1`` padding is dropped.
        """
        self._check_fitted("search")
        _check_int("k", k, 1, where="search")
        with self._lock:
            q = _check_vectors(queries, "search", None, self._dim)
            n = len(self._ids)
            if n == 0 or len(q) == 0:
                return [[] for _ in range(len(q))]
            if allowed is None:
                return self._faiss_search(q, min(k, n), None)
            if isinstance(allowed, str):
                raise TypeError("The 'allowed' parameter of search must be a set of ids, not a str.")
            # Few allowed ids: a brute-force pass over them is cheaper and exact. The rows of the
            # allowed ids are looked up only then (for 100,000 allowed ids the lookup alone cost
            # more than the search); len(allowed) bounds their number.
            if len(allowed) <= max(4 * k, n // 20):
                rows = self._allowed_rows(allowed)
                if rows.size == 0:
                    return [[] for _ in range(len(q))]
                return self._exact_search(q, min(k, rows.size), rows)
            want = min(k, len(allowed))
            fetch = min(n, max(4 * k, int(k * n / len(allowed) * 2)))
            results = self._faiss_search(q, fetch, allowed, limit=want)
            short = [i for i, r in enumerate(results) if len(r) < want]
            if short:
                rows = self._allowed_rows(allowed)
                if rows.size == 0:
                    return [[] for _ in range(len(q))]
                exact = self._exact_search(q[short], min(k, rows.size), rows)
                for i, r in zip(short, exact):
                    results[i] = r
            return results

    def _allowed_rows(self, allowed: set[str]) -> np.ndarray:
        return np.fromiter((self._row[i] for i in allowed if i in self._row), dtype=np.int64)

    def _faiss_search(
        self, q: np.ndarray, fetch: int, allowed: set[str] | None, limit: int | None = None
    ) -> list[list[tuple[str, float]]]:
        limit = fetch if limit is None else limit
        extra = len(self._dead)
        scores, labels = self._index.search(q, min(fetch + extra, self._index.ntotal))
        out: list[list[tuple[str, float]]] = []
        for srow, lrow in zip(scores.tolist(), labels.tolist()):
            hits: list[tuple[str, float]] = []
            for s, label in zip(srow, lrow):
                if label < 0 or label in self._dead:
                    continue
                id_ = self._ids[self._label_row[label]]
                if allowed is not None and id_ not in allowed:
                    continue
                hits.append((id_, float(s)))
                if len(hits) == limit:
                    break
            out.append(hits)
        return out

    def _vectors_at(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The stored vectors of ``rows`` (default all), read back from faiss by label.

        The index holds the only copy of the vectors (flat and HNSW through ``IndexIDMap2``,
        IVF through its hash-table direct map), so memory stays close to the raw vectors.
        """
        labels = self._labels if rows is None else self._labels[rows]
        if labels.size == 0:
            return np.empty((0, self._dim), dtype=np.float32)
        return np.ascontiguousarray(self._index.reconstruct_batch(np.ascontiguousarray(labels, dtype=np.int64)),
                                    dtype=np.float32)

    def holds(self, ids: Sequence[str], vectors: np.ndarray) -> bool:
        """True when the index holds exactly ``ids``, in this order, with ``vectors`` (up to the
        rounding of the normalisation in :meth:`fit`): a saved index that passes can stand in for
        a fresh :meth:`fit` on them."""
        self._check_fitted("holds")
        with self._lock:
            if list(ids) != self._ids or vectors.shape != (len(self._ids), self._dim):
                return False
            return bool(np.allclose(self._vectors_at(), np.asarray(vectors, dtype=np.float32), rtol=0.0, atol=1e-5))

    def _exact_search(self, q: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        """Brute force over ``rows`` (default all): scores sorted descending, ties by row."""
        base = self._vectors_at(rows)
        row_ids = np.arange(len(self._ids)) if rows is None else rows
        scores = q @ base.T
        k = min(k, base.shape[0])
        out = []
        for srow in scores:
            top = np.argpartition(-srow, k - 1)[:k] if k < len(srow) else np.arange(len(srow))
            top = top[np.lexsort((row_ids[top], -srow[top]))]
            out.append([(self._ids[row_ids[j]], float(srow[j])) for j in top])
        return out

    def recall_at_k(self, queries: np.ndarray, k: int = 10) -> float:
        """Mean fraction of the exact top-``k`` ids that the index returns (1.0 if exact)."""
        self._check_fitted("recall_at_k")
        _check_int("k", k, 1, where="recall_at_k")
        with self._lock:
            q = _check_vectors(queries, "recall_at_k", None, self._dim)
            n = len(self._ids)
            if n == 0 or len(q) == 0:
                return 1.0
            kk = min(k, n)
            approx = self._faiss_search(q, kk, None)
            exact = self._exact_search(q, kk)
            hits = [
                len({i for i, _ in a} & {i for i, _ in e}) / len(e) for a, e in zip(approx, exact)
            ]
            return float(np.mean(hits))

    # ------------------------------------------------------------- persistence
    def to_bytes(self) -> bytes:
        """Serialise the fitted index as format 2: the faiss index, then the header (ids,
        parameters), the labels and the trailer with the checksum."""
        self._check_fitted("to_bytes")
        with self._lock:
            faiss_blob = faiss.serialize_index(self._index).tobytes()
            header = {
                "encoder_name": self.encoder_name,
                "dim": self._dim,
                "kind": self._kind,
                "n": len(self._ids),
                "nlist_": self.nlist_,
                "params": self.get_params(),
                "next_label": self._next_label,
                "dead": sorted(self._dead),
                "ntotal": int(self._index.ntotal),
                "ids": self._ids,
                "faiss_bytes": len(faiss_blob),
            }
            header_bytes = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
            parts = [faiss_blob, header_bytes, self._labels.astype("<i8").tobytes()]
            for part in parts:
                h.update(part)
            trailer = _TRAILER.pack(_MAGIC2, FORMAT_VERSION, len(header_bytes), len(faiss_blob), h.digest())
            return b"".join([*parts, trailer])

    @classmethod
    def from_bytes(
        cls, blob: bytes, *, dim: int | None = None, encoder_name: str | None = None
    ) -> "VectorIndex":
        """Rebuild an index from :meth:`to_bytes` output (format 2, or format 1 of older
        versions), as a private copy in memory.

        Args:
            blob: the bytes.
            dim: if given, the dimension the caller's encoder produces.
            encoder_name: if given, the name of the caller's encoder.

        Raises:
            IndexVersionError: another format version, a truncated or corrupt blob, or a
                ``dim``/``encoder_name`` different from the stored one. Rebuild then.
        """
        view = memoryview(blob)
        if _is_format2(view):
            header, labels, faiss_len = _read_trailer(view)
            try:
                index = faiss.deserialize_index(np.frombuffer(view, dtype=np.uint8, count=faiss_len))
            except Exception as exc:  # a good digest over bytes faiss cannot read
                raise IndexVersionError(f"Index blob is malformed ({exc}). Rebuild the index.") from exc
        else:
            header, labels, index = _read_blob(view)
        return cls._from_parts(header, labels, index, dim=dim, encoder_name=encoder_name, mapped=False)

    @classmethod
    def open(
        cls, path: str | os.PathLike, *, dim: int | None = None, encoder_name: str | None = None, mmap: bool = True
    ) -> "VectorIndex":
        """The index saved in the file ``path`` (the bytes of :meth:`to_bytes`).

        With ``mmap`` (and a format-2 file) faiss maps the file read-only: the vectors stay in
        the OS page cache, shared by all the processes that open the same file, and the index
        copies them privately only before its first change. The checksum is verified over the
        very file that is mapped (the file is opened once; a file replaced meanwhile does not
        mix in). Other files are read as :meth:`from_bytes` reads them.

        Raises:
            IndexVersionError: as :meth:`from_bytes`; also for a file that cannot be read.
        """
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise IndexVersionError(f"Index file {path} cannot be read ({exc}). Rebuild the index.") from exc
        try:
            size = os.fstat(fd).st_size
            if not mmap or size < _TRAILER.size:
                with os.fdopen(os.dup(fd), "rb") as f:
                    return cls.from_bytes(f.read(), dim=dim, encoder_name=encoder_name)
            mapped = np.memmap(_proc_fd(fd) or path, dtype=np.uint8, mode="r")
            view = memoryview(mapped)
            if not _is_format2(view):
                return cls.from_bytes(bytes(view), dim=dim, encoder_name=encoder_name)
            header, labels, _ = _read_trailer(view)
            labels = np.array(labels)  # small; the mapping of the checksum pass goes with `mapped`
            del view, mapped
            try:
                index = faiss.read_index(_proc_fd(fd) or os.fspath(path), _MMAP_FLAGS)
            except Exception as exc:
                raise IndexVersionError(f"Index file {path} is malformed ({exc}). Rebuild the index.") from exc
            return cls._from_parts(header, labels, index, dim=dim, encoder_name=encoder_name, mapped=True)
        finally:
            os.close(fd)

    @classmethod
    def _from_parts(cls, header: dict, labels: np.ndarray, index: Any, *, dim: int | None,
                    encoder_name: str | None, mapped: bool) -> "VectorIndex":
        if index.d != int(header["dim"]) or index.ntotal != int(header["ntotal"]):
            raise IndexVersionError(
                f"Index blob is inconsistent: faiss index has dim {index.d} and {index.ntotal} vectors, "
                f"header says dim {header['dim']} and {header['ntotal']}."
            )
        stored_dim = int(header["dim"])
        if dim is not None and dim != stored_dim:
            raise IndexVersionError(
                f"Index was built with {stored_dim}-dimensional vectors; the encoder produces {dim}. Rebuild the index."
            )
        if encoder_name is not None and encoder_name != header.get("encoder_name"):
            raise IndexVersionError(
                f"Index was built with encoder {header.get('encoder_name')!r}; the current encoder is "
                f"{encoder_name!r}. Rebuild the index."
            )
        try:
            self = cls(**header["params"])
            self._validate_params()
        except (TypeError, ValueError) as exc:
            raise IndexVersionError(f"Index blob has invalid parameters ({exc}). Rebuild the index.") from exc
        self._lock = threading.RLock()
        self._dim = stored_dim
        self._kind = header["kind"]
        self.nlist_ = header["nlist_"]
        self._ids = [str(i) for i in header["ids"]]
        self._labels = labels.astype(np.int64)
        self._dead = set(int(x) for x in header["dead"])
        self._next_label = int(header["next_label"])
        self._mapped = mapped
        self._index = index
        self._tuned(index)
        if self._kind == "ivf" and faiss.extract_index_ivf(index).direct_map.type != faiss.DirectMap.Hashtable:
            self._own()  # written by an older version: the direct map changes
            faiss.extract_index_ivf(self._index).set_direct_map_type(faiss.DirectMap.Hashtable)
        self._rebuild_maps()
        return self


def _proc_fd(fd: int) -> str | None:
    """A path naming the open file ``fd`` itself (Linux), so a reader by path reads that file."""
    path = f"/proc/self/fd/{fd}"
    return path if os.path.exists(path) else None


def _is_format2(view: memoryview) -> bool:
    return len(view) >= _TRAILER.size and bytes(view[len(view) - _TRAILER.size:][:8]) == _MAGIC2


def _read_trailer(view: memoryview) -> tuple[dict, np.ndarray, int]:
    """The header, the labels and the faiss length of a format-2 blob, with its version,
    checksum and section lengths checked (``IndexVersionError`` otherwise)."""
    end = len(view) - _TRAILER.size
    magic, version, header_len, faiss_len, digest = _TRAILER.unpack_from(view, end)
    if version != FORMAT_VERSION:
        raise IndexVersionError(
            f"Index blob has format version {version}; this code reads version {FORMAT_VERSION}. Rebuild the index."
        )
    if hashlib.blake2b(view[:end], digest_size=_DIGEST_SIZE).digest() != digest:
        raise IndexVersionError("Index blob is truncated or corrupt (checksum mismatch). Rebuild the index.")
    try:
        header = json.loads(bytes(view[faiss_len:faiss_len + header_len]).decode("utf-8"))
        n = int(header["n"])
        ids = header["ids"]
        offset = faiss_len + header_len
        if len(ids) != n or offset + 8 * n != end or int(header["faiss_bytes"]) != faiss_len:
            raise ValueError("section lengths do not add up")
        labels = np.frombuffer(view, dtype="<i8", count=n, offset=offset)
    except Exception as exc:  # malformed header or sections despite a good digest
        raise IndexVersionError(f"Index blob is malformed ({exc}). Rebuild the index.") from exc
    return header, labels, faiss_len


def _read_blob(blob: bytes) -> tuple[dict, np.ndarray, Any]:
    """The header, the labels and the faiss index of a format-1 blob (written by older
    versions), with its format, checksum and section lengths checked (``IndexVersionError``
    otherwise)."""
    view = memoryview(blob)
    if len(view) < _PREFIX.size:
        raise IndexVersionError(f"Index blob is truncated: {len(view)} bytes, the header alone needs {_PREFIX.size}.")
    magic, version, header_len, digest = _PREFIX.unpack_from(view, 0)
    if magic != _MAGIC:
        raise IndexVersionError(
            f"Not a VectorIndex blob, or a truncated or corrupt one: no {_MAGIC2!r} at its end nor {_MAGIC!r} (format 1) "
            f"at its start (found {magic!r}). Rebuild the index."
        )
    if version != 1:
        raise IndexVersionError(
            f"Index blob has format version {version}; this code reads version {FORMAT_VERSION}. Rebuild the index."
        )
    body = view[_PREFIX.size :]
    if hashlib.blake2b(body, digest_size=_DIGEST_SIZE).digest() != digest:
        raise IndexVersionError("Index blob is truncated or corrupt (checksum mismatch). Rebuild the index.")
    try:
        header = json.loads(bytes(body[:header_len]).decode("utf-8"))
        stored_dim, n = int(header["dim"]), int(header["n"])
        ids = [str(i) for i in header["ids"]]
        offset = header_len
        vec_bytes, lab_bytes = n * stored_dim * 4, n * 8
        # the stored vector section is skipped: the faiss index below holds the vectors
        offset += vec_bytes
        labels = np.frombuffer(body, dtype="<i8", count=n, offset=offset)
        offset += lab_bytes
        faiss_len = int(header["faiss_bytes"])
        if len(ids) != n or offset + faiss_len != len(body):
            raise ValueError("section lengths do not add up")
        index = faiss.deserialize_index(np.frombuffer(body, dtype=np.uint8, count=faiss_len, offset=offset))
    except IndexVersionError:
        raise
    except Exception as exc:  # malformed header or sections despite a good digest
        raise IndexVersionError(f"Index blob is malformed ({exc}). Rebuild the index.") from exc
    return header, labels, index


def serve_single_threaded() -> None:
    """Give faiss one OpenMP thread in this process.

    A serving process searches one query per request and gets its parallelism from the WSGI
    server's workers; faiss' own threads then only contend (evaluation/PERF.md measured the flat
    index 2-18x slower with 2 threads than with 1 on a busy 2-core machine).
    """
    faiss.omp_set_num_threads(1)


# ---------------------------------------------------------------- validation
def _check_int(name: str, value: Any, low: int, where: str = "VectorIndex") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"The {name!r} parameter of {where} must be an int in [{low}, inf). Got {value!r} instead.")


def _check_ids(ids: Sequence[str], method: str) -> list[str]:
    if isinstance(ids, str):
        raise TypeError(f"The 'ids' parameter of {method} must be a sequence of str, not a single str.")
    out = list(ids)
    for pos, i in enumerate(out):
        if not isinstance(i, str):
            raise TypeError(
                f"The 'ids' parameter of {method} must contain only str. Got {type(i).__name__} at position {pos} instead."
            )
    return out


def _check_vectors(vectors: Any, method: str, n: int | None, dim: int | None) -> np.ndarray:
    x = np.asarray(vectors)
    if x.ndim == 1 and method in ("search", "recall_at_k"):
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"The 'vectors' parameter of {method} must be a 2-D array. Got shape {x.shape} instead.")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ValueError(f"The 'vectors' parameter of {method} must be a real numeric array. Got dtype {x.dtype} instead.")
    if n is not None and x.shape[0] != n:
        raise ValueError(
            f"The 'vectors' parameter of {method} must have one row per id ({n}). Got {x.shape[0]} rows instead."
        )
    if dim is not None and x.shape[1] != dim:
        raise ValueError(
            f"The 'vectors' parameter of {method} must have {dim} columns (the index dimension). Got {x.shape[1]} instead."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"The 'vectors' parameter of {method} must be finite. Got NaN or infinite values.")
    return l2_normalize(x) if x.shape[0] else np.zeros((0, x.shape[1]), dtype=np.float32)
