"""O*NET 24 (SOC 2010): map an alternate job title to its occupation among all 1,110.

Protocol (BASELINES.md, for comparability): the unique lower-cased alternate titles, in order
of first appearance, ``pandas.Series.sample(3000, random_state=0)``, leaving out titles equal
to their own occupation's title; relevant = every occupation code listing the title.

Split by occupation: the 6-digit SOC base codes (``11-1011`` of ``11-1011.03``, so detailed
occupations of one base stay together) are shuffled with ``numpy.random.default_rng(0)``; the
first half is *dev*, the second *test*. A title belongs to a split when all its codes do
(titles spanning both halves are left out of either). Reported subsets:

* ``title/test``, ``title+desc/test``: sampled titles of the test half - the held-out figures.
* ``title/sample``, ``title+desc/sample``: the whole 3,000 sample, comparable with BASELINES.md
  (includes dev-half titles: the engine's single fusion weight was chosen on dev titles
  outside this sample, see ``dev_queries``).

Corpus: the 1,110 occupation titles, or "title. description". Metrics: Acc@1, MRR, Recall@10.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.benchmarks.common import Variant, resolve, run_systems, sample

NAME = "onet"
FOLDER = "onet-24x-soc2010"
METRICS = ("acc@1", "mrr", "recall@10")
SEED = 0

_BASE = {  # BASELINES.md: (Acc@1, MRR, R@10) title, then title+description
    "char": ((.208, .291, .465), (.187, .292, .509)),
    "word": ((.125, .164, .237), (.124, .181, .289)),
    "mE5-s": ((.231, .313, .481), (.259, .360, .549)),
    "MiniLM": ((.272, .372, .568), (.278, .392, .613)),
}


def reference_rows() -> list[dict]:
    rows = []
    for system, (t, td) in _BASE.items():
        for subset, v in (("title/sample", t), ("title+desc/sample", td)):
            rows.append({"system": f"baselines.md:{system}", "subset": subset,
                         "acc@1": v[0], "mrr": v[1], "recall@10": v[2]})
    return rows


class Onet:
    """Loaded O*NET tables and the dev/test split."""

    def __init__(self, data: Path, sample_size: int = 3000):
        root = resolve(data, FOLDER, "Occupation Data.tsv")
        occ = pd.read_csv(root / "Occupation Data.tsv", sep="\t", dtype=str, quoting=3).fillna("")
        alt = pd.read_csv(root / "Alternate Titles.tsv", sep="\t", dtype=str, quoting=3).fillna("")
        self.codes = occ["O*NET-SOC Code"].tolist()
        self.titles = occ["Title"].tolist()
        self.descriptions = occ["Description"].tolist()
        alt["alt"] = alt["Alternate Title"].str.lower().str.strip()
        own_title = dict(zip(self.codes, (t.lower().strip() for t in self.titles)))
        self.codes_of: dict[str, set[str]] = {}
        for code, title in zip(alt["O*NET-SOC Code"], alt["alt"]):
            if title:
                self.codes_of.setdefault(title, set()).add(code)
        unique = pd.Series(pd.unique(alt["alt"][alt["alt"] != ""]))
        drawn = unique.sample(min(sample_size, len(unique)), random_state=SEED).tolist()
        self.sample_titles = [t for t in drawn if all(own_title.get(c) != t for c in self.codes_of[t])]
        bases = sorted({c[:7] for c in self.codes})
        perm = np.random.default_rng(SEED).permutation(len(bases))
        self.dev_bases = {bases[i] for i in perm[: len(bases) // 2]}
        self.test_bases = set(bases) - self.dev_bases

    def split_of(self, title: str) -> str | None:
        bases = {c[:7] for c in self.codes_of[title]}
        if bases <= self.dev_bases:
            return "dev"
        if bases <= self.test_bases:
            return "test"
        return None

    def test_queries(self) -> list[str]:
        return [t for t in self.sample_titles if self.split_of(t) == "test"]

    def dev_queries(self, n: int = 2000, seed: int = 1) -> list[str]:
        """Dev-half titles outside the reported sample (for tuning only)."""
        in_sample = set(self.sample_titles)
        own = {t.lower().strip() for t in self.titles}
        pool = [t for t in self.codes_of if t not in in_sample and t not in own and self.split_of(t) == "dev"]
        return sample(sorted(pool), n, seed=seed)

    def corpus(self, with_description: bool) -> list[str]:
        if with_description:
            return [f"{t}. {d}" for t, d in zip(self.titles, self.descriptions)]
        return list(self.titles)

    def gains(self, queries: list[str]) -> list[dict[int, float]]:
        pos = {c: i for i, c in enumerate(self.codes)}
        return [{pos[c]: 1.0 for c in self.codes_of[q] if c in pos} for q in queries]


def run(data: Path, encoder, systems, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    on = Onet(data)
    test_set = set(on.test_queries())
    queries = sample(on.sample_titles, limit)
    gains = on.gains(queries)
    test_gains = [g if q in test_set else {} for q, g in zip(queries, gains)]
    rows: list[dict] = []
    for with_desc, label in ((False, "title"), (True, "title+desc")):
        def variants(label=label):
            return [Variant(f"{label}/test", test_gains, METRICS),
                    Variant(f"{label}/sample", gains, METRICS)]
        rows += run_systems(systems, encoder, on.corpus(with_desc), queries, variants, label=f"onet {label}",
                            progress=progress)
    return rows
