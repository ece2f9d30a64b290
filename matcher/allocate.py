"""Cohort allocation: each worker at most one order, each order at most its places.

Solved over the candidate edges with scipy's HiGHS (``scipy.optimize.milp``). Without a
fairness constraint the constraint matrix is that of a bipartite b-matching, which is totally
unimodular, so the LP optimum is already integral and exact.

The optional minimum share of priority workers (disadvantaged communes, poor households) is one
more row, which breaks total unimodularity: as an integer program it took minutes. It is solved
instead by Lagrangian relaxation: the share row moves into the objective as a bonus
``λ·(1[priority] − share)`` on every edge, which keeps the problem an assignment (one LP each),
and the bonus is found by a secant search on the one-dimensional dual (exact at a breakpoint,
in a few LPs). The answer is the best allocation that meets the share; the dual value is a
proven upper bound on the optimum, so the gap (``Allocation.gap``) is known without the MILP.
``exact=True`` solves the MILP instead (for comparison). The greedy answer (best edge first)
is computed for comparison.
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
    #: a proven upper bound on the best total meeting the constraints (the total itself when exact)
    bound: float | None = None
    #: LPs solved to find it
    solves: int = 1

    @property
    def gap(self) -> float | None:
        """How far below the optimum the total can be at most (0 when proven optimal)."""
        return None if self.bound is None else max(0.0, self.bound - self.total)

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
    exact: bool = False,
) -> Allocation:
    """Assignment maximising the total score.

    Parameters
    ----------
    scores: (worker_id, order_id) -> score for every eligible pair (only positive scores count).
    places: order_id -> places left.
    priority: worker ids of the priority group (disadvantaged commune, poor household).
    min_priority_share: if set, at least this share of the assigned workers come from
        ``priority`` (as many as the candidates allow).
    time_limit: seconds each solve may take (50k workers x 5k orders took about 3 minutes
        on two shared cores, see evaluation/PERF.md).
    exact: with a priority share, solve the integer program (slow) instead of the Lagrangian
        bonus; ``Allocation.gap`` says how close the default answer is in any case.
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
    score = np.array([s for _, _, s in edges])
    cols = np.arange(n)
    a_w = sparse.csr_matrix((np.ones(n), ([wi[w] for w, _, _ in edges], cols)), shape=(len(workers), n))
    a_o = sparse.csr_matrix((np.ones(n), ([oi[o] for _, o, _ in edges], cols)), shape=(len(orders), n))
    cap = np.array([places[o] for o in orders], dtype=float)
    constraints = [LinearConstraint(a_w, 0, 1), LinearConstraint(a_o, 0, cap)]
    solves = 1
    if min_priority_share and priority and not exact:
        in_p = np.array([1.0 if w in priority else 0.0 for w, _, _ in edges])
        x, bound, solves = _share_by_bonus(score, in_p - min_priority_share, constraints, time_limit)
        method = "lagrangian (priority share)"
    else:
        integrality = np.zeros(n)
        method = "exact-lp (totally unimodular)"
        if min_priority_share and priority:
            # sum(priority edges) - share * sum(all edges) >= 0
            row = np.array([(1.0 if w in priority else 0.0) - min_priority_share for w, _, _ in edges])
            constraints.append(LinearConstraint(sparse.csr_matrix(row), 0, np.inf))
            integrality = np.ones(n)
            method = "exact-milp (priority share)"
        x, res = _solve(score, constraints, time_limit, integrality, with_result=True)
        dual = getattr(res, "mip_dual_bound", None)  # below the total when the time limit stopped it
        bound = float(-dual) if dual is not None and np.isfinite(dual) else float(score[x].sum())
    chosen = [edges[i] for i in np.flatnonzero(x)]
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
        bound=bound,
        solves=solves,
    )


def _solve(weights: np.ndarray, constraints: list, time_limit: float, integrality=None, with_result: bool = False):
    """The edges chosen by the LP (or MILP) maximising ``weights`` (a boolean mask), with the
    solver's result when ``with_result``."""
    res = milp(-weights, constraints=constraints, integrality=np.zeros(len(weights)) if integrality is None
               else integrality, bounds=Bounds(0, 1), options={"time_limit": time_limit, "disp": False})
    if res.x is None:
        raise AllocationError(
            f"the solver found no allocation within {time_limit:g} s ({res.message}); "
            "allocate a smaller cohort, lower the candidates per worker, or raise time_limit"
        )
    return (res.x > 0.5, res) if with_result else res.x > 0.5


def _share_by_bonus(score: np.ndarray, g: np.ndarray, constraints: list, time_limit: float,
                    max_solves: int = 40) -> tuple[np.ndarray, float, int]:
    """Maximise ``score·x`` over the b-matching with ``g·x >= 0`` (the share row) by Lagrangian
    relaxation. For a bonus λ >= 0 the LP of ``score + λ·g`` is an assignment (integral), and
    ``L(λ) = max (score + λ g)·x`` bounds the constrained optimum from above. L is convex and
    piecewise linear in λ; its minimum is where the solutions switch from ``g·x < 0`` to
    ``g·x >= 0``. The secant step between the two lines known on either side lands on a new
    line or on that breakpoint (then L's minimum is proven). Returns (the best allocation with
    ``g·x >= 0``, the upper bound, the LPs solved)."""
    x = _solve(score, constraints, time_limit)
    solves = 1
    if g[x].sum() >= -1e-9:
        return x, float(score[x].sum()), solves  # the share is met by the plain optimum
    # a bonus that makes every non-priority edge worthless: only priority workers are assigned
    lam_hi = float(score.max() / max(1e-9, -g.min())) + 1.0
    lo = (float(score[x].sum()), float(g[x].sum()))  # (score, g) of a solution with g < 0
    x_hi = _solve(score + lam_hi * g, constraints, time_limit)
    solves += 1
    hi = (float(score[x_hi].sum()), float(g[x_hi].sum()))
    best = x_hi
    bound = hi[0] + lam_hi * hi[1]
    while solves < max_solves:
        if hi[1] - lo[1] <= 1e-12:
            break
        lam = (lo[0] - hi[0]) / (hi[1] - lo[1])  # where the two lines cross
        log.debug("bonus %.6f (g %.3f .. %.3f)", lam, lo[1], hi[1])
        x = _solve(score + lam * g, constraints, time_limit)
        solves += 1
        sx, gx = float(score[x].sum()), float(g[x].sum())
        value = sx + lam * gx
        bound = min(bound, value)
        if gx >= -1e-9 and sx > float(score[best].sum()):
            best = x
        if value <= lo[0] + lam * lo[1] + 1e-9 * max(1.0, abs(value)):
            break  # no better line at λ: L's minimum, the bound is proven
        if bound - float(score[best].sum()) <= 1e-9 * max(1.0, abs(bound)):
            break  # the best allocation found reaches the bound: optimal
        if gx >= -1e-9:
            hi = (sx, gx)
        else:
            lo = (sx, gx)
    return best, bound, solves
