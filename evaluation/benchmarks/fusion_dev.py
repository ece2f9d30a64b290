"""Choose the engine's fusion on development data that no reported test query comes from.

Two English development tasks:

* ``onet-dev``: O*NET alternate titles of the *dev* half of the occupation split (outside the
  3,000-title reported sample) -> the 1,110 occupation titles (see ``onet.Onet.dev_queries``);
* ``esco-alt-dev``: ESCO v1.1.1 alternative labels -> occupation preferred labels.

Dense and lexical signals are computed once per task; every fusion setting of the grid is
scored from them. Rows: ``system = "engine[<fusion>,<normalisation>,w=<lexical weight>]"``,
subsets per task and ``mean``. The setting with the best mean MRR is printed; it is what
``matcher.similarity`` uses as its default (recorded there and in evaluation/RESULTS.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from evaluation import metrics as M
from evaluation.benchmarks.common import compute_metric
from evaluation.benchmarks.esco import Esco
from evaluation.benchmarks.onet import Onet
from matcher.similarity import HybridMatcher, fuse

log = logging.getLogger(__name__)

NAME = "fusion-dev"
METRICS = ("mrr", "acc@1")
WEIGHTS = tuple(sorted({round(w, 2) for w in np.linspace(0.0, 1.0, 11)} | {0.025, 0.05, 0.075, 0.15}))


def grid() -> list[tuple[str, str, float]]:
    out = [("weighted", norm, w) for norm in ("zscore", "minmax") for w in WEIGHTS]
    out += [("rrf", "zscore", w) for w in (0.3, 0.5, 0.7)]
    return out


def reference_rows() -> list[dict]:
    return []


def _signals(encoder, corpus, queries):
    hm = HybridMatcher(encoder).fit(corpus)
    d = np.empty((len(queries), len(corpus)), dtype=np.float32)
    lx = np.empty_like(d)
    for rows, bd, bl in hm.signal_blocks(queries):
        d[rows], lx[rows] = bd, bl
    return d, lx


def run(data: Path, encoder, systems=None, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    n = limit or 2000
    on = Onet(data)
    oq = on.dev_queries(n)
    tasks = {"onet-dev": (on.corpus(False), oq, on.gains(oq))}
    esco = Esco(data)
    eq, eg = esco.alt_label_dev(n)
    tasks["esco-alt-dev"] = (esco.occ_labels, eq, eg)
    rows = []
    per_setting: dict[str, list[float]] = {}
    for task, (corpus, queries, gains) in tasks.items():
        d, lx = _signals(encoder, corpus, queries)
        for fusion, norm, w in grid():
            name = f"engine[{fusion},{norm},w={w:g}]" if fusion == "weighted" else f"engine[rrf,w={w:g}]"
            fused = fuse(d, lx, w, method=fusion, normalisation=norm)
            vals = {m: [] for m in METRICS}
            for i in range(len(queries)):
                ranked = np.argsort(-fused[i], kind="stable")
                for m in METRICS:
                    vals[m].append(compute_metric(m, ranked, gains[i]))
            row = {"system": name, "subset": task, "n": len(queries), **{m: round(M.mean(v), 4) for m, v in vals.items()}}
            rows.append(row)
            per_setting.setdefault(name, []).append(row["mrr"])
    for name, mrrs in per_setting.items():
        rows.append({"system": name, "subset": "mean", "mrr": round(float(np.mean(mrrs)), 4)})
    best = max(per_setting, key=lambda k: np.mean(per_setting[k]))
    log.info("best fusion on dev: %s (mean MRR %.4f)", best, np.mean(per_setting[best]))
    print(f"best fusion on the development tasks: {best} (mean MRR {np.mean(per_setting[best]):.4f})")
    return rows
