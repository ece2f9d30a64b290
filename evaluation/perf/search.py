"""Top-10 search latency, recall, memory, build and persistence time at growing collection sizes.

The collection is synthetic: 384-dim vectors drawn around random centres (clusters, as real
job embeddings are: many near-duplicate titles) and L2-normalised, so that recall@10 means
something; queries come from the same distribution but are not in the collection. "Top 10 open
orders for a worker" and "top 10 workers for an order" are the same call on the same kind of
index (the engine keeps one :class:`~matcher.index.VectorIndex` per side), so the figures hold
for both directions at the same collection size.

Systems: ``engine-flat`` (``VectorIndex(kind="flat")``, exact), ``engine-approx``
(``VectorIndex(kind="ivf")`` with its default ``nlist``/``nprobe``; ``kind="auto"`` switches to
it above ``exact_threshold`` = 20,000), ``numpy`` (matrix product + ``argpartition``) and
``sklearn`` (``NearestNeighbors(algorithm="brute", metric="cosine")``). Each query is searched
alone (the latency a request sees). recall@10 is measured against exact top-10 computed by a
batched matrix product.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from evaluation.perf import percentiles_ms, rss_bytes, section, time_each

log = logging.getLogger(__name__)

DIM = 384
K = 10
RAW_BYTES = DIM * 4


def clustered_vectors(n: int, seed: int, centres: int = 2000, spread: float = 0.06, dim: int = DIM,
                      centre_seed: int = 7) -> np.ndarray:
    """``n`` unit vectors around ``centres`` random centres (same centres for every ``seed``)."""
    c = np.random.default_rng(centre_seed).standard_normal((centres, dim), dtype=np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        x = c[rng.integers(0, centres, m)] + spread * rng.standard_normal((m, dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:start + m] = x
    return out


def exact_topk(x: np.ndarray, q: np.ndarray, k: int = K) -> np.ndarray:
    """Row indices of the exact top-``k`` inner products, per query (batched, chunked)."""
    out = np.empty((len(q), k), dtype=np.int64)
    for s in range(0, len(q), 64):
        scores = q[s:s + 64] @ x.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[s:s + 64] = np.take_along_axis(top, order, axis=1)
    return out


def recall_at_k(found: Sequence[Sequence[int]], truth: np.ndarray, k: int = K) -> float:
    """Mean share of the exact top-``k`` rows that each result list contains."""
    hits = [len(set(list(f)[:k]) & set(t[:k].tolist())) / k for f, t in zip(found, truth)]
    return float(np.mean(hits)) if hits else float("nan")


def numpy_topk(x: np.ndarray, q: np.ndarray, k: int = K) -> list[int]:
    scores = x @ q
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])].tolist()


def _index_bytes(index) -> int:
    """Bytes a fitted VectorIndex holds: faiss' index (its serialised size, which for flat and
    IVF-flat is the stored vectors, ids, centroids and the IVF direct map; the index keeps no
    other copy of the vectors), the labels, and the Python id list and maps (``sys.getsizeof``)."""
    import faiss

    total = int(faiss.serialize_index(index._index).size)  # noqa: SLF001 - measuring, not using
    total += index._labels.nbytes  # noqa: SLF001
    ids = index._ids  # noqa: SLF001
    total += sys.getsizeof(ids) + sum(sys.getsizeof(i) for i in ids)
    total += sys.getsizeof(index._row) + sys.getsizeof(index._label_row)  # noqa: SLF001
    total += sum(sys.getsizeof(v) for v in index._label_row)  # noqa: SLF001 - int keys
    return total


def _engine_row(n: int, kind: str, x: np.ndarray, ids: list[str], queries: np.ndarray, truth: np.ndarray,
                budget_s: float, progress: bool) -> tuple[dict, object]:
    from matcher.index import VectorIndex

    gc.collect()
    before = rss_bytes()
    t0 = time.perf_counter()
    index = VectorIndex(kind=kind, encoder_name="perf").fit(ids, x)
    build_s = time.perf_counter() - t0
    gc.collect()
    retained = rss_bytes() - before
    held = _index_bytes(index)
    row_of = {i: r for r, i in enumerate(ids)}
    index.search(queries[0], K)  # warm-up
    durations, results = time_each(lambda q: index.search(q, K)[0], list(queries), budget_s=budget_s,
                                   min_calls=min(20, len(queries)), progress=progress,
                                   desc=f"engine-{kind} n={n:,}")
    found = [[row_of[i] for i, _ in hits] for hits in results]
    # faiss parallelises one query over OpenMP threads; on a busy 2-core machine the threads wait
    # for each other, so the single-thread latency is measured too (faiss.omp_set_num_threads)
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        durations1, _ = time_each(lambda q: index.search(q, K)[0], list(queries), budget_s=budget_s / 2,
                                  min_calls=min(20, len(queries)), progress=progress,
                                  desc=f"engine-{kind} 1 thread n={n:,}")
    finally:
        faiss.omp_set_num_threads(threads)
    t0 = time.perf_counter()
    blob = index.to_bytes()
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    VectorIndex.from_bytes(blob, dim=DIM, encoder_name="perf")
    load_s = time.perf_counter() - t0
    row = {
        "system": "engine-flat" if kind == "flat" else "engine-approx",
        "n": n,
        **percentiles_ms(durations),
        "queries": len(durations),
        "recall@10": recall_at_k(found, truth),
        "bytes_per_item": held / n,
        "memory_vs_raw": held / n / RAW_BYTES,
        "rss_bytes_per_item": retained / n,
        "blob_bytes_per_item": len(blob) / n,
        "build_s": build_s,
        "to_bytes_s": save_s,
        "from_bytes_s": load_s,
        "faiss_threads": threads,
        "p50_ms_1thread": percentiles_ms(durations1)["p50_ms"],
        "p95_ms_1thread": percentiles_ms(durations1)["p95_ms"],
    }
    if kind == "ivf":
        row["nlist"] = index.nlist_
        row["nprobe"] = index.nprobe
    del blob
    return row, index


def _nprobe_sweep(index, n: int, queries: np.ndarray, truth: np.ndarray, ids: list[str], budget_s: float,
                  progress: bool) -> list[dict]:
    """Recall/latency of the built IVF index at other ``nprobe`` values (a benchmark-only knob:
    the engine's default is the ``nprobe`` constructor argument)."""
    import faiss

    ivf = faiss.extract_index_ivf(index._index)  # noqa: SLF001 - measuring, not changing, the engine
    default = ivf.nprobe
    row_of = {i: r for r, i in enumerate(ids)}
    rows = []
    for nprobe in (4, 8, 16, 32, 64, 128):
        if nprobe > ivf.nlist:
            continue
        ivf.nprobe = nprobe
        durations, results = time_each(lambda q: index.search(q, K)[0], list(queries), budget_s=budget_s / 3,
                                       min_calls=min(20, len(queries)), progress=progress,
                                       desc=f"nprobe={nprobe}")
        found = [[row_of[i] for i, _ in hits] for hits in results]
        rows.append({"system": f"engine-approx-nprobe{nprobe}", "n": n, **percentiles_ms(durations),
                     "queries": len(durations), "recall@10": recall_at_k(found, truth), "nprobe": nprobe,
                     "nlist": int(ivf.nlist)})
    ivf.nprobe = default
    return rows


def run(quick: bool = False, progress: bool = True, *, sizes: Sequence[int] | None = None, queries: int = 200,
        budget_s: float | None = None, sweep: bool | None = None) -> dict:
    """Measure search at each size in ``sizes``; see the module docstring."""
    from sklearn.neighbors import NearestNeighbors
    from tqdm import tqdm

    sizes = list(sizes or ([1_000, 10_000] if quick else [1_000, 10_000, 100_000, 1_000_000]))
    budget_s = budget_s if budget_s is not None else (4.0 if quick else 20.0)
    sweep = (not quick) if sweep is None else sweep
    q = clustered_vectors(queries, seed=2)
    rows: list[dict] = []
    notes = [
        "Vectors: 384-dim, unit length, drawn around 2,000 random centres (spread 0.06 per coordinate); "
        "queries from the same distribution, not in the collection. Each query searched alone.",
        "bytes_per_item: what a fitted VectorIndex holds, divided by n: faiss' index (serialised size), "
        "the float32 copy of the vectors and labels kept beside it, the Python ids and maps; raw float32 "
        "vectors are 1,536 bytes. rss_bytes_per_item: growth of resident memory during fit (noisy at "
        "small n: freed memory is reused).",
        "Latency of a few baselines at large n is measured on fewer queries (a time budget per system): "
        "see 'queries'.",
    ]
    for n in tqdm(sizes, desc="search sizes", disable=not progress, file=sys.stderr):
        x = clustered_vectors(n, seed=1)
        ids = [f"i{j}" for j in range(n)]
        truth = exact_topk(x, q)
        for kind in ("flat", "ivf"):
            row, index = _engine_row(n, kind, x, ids, q, truth, budget_s, progress)
            rows.append(row)
            if kind == "ivf" and sweep and n == max(sizes):
                rows.extend(_nprobe_sweep(index, n, q, truth, ids, budget_s, progress))
            del index
            gc.collect()
        numpy_topk(x, q[0])
        durations, results = time_each(lambda v: numpy_topk(x, v), list(q), budget_s=budget_s,
                                       min_calls=min(20, len(q)), progress=progress, desc=f"numpy n={n:,}")
        rows.append({"system": "numpy", "n": n, **percentiles_ms(durations), "queries": len(durations),
                     "recall@10": recall_at_k(results, truth), "bytes_per_item": float(RAW_BYTES),
                     "memory_vs_raw": 1.0})
        t0 = time.perf_counter()
        nn = NearestNeighbors(n_neighbors=K, algorithm="brute", metric="cosine").fit(x)
        build_s = time.perf_counter() - t0
        nn.kneighbors(q[:1], K)
        durations, results = time_each(lambda v: nn.kneighbors(v[None, :], K, return_distance=False)[0].tolist(),
                                       list(q), budget_s=budget_s, min_calls=min(10, len(q)), progress=progress,
                                       desc=f"sklearn n={n:,}")
        rows.append({"system": "sklearn", "n": n, **percentiles_ms(durations), "queries": len(durations),
                     "recall@10": recall_at_k(results, truth), "bytes_per_item": float(RAW_BYTES),
                     "memory_vs_raw": 1.0, "build_s": build_s})
        del nn, x, ids, truth
        gc.collect()
    # speed-ups against the scikit-learn baseline, per size
    for n in sizes:
        sk = next((r for r in rows if r["system"] == "sklearn" and r["n"] == n), None)
        for r in rows:
            if sk and r["n"] == n and r["system"].startswith("engine") and r.get("p95_ms"):
                r["x_faster_than_sklearn_p95"] = sk["p95_ms"] / r["p95_ms"]
    params = {"sizes": sizes, "dim": DIM, "k": K, "queries": queries, "time_budget_per_system_s": budget_s}
    return section(rows, params, notes)


def plot_latency(result: dict, path: Path) -> bool:
    """A log-log plot of p95 latency against collection size per system; False without data."""
    rows = [r for r in result.get("sections", {}).get("search", {}).get("rows", [])
            if not r["system"].startswith("engine-approx-nprobe")]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for system in dict.fromkeys(r["system"] for r in rows):
        pts = sorted((r["n"], r["p95_ms"]) for r in rows if r["system"] == system and r.get("p95_ms"))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=system)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("indexed items")
    ax.set_ylabel("top-10 latency p95 (ms)")
    ax.set_title(f"Search latency, {result.get('machine', {}).get('cpu_count')} CPUs, {result.get('date', '')[:10]}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
