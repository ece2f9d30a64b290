"""Generic runner for anyone's own matching data in TREC style.

``--queries Q.tsv`` and ``--corpus C.tsv``: ``id<TAB>text`` with a header line.
``--qrels R.tsv``: ``qid 0 cid grade`` (whitespace separated, no header).
``--groups G.tsv`` (optional): ``cid<TAB>group``; corpus entries of one group (one concept)
are collapsed, keeping the best rank per group, and a group's grade is the best grade of its
members - as MELO's concept mapping. A header line is skipped when its first field is not a
corpus id.

Metrics: MAP, MRR, nDCG@10 (graded), Recall@1/5/10. Queries without a positive grade are skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluation.benchmarks.common import Variant, read_qrels, read_tsv, run_systems, sample

NAME = "trec"
METRICS = ("map", "mrr", "ndcg@10", "recall@1", "recall@5", "recall@10")


def add_arguments(parser) -> None:
    g = parser.add_argument_group("trec (generic runner)")
    g.add_argument("--queries", type=Path, help="queries TSV: id<TAB>text, with a header")
    g.add_argument("--corpus", type=Path, help="corpus TSV: id<TAB>text, with a header")
    g.add_argument("--qrels", type=Path, help="TREC qrels: qid 0 cid grade")
    g.add_argument("--groups", type=Path, help="optional cid<TAB>group file collapsing corpus entries")


def reference_rows() -> list[dict]:
    return []


def run(data: Path | None, encoder, systems, limit: int | None = None, progress: bool = True, *,
        queries: Path | None = None, corpus: Path | None = None, qrels: Path | None = None,
        groups: Path | None = None, **_) -> list[dict]:
    missing = [n for n, v in (("--queries", queries), ("--corpus", corpus), ("--qrels", qrels)) if v is None]
    if missing:
        raise ValueError(f"benchmark trec needs {', '.join(missing)}.")
    q = [(r[0], r[1]) for r in read_tsv(queries) if len(r) >= 2]
    c = [(r[0], r[1]) for r in read_tsv(corpus) if len(r) >= 2]
    judged = read_qrels(qrels)
    q = sample([x for x in q if x[0] in judged], limit)
    pos = {cid: i for i, (cid, _) in enumerate(c)}
    group_arr = None
    if groups is not None:
        gmap = {r[0]: r[1] for r in read_tsv(groups, header=False) if len(r) >= 2 and r[0] in pos}
        names = {g: i for i, g in enumerate(dict.fromkeys(gmap.get(cid, f"\0{cid}") for cid, _ in c))}
        group_arr = np.array([names[gmap.get(cid, f"\0{cid}")] for cid, _ in c], dtype=np.int64)
    gains = []
    for qid, _ in q:
        g: dict[int, float] = {}
        for cid, grade in judged[qid].items():
            if cid not in pos:
                continue
            key = int(group_arr[pos[cid]]) if group_arr is not None else pos[cid]
            g[key] = max(g.get(key, 0.0), grade)
        gains.append(g)
    return run_systems(systems, encoder, [t for _, t in c], [t for _, t in q],
                       lambda: [Variant("all", gains, METRICS, groups=group_arr)], label="trec", progress=progress)
