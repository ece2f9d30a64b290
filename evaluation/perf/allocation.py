"""Allocation cost: exact (``matcher.allocate.allocate``, HiGHS) against greedy, at growing sizes.

Problems are random and sparse: each worker has ``per_worker`` candidate orders with uniform
scores in (0, 1]; each order has 1-20 places. ``exact`` times ``allocate()`` as the engine calls
it, which includes the greedy pass it reports for comparison; ``greedy`` times
``matcher.allocate.greedy`` alone.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Sequence

import numpy as np

from evaluation.perf import section

log = logging.getLogger(__name__)


def random_problem(workers: int, orders: int, per_worker: int = 30, seed: int = 3):
    """Edges ``(worker_id, order_id, score)`` and places ``{order_id: 1..20}``."""
    rng = np.random.default_rng(seed)
    per = min(per_worker, orders)
    edges = []
    for w in range(workers):
        cand = rng.choice(orders, size=per, replace=False)
        scores = 1.0 - rng.random(per)  # (0, 1]
        wid = f"w{w}"
        edges.extend((wid, f"o{o}", float(s)) for o, s in zip(cand.tolist(), scores.tolist()))
    places = {f"o{o}": int(p) for o, p in enumerate(rng.integers(1, 21, orders).tolist())}
    return edges, places


def run(quick: bool = False, progress: bool = True, *, sizes: Sequence[tuple[int, int]] | None = None,
        per_worker: int = 30, time_limit: float = 1800.0, share_size: tuple[int, int] | None = None) -> dict:
    from tqdm import tqdm

    from matcher.allocate import allocate, greedy

    sizes = list(sizes or ([(1_000, 100)] if quick else [(1_000, 100), (10_000, 1_000), (50_000, 5_000)]))
    rows = []
    notes = ["exact = allocate() wall time (HiGHS LP: the b-matching matrix is totally unimodular), "
             "which includes its own greedy comparison; greedy = greedy() alone.",
             f"time_limit passed to allocate(): {time_limit:.0f} s (the same as allocate()'s default)."]
    for w, o in tqdm(sizes, desc="allocation sizes", disable=not progress, file=sys.stderr):
        edges, places = random_problem(w, o, per_worker)
        t0 = time.perf_counter()
        g = greedy(edges, places)
        g_s = time.perf_counter() - t0
        g_total = float(sum(s for _, _, s in g))
        base = {"workers": w, "orders": o, "edges": len(edges), "places": int(sum(places.values()))}
        rows.append({"system": "greedy", **base, "seconds": g_s, "total_score": g_total, "assigned": len(g)})
        t0 = time.perf_counter()
        try:
            res = allocate(edges, places, time_limit=time_limit)
            e_s = time.perf_counter() - t0
            rows.append({"system": "exact", **base, "seconds": e_s, "total_score": res.total,
                         "assigned": len(res.pairs), "gain_vs_greedy_pct": 100.0 * (res.total / g_total - 1.0)
                         if g_total else 0.0, "method": res.method})
        except Exception as exc:  # noqa: BLE001 - a solver failure is a result too
            rows.append({"system": "exact", **base, "seconds": time.perf_counter() - t0,
                         "total_score": None, "error": f"{type(exc).__name__}: {exc}"})
    share_size = share_size or ((500, 60) if quick else (2005, 239))
    rows += share_rows(share_size, progress, time_limit)
    notes.append(f"share rows: a demo-like cohort ({share_size[0]:,} workers, {share_size[1]} orders, 40 candidates each, 30% priority "
                 "workers scoring lower) with at least 50% of the placed from the priority group; "
                 "engine-lagrangian = allocate() (a bonus on priority edges, a few assignment LPs), exact-milp = "
                 "allocate(exact=True) (HiGHS branch and bound); gap = proven bound minus total; "
                 "gap_to_milp = MILP total minus this total.")
    return section(rows, {"sizes": [list(s) for s in sizes], "per_worker": per_worker, "places": "1-20"}, notes)


def share_problem(workers: int = 2005, orders: int = 239, per_worker: int = 40, seed: int = 0):
    """A cohort like the demo's where the priority floor binds: priority workers score lower."""
    rng = np.random.default_rng(seed)
    places = {f"o{j}": int(rng.integers(1, 12)) for j in range(orders)}
    priority = {f"w{i}" for i in range(workers) if rng.random() < 0.3}
    edges = []
    for i in range(workers):
        wid = f"w{i}"
        for j in rng.choice(orders, min(per_worker, orders), replace=False).tolist():
            edges.append((wid, f"o{j}", float(rng.random() * (0.7 if wid in priority else 1.0))))
    return edges, places, priority


def share_rows(size: tuple[int, int], progress: bool, time_limit: float, share: float = 0.5) -> list[dict]:
    from matcher.allocate import allocate

    workers, orders = size
    edges, places, priority = share_problem(workers, orders)
    base = {"workers": workers, "orders": orders, "edges": len(edges), "places": int(sum(places.values())),
            "min_priority_share": share}
    out = []
    results = {}
    for system, exact in (("engine-lagrangian", False), ("exact-milp", True)):
        t0 = time.perf_counter()
        res = allocate(edges, places, priority=priority, min_priority_share=share, exact=exact, time_limit=time_limit)
        results[system] = res
        out.append({"system": system, **base, "seconds": time.perf_counter() - t0, "total_score": res.total,
                    "assigned": len(res.pairs), "priority_share": res.priority_share, "solves": res.solves,
                    "gap": res.gap, "method": res.method})
        if progress:
            print(f"  {system}: {out[-1]['seconds']:.1f} s, total {res.total:.4f}", file=sys.stderr)
    milp_total = results["exact-milp"].total
    for r in out:
        r["gap_to_milp"] = milp_total - r["total_score"]
    return out
