"""The centre's figures, one function per figure, each taking a session and a date range.

Used by the dashboard and meant for reports later. The province's targets come from Plan
1244/KH-UBND (Cao Bang, 2023): more than 150 workers abroad a year; 100% of them with basic
training in the receiving market's language; 15% with advanced training and high skill.
All dates are inclusive; ``end`` is usually today.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from matcher.rules import NOT_OPEN_CODES
from data.repo import exchange_rates
from models import AfterDeparture, Application, JobOrder, Recruiter, StageEvent, Worker, formatting

TARGET_DEPARTURES = 150  # a year [Plan 1244/KH-UBND]
TARGET_BASIC_SHARE = 1.00
TARGET_ADVANCED_SHARE = 0.15

# Short names of the blocking reasons (matcher.rules.REASON_CODES) for the tables.
REASON_LABELS: dict[str, tuple[str, str]] = {
    "no_recruiter": ("Không rõ doanh nghiệp", "Unknown enterprise"),
    "unlicensed": ("Không có giấy phép", "Unlicensed"),
    "licence_suspended": ("Giấy phép bị đình chỉ", "Licence suspended"),
    "licence_revoked": ("Giấy phép bị thu hồi", "Licence revoked"),
    "duplicate_licence_no": ("Trùng số giấy phép", "Duplicate licence number"),
    "duplicate_approval_no": ("Trùng số chấp thuận", "Duplicate approval number"),
    "no_approval": ("Chưa được chấp thuận", "No approval"),
    "service_fee_over_cap": ("Tiền dịch vụ vượt mức trần", "Service fee over the cap"),
    "brokerage_fee": ("Thu tiền môi giới", "Brokerage fee"),
    "deposit_over_cap": ("Ký quỹ vượt mức trần", "Deposit over the cap"),
    "wage_below_market_floor": ("Lương dưới mức sàn", "Wage below the floor"),
    "prohibited_job": ("Nghề bị cấm", "Prohibited job"),
    "prohibited_area": ("Khu vực bị cấm", "Prohibited area"),
    "seasonal_private_sender": ("Thời vụ qua doanh nghiệp tư nhân", "Seasonal work via a private sender"),
}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def start_dt(self) -> dt.datetime:
        """Inclusive lower bound of the stored (UTC) times: midnight of ``start`` in Cao Bằng."""
        return formatting.utc_at_local(self.start)

    @property
    def end_dt(self) -> dt.datetime:
        """Exclusive upper bound: midnight after ``end`` in Cao Bằng, in UTC."""
        return formatting.utc_at_local(self.end + dt.timedelta(days=1))

    @classmethod
    def year_to_date(cls, day: dt.date) -> "Period":
        return cls(dt.date(day.year, 1, 1), day)


def _workers_reaching(s: Session, stage: str, period: Period) -> set[str]:
    """Distinct workers whose application entered ``stage`` within the period."""
    rows = s.execute(
        select(Application.worker_id)
        .join(StageEvent, StageEvent.application_id == Application.id)
        .where(StageEvent.to_stage == stage, StageEvent.at >= period.start_dt, StageEvent.at < period.end_dt)
        .distinct()
    )
    return {r[0] for r in rows}


def placements(s: Session, period: Period) -> dict:
    """Workers selected (placed) and departed within the period, against the yearly target."""
    placed = _workers_reaching(s, "selected", period)
    departed = _workers_reaching(s, "departed", period)
    return {
        "placed": len(placed | departed),
        "departed": len(departed),
        "target": TARGET_DEPARTURES,
        "share_of_target": len(departed) / TARGET_DEPARTURES,
    }


# The rule behind the 100% and 15% indicators, shown on every page that shows them.
TRAINING_RULE = (
    "Tính trên người đã xuất cảnh trong kỳ (nếu chưa có ai, trên người đã trúng tuyển). Đạt «đào tạo ngoại "
    "ngữ cơ bản» khi có ít nhất một khóa ngoại ngữ đã hoàn thành bằng ngôn ngữ của thị trường (ngôn ngữ đơn "
    "hàng yêu cầu, hoặc ngôn ngữ chính của nước đến); đạt «đào tạo nâng cao» khi hoàn thành một khóa bậc nâng "
    "cao (ngoại ngữ của thị trường hoặc kỹ năng nghề). Người chưa có hồ sơ đào tạo nào được tính theo mức "
    "khai báo trên hồ sơ (cơ bản / nâng cao) và được đếm riêng.",
    "Counted over the workers who departed in the period (when none has yet, those selected). «Basic "
    "language training»: at least one completed language course in the market's language (the language "
    "the order requires, else the destination's main language); «advanced training»: a completed "
    "advanced-tier course (the market's language or a trade skill). Workers with no training record at all "
    "count at the level declared on their profile (basic / advanced), shown separately.",
)


def reached_with_orders(s: Session, stage: str, period: Period) -> dict[str, list[JobOrder]]:
    """Workers whose application entered ``stage`` within the period, with those orders."""
    rows = s.execute(
        select(Application.worker_id, JobOrder)
        .join(StageEvent, StageEvent.application_id == Application.id)
        .join(JobOrder, JobOrder.order_id == Application.order_id)
        .where(StageEvent.to_stage == stage, StageEvent.at >= period.start_dt, StageEvent.at < period.end_dt)
    ).all()
    out: dict[str, list[JobOrder]] = {}
    for wid, order in rows:
        if order not in out.setdefault(wid, []):
            out[wid].append(order)
    return out


def market_languages(order: JobOrder) -> set[str]:
    """The languages a course may be in to count as training for ``order``'s market: the one
    its requirement names and the destination's main language."""
    from matcher.languages import language_of_country
    from models.languages import CertificateError, parse_requirement

    out = set()
    try:
        req = parse_requirement(order.language_requirement) if order.language_requirement else None
    except CertificateError:
        req = None
    if req is not None and req.language:
        out.add(req.language)
    main = language_of_country(order.country)
    if main:
        out.add(main)
    return out


@dataclass(frozen=True)
class Trained:
    """One worker's standing against the two training targets, and where it comes from."""

    basic: bool
    advanced: bool
    source: str  # "records" (the centre's training records) or "declared" (the profile's field)


def training_standing(s: Session, markets: dict[str, set[str]]) -> dict[str, Trained]:
    """:data:`TRAINING_RULE` for the workers in ``markets`` (worker id -> the languages of the
    markets they go to). The one place the rule is applied: dashboard, period report, breakdowns."""
    from models import Enrolment, TrainingCourse

    ids = sorted(markets)
    if not ids:
        return {}
    records: dict[str, list[tuple[str, str, str | None, str]]] = {}
    for wid, status, kind, language, tier in s.execute(
        select(Enrolment.worker_id, Enrolment.status, TrainingCourse.kind, TrainingCourse.language, TrainingCourse.tier)
        .join(TrainingCourse, TrainingCourse.id == Enrolment.course_id)
        .where(Enrolment.worker_id.in_(ids))
    ):
        records.setdefault(wid, []).append((status, kind, language, tier))
    declared = dict(s.execute(select(Worker.worker_id, Worker.language_training).where(Worker.worker_id.in_(ids))).all())
    out = {}
    for wid in ids:
        langs = markets[wid]
        if wid in records:
            done = [(kind, lang, tier) for status, kind, lang, tier in records[wid] if status == "completed"]
            in_market = [tier for kind, lang, tier in done if kind == "language" and (not langs or lang in langs)]
            skilled = [tier for kind, _, tier in done if kind == "skill"]
            out[wid] = Trained(bool(in_market), "advanced" in in_market + skilled, "records")
        else:
            level = declared.get(wid) or "none"
            out[wid] = Trained(level in ("basic", "advanced"), level == "advanced", "declared")
    return out


def language_training(s: Session, period: Period) -> dict:
    """Share of the workers who departed in the period (or, if none did yet, of those placed)
    with basic language training and with advanced training (:data:`TRAINING_RULE`), against
    the targets 100% and 15%."""
    basis = "departed"
    reached = reached_with_orders(s, "departed", period)
    if not reached:
        basis = "placed"
        reached = reached_with_orders(s, "selected", period)
    markets = {wid: set().union(*(market_languages(o) for o in orders)) for wid, orders in reached.items()}
    standing = training_standing(s, markets)
    total = len(standing)
    basic = sum(1 for x in standing.values() if x.basic)
    advanced = sum(1 for x in standing.values() if x.advanced)
    return {
        "basis": basis,
        "total": total,
        "basic_or_more": basic,
        "advanced": advanced,
        "share_basic": basic / total if total else None,
        "share_advanced": advanced / total if total else None,
        "target_basic": TARGET_BASIC_SHARE,
        "target_advanced": TARGET_ADVANCED_SHARE,
        "from_records": sum(1 for x in standing.values() if x.source == "records"),
        "declared": sum(1 for x in standing.values() if x.source == "declared"),
        "rule": TRAINING_RULE,
    }


def _gates(s: Session, day: dt.date, orders: list[JobOrder]) -> dict[str, list]:
    """Blocking reasons per order on ``day`` (the same gates the engine applies)."""
    from matcher.orderbook import OrderBook

    recruiters = s.scalars(select(Recruiter).options(selectinload(Recruiter.status_history))).all()
    everything = {o.order_id: o for o in s.scalars(select(JobOrder))} | {o.order_id: o for o in orders}
    book = OrderBook(recruiters, everything.values(), exchange_rates(s))
    return {o.order_id: [r for r in book.order_reasons(o.order_id, day) if r.severity == "block"] for o in orders}


def _orders(s: Session, statuses: tuple[str, ...]) -> list[JobOrder]:
    return list(
        s.scalars(
            select(JobOrder)
            .where(JobOrder.status.in_(statuses))
            .options(selectinload(JobOrder.recruiter).selectinload(Recruiter.status_history))
            .order_by(JobOrder.order_id)
        )
    )


def open_places(s: Session, period: Period) -> dict:
    """Places left on the orders open and legal on the period's last day, by destination
    country and by occupation (the vocabulary's trade named in the title, else the title)."""
    from matcher.vocabulary import occupation_name

    orders = _orders(s, ("open",))
    gates = _gates(s, period.end, orders)
    by_country: Counter = Counter()
    by_occupation: Counter = Counter()
    for o in orders:
        if gates[o.order_id] or o.places_left <= 0:
            continue
        by_country[o.country] += o.places_left
        name = occupation_name(o.title) or " ".join((o.title or "").split())
        by_occupation[name[:1].upper() + name[1:]] += o.places_left
    return {
        "total": sum(by_country.values()),
        "by_country": by_country.most_common(),
        "by_occupation": by_occupation.most_common(15),
    }


def applicants(s: Session, period: Period) -> dict:
    """Active workers registered by the end of the period, by commune, ethnic group, gender
    and whether they live in an especially disadvantaged commune."""
    rows = s.execute(
        select(Worker.commune, Worker.ethnicity, Worker.gender, Worker.disadvantaged_commune).where(
            and_(Worker.in_pool(), Worker.created_at < period.end_dt)
        )
    ).all()
    commune, ethnicity, gender, disadvantaged = Counter(), Counter(), Counter(), Counter()
    for c, e, g, d in rows:
        commune[c or "—"] += 1
        ethnicity[e or "—"] += 1
        gender[g or "—"] += 1
        disadvantaged["yes" if d else ("no" if d is False else "unknown")] += 1
    return {
        "total": len(rows),
        "by_commune": commune.most_common(15),
        "by_ethnicity": ethnicity.most_common(),
        "by_gender": gender.most_common(),
        "by_disadvantaged": disadvantaged.most_common(),
    }


def blocked_orders(s: Session, period: Period) -> dict:
    """Orders held out of every ranking on the period's last day for a legal reason (not
    merely closed or full), counted by reason and by enterprise."""
    orders = _orders(s, ("open", "draft"))
    gates = _gates(s, period.end, orders)
    by_reason: Counter = Counter()
    by_enterprise: Counter = Counter()
    count = 0
    for o in orders:
        legal = [r for r in gates[o.order_id] if r.code not in NOT_OPEN_CODES]
        if not legal:
            continue
        count += 1
        for code in sorted({r.code for r in legal}):
            by_reason[code] += 1
        by_enterprise[o.recruiter.name if o.recruiter else o.recruiter_id] += 1
    return {
        "total": count,
        "by_reason": [(code, *REASON_LABELS.get(code, (code, code)), n) for code, n in by_reason.most_common()],
        "by_enterprise": by_enterprise.most_common(15),
    }


def count_workers(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(Worker)) or 0


# after departure (web.views.aftercare)


def contracts_ending(s: Session, day: dt.date, months: int = 12) -> list[tuple[dt.date, int]]:
    """(first day of the month, contracts ending that month) over the next ``months``, for the
    workers still abroad: the returns to prepare reintegration for."""
    end = dt.date(day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1, 1)
    rows = s.execute(select(AfterDeparture.contract_end).join(Application, Application.id == AfterDeparture.application_id)
                     .where(AfterDeparture.returned_on.is_(None), AfterDeparture.contract_end >= day,
                            AfterDeparture.contract_end < end)).scalars().all()
    counts: dict[dt.date, int] = {}
    for d in rows:
        m = dt.date(d.year, d.month, 1)
        counts[m] = counts.get(m, 0) + 1
    return sorted(counts.items())


def early_returns(s: Session, start: dt.date, end: dt.date) -> dict:
    """Returns recorded in the period: at term, early by reason, and by enterprise (early ones)."""
    rows = s.execute(select(AfterDeparture.return_kind, AfterDeparture.early_reason, JobOrder.recruiter_id)
                     .join(Application, Application.id == AfterDeparture.application_id)
                     .join(JobOrder, JobOrder.order_id == Application.order_id)
                     .where(AfterDeparture.returned_on >= start, AfterDeparture.returned_on <= end)).all()
    by_reason: dict[str, int] = {}
    by_enterprise: dict[str, int] = {}
    at_term = 0
    for kind, reason, rid in rows:
        if kind == "early":
            by_reason[reason or "other"] = by_reason.get(reason or "other", 0) + 1
            by_enterprise[rid] = by_enterprise.get(rid, 0) + 1
        else:
            at_term += 1
    return {"at_term": at_term, "early": sum(by_reason.values()), "by_reason": sorted(by_reason.items(), key=lambda x: -x[1]),
            "by_enterprise": sorted(by_enterprise.items(), key=lambda x: -x[1])}


def abroad_count(s: Session) -> int:
    return s.scalar(select(func.count(Application.id)).outerjoin(AfterDeparture, AfterDeparture.application_id == Application.id)
                    .where(Application.stage == "departed", AfterDeparture.returned_on.is_(None))) or 0
