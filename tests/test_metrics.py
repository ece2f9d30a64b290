"""Metrics: hand-computed cases and cross-checks against scikit-learn and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, ndcg_score

from evaluation import metrics as m


def test_reciprocal_rank_hand_cases():
    assert m.reciprocal_rank(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(["a", "b", "c"], {"a", "c"}) == 1.0
    assert m.reciprocal_rank(["a", "b", "c"], {"z"}) == 0.0
    assert m.reciprocal_rank(["a", "b", "c"], {"c"}, k=2) == 0.0
    assert m.reciprocal_rank([5, 3, 9], [9]) == pytest.approx(1 / 3)


def test_precision_recall_hand_cases():
    ranked = [1, 2, 3, 4, 5]
    assert m.precision_at_k(ranked, {2, 4, 9}, 5) == pytest.approx(2 / 5)
    assert m.recall_at_k(ranked, {2, 4, 9}, 5) == pytest.approx(2 / 3)
    assert m.recall_at_k(ranked, {2, 4, 9}, 1) == 0.0
    # a short ranking still divides by k
    assert m.precision_at_k([2], {2}, 5) == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="'k' parameter"):
        m.precision_at_k(ranked, {1}, 0)


def test_average_precision_hand_case():
    # hits at positions 1 and 3 out of 3 relevant: (1/1 + 2/3) / 3
    assert m.average_precision(["a", "x", "b", "y"], {"a", "b", "c"}) == pytest.approx((1 + 2 / 3) / 3)
    assert m.average_precision(["x"], set()) == 0.0


def test_ndcg_hand_case_and_negative_grades():
    gains = {"a": 2, "b": 1, "c": -1}
    # ranking b, a: dcg = 1/log2(2) + 2/log2(3); ideal = 2 + 1/log2(3)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert m.ndcg_at_k(["b", "a", "c"], gains, 10) == pytest.approx(expected)
    assert m.ndcg_at_k(["a", "b"], gains, 10) == pytest.approx(1.0)
    assert m.ndcg_at_k(["c"], {"c": -1}, 10) == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_ndcg_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = 30
    grades = rng.integers(0, 3, size=n)
    grades[rng.integers(0, n)] = 2  # at least one relevant
    scores = rng.permutation(n).astype(float)  # no ties: sklearn averages ties
    ranked = list(np.argsort(-scores, kind="stable"))
    gains = {i: int(g) for i, g in enumerate(grades)}
    for k in (1, 5, 10, None):
        ours = m.ndcg_at_k(ranked, gains, k)
        theirs = ndcg_score(grades[None, :], scores[None, :], k=k)
        assert ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_average_precision_matches_sklearn(seed):
    rng = np.random.default_rng(100 + seed)
    n = 50
    labels = (rng.random(n) < 0.2).astype(int)
    labels[0] = 1
    scores = rng.permutation(n).astype(float)
    ranked = list(np.argsort(-scores, kind="stable"))
    relevant = set(np.flatnonzero(labels).tolist())
    assert m.average_precision(ranked, relevant) == pytest.approx(average_precision_score(labels, scores))
    # integer numpy ranking takes the vectorised path and must agree with the generic one
    as_str = [str(i) for i in ranked]
    assert m.average_precision(as_str, {str(i) for i in relevant}) == pytest.approx(
        m.average_precision(np.asarray(ranked), relevant)
    )


@pytest.mark.parametrize("seed", range(10))
def test_kendall_tau_matches_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, size=12).astype(float)
    b = rng.integers(0, 4, size=12).astype(float)
    expected = stats.kendalltau(a, b).statistic
    ours = m.kendall_tau(a, b)
    if np.isnan(expected):
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(expected)


def test_kendall_tau_extremes():
    assert m.kendall_tau([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert m.kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(m.kendall_tau([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="equal length"):
        m.kendall_tau([1, 2], [1, 2, 3])


def test_mean_ignores_nan():
    assert m.mean([1.0, float("nan"), 3.0]) == 2.0
    assert math.isnan(m.mean([]))
