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

# Stages that close a pair for good (until reopened) and the stage that takes a worker out.
CLOSING_STAGES = ("rejected", "withdrawn")
DEPARTED_STAGE = "departed"

_STAGE_VI = {"rejected": "không đạt", "withdrawn": "đã rút"}
_STAGE_EN = {"rejected": "rejected", "withdrawn": "withdrawn"}


@dataclass(frozen=True)
class Outcomes:
    """closed: (worker_id, order_id) -> (stage, date it ended); departed: worker ids."""

    closed: Mapping[tuple[str, str], tuple[str, dt.date | None]] = field(default_factory=dict)
    departed: frozenset[str] = frozenset()

    def closed_reason(self, worker_id: str, order_id: str) -> rules.Reason | None:
        """The reason a pair may not be proposed, or None when it may."""
        hit = self.closed.get((worker_id, order_id))
        if hit is None:
            return None
        stage, day = hit
        when_vi = f" ngày {day.strftime('%d/%m/%Y')}" if day else ""
        when_en = f" on {day.isoformat()}" if day else ""
        return rules._reason(
            "pair_closed",
            f"Hồ sơ cho đơn hàng này đã kết thúc ({_STAGE_VI.get(stage, stage)}){when_vi}; "
            "không đề xuất lại trừ khi cán bộ tư vấn mở lại.",
            f"The application for this order ended ({_STAGE_EN.get(stage, stage)}){when_en}; "
            "it is not proposed again unless a counsellor reopens it.",
            stage=stage, date=day.isoformat() if day else None,
        )

    def has_departed(self, worker_id: str) -> bool:
        return worker_id in self.departed


NO_OUTCOMES = Outcomes()
