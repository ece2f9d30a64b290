"""Fairness and congestion: exact outcomes on small hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation import fairness as F


def test_position_weight():
    assert F.position_weight(1) == 1.0
    assert F.position_weight(3) == pytest.approx(0.5)
    assert F.position_weight(5, discount=False) == 1.0
    with pytest.raises(ValueError, match="'rank' parameter"):
        F.position_weight(0)


def test_exposure_by_group_hand_case():
    rankings = {"o1": ["w1", "w2", "w3"], "o2": ["w2", "w1", "w4"]}
    attrs = {"w1": "Kinh", "w2": "Tay", "w3": "Nung", "w4": "Nung", "w5": "Nung"}
    res = F.exposure_by_group(rankings, attrs, k=2, discount=False)
    # top-2 slots: w1 twice, w2 twice -> Kinh 2, Tay 2, Nung 0 of 4 slots
    assert res["Kinh"]["exposure_share"] == pytest.approx(0.5)
    assert res["Nung"]["exposure_share"] == 0.0
    assert res["Nung"]["population_share"] == pytest.approx(3 / 5)
    assert res["Kinh"]["ratio"] == pytest.approx(0.5 / 0.2)
    assert res["Nung"]["mean_exposure"] == 0.0
    assert F.exposure_ratio(res, "Tay", "Kinh") == pytest.approx(1.0)


def test_exposure_discount_and_unknown_attribute():
    res = F.exposure_by_group({"o": ["a", "b"]}, {"a": "F"}, k=2)
    total = 1 + 1 / math.log2(3)
    assert res["F"]["exposure_share"] == pytest.approx(1 / total)
    assert res[None]["exposure_share"] == pytest.approx((1 / math.log2(3)) / total)


def test_gini_known_values():
    assert F.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert F.gini([0, 0, 0, 4]) == pytest.approx(0.75)  # (n-1)/n for one holder
    x = np.array([1.0, 2.0, 3.0, 10.0])
    mad = np.abs(x[:, None] - x[None, :]).mean()
    assert F.gini(x) == pytest.approx(mad / (2 * x.mean()))
    assert F.gini([0, 0]) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        F.gini([-1, 2])


def test_congestion_counts_unshown_orders():
    # 10 orders, every worker's top-2 holds orders A and B
    orders = [f"O{i}" for i in range(10)]
    rankings = {f"w{i}": ["O0", "O1", f"O{2 + i % 3}"] for i in range(6)}
    c = F.congestion(rankings, k=2, all_items=orders)
    assert c["slots"] == 12 and c["items"] == 10
    assert c["top_share_of_slots"] == pytest.approx(0.5)  # top 10% = 1 order = 6 of 12 slots
    assert c["items_shown_share"] == pytest.approx(0.2)
    assert c["gini"] == pytest.approx(F.gini([6, 6] + [0] * 8))
    spread = F.congestion({f"w{i}": [f"O{i}"] for i in range(10)}, k=1, all_items=orders)
    assert spread["gini"] == pytest.approx(0.0) and spread["top_share_of_slots"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="'k' parameter"):
        F.congestion(rankings, k=0)


def test_allocation_vs_eligible():
    attrs = {"a": "disadvantaged", "b": "disadvantaged", "c": "other", "d": "other"}
    res = F.allocation_vs_eligible(["c", "d", "a"], ["a", "b", "c", "d"], attrs)
    assert res["disadvantaged"]["allocated_share"] == pytest.approx(1 / 3)
    assert res["disadvantaged"]["eligible_share"] == pytest.approx(0.5)
    assert res["disadvantaged"]["ratio"] == pytest.approx(2 / 3)
    assert res["other"]["allocated"] == 2 and res["other"]["eligible"] == 2
