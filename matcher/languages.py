"""Language gap between a worker's certificates and a job order's requirement (DOMAIN.md).

- Only certificates count, never a training course (``language_training``), and only in the
  language asked for.
- One level short is a *gap*: the province trains workers before departure, so the order is
  shown with an estimate of the training needed ("needs N4, has N5: about 4 months").
- Two or more levels short is a *fail*.
- Korea's EPS (E-9) selects only from workers with a valid EPS-TOPIK pass (two years): a general
  TOPIK certificate does not replace it, an expired pass does not count, and there is no gap to
  train -- the worker is pointed to the next EPS-TOPIK round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Sequence

from models.reference import LANGUAGE_OF_COUNTRY
from models.languages import (
    EPS_TOPIK_PASS,
    Certificate,
    expiry_date,
    is_valid_on,
)

__all__ = [
    "LanguageAssessment",
    "TRAINING_MONTHS_PER_LEVEL",
    "assess",
    "language_of_country",
    "training_months",
]

Status = Literal["ok", "gap", "fail", "none_required"]

def language_of_country(country: str | None) -> str | None:
    """The main working language of a destination (ISO 639-1), ``None`` when unknown.

    >>> language_of_country("jp"), language_of_country("AT"), language_of_country("TW")
    ('ja', 'de', 'zh')
    """
    return LANGUAGE_OF_COUNTRY.get((country or "").strip().upper())


# Months of full-time pre-departure training to climb one level, by language and by the level
# reached (1..6 on the scale). An estimate to tell a worker what a gap means, not a promise:
# - a full-time course gives about 4-5 teaching hours a day, 20 days a month: 80-100 hours;
# - Japanese: schools commonly quote 150-300 study hours per JLPT level at N5-N4 and more above
#   (kanji load), i.e. about 3-4 months per level, longer from N3 up;
# - Korean: EPS-TOPIK preparation courses run about 3 months; TOPIK levels are treated like
#   JLPT's;
# - German: Germany's Triple Win nurses reach B2 after about 12 months' course (DOMAIN.md), i.e.
#   about 3 months per CEFR level from A1 to B2;
# - English: Cambridge's guided-learning estimates (~100, 200, 400, 600 cumulative hours for
#   A1..B2) give 1-2 months for A1-A2 and 2-3 for B1-B2 at this intensity, rounded up;
# - Chinese: HSK 1-2 are short (Sino-Vietnamese vocabulary helps), HSK 3+ are like JLPT's.
TRAINING_MONTHS_PER_LEVEL: dict[str, dict[int, int]] = {
    "ja": {1: 3, 2: 4, 3: 5, 4: 6, 5: 8, 6: 8},
    "ko": {1: 3, 2: 4, 3: 5, 4: 6, 5: 8, 6: 8},
    "de": {1: 3, 2: 3, 3: 3, 4: 3, 5: 6, 6: 6},
    "en": {1: 2, 2: 2, 3: 3, 4: 3, 5: 5, 6: 6},
    "zh": {1: 2, 2: 2, 3: 4, 4: 5, 5: 6, 6: 8},
}
_DEFAULT_MONTHS = {1: 3, 2: 3, 3: 4, 4: 5, 5: 6, 6: 6}


def training_months(language: str, have_level: int, need_level: int) -> int:
    """Estimated months of full-time training from ``have_level`` to ``need_level`` (0 if none)."""
    table = TRAINING_MONTHS_PER_LEVEL.get(language, _DEFAULT_MONTHS)
    return sum(table.get(lvl, 6) for lvl in range(max(have_level, 0) + 1, need_level + 1))


@dataclass(frozen=True)
class LanguageAssessment:
    """How a worker's certificates meet an order's requirement.

    status: "ok" | "gap" (one level short, trainable) | "fail" | "none_required";
    language: the language asked for (``None`` when nothing is asked);
    have_level / need_level: on the 0..6 scale (``None`` when nothing is asked);
    gap: ``need_level - have_level`` when positive, else 0;
    training_months: estimated months to close a gap (0 unless status is "gap");
    best_cert: the certificate that counted (highest valid one in the language), if any;
    reason_code: "none_required", "ok", "language_gap", "language_fail", "eps_topik_ok",
    "eps_topik_missing", "eps_topik_expired", "eps_topik_undated", "eps_topik_score_low";
    need_score / have_score: EPS-TOPIK points asked for and of the best EPS-TOPIK result;
    expired_on: the day the best EPS-TOPIK pass stopped counting (reason "eps_topik_expired").
    """

    status: Status
    language: str | None
    have_level: int | None
    need_level: int | None
    gap: int
    training_months: int
    best_cert: Certificate | None
    reason_code: str
    requirement: Certificate | None = None
    need_score: float | None = None
    have_score: float | None = None
    expired_on: dt.date | None = None

    @property
    def eps(self) -> bool:
        return self.reason_code.startswith("eps_topik")


def _best(certs: Sequence[Certificate]) -> Certificate | None:
    return max(certs, key=lambda c: (c.level, c.score or 0.0), default=None)


def _assess_eps(certs: Sequence[Certificate], requirement: Certificate | None, day: dt.date) -> LanguageAssessment:
    need_score = float(requirement.score) if requirement is not None and requirement.exam == "eps_topik" and requirement.score is not None else float(EPS_TOPIK_PASS)
    need_score = max(need_score, float(EPS_TOPIK_PASS))  # below the pass mark there is no roster
    eps = [c for c in certs if c.exam == "eps_topik"]
    common = dict(language="ko", need_level=1, requirement=requirement, need_score=need_score)
    passing = [c for c in eps if (c.score or 0) >= need_score]
    valid = [c for c in passing if is_valid_on(c, day)]
    if valid:
        best = max(valid, key=lambda c: c.score or 0.0)
        return LanguageAssessment("ok", have_level=1, gap=0, training_months=0, best_cert=best,
                                  reason_code="eps_topik_ok", have_score=best.score, **common)
    if passing:
        dated = [c for c in passing if (expiry_date(c) or dt.date.max) <= day]
        if dated:  # passed, but the two years are over
            best = max(dated, key=lambda c: (expiry_date(c) or dt.date.min, c.score or 0.0))
            return LanguageAssessment("fail", have_level=0, gap=1, training_months=0, best_cert=best,
                                      reason_code="eps_topik_expired", have_score=best.score,
                                      expired_on=expiry_date(best), **common)
        best = max(passing, key=lambda c: c.score or 0.0)
        return LanguageAssessment("fail", have_level=0, gap=1, training_months=0, best_cert=best,
                                  reason_code="eps_topik_undated", have_score=best.score, **common)
    valid_low = [c for c in eps if is_valid_on(c, day)]
    if valid_low:
        best = max(valid_low, key=lambda c: c.score or 0.0)
        return LanguageAssessment("fail", have_level=best.level, gap=max(0, 1 - best.level), training_months=0,
                                  best_cert=best, reason_code="eps_topik_score_low", have_score=best.score, **common)
    korean = _best([c for c in certs if c.language == "ko" and is_valid_on(c, day)])
    return LanguageAssessment("fail", have_level=korean.level if korean else 0, gap=1, training_months=0,
                              best_cert=korean, reason_code="eps_topik_missing", **common)


def assess(
    worker_certificates: Sequence[Certificate],
    requirement: Certificate | None,
    day: dt.date,
    programme: str | None = None,
) -> LanguageAssessment:
    """Compare a worker's certificates with an order's requirement on ``day``.

    ``programme`` "eps" (or a requirement written as EPS-TOPIK) applies the EPS roster rule: a
    valid EPS-TOPIK pass of at least the required score (default 80) or nothing. Otherwise the
    best valid certificate in the requirement's language is compared on the one scale.
    """
    certs = list(worker_certificates or ())
    if (programme or "").strip().lower() == "eps" or (requirement is not None and requirement.exam == "eps_topik"):
        return _assess_eps(certs, requirement, day)
    if requirement is None or requirement.level <= 0:
        return LanguageAssessment("none_required", None, None, None, 0, 0, None, "none_required", requirement)
    lang, need = requirement.language, requirement.level
    best = _best([c for c in certs if c.language == lang and is_valid_on(c, day)])
    have = best.level if best else 0
    gap = max(0, need - have)
    if gap == 0:
        return LanguageAssessment("ok", lang, have, need, 0, 0, best, "ok", requirement)
    if gap == 1:
        months = training_months(lang, have, need)
        return LanguageAssessment("gap", lang, have, need, 1, months, best, "language_gap", requirement)
    return LanguageAssessment("fail", lang, have, need, gap, 0, best, "language_fail", requirement)
