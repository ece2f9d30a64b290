"""MELO, German national occupation titles -> ESCO occupations (Retyk et al. 2024).

Subsets ``deu_q_de_c_de`` (German ESCO labels) and ``deu_q_de_c_en`` (English ESCO labels).
Every corpus element (an ESCO label) belongs to one ESCO concept through
``concept_mapping.tsv``; the ranking of labels is collapsed to concepts (best-ranked label per
concept) and a query is answered correctly when its gold concept (the concept of its annotated
labels) comes first. Metrics: MRR, Acc@1, Recall@10 over concepts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluation.benchmarks.common import Variant, read_qrels, read_tsv, resolve, run_systems, sample

NAME = "melo-deu"
FOLDER = "melo-deu"
SUBSETS = ("deu_q_de_c_de", "deu_q_de_c_en")
METRICS = ("mrr", "acc@1", "recall@10")

# Published MRR, MELO repository reports/table_2_*.txt (columns 3 and 4), via BASELINES.md.
_PUBLISHED_MRR = {
    "mE5": (.6122, .3858), "Char TF-IDF": (.5442, .1301), "Word TF-IDF": (.4763, .0388),
    "BM25": (.3377, .0050), "BGE-M3": (.6083, .3344), "OpenAI": (.6778, .5518),
}
# BASELINES.md, measured on this kind of machine: (MRR, Acc@1) per subset.
_BASE = {
    "char": ((.560, .513), (.149, .106)), "word": ((.475, .453), (.041, .032)),
    "mE5-s": ((.618, .552), (.297, .215)), "MiniLM": ((.535, .492), None),
}


def reference_rows() -> list[dict]:
    rows = []
    for system, vals in _PUBLISHED_MRR.items():
        for subset, v in zip(SUBSETS, vals):
            rows.append({"system": f"published:{system}", "subset": subset, "mrr": v})
    for system, vals in _BASE.items():
        for subset, v in zip(SUBSETS, vals):
            if v:
                rows.append({"system": f"baselines.md:{system}", "subset": subset, "mrr": v[0], "acc@1": v[1]})
    return rows


def load_subset(root: Path, subset: str):
    """(queries [(qid, text)], corpus [(cid, text)], concept per corpus row, qrels)."""
    d = root / subset
    queries = [(r[0], r[1]) for r in read_tsv(d / "queries.tsv", header=False) if len(r) >= 2]
    corpus = [(r[0], r[1]) for r in read_tsv(d / "corpus_elements.tsv", header=False) if len(r) >= 2]
    concept_of = {r[0]: r[1] for r in read_tsv(d / "concept_mapping.tsv", header=False) if len(r) >= 2}
    concepts = [concept_of.get(cid, cid) for cid, _ in corpus]
    return queries, corpus, concepts, read_qrels(d / "annotations.tsv")


def run(data: Path, encoder, systems, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    root = resolve(data, FOLDER, SUBSETS[0])
    rows: list[dict] = []
    for subset in SUBSETS:
        queries, corpus, concepts, qrels = load_subset(root, subset)
        queries = sample([q for q in queries if q[0] in qrels], limit)
        concept_ids = {c: i for i, c in enumerate(dict.fromkeys(concepts))}
        groups = np.array([concept_ids[c] for c in concepts], dtype=np.int64)
        pos = {cid: i for i, (cid, _) in enumerate(corpus)}
        gains = []
        for qid, _ in queries:
            g: dict[int, float] = {}
            for cid, grade in qrels[qid].items():
                if cid in pos and grade > 0:
                    gid = int(groups[pos[cid]])
                    g[gid] = max(g.get(gid, 0.0), grade)
            gains.append(g)
        rows += run_systems(systems, encoder, [t for _, t in corpus], [q for _, q in queries],
                            lambda: [Variant(subset, gains, METRICS, groups=groups)], label=f"melo {subset}",
                            progress=progress)
    return rows
