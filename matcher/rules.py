"""Eligibility and legality gates, each returning reasons a counsellor can read and check.

Every gate gives a :class:`Reason` with a machine code, a severity, a Vietnamese and an English
sentence with the concrete numbers, and the source it rests on:

- ``block``: the order is illegal or not open: never ranked for anyone;
- ``fail``: this worker is not eligible for this order;
- ``gap``: the worker falls short in a trainable way: shown, ranked, with the gap stated;
- ``warn``: a sign to show on the order (fraud signs, DOMAIN.md), or a doubt about the data.

The gates receive objects (``JobOrder``, ``Recruiter``, ``Worker`` and plain values); they read
no files and open no database. Exchange rates are a mapping of currency -> VND per unit.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Sequence

from matcher.languages import LanguageAssessment, assess
from matcher.text import fold, name_similarity, normalise_id_code
from models import formatting
from models.entities import is_active_worker
from models.enums import education_rank
from models.labels import EDUCATION, GENDERS
from models.languages import Certificate, CertificateError, parse_requirement
from models.reference import (
    AIR_FARE_VND,
    DEFAULT_AIR_FARE_VND,
    EPS_KEYWORDS,
    LURE_KEYWORDS,
    MIN_WAGES,
    OCCUPATION_CLASS_KEYWORDS,
    PROHIBITED_AREA_KEYWORDS,
    PROHIBITED_JOB_KEYWORDS,
    PUBLIC_SENDER_NAME_KEYWORDS,
    ROUTE_CLASSES,
    SEASONAL_KEYWORDS,
    SUSPICIOUS_WAGE_FACTOR,
    TYPICAL_WAGES,
    FeeCapRule,
    WageFloor,
    cite,
    deposit_rule_for,
    fee_rule_for,
    market_of,
    merged_rates,
)

if TYPE_CHECKING:  # pragma: no cover
    from models.entities import JobOrder, Recruiter, Worker

__all__ = [
    "FeeCap",
    "REASON_CODES",
    "Reason",
    "SEVERITIES",
    "consent_gate",
    "fee_cap",
    "fee_cap_vnd",
    "find_duplicate_codes",
    "is_public_sender",
    "is_seasonal_order",
    "occupation_classes",
    "order_gates",
    "worker_gates",
    "worst_severity",
]

Severity = Literal["block", "fail", "gap", "warn"]
SEVERITIES: tuple[Severity, ...] = ("block", "fail", "gap", "warn")  # worst first

# code -> severity; every Reason the module can produce.
REASON_CODES: Mapping[str, Severity] = {
    # order: licence and registration
    "no_recruiter": "block",
    "unlicensed": "block",
    "licence_suspended": "block",
    "licence_revoked": "block",
    "duplicate_licence_no": "block",
    "duplicate_approval_no": "block",
    "no_approval": "block",
    # order: open for matching
    "order_closed": "block",
    "order_draft": "block",
    "deadline_passed": "block",
    "no_places_left": "block",
    # order: money
    "service_fee_over_cap": "block",
    "brokerage_fee": "block",
    "deposit_over_cap": "block",
    "deposit_may_exceed_cap": "warn",
    "fee_cap_unknown": "warn",
    "exchange_rate_missing": "warn",
    "wage_missing": "warn",
    "wage_below_market_floor": "block",
    "suspicious_wage": "warn",
    # order: jobs, senders, wording
    "prohibited_job": "block",
    "prohibited_area": "block",
    "seasonal_private_sender": "block",
    "eps_private_sender": "block",
    "lure_wording": "warn",
    "look_alike_name": "warn",
    "website_not_vn": "warn",
    "long_wait_before_departure": "warn",
    # worker x order
    "worker_inactive": "fail",
    "age_below_legal_min": "fail",
    "age_below_min": "fail",
    "age_above_max": "fail",
    "gender_mismatch": "fail",
    "gender_unknown": "warn",
    "education_below_min": "fail",
    "education_unknown": "warn",
    "experience_short": "gap",
    "language_fail": "fail",
    "language_gap": "gap",
    "eps_topik_required": "fail",
    "language_requirement_unreadable": "warn",
    "available_after_departure": "warn",
    # recruiter's view
    "no_consent": "fail",
    # recorded outcomes (matcher.outcomes)
    "pair_closed": "fail",
    "early_returns": "warn",
}

# Reasons that only say an order is not open now (not a violation of the law): such orders are
# left out of rankings but not listed among the blocked ones. Every "legal but closed" test reads this.
NOT_OPEN_CODES = frozenset({"order_closed", "order_draft", "deadline_passed", "no_places_left"})


@dataclass(frozen=True)
class Reason:
    """One finding of a gate.

    code: machine code (:data:`REASON_CODES`); severity: "block" | "fail" | "gap" | "warn";
    vi / en: full sentences with the numbers and the source in brackets; source: the citation
    key and article ("L69 Art 23(4)(a)", "D112 App II") or "" for operational rules; detail:
    the numbers behind the sentence (not part of equality).
    """

    code: str
    severity: Severity
    vi: str
    en: str
    source: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


def _reason(code: str, vi: str, en: str, source: str = "", **detail: Any) -> Reason:
    sv, se = cite(source)
    if sv:
        vi, en = f"{vi} [{sv}]", f"{en} [{se}]"
    return Reason(code, REASON_CODES[code], vi, en, source, detail)


def worst_severity(reasons: Iterable[Reason]) -> Severity | None:
    """The worst severity among ``reasons`` (block > fail > gap > warn), ``None`` if none."""
    found = {r.severity for r in reasons}
    return next((s for s in SEVERITIES if s in found), None)


# ---------------------------------------------------------------------------------------------
# formatting


def _int_vi(x: float) -> str:
    return formatting.format_number(round(x))


def _vnd_vi(x: float) -> str:
    return f"{_int_vi(x)} đ"


def _vnd_en(x: float) -> str:
    return f"{round(x):,} VND"


def _num_vi(x: float) -> str:
    """0.7 -> "0,7"; 3.0 -> "3"."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s.replace(".", ",")


def _num_en(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _money_vi(x: float, cur: str) -> str:
    return _vnd_vi(x) if cur == "VND" else f"{_int_vi(x)} {cur}"


def _money_en(x: float, cur: str) -> str:
    return _vnd_en(x) if cur == "VND" else f"{round(x):,} {cur}"


@functools.lru_cache(maxsize=4096)
def _date_vi(d: dt.date) -> str:
    return formatting.format_date(d)


@functools.lru_cache(maxsize=4096)
def _date_en(d: dt.date) -> str:
    return formatting.format_date(d, "en")


# ---------------------------------------------------------------------------------------------
# text of an order


def _has_phrase(folded: str, phrase: str) -> bool:
    """A whole phrase of folded text; Japanese, Korean and Chinese phrases (no spaces between
    words) are matched anywhere."""
    if not phrase.isascii():
        return phrase in folded
    return f" {phrase} " in f" {folded} "


@functools.cache
def _phrase_index(phrases: tuple[str, ...]) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """The positions of ``phrases`` by their first word, and those to test on every text (no
    first word, or Japanese, Korean or Chinese phrases found anywhere)."""
    by_first: dict[str, list[int]] = defaultdict(list)
    always: list[int] = []
    for i, p in enumerate(phrases):
        first = p.split(" ", 1)[0]
        if p.isascii() and first:
            by_first[first].append(i)
        else:
            always.append(i)
    return {w: tuple(ix) for w, ix in by_first.items()}, tuple(always)


def _all_phrases(folded: str, phrases: tuple[str, ...], words: frozenset[str] | None = None) -> list[str]:
    """Those of ``phrases`` in a folded text as :func:`_has_phrase` finds them, in their order;
    only the phrases whose first word is a word of the text are tested (``words``: the text's
    words, when the caller has them)."""
    by_first, always = _phrase_index(phrases)
    if words is None:
        words = frozenset(folded.split(" "))
    maybe = [i for w in words if w in by_first for i in by_first[w]]
    maybe += always
    if not maybe:
        return []
    return [phrases[i] for i in sorted(maybe) if _has_phrase(folded, phrases[i])]


def _first_phrase(folded: str, phrases: tuple[str, ...], words: frozenset[str] | None = None) -> str | None:
    """The first of ``phrases`` (in their order) in a folded text, or ``None``."""
    hits = _all_phrases(folded, phrases, words)
    return hits[0] if hits else None


def _order_text(order: JobOrder) -> str:
    skills = order.required_skills or []
    if isinstance(skills, str):
        skills = [skills]
    return _folded_text(order.title or "", order.description or "", tuple(map(str, skills)))


@functools.lru_cache(maxsize=200_000)
def _folded_text(title: str, description: str, skills: tuple[str, ...]) -> str:
    return fold(" ; ".join([title, description, *skills]))


@functools.lru_cache(maxsize=200_000)
def _text_classes(text: str) -> tuple[tuple[str, str], ...]:
    """(class, phrase that named it) for each occupation class a folded order text names."""
    words = frozenset(text.split(" "))
    found = ((cls, _first_phrase(text, kws, words)) for cls, kws in OCCUPATION_CLASS_KEYWORDS.items())
    return tuple((cls, hit) for cls, hit in found if hit is not None)


def occupation_class_triggers(order: JobOrder) -> dict[str, str]:
    """Each occupation class (keys of ``OCCUPATION_CLASS_KEYWORDS``) named in the order's title,
    description or skills, matched as whole phrases after folding, with the phrase that named it;
    a declared ``route`` (FORMAT.md) names its class with an empty phrase, whatever the text says."""
    found = dict(_text_classes(_order_text(order)))
    declared = (getattr(order, "route", None) or "").strip().lower()
    if declared in ROUTE_CLASSES:
        found[ROUTE_CLASSES[declared]] = ""
    return found


def occupation_classes(order: JobOrder) -> frozenset[str]:
    """The classes of :func:`occupation_class_triggers`."""
    return frozenset(occupation_class_triggers(order))


def is_seasonal_order(order: JobOrder) -> bool:
    """Korean seasonal work (E-8): programme "seasonal", or Korea with a title or description
    that says seasonal / thời vụ / mùa vụ / E-8 (DOMAIN.md, markets table)."""
    if (order.programme or "").strip().lower() == "seasonal":
        return True
    if (order.country or "").strip().upper() != "KR":
        return False
    text = fold(f"{order.title or ''} ; {order.description or ''}")
    return bool(_all_phrases(text, SEASONAL_KEYWORDS))


def is_eps_order(order: JobOrder) -> bool:
    """Korean EPS (E-9): programme "eps", or Korea with a title or description naming EPS/E-9."""
    if (order.programme or "").strip().lower() == "eps":
        return True
    if (order.country or "").strip().upper() != "KR":
        return False
    text = fold(f"{order.title or ''} ; {order.description or ''}")
    return bool(_all_phrases(text, EPS_KEYWORDS))


def is_public_sender(recruiter: Recruiter) -> bool:
    """A local government or public agency: by ``recruiter_type``, or, when it is empty, by a
    name such as "UBND ...", "Sở Lao động ...", "Trung tâm Dịch vụ việc làm ..."."""
    kind = (recruiter.recruiter_type or "").strip().lower()
    if kind:
        return kind in ("local_government", "public_agency")
    name = fold(recruiter.name)
    return bool(_all_phrases(name, PUBLIC_SENDER_NAME_KEYWORDS))


# ---------------------------------------------------------------------------------------------
# money


def _rate(rates: Mapping[str, float], currency: str | None) -> float | None:
    cur = (currency or "VND").strip().upper()
    r = rates.get(cur)
    return float(r) if r else None


@dataclass(frozen=True)
class FeeCap:
    """The service-fee cap of an order. ``cap_vnd`` is ``None`` when it cannot be computed
    (no contract length, no wage, no exchange rate); ``vi``/``en`` explain the arithmetic."""

    cap_vnd: float | None
    months_of_salary: float | None
    wage_vnd: float | None
    rule: FeeCapRule
    vi: str
    en: str


def fee_cap(order: JobOrder, rates: Mapping[str, float] | None = None) -> FeeCap:
    """The legal ceiling of the service fee the worker may pay for ``order``.

    [L69 Art 23(4)] and [TT02 App XI]: months of the contract salary per 12 months of contract,
    pro rata, at most a total (see ``models.reference.FEE_CAP_RULES``), converted to VND with
    ``rates`` (defaults from ``models.reference.DEFAULT_RATES``).
    """
    rates = merged_rates(rates)
    triggers = occupation_class_triggers(order)
    rule = fee_rule_for(order.country, order.programme, triggers)
    if rule.occupation_classes:
        # the route or occupation that set this cap, and the words that named it
        words = sorted(triggers[c] for c in rule.occupation_classes & set(triggers))
        if not all(words):
            rule_vi, rule_en = f"{rule.vi} (theo tuyến khai trên đơn hàng)", f"{rule.en} (the route declared on the order)"
        else:
            said = "; ".join(f"«{w}»" for w in words)
            rule_vi, rule_en = f"{rule.vi} (nhận biết từ {said})", f"{rule.en} (recognised from {said})"
    else:
        rule_vi, rule_en = rule.vi, rule.en
    if rule.months_per_12 == 0 or rule.max_months == 0:
        return FeeCap(0.0, 0.0, None, rule, f"{rule_vi}", f"{rule_en}")
    months = order.contract_months
    if not months or months <= 0:
        return FeeCap(None, None, None, rule, f"{rule_vi}; chưa rõ thời hạn hợp đồng",
                      f"{rule_en}; the contract length is unknown")
    if not order.monthly_wage or order.monthly_wage <= 0:
        return FeeCap(None, None, None, rule, f"{rule_vi}; chưa rõ mức lương", f"{rule_en}; the wage is unknown")
    cur = (order.wage_currency or "VND").strip().upper()
    rate = _rate(rates, cur)
    if rate is None:
        return FeeCap(None, None, None, rule, f"{rule_vi}; chưa có tỷ giá {cur}", f"{rule_en}; no exchange rate for {cur}")
    salary_months = rule.months_per_12 * months / 12.0
    if rule.max_months is not None:
        salary_months = min(salary_months, rule.max_months)
    wage_vnd = order.monthly_wage * rate
    cap = round(salary_months * wage_vnd)
    vi = f"{rule_vi}: {_num_vi(salary_months)} × {_vnd_vi(wage_vnd)}"
    en = f"{rule_en}: {_num_en(salary_months)} × {_vnd_en(wage_vnd)}"
    return FeeCap(float(cap), salary_months, wage_vnd, rule, vi, en)


def fee_cap_vnd(order: JobOrder, rates: Mapping[str, float] | None = None) -> tuple[float | None, str]:
    """``(cap in VND or None, English explanation)``; see :func:`fee_cap` for the Vietnamese one."""
    fc = fee_cap(order, rates)
    return fc.cap_vnd, fc.en


def _wage_floor(order: JobOrder, classes: frozenset[str]) -> WageFloor | None:
    market = market_of(order.country)
    months = order.contract_months
    for floor in MIN_WAGES:
        if floor.markets is not None and market not in floor.markets:
            continue
        if floor.countries is not None and (order.country or "").upper() not in floor.countries:
            continue
        if floor.occupation_classes is not None and not (floor.occupation_classes & classes):
            continue
        # without a contract length, only the rows for a year or more apply (the lower floor)
        if floor.max_contract_months is not None and (months is None or months >= floor.max_contract_months):
            continue
        if floor.min_contract_months is not None and months is not None and months < floor.min_contract_months:
            continue
        return floor
    return None


# ---------------------------------------------------------------------------------------------
# order gates


def _licence_reasons(recruiter: Recruiter | None, order: JobOrder, day: dt.date) -> list[Reason]:
    if recruiter is None:
        return [_reason("no_recruiter",
                        f"Đơn hàng {order.order_id} không gắn với doanh nghiệp nào có giấy phép",
                        f"Order {order.order_id} is not linked to any licensed enterprise", "L69 Art 8(1)")]
    return licence_reasons(recruiter, day)


def licence_reasons(recruiter: Recruiter, day: dt.date) -> list[Reason]:
    """Why the enterprise may not operate on ``day`` (revoked, suspended, unlicensed); empty
    when its licence is in force. Its orders are blocked for these reasons and its users lose
    access to workers' profiles."""
    status = recruiter.status_on(day)
    name = recruiter.name
    d_vi, d_en = _date_vi(day), _date_en(day)
    # Revoked or suspended licences [L69 Art 16]; sending without a licence is prohibited [L69 Art 7(5), 8(1)]
    if status == "revoked":
        return [_reason("licence_revoked",
                        f"Doanh nghiệp {name} đã bị thu hồi giấy phép (tình trạng ngày {d_vi})",
                        f"{name}'s licence is revoked (status on {d_en})", "L69 Art 16", status=status)]
    if status == "suspended":
        return [_reason("licence_suspended",
                        f"Doanh nghiệp {name} đang bị đình chỉ hoạt động (tình trạng ngày {d_vi})",
                        f"{name}'s licence is suspended (status on {d_en})", "L69 Art 16", status=status)]
    if status == "unlicensed" or (not (recruiter.licence_no or "").strip() and not is_public_sender(recruiter)):
        return [_reason("unlicensed",
                        f"Doanh nghiệp {name} chưa có giấy phép đưa người lao động đi làm việc ở nước ngoài vào ngày {d_vi}",
                        f"{name} holds no licence to send workers abroad on {d_en}", "L69 Art 8(1)", status=status)]
    return []


def _duplicate_reasons(order: JobOrder, recruiter: Recruiter | None,
                       duplicates: Mapping[str, Reason] | Iterable[str]) -> list[Reason]:
    out: list[Reason] = []
    rid = recruiter.recruiter_id if recruiter is not None else order.recruiter_id
    if isinstance(duplicates, Mapping):
        r = duplicates.get(rid)
        if r is not None and r.code == "duplicate_licence_no":
            out.append(r)
        o = duplicates.get(order.order_id)
        if o is not None and o.code == "duplicate_approval_no":
            out.append(o)
        return out
    ids = set(duplicates)
    if rid in ids:
        out.append(_reason("duplicate_licence_no",
                           f"Số giấy phép của doanh nghiệp {rid} trùng với doanh nghiệp khác: tạm ngừng cho đến khi quản trị viên xác nhận",
                           f"Enterprise {rid} shares its licence number with another: held until an administrator confirms",
                           "L69 Art 7(5)"))
    if order.order_id in ids:
        out.append(_reason("duplicate_approval_no",
                           f"Số chấp thuận của đơn hàng {order.order_id} trùng với đơn hàng khác: tạm ngừng cho đến khi quản trị viên xác nhận",
                           f"Order {order.order_id} shares its approval number with another: held until an administrator confirms",
                           "L69 Art 20"))
    return out


def _open_reasons(order: JobOrder, day: dt.date) -> list[Reason]:
    out: list[Reason] = []
    # A supply contract is carried out only once registered and approved [L69 Art 20];
    # DOMAIN.md: without an approval number and date an order is not open.
    if not (order.approval_no or "").strip() or order.approval_date is None:
        out.append(_reason("no_approval",
                           "Hợp đồng cung ứng lao động chưa có số và ngày chấp thuận đăng ký của cơ quan quản lý",
                           "The supply contract has no approval number and date from the regulator", "L69 Art 20"))
    elif order.approval_date > day:
        out.append(_reason("no_approval",
                           f"Hợp đồng cung ứng lao động chỉ được chấp thuận từ ngày {_date_vi(order.approval_date)}",
                           f"The supply contract is approved only from {_date_en(order.approval_date)}", "L69 Art 20"))
    # Order status, deadline and places (FORMAT.md job_orders.csv): operational, no law cited.
    status = (order.status or "open").strip().lower()
    if status == "closed":
        out.append(_reason("order_closed", "Đơn hàng đã đóng", "The order is closed"))
    elif status == "draft":
        out.append(_reason("order_draft", "Đơn hàng mới là bản nháp, chưa mở tuyển", "The order is a draft, not open yet"))
    if order.deadline is not None and order.deadline < day:
        out.append(_reason("deadline_passed",
                           f"Đã hết hạn nộp hồ sơ ngày {_date_vi(order.deadline)}",
                           f"The application deadline {_date_en(order.deadline)} has passed", deadline=order.deadline))
    if order.places_left <= 0:
        out.append(_reason("no_places_left",
                           f"Đơn hàng đã đủ {order.positions or 0} người, không còn chỉ tiêu",
                           f"All {order.positions or 0} places of the order are filled"))
    return out


def _money_reasons(order: JobOrder, rates: Mapping[str, float], classes: frozenset[str]) -> list[Reason]:
    out: list[Reason] = []
    # Service fee cap [L69 Art 23(4)], [TT02 App XI]
    fee = order.service_fee_vnd or 0.0
    if fee > 0:
        fc = fee_cap(order, rates)
        if fc.cap_vnd is None:
            out.append(_reason("fee_cap_unknown",
                               f"Không tính được mức trần phí dịch vụ để đối chiếu với {_vnd_vi(fee)} ({fc.vi})",
                               f"The service-fee cap cannot be computed to check {_vnd_en(fee)} ({fc.en})",
                               fc.rule.source, fee_vnd=fee))
        elif fee > fc.cap_vnd + 0.5:
            if fc.cap_vnd == 0:
                vi = f"Phí dịch vụ {_vnd_vi(fee)} không được thu: mức trần là 0 đ ({fc.vi})"
                en = f"A service fee of {_vnd_en(fee)} may not be charged: the cap is 0 VND ({fc.en})"
            else:
                vi = f"Phí dịch vụ {_vnd_vi(fee)} vượt mức trần {_vnd_vi(fc.cap_vnd)} ({fc.vi})"
                en = f"Service fee {_vnd_en(fee)} is above the cap of {_vnd_en(fc.cap_vnd)} ({fc.en})"
            out.append(_reason("service_fee_over_cap", vi, en, fc.rule.source,
                               fee_vnd=fee, cap_vnd=fc.cap_vnd, months_of_salary=fc.months_of_salary, rule=fc.rule.key))
    # Brokerage fees may never be collected from the worker [L69 Art 7(8)]
    brokerage = order.brokerage_fee_vnd or 0.0
    if brokerage > 0:
        out.append(_reason("brokerage_fee",
                           f"Thu tiền môi giới {_vnd_vi(brokerage)} của người lao động là hành vi bị nghiêm cấm",
                           f"Charging the worker a brokerage fee ({_vnd_en(brokerage)}) is prohibited",
                           "L69 Art 7(8)", brokerage_vnd=brokerage))
    # Deposit cap [L69 Art 25(5)], [D112 App II]
    deposit = order.deposit_vnd or 0.0
    if deposit > 0:
        rule = deposit_rule_for(order.country, classes)
        if rule.cap_vnd is None:
            fare = AIR_FARE_VND.get((order.country or "").upper(), DEFAULT_AIR_FARE_VND)
            if deposit > fare:
                out.append(_reason("deposit_may_exceed_cap",
                                   f"Tiền ký quỹ {_vnd_vi(deposit)} có thể vượt mức trần ({rule.vi}, ước tính {_vnd_vi(fare)})",
                                   f"Deposit {_vnd_en(deposit)} may be above the cap ({rule.en}, estimated at {_vnd_en(fare)})",
                                   rule.source, deposit_vnd=deposit, estimated_cap_vnd=fare))
        elif deposit > rule.cap_vnd + 0.5:
            if rule.cap_vnd == 0:
                vi = f"Yêu cầu ký quỹ {_vnd_vi(deposit)} trái quy định: {rule.vi}"
                en = f"A deposit of {_vnd_en(deposit)} is asked although there is {rule.en}"
            else:
                vi = f"Tiền ký quỹ {_vnd_vi(deposit)} vượt mức trần {_vnd_vi(rule.cap_vnd)} ({rule.vi})"
                en = f"Deposit {_vnd_en(deposit)} is above the cap of {_vnd_en(rule.cap_vnd)} ({rule.en})"
            out.append(_reason("deposit_over_cap", vi, en, rule.source,
                               deposit_vnd=deposit, cap_vnd=rule.cap_vnd, rule=rule.key))
    return out


def _wage_reasons(order: JobOrder, rates: Mapping[str, float], classes: frozenset[str]) -> list[Reason]:
    wage = order.monthly_wage
    if not wage or wage <= 0:
        # The supply contract must state the wage [L69 Art 19(2)]
        return [_reason("wage_missing", "Đơn hàng không ghi mức lương", "The order states no wage", "L69 Art 19(2)")]
    cur = (order.wage_currency or "VND").strip().upper()
    rate = _rate(rates, cur)
    if rate is None:
        return [_reason("exchange_rate_missing",
                        f"Chưa có tỷ giá {cur} để đối chiếu mức lương", f"No exchange rate for {cur} to check the wage")]
    out: list[Reason] = []
    wage_vnd = wage * rate
    # Wage floors of the supply-contract appendices [TT02 App III-VII]
    floor = _wage_floor(order, classes)
    if floor is not None:
        frate = _rate(rates, floor.currency)
        floor_vnd = floor.amount * frate if frate else None
        below = wage < floor.amount if floor.currency == cur else (floor_vnd is not None and wage_vnd < floor_vnd)
        if below:
            out.append(_reason("wage_below_market_floor",
                               f"Lương {_money_vi(wage, cur)}/tháng thấp hơn mức sàn {_money_vi(floor.amount, floor.currency)}/tháng ({floor.vi})",
                               f"Wage {_money_en(wage, cur)}/month is below the floor of {_money_en(floor.amount, floor.currency)}/month ({floor.en})",
                               floor.source, wage=wage, currency=cur, floor=floor.amount, floor_currency=floor.currency))
    # Wages far above the market for the job (DOMAIN.md, signs of fraud 5)
    typical = TYPICAL_WAGES.get(market_of(order.country))
    if typical is not None:
        trate = _rate(rates, typical.currency)
        if trate:
            in_typical = wage_vnd / trate
            limit = typical.high * SUSPICIOUS_WAGE_FACTOR
            if in_typical > limit:
                out.append(_reason("suspicious_wage",
                                   f"Lương {_money_vi(wage, cur)}/tháng cao bất thường so với thị trường "
                                   f"(thường {_money_vi(typical.low, typical.currency)}–{_money_vi(typical.high, typical.currency)}): "
                                   "dấu hiệu lừa đảo cần kiểm tra",
                                   f"Wage {_money_en(wage, cur)}/month is far above the market "
                                   f"(typically {_money_en(typical.low, typical.currency)}-{_money_en(typical.high, typical.currency)}): "
                                   "a fraud sign to check",
                                   wage=wage, currency=cur, typical_high=typical.high))
    return out


#: the phrases of the prohibited-job and prohibited-area tables, in their order
_PHRASES_OF = {"prohibited_job": tuple(PROHIBITED_JOB_KEYWORDS), "prohibited_area": tuple(PROHIBITED_AREA_KEYWORDS)}


def _content_reasons(order: JobOrder, recruiter: Recruiter | None) -> list[Reason]:
    out: list[Reason] = []
    text = _order_text(order)
    words = frozenset(text.split(" "))
    # Prohibited jobs and areas [L69 Art 7(12), 7(13)]
    for table, code, vi_what, en_what in (
        (PROHIBITED_JOB_KEYWORDS, "prohibited_job", "công việc bị cấm đưa người lao động đi làm", "a job workers may not be sent to"),
        (PROHIBITED_AREA_KEYWORDS, "prohibited_area", "khu vực bị cấm đưa người lao động đến", "an area workers may not be sent to"),
    ):
        hits = [(k, table[k]) for k in _all_phrases(text, _PHRASES_OF[code], words)]
        if hits:
            kw, src = max(hits, key=lambda h: len(h[0]))
            out.append(_reason(code, f"Đơn hàng có dấu hiệu {vi_what} (“{kw}”)",
                               f"The order looks like {en_what} (“{kw}”)", src, keyword=kw))
    # Korean seasonal (E-8) places only through local-government agreements (DOMAIN.md, fraud sign 4)
    if is_seasonal_order(order) and recruiter is not None and not is_public_sender(recruiter):
        out.append(_reason("seasonal_private_sender",
                           f"Lao động thời vụ Hàn Quốc (E-8) chỉ được đưa đi qua thỏa thuận của chính quyền địa phương; "
                           f"{recruiter.name} không phải cơ quan nhà nước, mọi hình thức môi giới đều trái phép",
                           f"Korean seasonal work (E-8) is sent only through local-government agreements; "
                           f"{recruiter.name} is not a public body, and any broker is illegal"))
    # Korean EPS (E-9) only through the public Centre of Overseas Labour (DOMAIN.md, fraud sign 4)
    if is_eps_order(order) and recruiter is not None and not is_public_sender(recruiter):
        out.append(_reason("eps_private_sender",
                           f"Chương trình EPS (E-9) sang Hàn Quốc chỉ do Trung tâm Lao động ngoài nước (cơ quan nhà nước) "
                           f"thực hiện; {recruiter.name} chào chỗ EPS hoặc thu phí “đăng ký EPS” là dấu hiệu lừa đảo",
                           f"Korea's EPS (E-9) is sent only by the public Centre of Overseas Labour; {recruiter.name} "
                           "offering EPS places or charging for \"EPS registration\" is a fraud sign"))
    # "Light work, high pay, no language needed" (DOMAIN.md, fraud sign 5)
    lure = _all_phrases(text, LURE_KEYWORDS, words)
    if lure:
        out.append(_reason("lure_wording",
                           f"Lời mời có dấu hiệu lừa đảo (“{lure[0]}”): cần kiểm tra trước khi tư vấn",
                           f"The order uses luring wording (“{lure[0]}”): check it before advising anyone",
                           "L69 Art 7(1)", keyword=lure[0]))
    # The wait before departure is promised at most 180 days [L69 Art 26(2)(đ)]
    if order.deadline is not None and order.departure_date is not None:
        wait = (order.departure_date - order.deadline).days
        if wait > 180:
            out.append(_reason("long_wait_before_departure",
                               f"Thời gian chờ xuất cảnh dự kiến {wait} ngày, vượt 180 ngày",
                               f"The expected wait before departure is {wait} days, over 180", "L69 Art 26(2)(dd)",
                               wait_days=wait))
    return out


def order_gates(
    order: JobOrder,
    recruiter: Recruiter | None,
    day: dt.date,
    rates: Mapping[str, float] | None = None,
    duplicates: Mapping[str, Reason] | Iterable[str] = frozenset(),
    signs: Mapping[str, list[Reason]] | None = None,
) -> list[Reason]:
    """Every reason why ``order`` is illegal, not open, or suspicious on ``day``.

    ``recruiter`` is the enterprise that posts it (licence status taken on ``day``);
    ``rates`` overrides the default exchange rates (currency -> VND per unit); ``duplicates``
    is :func:`find_duplicate_codes`' result (or a set of recruiter/order ids held out);
    ``signs`` is :func:`find_look_alikes`' result (warnings about the recruiter).
    An order with any "block" reason must not be ranked for anyone.
    """
    rates = merged_rates(rates)
    classes = occupation_classes(order)
    return [
        *_licence_reasons(recruiter, order, day),
        *_duplicate_reasons(order, recruiter, duplicates),
        *_open_reasons(order, day),
        *_money_reasons(order, rates, classes),
        *_wage_reasons(order, rates, classes),
        *_content_reasons(order, recruiter),
        *(signs or {}).get(recruiter.recruiter_id if recruiter is not None else order.recruiter_id, ()),
    ]


def find_duplicate_codes(recruiters: Iterable[Recruiter], orders: Iterable[JobOrder]) -> dict[str, Reason]:
    """Enterprises sharing a licence number and orders sharing an approval number.

    Numbers are compared with :func:`matcher.text.normalise_id_code` (``LĐTBXH`` = ``LDTBXH``,
    spaces and case ignored). Returns recruiter_id / order_id -> a "block" reason for every
    member of a shared number: at least one of them is forged, so all are held out until an
    administrator confirms which is genuine (DOMAIN.md, fraud sign 3; lending or borrowing a
    licence is prohibited [L69 Art 7(5)]). The confirmation is ``licence_verified_on``: when
    exactly one holder is verified, it is released and every other holder stays blocked with a
    reason naming it; when every holder but one is revoked, the remaining one is released.
    """
    out: dict[str, Reason] = {}
    by_id = {}
    for r, key, others in _sharing(recruiters, lambda r: r.licence_no, lambda r: r.recruiter_id):
        by_id.setdefault(key, []).append(r)
    for key, group in by_id.items():
        verified = [r for r in group if getattr(r, "licence_verified_on", None)]
        live = [r for r in group if (r.status or "active") != "revoked"]
        if len(verified) == 1:
            genuine = verified[0]
        elif not verified and len(live) == 1:
            genuine = live[0]  # the administrator revoked every other holder: that was the decision
        else:
            genuine = None
        for r in group:
            if genuine is not None and r is genuine:
                continue
            if genuine is not None:
                when = genuine.licence_verified_on
                how_vi = f"đã được xác minh ngày {when.strftime('%d/%m/%Y')}" if when else "các doanh nghiệp khác đã bị thu hồi"
                how_en = f"verified on {_date_en(when)}" if when else "every other holder was revoked"
                out[r.recruiter_id] = _reason(
                    "duplicate_licence_no",
                    f"Doanh nghiệp {r.name} dùng số giấy phép {r.licence_no} của doanh nghiệp {genuine.name} "
                    f"({genuine.recruiter_id}, {how_vi}): bị chặn vì mượn hoặc giả giấy phép",
                    f"{r.name} uses licence number {r.licence_no} of {genuine.name} ({genuine.recruiter_id}, "
                    f"{how_en}): blocked as a borrowed or forged licence",
                    "L69 Art 7(5)", normalised=key, shared_with=(genuine.recruiter_id,), genuine=genuine.recruiter_id)
                continue
            others = tuple(sorted(x.recruiter_id for x in group if x is not r))
            shown = ", ".join(others)
            out[r.recruiter_id] = _reason(
                "duplicate_licence_no",
                f"Số giấy phép {r.licence_no} trùng với doanh nghiệp {shown}: ít nhất một giấy phép là giả, "
                "tạm ngừng cả hai cho đến khi quản trị viên xác minh với danh sách của cơ quan quản lý",
                f"Licence number {r.licence_no} is also held by {shown}: at least one is forged; "
                "both are held out until an administrator verifies one against the regulator's list",
                "L69 Art 7(5)", normalised=key, shared_with=others)
    for o, key, others in _sharing(orders, lambda o: o.approval_no, lambda o: o.order_id):
        shown = ", ".join(others)
        out.setdefault(o.order_id, _reason(
            "duplicate_approval_no",
            f"Số chấp thuận {o.approval_no} trùng với đơn hàng {shown}: ít nhất một đơn hàng là giả, "
            "tạm ngừng cả hai cho đến khi quản trị viên xác nhận",
            f"Approval number {o.approval_no} is also on order {shown}: at least one is forged; "
            "both are held out until an administrator confirms",
            "L69 Art 20", normalised=key, shared_with=others))
    return out


# A name this close to a verified enterprise's (matcher.text.name_similarity of the distinctive
# parts) is a look-alike sign (DOMAIN.md, fraud sign 3): shown, never blocking on its own.
LOOK_ALIKE_SIMILARITY = 0.85


def website_host(url: str | None) -> str:
    """The host of a website address, lower case, without "www." ("" when none is given)."""
    text = (url or "").strip().lower()
    if not text:
        return ""
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    host = re.split(r"[/?#:]", text, maxsplit=1)[0].strip(".")
    return host[4:] if host.startswith("www.") else host


def find_look_alikes(recruiters: Iterable[Recruiter]) -> dict[str, list[Reason]]:
    """Look-alike signs per recruiter id (DOMAIN.md, fraud sign 3), severity "warn":

    - ``look_alike_name``: an enterprise not itself verified whose name is the same or nearly
      the same (:data:`LOOK_ALIKE_SIMILARITY`) as a verified enterprise's (``licence_verified_on``);
    - ``website_not_vn``: a website outside the .vn domain, which a licensed enterprise must
      have [L69 Art 10].
    Public bodies are judged like anyone else: theirs end in .gov.vn.
    """
    recruiters = list(recruiters)
    verified = [r for r in recruiters if getattr(r, "licence_verified_on", None)]
    out: dict[str, list[Reason]] = {}
    for r in recruiters:
        signs: list[Reason] = []
        if not getattr(r, "licence_verified_on", None):
            for v in verified:
                if v.recruiter_id == r.recruiter_id:
                    continue
                similarity = name_similarity(r.name, v.name)
                if similarity >= LOOK_ALIKE_SIMILARITY:
                    signs.append(_reason(
                        "look_alike_name",
                        f"Tên «{r.name}» gần giống tên doanh nghiệp đã xác minh «{v.name}» ({v.recruiter_id}, "
                        f"số giấy phép {v.licence_no}): dấu hiệu mạo danh, hãy đối chiếu trước khi giới thiệu",
                        f"The name '{r.name}' is close to that of the verified enterprise '{v.name}' "
                        f"({v.recruiter_id}, licence {v.licence_no}): a look-alike sign, check before referring anyone",
                        look_alike_of=v.recruiter_id, similarity=round(similarity, 3)))
                    break
        host = website_host(getattr(r, "website", None))
        if host and not (host == "vn" or host.endswith(".vn")):
            signs.append(_reason(
                "website_not_vn",
                f"Trang web {host} không thuộc tên miền .vn, trong khi doanh nghiệp được cấp phép phải có trang web .vn",
                f"The website {host} is outside the .vn domain, which a licensed enterprise must have",
                "L69 Art 10", website=host))
        if signs:
            out[r.recruiter_id] = signs
    return out


def _sharing(items, code_of, id_of):
    """(item, normalised code, ids of the others) for every item whose code another item shares."""
    groups: dict[str, list] = defaultdict(list)
    for item in items:
        key = normalise_id_code(code_of(item))
        if key:
            groups[key].append(item)
    for key, group in groups.items():
        ids = sorted({id_of(i) for i in group})
        if len(ids) < 2:
            continue
        for item in group:
            yield item, key, tuple(i for i in ids if i != id_of(item))


# ---------------------------------------------------------------------------------------------
# worker gates

def _edu(level: str, lang: str = "vi") -> str:
    return EDUCATION.phrase(level, lang)


def _gender(code: str, lang: str = "vi") -> str:
    return GENDERS.phrase(code, lang)


def _worker_certificates(worker: Worker) -> list[Certificate]:
    return [Certificate.from_entity(c) for c in (worker.certificates or [])]


def _experience_years(worker: Worker) -> float:
    total = 0.0
    for item in worker.experience or []:
        try:
            total += float(item.get("years") or 0) if isinstance(item, Mapping) else 0.0
        except (TypeError, ValueError):
            continue
    return total


def _have_phrase(c: Certificate | None) -> tuple[str, str]:
    """("hiện có JLPT N5", "has JLPT N5") or ("chưa có chứng chỉ", "has no certificate")."""
    if c is None:
        return "chưa có chứng chỉ", "has no certificate"
    return f"hiện có {c.name}", f"has {c.name}"


def _language_reasons(a: LanguageAssessment) -> list[Reason]:
    if a.status in ("ok", "none_required"):
        return []
    need = a.requirement.name if a.requirement is not None else ""
    have_vi, have_en = _have_phrase(a.best_cert)
    if a.eps:
        need_score = _num_en(a.need_score or 80)
        common_vi = ("Chương trình EPS (E-9) chỉ tuyển người có kết quả EPS-TOPIK đạt còn hiệu lực (2 năm); "
                     "chứng chỉ TOPIK thông thường không thay thế được")
        common_en = ("Korea's EPS (E-9) selects only workers with a valid EPS-TOPIK pass (2 years); "
                     "a general TOPIK certificate does not replace it")
        next_vi = "Hãy đăng ký kỳ thi EPS-TOPIK tiếp theo."
        next_en = "Register for the next EPS-TOPIK round."
        if a.reason_code == "eps_topik_expired" and a.expired_on is not None:
            vi = f"Kết quả EPS-TOPIK {_num_vi(a.have_score or 0)} điểm đã hết hiệu lực từ ngày {_date_vi(a.expired_on)}. {common_vi}. {next_vi}"
            en = f"The EPS-TOPIK result of {_num_en(a.have_score or 0)} points expired on {_date_en(a.expired_on)}. {common_en}. {next_en}"
        elif a.reason_code == "eps_topik_undated":
            vi = (f"Kết quả EPS-TOPIK {_num_vi(a.have_score or 0)} điểm không ghi ngày thi nên không xác định được còn hiệu lực; "
                  f"hãy bổ sung ngày thi. {common_vi}.")
            en = (f"The EPS-TOPIK result of {_num_en(a.have_score or 0)} points has no test date, so its validity cannot be shown; "
                  f"record the test date. {common_en}.")
        elif a.reason_code == "eps_topik_score_low":
            vi = f"Điểm EPS-TOPIK {_num_vi(a.have_score or 0)} thấp hơn mức yêu cầu {need_score} điểm. {common_vi}. {next_vi}"
            en = f"EPS-TOPIK score {_num_en(a.have_score or 0)} is below the required {need_score} points. {common_en}. {next_en}"
        else:
            vi = f"Cần kết quả EPS-TOPIK từ {need_score} điểm, {have_vi}. {common_vi}. {next_vi}"
            en = f"Needs an EPS-TOPIK result of {need_score} points or more, {have_en}. {common_en}. {next_en}"
        return [_reason("eps_topik_required", vi, en, "", assessment=a.reason_code,
                        need_score=a.need_score, have_score=a.have_score)]
    if a.status == "gap":
        return [_reason("language_gap",
                        f"Cần {need}, {have_vi}: cần khoảng {a.training_months} tháng đào tạo ngoại ngữ",
                        f"Needs {need}, {have_en}: about {a.training_months} months of language training",
                        need_level=a.need_level, have_level=a.have_level, training_months=a.training_months)]
    return [_reason("language_fail",
                    f"Cần {need}, {have_vi}: thiếu {a.gap} bậc, quá xa để đào tạo kịp trước khi xuất cảnh",
                    f"Needs {need}, {have_en}: {a.gap} levels short, too far to train before departure",
                    need_level=a.need_level, have_level=a.have_level)]


def _gender_education_reasons(worker: Worker, order: JobOrder) -> list[Reason]:
    """The order's gender and minimum education against the profile's, named as the forms name
    them ("nữ", "THPT")."""
    out: list[Reason] = []
    wanted = (order.gender or "any").strip().lower()
    if wanted in ("male", "female"):
        g = (worker.gender or "").strip().lower()
        if not g:
            out.append(_reason("gender_unknown",
                               f"Đơn hàng tuyển lao động {_gender(wanted)}; hồ sơ chưa ghi giới tính",
                               f"The order asks for {_gender(wanted, 'en')} workers; the profile records no gender"))
        elif g != wanted:
            out.append(_reason("gender_mismatch",
                               f"Đơn hàng tuyển lao động {_gender(wanted)}; hồ sơ ghi giới tính {_gender(g)}",
                               f"The order asks for {_gender(wanted, 'en')} workers; the profile records {_gender(g, 'en')}",
                               gender=g, wanted=wanted))

    need_edu = (order.min_education or "none").strip().lower()
    if education_rank(need_edu) > 0:
        have_edu = (worker.education or "").strip().lower()
        if not have_edu:
            out.append(_reason("education_unknown",
                               f"Đơn hàng yêu cầu trình độ {_edu(need_edu)}; hồ sơ chưa ghi trình độ học vấn",
                               f"The order requires {_edu(need_edu, 'en')} education; the profile records none"))
        elif education_rank(have_edu) < education_rank(need_edu):
            out.append(_reason("education_below_min",
                               f"Trình độ {_edu(have_edu)} thấp hơn yêu cầu {_edu(need_edu)}",
                               f"Education {_edu(have_edu, 'en')} is below the required {_edu(need_edu, 'en')}",
                               education=have_edu, min_education=need_edu))
    return out


def worker_gates(
    worker: Worker,
    order: JobOrder,
    day: dt.date,
    certificates: Sequence[Certificate] | None = None,
) -> list[Reason]:
    """Every reason why ``worker`` is not (or not yet) eligible for ``order``.

    Age is taken at the order's deadline (FORMAT.md: "whole years at the application deadline"),
    or on ``day`` without one. ``certificates`` defaults to the worker's stored certificates.
    Language: :func:`matcher.languages.assess` on ``day``. Experience is soft (a "gap"): the
    score weighs how relevant it is.
    """
    out: list[Reason] = []
    if not is_active_worker(worker):
        out.append(_reason("worker_inactive", "Hồ sơ người lao động không còn hoạt động", "The worker's profile is inactive"))

    ref = order.deadline or day
    age = worker.age_on(ref)
    at_vi, at_en = _date_vi(ref), _date_en(ref)
    # Workers are citizens aged 18 or more [L69 Art 3(1)]; the supply contract states the age range [L69 Art 19(2)]
    if age < 18:
        out.append(_reason("age_below_legal_min",
                           f"Người lao động {age} tuổi vào ngày {at_vi}, chưa đủ 18 tuổi",
                           f"The worker is {age} on {at_en}, under 18", "L69 Art 3(1)", age=age))
    if order.min_age is not None and age < order.min_age:
        out.append(_reason("age_below_min",
                           f"Người lao động {age} tuổi vào ngày {at_vi}, dưới độ tuổi tối thiểu {order.min_age}",
                           f"The worker is {age} on {at_en}, below the minimum age of {order.min_age}",
                           "L69 Art 19(2)", age=age, min_age=order.min_age))
    if order.max_age is not None and age > order.max_age:
        out.append(_reason("age_above_max",
                           f"Người lao động {age} tuổi vào ngày {at_vi}, quá độ tuổi tối đa {order.max_age}",
                           f"The worker is {age} on {at_en}, above the maximum age of {order.max_age}",
                           "L69 Art 19(2)", age=age, max_age=order.max_age))

    out.extend(_gender_education_reasons(worker, order))

    if order.min_experience_years:
        years = _experience_years(worker)
        if years < order.min_experience_years:
            out.append(_reason("experience_short",
                               f"Kinh nghiệm ghi nhận {_num_vi(years)} năm, đơn hàng yêu cầu {_num_vi(order.min_experience_years)} năm",
                               f"Recorded experience {_num_en(years)} years, the order asks for {_num_en(order.min_experience_years)}",
                               years=years, min_years=order.min_experience_years))

    try:
        requirement = parse_requirement(order.language_requirement)
    except CertificateError as exc:
        out.append(_reason("language_requirement_unreadable",
                           f"Không đọc được yêu cầu ngoại ngữ “{order.language_requirement}” của đơn hàng",
                           f"The order's language requirement “{order.language_requirement}” cannot be read: {exc.problem}"))
        requirement = None
    certs = list(certificates) if certificates is not None else _worker_certificates(worker)
    out.extend(_language_reasons(assess(certs, requirement, day, order.programme)))

    if worker.available_from is not None and order.departure_date is not None and worker.available_from > order.departure_date:
        out.append(_reason("available_after_departure",
                           f"Người lao động chỉ sẵn sàng từ ngày {_date_vi(worker.available_from)}, sau ngày xuất cảnh dự kiến {_date_vi(order.departure_date)}",
                           f"The worker is available only from {_date_en(worker.available_from)}, after the expected departure on {_date_en(order.departure_date)}"))
    return out


def consent_gate(worker: Worker) -> list[Reason]:
    """For the recruiter's view: a worker who did not agree to share the profile is never shown
    (DESIGN.md; personal data are processed only with the subject's consent [Decree 13/2023/ND-CP Art 11])."""
    if worker.consent_share:
        return []
    return [_reason("no_consent", "Người lao động chưa đồng ý chia sẻ hồ sơ với doanh nghiệp",
                    "The worker has not agreed to share the profile with recruiters", "D13 Art 11")]
