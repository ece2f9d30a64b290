"""Recorded outcomes the engine obeys: closed pairs and departed workers.

A (worker, order) pair whose application ended as ``rejected`` or ``withdrawn`` is never
proposed again (rankings both ways, allocation, the printable summary) until a counsellor
reopens it; a worker who has departed leaves the pool of candidates for every order. The web
app and the CLI read these facts from the store (``data.repo.pair_outcomes``) and hand them
to the engine as plain data; this module holds the one rule and its reason sentence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from matcher import rules
from models import formatting

# Stages that close a pair for good (until reopened) and the stage that takes a worker out.
CLOSING_STAGES = ("rejected", "withdrawn")
DEPARTED_STAGE = "departed"

_STAGE_VI = {"rejected": "không đạt", "withdrawn": "đã rút"}
# Early returns that speak of the enterprise (DOMAIN.md's fraud signs: ill-treatment, unpaid
# wages), and when an enterprise's record flags its orders: that many such returns, or that many
# early returns of any kind making that share of its departures.
ABUSE_REASONS = ("ill_treatment", "unpaid_wages")
EARLY_RETURN_FLAG = {"abuse": 2, "early": 3, "share": 0.2}
_REASON_VI = {"ill_treatment": "bị ngược đãi", "unpaid_wages": "không được trả lương", "health": "sức khỏe",
              "family": "gia đình", "absconded": "bỏ trốn", "other": "lý do khác"}
_STAGE_EN = {"rejected": "rejected", "withdrawn": "withdrawn"}


@dataclass(frozen=True)
class Outcomes:
    """closed: (worker_id, order_id) -> (stage, date it ended); departed: worker ids."""

    closed: Mapping[tuple[str, str], tuple[str, dt.date | None]] = field(default_factory=dict)
    departed: frozenset[str] = frozenset()
    # recruiter id -> (workers departed with its orders, early returns by reason)
    returns: Mapping[str, tuple[int, Mapping[str, int]]] = field(default_factory=dict)

    def closed_reason(self, worker_id: str, order_id: str) -> rules.Reason | None:
        """The reason a pair may not be proposed, or None when it may."""
        hit = self.closed.get((worker_id, order_id))
        if hit is None:
            return None
        stage, day = hit
        when_vi = f" ngày {formatting.format_date(day)}" if day else ""
        when_en = f" on {formatting.format_date(day, 'en')}" if day else ""
        return rules._reason(
            "pair_closed",
            f"Hồ sơ cho đơn hàng này đã kết thúc ({_STAGE_VI.get(stage, stage)}){when_vi}; "
            "không đề xuất lại trừ khi cán bộ tư vấn mở lại.",
            f"The application for this order ended ({_STAGE_EN.get(stage, stage)}){when_en}; "
            "it is not proposed again unless a counsellor reopens it.",
            stage=stage, date=day.isoformat() if day else None,
        )

    def closed_orders_of(self, worker_id: str) -> list[str]:
        """The orders whose pair with ``worker_id`` is closed (an index built on first use, so a
        ranking looks at the worker's few closed pairs, not at every order)."""
        return self._by_side()[0].get(worker_id, [])

    def closed_workers_of(self, order_id: str) -> list[str]:
        """The workers whose pair with ``order_id`` is closed."""
        return self._by_side()[1].get(order_id, [])

    def _by_side(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        cached = self.__dict__.get("_sides")
        if cached is None:
            by_worker: dict[str, list[str]] = {}
            by_order: dict[str, list[str]] = {}
            for wid, oid in self.closed:
                by_worker.setdefault(wid, []).append(oid)
                by_order.setdefault(oid, []).append(wid)
            cached = (by_worker, by_order)
            object.__setattr__(self, "_sides", cached)  # frozen: a cache, not a field
        return cached

    def has_departed(self, worker_id: str) -> bool:
        return worker_id in self.departed

    def recruiter_signs(self, recruiter_id: str) -> list[rules.Reason]:
        """A warning on every order of an enterprise whose workers came back early too often
        (:data:`EARLY_RETURN_FLAG`): shown, never blocking on its own. Read once per enterprise
        (every question about one of its orders asks)."""
        memo = self.__dict__.get("_signs")
        if memo is None:
            memo = {}
            object.__setattr__(self, "_signs", memo)  # frozen: a cache, not a field
        if recruiter_id not in memo:
            memo[recruiter_id] = tuple(self._recruiter_signs(recruiter_id))
        return list(memo[recruiter_id])

    def _recruiter_signs(self, recruiter_id: str) -> list[rules.Reason]:
        sent, early = self.returns.get(recruiter_id, (0, {}))
        total = sum(early.values())
        abuse = sum(early.get(r, 0) for r in ABUSE_REASONS)
        if not (abuse >= EARLY_RETURN_FLAG["abuse"]
                or (total >= EARLY_RETURN_FLAG["early"] and sent and total / sent >= EARLY_RETURN_FLAG["share"])):
            return []
        parts_vi = ", ".join(f"{_REASON_VI.get(r, r)} {n}" for r, n in sorted(early.items(), key=lambda x: -x[1]))
        parts_en = ", ".join(f"{r.replace('_', ' ')} {n}" for r, n in sorted(early.items(), key=lambda x: -x[1]))
        return [rules._reason(
            "early_returns",
            f"Doanh nghiệp có {total} lao động về nước trước hạn trong số {sent} người đã xuất cảnh ({parts_vi}): "
            "hãy hỏi rõ điều kiện làm việc trước khi giới thiệu",
            f"{total} of the {sent} workers this enterprise sent came back early ({parts_en}): ask about the "
            "working conditions before referring anyone",
            early=total, departed=sent, abuse=abuse)]


NO_OUTCOMES = Outcomes()
