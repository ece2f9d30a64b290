"""Fairness and congestion of recommendation lists and allocations, as pure functions.

Inputs are plain Python / numpy data, so the same functions serve the labelled data, the
synthetic data and the engine's output:

* ``rankings``: mapping ``list_id -> ranked item ids`` (best first). For "workers shown to an
  order" the list id is the order and the items are workers; for "orders recommended to a
  worker" it is the other way round.
* ``attributes``: mapping ``item id -> group value`` (a worker's commune, ethnic group, gender,
  or whether the commune is disadvantaged). Items without a value count as group ``None``.

Exposure uses the position-based attention model of Singh & Joachims (2018): a slot at rank r
(1-based) carries weight ``1 / log2(r + 1)``; ``discount=False`` gives every slot weight 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "allocation_vs_eligible",
    "congestion",
    "exposure_by_group",
    "exposure_ratio",
    "gini",
    "item_exposure",
    "position_weight",
]


def _check_k(k) -> int:
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"The 'k' parameter must be an int in [1, inf). Got {k!r} instead.")
    return int(k)


def position_weight(rank: int, discount: bool = True) -> float:
    """Attention weight of a 1-based rank: ``1 / log2(rank + 1)`` or 1 without discount."""
    if rank < 1:
        raise ValueError(f"The 'rank' parameter must be an int in [1, inf). Got {rank!r} instead.")
    return 1.0 / math.log2(rank + 1) if discount else 1.0


def item_exposure(rankings: Mapping[Hashable, Sequence[Hashable]], k: int, discount: bool = True) -> Counter:
    """Total exposure of each item over the top-k of every list (items never shown are absent)."""
    k = _check_k(k)
    out: Counter = Counter()
    for items in rankings.values():
        for r, item in enumerate(list(items)[:k], start=1):
            out[item] += position_weight(r, discount)
    return out


def exposure_by_group(
    rankings: Mapping[Hashable, Sequence[Hashable]],
    attributes: Mapping[Hashable, Hashable],
    k: int,
    population: Iterable[Hashable] | None = None,
    discount: bool = True,
) -> dict[Hashable, dict[str, float]]:
    """Exposure of each group in the top-k lists.

    Returns ``{group: {"exposure_share", "population_share", "ratio", "mean_exposure",
    "members"}}``:

    * ``exposure_share``: the group's share of all top-k exposure;
    * ``population_share``: its share of ``population`` (default: every item in ``attributes``);
    * ``ratio``: exposure_share / population_share (1 = exposed in proportion; < 1 = under-exposed);
    * ``mean_exposure``: exposure per member of the population.
    """
    exp = item_exposure(rankings, k, discount)
    pop = list(population) if population is not None else list(attributes)
    pop_counts = Counter(attributes.get(i) for i in pop)
    for item in exp:
        if population is None and item not in attributes:
            pop_counts[None] += 1
    exp_group: Counter = Counter()
    for item, e in exp.items():
        exp_group[attributes.get(item)] += e
    total_exp = sum(exp_group.values())
    total_pop = sum(pop_counts.values())
    out = {}
    for g in set(pop_counts) | set(exp_group):
        es = exp_group[g] / total_exp if total_exp else 0.0
        ps = pop_counts[g] / total_pop if total_pop else 0.0
        out[g] = {
            "exposure_share": es,
            "population_share": ps,
            "ratio": es / ps if ps else float("inf") if es else float("nan"),
            "mean_exposure": exp_group[g] / pop_counts[g] if pop_counts[g] else float("nan"),
            "members": pop_counts[g],
        }
    return out


def exposure_ratio(by_group: Mapping[Hashable, Mapping[str, float]], group: Hashable, reference: Hashable) -> float:
    """Mean exposure of ``group`` divided by that of ``reference`` (1 = parity)."""
    a = by_group[group]["mean_exposure"]
    b = by_group[reference]["mean_exposure"]
    return a / b if b else float("nan")


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative values (0 = all equal, -> 1 = one holds everything).

    Include the zeros of items never exposed: they are part of the inequality.
    """
    x = np.sort(np.asarray(list(values), dtype=float))
    if x.size == 0:
        return float("nan")
    if (x < 0).any():
        raise ValueError("gini needs non-negative values.")
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * x).sum()) / (n * total) - (n + 1) / n)


def congestion(
    rankings: Mapping[Hashable, Sequence[Hashable]],
    k: int,
    all_items: Iterable[Hashable] | None = None,
    top_share: float = 0.10,
) -> dict[str, float]:
    """How concentrated the recommended items (e.g. orders in workers' lists) are.

    Returns ``{"top_share_of_slots", "gini", "items_shown_share", "slots", "items"}``:

    * ``top_share_of_slots``: share of all top-k slots taken by the ``top_share`` (10%) most
      recommended items (of ``all_items``, at least one item);
    * ``gini``: Gini of the slot counts over ``all_items`` (never-shown items count as 0);
    * ``items_shown_share``: share of ``all_items`` appearing in at least one list.

    ``all_items`` defaults to the items that appear in any list (then zeros are missing and
    the Gini understates concentration: pass the full set of open orders).
    """
    k = _check_k(k)
    if not 0 < top_share <= 1:
        raise ValueError(f"The 'top_share' parameter must be a float in (0, 1]. Got {top_share!r} instead.")
    counts = item_exposure(rankings, k, discount=False)
    if all_items is not None:
        items = list(dict.fromkeys(all_items))
        known = set(items)
        items += [it for it in counts if it not in known]
    else:
        items = list(counts)
    vec = np.array([counts.get(i, 0.0) for i in items], dtype=float)
    slots = vec.sum()
    if not items:
        return {"top_share_of_slots": float("nan"), "gini": float("nan"), "items_shown_share": float("nan"),
                "slots": 0, "items": 0}
    n_top = max(1, math.ceil(top_share * len(items)))
    top = np.sort(vec)[::-1][:n_top].sum()
    return {
        "top_share_of_slots": float(top / slots) if slots else 0.0,
        "gini": gini(vec),
        "items_shown_share": float((vec > 0).mean()),
        "slots": int(slots),
        "items": len(items),
    }


def allocation_vs_eligible(
    allocated: Iterable[Hashable],
    eligible: Iterable[Hashable],
    attributes: Mapping[Hashable, Hashable],
) -> dict[Hashable, dict[str, float]]:
    """Share of allocated places per group against the group's share of eligible candidates.

    ``allocated``: worker ids given a place (one entry per place; a worker may repeat).
    ``eligible``: the eligible candidates (ids, each once).
    Returns ``{group: {"allocated_share", "eligible_share", "ratio", "allocated", "eligible"}}``
    where ``ratio`` = allocated_share / eligible_share (the "four-fifths rule" flags < 0.8).
    """
    alloc = Counter(attributes.get(w) for w in allocated)
    elig = Counter(attributes.get(w) for w in dict.fromkeys(eligible))
    ta, te = sum(alloc.values()), sum(elig.values())
    out = {}
    for g in set(alloc) | set(elig):
        a = alloc[g] / ta if ta else 0.0
        e = elig[g] / te if te else 0.0
        out[g] = {
            "allocated_share": a,
            "eligible_share": e,
            "ratio": a / e if e else float("inf") if a else float("nan"),
            "allocated": alloc[g],
            "eligible": elig[g],
        }
    return out
