"""What every benchmark runner shares: the systems, an encoding cache, ranking evaluation.

A runner builds :class:`Variant` objects (queries with their judged corpus positions) and calls
:func:`evaluate_system`, which scores each query block once and computes every metric of every
variant from the same scores. Corpus ids are row positions (ints) inside this module; runners
map their own ids to positions.
"""

from __future__ import annotations

import csv
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from evaluation import metrics as M
from matcher.similarity import DenseMatcher, HybridMatcher, LexicalMatcher, lexical_weight_for

log = logging.getLogger(__name__)

# ``engine-one-weight``: the engine with its general lexical weight for every query (no weight
# per query language), the engine as it was before fusion.json carried weights per language;
# asked for by name only (--systems), to measure the per-language weights in the same run.
SYSTEMS = ("engine", "lexical", "raw-model", "engine-one-weight")
DEFAULT_SYSTEMS = SYSTEMS[:3]


class EncodeCache:
    """Wrap an encoder so that each distinct text is encoded once per run.

    Same interface as the encoder (``name``, ``dim``, ``lexical_weight``, ``lexical_weight_by_language``, ``encode``). Progress bars are shown for
    batches of more than ``progress_over`` new texts (never when it is None).
    """

    def __init__(self, encoder, progress_over: int | None = 2000):
        self.encoder = encoder
        self.name = getattr(encoder, "name", type(encoder).__name__)
        self.dim = getattr(encoder, "dim", None)
        # the fusion weight chosen for this encoder (matcher.similarity.lexical_weight_for)
        self.lexical_weight = getattr(encoder, "lexical_weight", None)
        self.lexical_weight_by_language = dict(getattr(encoder, "lexical_weight_by_language", None) or {})
        self.progress_over = progress_over
        self._cache: dict[str, np.ndarray] = {}
        self.encoded = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            emb = self.encoder.encode(
                missing, batch_size=batch_size,
                show_progress=self.progress_over is not None and (show_progress or len(missing) > self.progress_over),
            )
            emb = np.asarray(emb, dtype=np.float32)
            for t, v in zip(missing, emb):
                self._cache[t] = v
            self.encoded += len(missing)
            if self.dim is None:
                self.dim = emb.shape[1]
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def make_system(name: str, encoder, **engine_kwargs):
    """A fresh, unfitted matcher for system ``name`` (one of :data:`SYSTEMS`)."""
    if name == "engine":
        return HybridMatcher(encoder, **engine_kwargs)
    if name == "engine-one-weight":
        return HybridMatcher(encoder, **{"lexical_weight": lexical_weight_for(encoder), **engine_kwargs})
    if name == "lexical":
        return LexicalMatcher(ngram_range=(2, 4), prepare_text=False)
    if name == "raw-model":
        return DenseMatcher(encoder, prepare_text=False)
    raise ValueError(f"The 'systems' parameter must name systems from {list(SYSTEMS)}. Got {name!r} instead.")


def parse_metric(name: str) -> tuple[str, int | None]:
    """``"ndcg@10"`` -> ``("ndcg", 10)``; ``"map"`` -> ``("map", None)``."""
    base, _, k = name.partition("@")
    return base, (int(k) if k else None)


def compute_metric(name: str, ranked: np.ndarray, gains: Mapping[int, float]) -> float:
    """One named metric of one ranking. ``gains`` maps position -> grade (> 0 = relevant)."""
    base, k = parse_metric(name)
    relevant = {i for i, g in gains.items() if g > 0}
    if base == "map":
        return M.average_precision(ranked, relevant, k)
    if base == "mrr":
        return M.reciprocal_rank(ranked, relevant, k)
    if base in ("p", "precision"):
        return M.precision_at_k(ranked, relevant, k)
    if base == "acc":
        return 1.0 if M.hit_positions(ranked, relevant, k).size else 0.0
    if base == "recall":
        return M.recall_at_k(ranked, relevant, k)
    if base == "ndcg":
        return M.ndcg_at_k(ranked, gains, k)
    raise ValueError(f"Unknown metric {name!r}: use map, mrr, p@k, acc@k, recall@k or ndcg@k.")


@dataclass
class Variant:
    """One evaluated setting over the same queries and corpus.

    gains: per query, corpus position (or group id when ``groups`` is set) -> grade.
    exclude: per query, corpus positions removed from the ranking (or None).
    groups: corpus position -> group id; the ranking is collapsed to groups (best rank per
        group) before the metrics, as MELO's concept mapping does.
    """

    subset: str
    gains: list[dict[int, float]]
    metrics: tuple[str, ...]
    exclude: list[set[int]] | None = None
    groups: np.ndarray | None = None
    scores: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self):
        self.scores = {m: [] for m in self.metrics}


def _collapse(order: np.ndarray, groups: np.ndarray) -> np.ndarray:
    g = groups[order]
    _, first = np.unique(g, return_index=True)
    return g[np.sort(first)]


def evaluate_system(matcher, corpus: Sequence[str], queries: Sequence[str], variants: Sequence[Variant],
                    desc: str = "", progress: bool = True) -> list[dict]:
    """Fit ``matcher`` on ``corpus``, rank it for every query, and score every variant.

    Queries without any positive grade in a variant (for example after excluding identical
    corpus entries) are skipped in that variant; ``n`` in the row says how many were scored.
    Returns one row ``{"subset", "n", <metric>: value}`` per variant.
    """
    matcher.fit(list(corpus))
    blocks = matcher.score_blocks(list(queries))
    n_blocks = -(-len(queries) // getattr(matcher, "block_size", 256))
    for rows, block in tqdm(blocks, total=n_blocks, desc=desc, disable=not progress or n_blocks < 2, leave=False):
        for j, qi in enumerate(range(rows.start, rows.stop)):
            base = block[j]
            order_all = None
            for v in variants:
                gains = v.gains[qi]
                excl = v.exclude[qi] if v.exclude is not None else None
                if excl:
                    s = base.copy()
                    s[list(excl)] = -np.inf
                    order = np.argsort(-s, kind="stable")[: len(s) - len(excl)]
                    gains = {c: g for c, g in gains.items() if v.groups is not None or c not in excl}
                else:
                    if order_all is None:
                        order_all = np.argsort(-base, kind="stable")
                    order = order_all
                if not any(g > 0 for g in gains.values()):
                    continue
                ranked = _collapse(order, v.groups) if v.groups is not None else order
                for m in v.metrics:
                    v.scores[m].append(compute_metric(m, ranked, gains))
    rows_out = []
    for v in variants:
        row = {"subset": v.subset, "n": len(next(iter(v.scores.values()), []))}
        for m in v.metrics:
            row[m] = round(M.mean(v.scores[m]), 4)
        rows_out.append(row)
    return rows_out


def run_systems(systems: Sequence[str], encoder, corpus: Sequence[str], queries: Sequence[str],
                make_variants: Callable[[], list[Variant]], label: str = "", progress: bool = True,
                engine_kwargs: dict | None = None) -> list[dict]:
    """Evaluate every system on the same corpus/queries; rows carry ``system`` first."""
    out = []
    for name in systems:
        matcher = make_system(name, encoder, **(engine_kwargs or {}))
        for row in evaluate_system(matcher, corpus, queries, make_variants(), desc=f"{label} {name}",
                                   progress=progress):
            out.append({"system": name, **row})
    return out


# ------------------------------------------------------------------ file helpers
def read_tsv(path: Path, header: bool = True) -> list[list[str]]:
    """Rows of a tab-separated file (no quoting: titles may contain quotes)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = [line.rstrip("\n").rstrip("\r").split("\t") for line in f if line.strip()]
    return rows[1:] if header else rows


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    """TREC qrels ``qid iter docid grade`` (whitespace separated) -> {qid: {docid: grade}}."""
    out: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4:
                continue
            out.setdefault(parts[0], {})[parts[2]] = float(parts[3])
    return out


def sample(items: Sequence, limit: int | None, seed: int = 0) -> list:
    """``limit`` items drawn with a fixed seed, kept in their original order (all if None)."""
    items = list(items)
    if limit is None or limit >= len(items):
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in keep]


def resolve(data: Path, folder: str, marker: str) -> Path:
    """Accept either the benchmark folder itself or the benchmarks root holding it."""
    data = Path(data)
    for cand in (data, data / folder):
        if (cand / marker).exists():
            return cand
    raise FileNotFoundError(f"--data {data}: expected {marker} in it or in {data / folder}.")


def csv_rows(path_or_file, **kw) -> list[dict]:
    csv.field_size_limit(1 << 30)
    return list(csv.DictReader(path_or_file, **kw))
