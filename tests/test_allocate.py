"""Cohort allocation: exact optimum, constraints, greedy comparison, priority share."""

import itertools
import random

import pytest

from matcher.allocate import AllocationError, allocate, greedy


def brute_force(edges, places):
    """Best total over every feasible assignment (tiny instances only)."""
    workers = sorted({w for w, _, _ in edges})
    options = {w: [None] + [(o, s) for ww, o, s in edges if ww == w] for w in workers}
    best = 0.0
    for choice in itertools.product(*(options[w] for w in workers)):
        used = {}
        ok = True
        total = 0.0
        for c in choice:
            if c is None:
                continue
            used[c[0]] = used.get(c[0], 0) + 1
            if used[c[0]] > places[c[0]]:
                ok = False
                break
            total += c[1]
        if ok:
            best = max(best, total)
    return best


def check_constraints(alloc, places):
    workers = [w for w, _, _ in alloc.pairs]
    assert len(workers) == len(set(workers)), "a worker got two orders"
    for o, ws in alloc.by_order().items():
        assert len(ws) <= places[o], f"order {o} over its places"


def test_exact_beats_greedy_on_the_classic_trap():
    # Greedy takes (w1, A, 0.9) first and leaves w2 with nothing; exact gives 0.8 + 0.85.
    edges = [("w1", "A", 0.9), ("w1", "B", 0.8), ("w2", "A", 0.85)]
    places = {"A": 1, "B": 1}
    alloc = allocate(edges, places)
    assert sorted((w, o) for w, o, _ in alloc.pairs) == [("w1", "B"), ("w2", "A")]
    assert alloc.total == pytest.approx(1.65)
    assert alloc.greedy_total == pytest.approx(0.9)
    assert alloc.improvement == pytest.approx(0.75)
    check_constraints(alloc, places)


@pytest.mark.parametrize("seed", range(8))
def test_exact_equals_brute_force_and_is_at_least_greedy(seed):
    rng = random.Random(seed)
    workers = [f"w{i}" for i in range(6)]
    orders = {f"o{j}": rng.randint(1, 2) for j in range(3)}
    edges = [(w, o, round(rng.random(), 3)) for w in workers for o in orders if rng.random() < 0.7]
    alloc = allocate(edges, orders)
    check_constraints(alloc, orders)
    assert alloc.total == pytest.approx(brute_force(edges, orders))
    assert alloc.total >= alloc.greedy_total - 1e-9
    g = greedy(edges, orders)
    assert sum(s for *_, s in g) == pytest.approx(alloc.greedy_total)


def test_places_and_zero_scores_respected():
    edges = {("a", "X"): 0.5, ("b", "X"): 0.6, ("c", "X"): 0.7, ("c", "Y"): 0.0}
    alloc = allocate(edges, {"X": 2, "Y": 3})
    assert sorted(w for w, _, _ in alloc.pairs) == ["b", "c"]
    assert all(o == "X" for _, o, _ in alloc.pairs)


def test_priority_share_is_met():
    edges = [("p1", "A", 0.5), ("n1", "A", 0.9), ("n2", "A", 0.8), ("p2", "A", 0.4)]
    places = {"A": 2}
    plain = allocate(edges, places)
    assert {w for w, _, _ in plain.pairs} == {"n1", "n2"}
    fair = allocate(edges, places, priority={"p1", "p2"}, min_priority_share=0.5)
    assert {w for w, _, _ in fair.pairs} == {"n1", "p1"}
    assert fair.priority_share == pytest.approx(0.5)
    assert fair.total == pytest.approx(1.4)


def test_empty_and_invalid():
    assert allocate([], {"A": 1}).pairs == []
    with pytest.raises(AllocationError, match="min_priority_share"):
        allocate([("a", "A", 1.0)], {"A": 1}, priority={"a"}, min_priority_share=1.5)


@pytest.mark.parametrize("seed", range(8))
def test_the_lagrangian_share_meets_the_floor_and_its_bound_holds_against_the_milp(seed):
    """Random cohorts where the plain optimum misses the floor: the Lagrangian answer meets the
    share, its bound is at least the MILP optimum, and its total is within its own stated gap
    of that optimum (usually equal to it)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    workers, orders = 60, 12
    places = {f"O{j}": int(rng.integers(1, 5)) for j in range(orders)}
    prio = {f"W{i}" for i in range(workers) if rng.random() < 0.3}
    edges = {}
    for i in range(workers):
        for j in rng.choice(orders, 5, replace=False):
            w = f"W{i}"
            edges[(w, f"O{j}")] = float(rng.random() * (0.6 if w in prio else 1.0))  # priority workers score lower
    share = float(rng.choice([0.4, 0.5, 0.6]))
    fast = allocate(edges, places, priority=prio, min_priority_share=share)
    milp_ = allocate(edges, places, priority=prio, min_priority_share=share, exact=True)
    assert fast.method.startswith("lagrangian") and milp_.method.startswith("exact-milp")
    assert allocate(edges, places, priority=prio).priority_share < share  # the floor binds
    assert fast.priority_share >= share - 1e-9
    assert fast.bound >= milp_.total - 1e-7
    assert fast.total <= milp_.total + 1e-7
    assert milp_.total - fast.total <= fast.gap + 1e-7
    taken = [w for w, _, _ in fast.pairs]
    assert len(taken) == len(set(taken))
    assert all(sum(1 for _, o2, _ in fast.pairs if o2 == o) <= n for o, n in places.items())
