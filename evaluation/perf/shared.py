"""Shared: the memory of several serving processes started from one saved index (issue 16).

Opt-in (``python -m evaluation perf --only shared``; not in the default sections, so CI's
``perf --quick`` stays short). One child process generates a synthetic instance (``--orders``,
``--workers``; hashing encoder), fits the engine and saves its state as the web app does
(``data.vectorfile.save_vectors``: ``index/vectors.npz``, ``orders.faiss``, ``workers.faiss``,
``lexical.bin``). Then, for each way of reading the saved state, two processes start side by side
from it, as two gunicorn workers do (each generates the same data, loads the vector cache and
fits the engine with the saved parts, then answers one ranking), and the parent reads each one's
``/proc/PID/smaps_rollup`` while both are alive:

* ``private-copies`` (the code path before issue 16): the saved files read as bytes
  (``load_index_blobs``), every process holding its own copy of the faiss indexes, the lexical
  rows, and the inverted indexes it builds;
* ``mapped``: the files memory-mapped (``index_files``, what ``build_engine`` passes now): the
  faiss codes, the lexical rows and their saved inverted indexes stay in the OS page cache, one
  copy for both processes.

RSS counts shared pages in full in each process; PSS splits them between the processes that map
them, so the sum of PSS is what the processes cost together.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evaluation.perf import section
from evaluation.perf.webload import REPO

log = logging.getLogger(__name__)

MODES = ("private-copies", "mapped")
_SEED = 1244


def _rollup(pid: int) -> dict[str, float]:
    """``/proc/PID/smaps_rollup`` in MB: rss, pss, shared (clean + dirty), private."""
    kb: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                kb[parts[0].rstrip(":")] = int(parts[1])
    return {"rss_mb": kb["Rss"] / 1024, "pss_mb": kb["Pss"] / 1024,
            "shared_mb": (kb.get("Shared_Clean", 0) + kb.get("Shared_Dirty", 0)) / 1024,
            "private_mb": (kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024}


def _data(orders: int, workers: int):
    from data.synthetic import generate

    return generate(seed=_SEED, workers=workers, orders=orders)


def _engine(data, **kw):
    from matcher.encoder import HashingEncoder
    from matcher.ranker import Engine

    return Engine(HashingEncoder(), **kw).fit(data.recruiters, data.orders, data.workers, today=data.today)


def _child(mode: str, folder: Path, orders: int, workers: int) -> None:
    """One process: prepare the saved state, or start from it and wait on stdin."""
    from data.vectorfile import index_files, load_index_blobs, load_vectors, save_vectors
    from matcher.encoder import HashingEncoder

    data = _data(orders, workers)
    t0 = time.perf_counter()
    if mode == "prepare":
        engine = _engine(data)
        save_vectors(folder, HashingEncoder().name, engine.vectors_, engine.index_blobs())
        print(json.dumps({"fit_s": time.perf_counter() - t0}), flush=True)
        return
    cache = load_vectors(folder, HashingEncoder().name)
    saved = load_index_blobs(folder) if mode == "private-copies" else index_files(folder)
    engine = _engine(data, vector_cache=cache, saved_indexes=saved)
    del saved
    worker = engine.workers_[sorted(engine.workers_)[0]]
    matches = len(engine.rank_orders(worker, top_k=10).matches)
    print(json.dumps({"start_s": time.perf_counter() - t0, "reused": sorted(engine.reused_indexes_),
                      "mapped": sorted(engine.mapped_indexes_), "matches": matches}), flush=True)
    sys.stdin.read()  # until the parent has read the memory figures


def _spawn(mode: str, folder: Path, orders: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evaluation.perf.shared", mode, str(folder), str(orders),
                             str(workers)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def run(quick: bool = False, progress: bool = True, *, orders: int | None = None, workers: int | None = None,
        processes: int = 2, timeout: float = 900.0) -> dict:
    orders = orders or (300 if quick else 20000)
    workers = workers or (200 if quick else 2000)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="perf-shared-") as tmp:
        folder = Path(tmp) / "index"
        prep = _spawn("prepare", folder, orders, workers)
        out, _ = prep.communicate(timeout=timeout)
        if prep.returncode:
            raise RuntimeError(f"preparing the saved state failed (exit {prep.returncode})")
        fit_s = json.loads(out.splitlines()[-1])["fit_s"]
        files = {p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(folder.iterdir())}
        for mode in MODES:
            procs = [_spawn(mode, folder, orders, workers) for _ in range(processes)]
            try:
                started = [json.loads(p.stdout.readline()) for p in procs]  # both alive, both fitted
                memory = [_rollup(p.pid) for p in procs]
            finally:
                for p in procs:
                    p.communicate(timeout=timeout)
            for n, (info, mem) in enumerate(zip(started, memory)):
                rows.append({"system": mode, "process": n + 1, **{k: round(v, 1) for k, v in mem.items()},
                             "start_s": round(info["start_s"], 2), "reused": ",".join(info["reused"]),
                             "mapped": ",".join(info["mapped"]) or "-"})
            total = {k: round(sum(m[k] for m in memory), 1) for k in ("rss_mb", "pss_mb")}
            rows.append({"system": mode, "process": "sum", **total})
            if progress:
                log.info("shared %s: PSS of %d processes %.0f MB (RSS %.0f MB)", mode, processes,
                         total["pss_mb"], total["rss_mb"])
    params = {"orders": orders, "workers": workers, "processes": processes, "encoder": "hashing",
              "prepare_fit_s": round(fit_s, 1), "saved_files_mb": files}
    notes = ["each process generates the same synthetic data, loads index/vectors.npz and fits the engine with "
             "the saved parts, then ranks once; figures read from /proc/PID/smaps_rollup while all are alive",
             "PSS splits shared pages between the processes mapping them: the sum of PSS is their joint cost"]
    return section(rows, params, notes)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("prepare", *MODES))
    p.add_argument("folder", type=Path)
    p.add_argument("orders", type=int)
    p.add_argument("workers", type=int)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    _child(args.mode, args.folder, args.orders, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
