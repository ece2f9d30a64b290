"""Ranking metrics as pure functions.

Every function takes a ranked sequence of ids (best first) and the judged ids, and returns a
float. Nothing here reads files or keeps state; ``tests/test_metrics.py`` cross-checks the
functions against scikit-learn and scipy on the same inputs.

Conventions
-----------
* ``ranked`` may hold any hashable ids (ints, strings). Duplicates are not expected; if present,
  each position counts on its own.
* ``relevant`` is a collection of ids (binary relevance); ``gains`` is a mapping id -> grade
  (graded relevance). Negative grades count as zero gain.
* A query with nothing relevant gets 0.0 (callers usually skip such queries beforehand and
  say how many they skipped).
* ``k=None`` means the whole ranking.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np
from scipy import stats

__all__ = [
    "average_precision",
    "dcg_at_k",
    "hit_positions",
    "kendall_tau",
    "mean",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
    "spearman_rho",
]


def _cut(ranked: Sequence, k: int | None) -> Sequence:
    if k is None:
        return ranked
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"The 'k' parameter must be an int in [1, inf) or None. Got {k!r} instead.")
    return ranked[:k]


def hit_positions(ranked: Sequence, relevant: Collection, k: int | None = None) -> np.ndarray:
    """0-based positions in ``ranked[:k]`` whose id is in ``relevant`` (sorted ascending)."""
    top = _cut(ranked, k)
    rel = relevant if isinstance(relevant, set | frozenset | dict) else set(relevant)
    if not rel or len(top) == 0:
        return np.zeros(0, dtype=np.int64)
    arr = np.asarray(top)
    if arr.dtype.kind in "iu" and all(isinstance(r, int | np.integer) for r in rel):
        mask = np.isin(arr, np.fromiter(rel, dtype=np.int64, count=len(rel)))
    else:
        mask = np.fromiter((x in rel for x in top), dtype=bool, count=len(top))
    return np.flatnonzero(mask)


def dcg_at_k(ranked: Sequence, gains: Mapping, k: int | None = None) -> float:
    """Discounted cumulative gain with linear gains: sum of g_i / log2(i + 1), i from 1."""
    top = _cut(ranked, k)
    total = 0.0
    for i, item in enumerate(top):
        g = gains.get(item, 0)
        if g > 0:
            total += g / math.log2(i + 2)
    return total


def ndcg_at_k(ranked: Sequence, gains: Mapping, k: int | None = 10) -> float:
    """Normalised DCG@k with graded relevance (linear gain, log2 discount).

    The ideal ranking sorts all judged ids by grade, so relevant ids missing from ``ranked``
    lower the score. Negative grades count as 0. Matches ``sklearn.metrics.ndcg_score`` when
    every judged id is ranked.
    """
    positive = sorted((g for g in gains.values() if g > 0), reverse=True)
    if not positive:
        return 0.0
    ideal_k = positive if k is None else positive[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(ideal_k))
    return dcg_at_k(ranked, gains, k) / ideal


def average_precision(ranked: Sequence, relevant: Collection, k: int | None = None) -> float:
    """Average precision: mean over relevant ids of precision at each hit's position.

    The denominator is the number of relevant ids (all of them, also those not retrieved
    within ``k``), as trec_eval's MAP.
    """
    n_rel = len(set(relevant))
    if n_rel == 0:
        return 0.0
    pos = hit_positions(ranked, relevant, k)
    if pos.size == 0:
        return 0.0
    precisions = np.arange(1, pos.size + 1) / (pos + 1)
    return float(precisions.sum() / n_rel)


def reciprocal_rank(ranked: Sequence, relevant: Collection, k: int | None = None) -> float:
    """1 / (1-based position of the first relevant id), 0 if none within ``k``."""
    pos = hit_positions(ranked, relevant, k)
    return 0.0 if pos.size == 0 else 1.0 / (pos[0] + 1)


def recall_at_k(ranked: Sequence, relevant: Collection, k: int) -> float:
    """Share of relevant ids found in the top k."""
    n_rel = len(set(relevant))
    if n_rel == 0:
        return 0.0
    return hit_positions(ranked, relevant, k).size / n_rel


def precision_at_k(ranked: Sequence, relevant: Collection, k: int) -> float:
    """Relevant ids in the top k divided by k (a shorter ranking still divides by k)."""
    _cut(ranked, k)  # validates k
    return hit_positions(ranked, relevant, k).size / k


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b between two score (or rank) vectors over the same items.

    Ties are handled as tau-b does. Returns ``nan`` when either vector is constant.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"kendall_tau needs two 1-d vectors of equal length. Got {x.shape} and {y.shape}.")
    n = x.size
    if n < 2:
        return float("nan")
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n - 1):
        dx = np.sign(x[i + 1 :] - x[i])
        dy = np.sign(y[i + 1 :] - y[i])
        prod = dx * dy
        concordant += int((prod > 0).sum())
        discordant += int((prod < 0).sum())
        ties_x += int(((dx == 0) & (dy != 0)).sum())
        ties_y += int(((dy == 0) & (dx != 0)).sum())
    denom = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    if denom == 0:
        return float("nan")
    return (concordant - discordant) / denom


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean ignoring NaN; NaN for an empty input."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def spearman_rho(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); a thin wrapper over scipy."""
    return float(stats.spearmanr(a, b).statistic)
