"""Cohort allocation: each worker at most one order, each order at most its places.

Solved exactly as an integer program over the candidate edges with scipy's HiGHS
(``scipy.optimize.milp``). Without a fairness constraint the constraint matrix is that of a
bipartite b-matching, which is totally unimodular, so the LP optimum is already integral; the
optional minimum share of priority workers (disadvantaged communes, poor households) is one more
row. The greedy answer (best edge first) is computed for comparison.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

log = logging.getLogger(__name__)


class AllocationError(ValueError):
    """The allocation problem is malformed or infeasible as asked."""


@dataclass
class Allocation:
    pairs: list[tuple[str, str, float]]
    total: float
    greedy_pairs: list[tuple[str, str, float]]
    greedy_total: float
    method: str
    priority_share: float | None = None
    min_priority_share: float | None = None
    places: dict[str, int] = field(default_factory=dict)

    @property
    def improvement(self) -> float:
        return self.total - self.greedy_total

    def by_order(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for w, o, _ in self.pairs:
            out.setdefault(o, []).append(w)
        return out


def greedy(edges: list[tuple[str, str, float]], places: Mapping[str, int]) -> list[tuple[str, str, float]]:
    """Best edge first, skipping taken workers and full orders."""
    left = dict(places)
    taken: set[str] = set()
    chosen = []
    for w, o, s in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        if w in taken or left.get(o, 0) <= 0:
            continue
        chosen.append((w, o, s))
        taken.add(w)
        left[o] -= 1
    return chosen


def allocate(
    scores: Mapping[tuple[str, str], float] | Iterable[tuple[str, str, float]],
    places: Mapping[str, int],
    priority: set[str] | None = None,
    min_priority_share: float | None = None,
    time_limit: float = 1800.0,
) -> Allocation:
    """Assignment maximising the total score.

    Parameters
    ----------
    scores: (worker_id, order_id) -> score for every eligible pair (only positive scores count).
    places: order_id -> places left.
    priority: worker ids of the priority group (disadvantaged commune, poor household).
    min_priority_share: if set, at least this share of the assigned workers come from
        ``priority`` (as many as the candidates allow).
    time_limit: seconds the solver may take (50k workers x 5k orders took about 3 minutes
        on two shared cores, see evaluation/PERF.md).
    """
    if isinstance(scores, Mapping):
        edges = [(w, o, float(s)) for (w, o), s in scores.items()]
    else:
        edges = [(w, o, float(s)) for w, o, s in scores]
    edges = [e for e in edges if e[2] > 0 and places.get(e[1], 0) > 0]
    if min_priority_share is not None and not 0 <= min_priority_share <= 1:
        raise AllocationError(f"min_priority_share must be in [0, 1]; got {min_priority_share}")
    g_pairs = greedy(edges, places)
    g_total = float(sum(s for _, _, s in g_pairs))
    if not edges:
        return Allocation([], 0.0, g_pairs, g_total, "empty", places=dict(places))

    workers = sorted({w for w, _, _ in edges})
    orders = sorted({o for _, o, _ in edges})
    wi = {w: i for i, w in enumerate(workers)}
    oi = {o: i for i, o in enumerate(orders)}
    n = len(edges)
    c = -np.array([s for _, _, s in edges])
    cols = np.arange(n)
    a_w = sparse.csr_matrix((np.ones(n), ([wi[w] for w, _, _ in edges], cols)), shape=(len(workers), n))
    a_o = sparse.csr_matrix((np.ones(n), ([oi[o] for _, o, _ in edges], cols)), shape=(len(orders), n))
    cap = np.array([places[o] for o in orders], dtype=float)
    constraints = [LinearConstraint(a_w, 0, 1), LinearConstraint(a_o, 0, cap)]
    integrality = np.zeros(n)
    method = "exact-lp (totally unimodular)"
    if min_priority_share and priority:
        # sum(priority edges) - share * sum(all edges) >= 0
        row = np.array([(1.0 if w in priority else 0.0) - min_priority_share for w, _, _ in edges])
        constraints.append(LinearConstraint(sparse.csr_matrix(row), 0, np.inf))
        integrality = np.ones(n)
        method = "exact-milp (priority share)"
    res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "disp": False})
    if res.x is None:
        raise AllocationError(
            f"the solver found no allocation within {time_limit:g} s ({res.message}); "
            "allocate a smaller cohort, lower the candidates per worker, or raise time_limit"
        )
    chosen = [edges[i] for i in np.flatnonzero(res.x > 0.5)]
    total = float(sum(s for _, _, s in chosen))
    share = None
    if priority is not None and chosen:
        share = sum(1 for w, _, _ in chosen if w in priority) / len(chosen)
    log.info("allocation: %d pairs, total %.3f (greedy %.3f) by %s", len(chosen), total, g_total, method)
    return Allocation(
        pairs=sorted(chosen, key=lambda e: (e[1], -e[2], e[0])),
        total=total,
        greedy_pairs=g_pairs,
        greedy_total=g_total,
        method=method,
        priority_share=share,
        min_priority_share=min_priority_share,
        places=dict(places),
    )
