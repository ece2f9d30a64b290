"""The similarity threshold of related experience, chosen on the judged set.

``python -m evaluation.experience_threshold`` (defaults: evaluation/judged, the default
encoder) fits the engine on the judged recruiters, orders and workers and, for every pair of a
worker's experience entry and an order on which the vocabulary gives a verdict
(``matcher.vocabulary.related``: same trade or not), takes the engine's similarity z-score of
the entry to the order. It prints, per candidate threshold, how well "z >= threshold" reproduces
the vocabulary's verdicts (balanced accuracy), and the best one: the value of
``matcher.scoring.EXPERIENCE_Z_THRESHOLD``, which decides only the entries the vocabulary cannot.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np

from data.settings import BY_NAME
from evaluation.labelled import load_files
from matcher.ranker import Engine
from matcher.vocabulary import related

JUDGED = Path(__file__).parent / "judged"
GRID = np.round(np.arange(-2.0, 4.01, 0.25), 2)


def labelled_pairs(engine: Engine, workers: list, orders: list) -> tuple[np.ndarray, np.ndarray]:
    """(z-scores, vocabulary verdicts) of every (experience entry, order) pair it can judge."""
    order_ids = [o.order_id for o in orders]
    texts = {o.order_id: [o.title, *(o.required_skills or [])] for o in orders}
    zs, labels = [], []
    for w in workers:
        entries = [e for e in w.experience or [] if e.get("occupation")]
        if not entries:
            continue
        exp = engine._worker_side(w, order_ids)["exp"]
        for e, row in zip(entries, exp):
            for oid, z in zip(order_ids, row):
                verdict = related(e["occupation"], texts[oid])
                if verdict is not None:
                    zs.append(float(z))
                    labels.append(verdict)
    return np.array(zs), np.array(labels, dtype=bool)


def sweep(zs: np.ndarray, labels: np.ndarray) -> list[tuple[float, float]]:
    """(threshold, balanced accuracy) over :data:`GRID`."""
    out = []
    for t in GRID:
        pred = zs >= t
        tpr = pred[labels].mean() if labels.any() else 0.0
        tnr = (~pred[~labels]).mean() if (~labels).any() else 0.0
        out.append((float(t), float((tpr + tnr) / 2)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.experience_threshold", description=__doc__.splitlines()[0])
    p.add_argument("--folder", type=Path, default=JUDGED, help="folder with recruiters.csv, job_orders.csv, workers.csv")
    p.add_argument("--encoder", default=BY_NAME["encoder"].default)
    p.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    args = p.parse_args(argv)
    from evaluation import model_cache
    from matcher.encoder import load_encoder

    recs, ords, wks = load_files(args.folder / "recruiters.csv", args.folder / "job_orders.csv", args.folder / "workers.csv",
                                 partial=True)  # the judged set holds a refused duplicate profile
    engine = Engine(load_encoder(args.encoder, cache_dir=model_cache())).fit(recs, ords, wks, today=args.today)
    zs, labels = labelled_pairs(engine, wks, ords)
    print(f"{len(zs)} judged pairs: {int(labels.sum())} related, {int((~labels).sum())} unrelated by the vocabulary")
    print(f"z of related pairs: median {np.median(zs[labels]):.2f}; unrelated: median {np.median(zs[~labels]):.2f}")
    table = sweep(zs, labels)
    for t, acc in table:
        print(f"threshold {t:5.2f}  balanced accuracy {acc:.3f}")
    best = max(table, key=lambda ta: (ta[1], ta[0]))
    print(f"best threshold {best[0]:.2f} (balanced accuracy {best[1]:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
