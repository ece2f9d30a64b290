"""Synthetic history of the centre's pipeline: past orders, applications and stage events.

Two layers, both deterministic for a seed (``numpy.random.default_rng(seed)``):

* :func:`simulate` draws applications as plain :class:`Trajectory` records from a process whose
  parameters are known (:class:`Process`): new applications per month follow a Poisson law with
  a yearly growth and month-of-year factors (Tết in February is slow); each application moves
  suggested -> shortlisted -> sent -> interviewed -> selected -> departed, advancing from each
  stage with a fixed probability after a gamma-distributed wait (the same wait whether it advances
  or is rejected / withdrawn). The truth -- departures in any year -- is known, which is what
  the forecast is checked against.
* :func:`build` turns a simulated history into ORM objects next to a synthetic data set
  (:mod:`data.synthetic`): past orders (closed, cloned from its legal orders with their own
  approval numbers), ``Application`` rows on past and current orders with their ``StageEvent``
  rows, each worker departing at most once. :func:`save` adds them to a session.

Run as a script to add a history to a database that already holds synthetic data:
``python -m data.history --database sqlite:///demo.sqlite --today 2026-11-26``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from models import AfterDeparture, Application, Enrolment, JobOrder, StageEvent, TrainingCourse
from models.languages import CertificateError, parse_requirement
from models.reference import LANGUAGE_NAMES, LANGUAGE_OF_COUNTRY

log = logging.getLogger(__name__)

__all__ = ["History", "Process", "Schooling", "Trajectory", "build", "departures_in", "save", "simulate"]

PIPELINE = ("suggested", "shortlisted", "sent", "interviewed", "selected", "departed")


@dataclass(frozen=True)
class Trajectory:
    """The same shape as ``matcher.insights.Trajectory`` (data may not import matcher):
    the day an application was made and its stage events ``(stage, day)`` in time order."""

    created: dt.date
    events: tuple[tuple[str, dt.date], ...]


@dataclass(frozen=True)
class Process:
    """The parameters of the simulated pipeline (the known truth).

    ``per_month``: mean new applications per month at ``start``; ``growth``: multiplicative change
    per year; ``season``: factor per calendar month (1..12); ``advance``: probability of moving
    from each stage to the next; ``wait_mean`` / ``wait_shape``: gamma waits (days) in each stage;
    ``withdraw_share``: of those who do not advance, the share who withdraw (the rest are rejected).
    """

    per_month: float = 55.0
    growth: float = 1.10
    season: tuple[float, ...] = (1.0, 0.55, 1.15, 1.2, 1.1, 1.0, 0.9, 0.85, 1.05, 1.15, 1.1, 0.95)
    advance: tuple[float, ...] = (0.6, 0.75, 0.7, 0.6, 0.85)
    wait_mean: tuple[float, ...] = (8.0, 12.0, 20.0, 15.0, 100.0)
    wait_shape: tuple[float, ...] = (2.0, 2.0, 3.0, 3.0, 5.0)
    withdraw_share: float = 0.3

    @property
    def conversion(self) -> float:
        """Probability that an application ends in departure."""
        return float(np.prod(self.advance))


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    m = dt.date(start.year, start.month, 1)
    while m <= end:
        out.append(m)
        m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def _days_in(m: dt.date) -> int:
    nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return (nxt - m).days


def simulate(seed: int, start: dt.date, end: dt.date, process: Process | None = None) -> list[Trajectory]:
    """Applications made from ``start`` to ``end`` with their full futures (events may fall
    after ``end``: cut them with the forecast date). Sorted by creation day."""
    pr = process or Process()
    rng = np.random.default_rng(seed)
    out: list[Trajectory] = []
    for m in _months(start, end):
        years = ((m.year - start.year) * 12 + m.month - start.month) / 12.0
        mean = pr.per_month * pr.growth ** years * pr.season[m.month - 1]
        first = max(m, start)
        last = min(dt.date(m.year, m.month, _days_in(m)), end)
        mean *= ((last - first).days + 1) / _days_in(m)
        n = int(rng.poisson(mean))
        if n == 0:
            continue
        offsets = rng.integers(0, (last - first).days + 1, size=n)
        shape = np.asarray(pr.wait_shape)
        waits = np.maximum(1, np.rint(rng.gamma(shape, np.asarray(pr.wait_mean) / shape, size=(n, len(shape))))).astype(int)
        moves = rng.random((n, len(shape))) < np.asarray(pr.advance)
        withdraw = rng.random(n) < pr.withdraw_share
        for j in range(n):
            created = first + dt.timedelta(days=int(offsets[j]))
            events = [("suggested", created)]
            day = created
            for i in range(len(shape)):
                day = day + dt.timedelta(days=int(waits[j, i]))
                if moves[j, i]:
                    events.append((PIPELINE[i + 1], day))
                else:
                    events.append(("withdrawn" if withdraw[j] else "rejected", day))
                    break
            out.append(Trajectory(created, tuple(events)))
    out.sort(key=lambda t: t.created)
    return out


def departures_in(history: Sequence[Any], year: int) -> int:
    """Applications of ``history`` that departed in ``year`` (the truth a forecast aims at)."""
    return sum(1 for t in history for s, d in t.events if s == "departed" and d.year == year)


# ---------------------------------------------------------------------------------------------
# ORM objects next to a synthetic data set


@dataclass
class History:
    orders: list[JobOrder] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    process: Process = field(default_factory=Process)
    today: dt.date | None = None
    courses: list[TrainingCourse] = field(default_factory=list)


@dataclass(frozen=True)
class Schooling:
    """How the simulated centre trains its workers (the known truth of the demo's indicators):
    ``basic``: share of departing workers who completed a basic class in the market's language
    before leaving; ``advanced``: share who also completed an advanced class (the market's
    language or a trade skill); ``others``: share of the other applicants who took a basic class,
    of whom ``passed`` completed it (the rest failed or dropped out)."""

    basic: float = 0.93
    advanced: float = 0.17
    others: float = 0.45
    passed: float = 0.7


# Early returns in the simulated past: the share of departures, and the reasons' weights.
EARLY_RETURN_SHARE = 0.07
_EARLY_REASONS = {"health": 0.3, "family": 0.25, "unpaid_wages": 0.15, "ill_treatment": 0.1, "absconded": 0.1, "other": 0.1}


def _after_departure(apps: list[Application], orders: dict[str, JobOrder], today: dt.date,
                     rng: np.random.Generator) -> None:
    """Arrival, contract end and return of every simulated departure: back at term when the
    contract has ended by ``today``, early (:data:`EARLY_RETURN_SHARE`, with a reason) otherwise."""
    reasons, weights = list(_EARLY_REASONS), np.asarray(list(_EARLY_REASONS.values()))
    for app in apps:
        gone = next((e.at.date() for e in app.events if e.to_stage == "departed"), None)
        order = orders.get(app.order_id)
        if gone is None or order is None:
            continue
        arrived = gone + dt.timedelta(days=int(rng.integers(1, 4)))
        end = arrived + dt.timedelta(days=int(30.44 * (order.contract_months or 36)))
        rec = AfterDeparture(arrived_on=min(arrived, today), contract_end=end, by="history")
        if rng.random() < EARLY_RETURN_SHARE:
            back = arrived + dt.timedelta(days=int(rng.integers(30, max(31, (end - arrived).days))))
            if back <= today:
                rec.returned_on, rec.return_kind = back, "early"
                rec.early_reason = str(rng.choice(reasons, p=weights / weights.sum()))
        elif end <= today:
            rec.returned_on, rec.return_kind = end, "at_term"
        app.after = rec


def _market_language(order: JobOrder) -> str:
    try:
        req = parse_requirement(order.language_requirement) if order.language_requirement else None
    except CertificateError:
        req = None
    return (req.language if req is not None and req.language else None) or LANGUAGE_OF_COUNTRY.get(
        (order.country or "").upper(), "en")


def _training(apps: list[Application], orders: dict[str, JobOrder], workers: dict[str, Any], today: dt.date,
              rng: np.random.Generator, school: Schooling) -> list[TrainingCourse]:
    """Classes of the simulated past (one per language, tier and quarter) and the enrolments of
    the applicants, finishing before each one's departure or interview. A completed class raises
    the worker's declared ``language_training`` as the web app does."""
    courses: dict[tuple[str, str, str, int, int], TrainingCourse] = {}  # one class per month and kind
    enrolled: set[tuple[int, str]] = set()

    def course(kind: str, lang: str | None, tier: str, end: dt.date) -> TrainingCourse:
        key = (kind, lang or "", tier, end.year, end.month)
        if key not in courses:
            last = min(dt.date(end.year, end.month, 28), today)
            name = (f"{LANGUAGE_NAMES.get(lang or '', (lang or '',))[0]} {'nâng cao' if tier == 'advanced' else 'cơ bản'}"
                    if kind == "language" else "Kỹ năng nghề nâng cao (thi tay nghề)")
            courses[key] = TrainingCourse(
                name=f"{name} – khóa {end.month:02d}/{end.year}", kind=kind, language=lang, tier=tier,
                target_level=None, provider="Trung tâm Dịch vụ việc làm tỉnh Cao Bằng",
                start_date=last - dt.timedelta(days=90), end_date=last, created_by="history",
                created_at=dt.datetime.combine(last - dt.timedelta(days=100), dt.time(9)))
        return courses[key]

    rank = ("none", "basic", "advanced")

    def enrol(c: TrainingCourse, wid: str, status: str) -> None:
        if (id(c), wid) in enrolled:
            return
        enrolled.add((id(c), wid))
        c.enrolments.append(Enrolment(worker_id=wid, status=status, enrolled_on=c.start_date,
                                      completed_on=c.end_date if status in ("completed", "failed") else None,
                                      by="history"))
        w = workers.get(wid)
        if status == "completed" and c.kind == "language" and w is not None and \
                rank.index(c.tier) > rank.index(w.language_training or "none"):
            w.language_training = c.tier

    for app in apps:
        entered = {e.to_stage: e.at.date() for e in app.events}
        order = orders.get(app.order_id)
        if order is None:
            continue
        lang = _market_language(order)
        if "departed" in entered:
            end = entered["departed"] - dt.timedelta(days=int(rng.integers(40, 100)))  # class ends >= 12 days before
            if rng.random() < school.basic:
                enrol(course("language", lang, "basic", end), app.worker_id, "completed")
            if rng.random() < school.advanced:
                kind = "language" if rng.random() < 0.6 else "skill"
                enrol(course(kind, lang if kind == "language" else None, "advanced", end), app.worker_id, "completed")
        elif rng.random() < school.others:
            end = min(app.created_at.date() + dt.timedelta(days=int(rng.integers(30, 120))), today)
            status = "completed" if rng.random() < school.passed else str(rng.choice(["failed", "dropped"]))
            enrol(course("language", lang, "basic", end), app.worker_id, status)
    return list(courses.values())


_CLONED = ("title", "description", "country", "programme", "required_skills", "language_requirement", "min_age",
           "max_age", "gender", "min_education", "min_experience_years", "monthly_wage", "wage_currency",
           "contract_months", "service_fee_vnd", "brokerage_fee_vnd", "deposit_vnd")


def _past_orders(templates: list[JobOrder], start: dt.date, today: dt.date, pr: Process,
                 rng) -> tuple[list[JobOrder], dict[tuple[int, int], list[JobOrder]]]:
    """Closed orders of the past months, cloned from ``templates``, and the same by month."""
    # per month, about one per 12 expected applications, each with 3-20 places.
    orders: list[JobOrder] = []
    by_month: dict[tuple[int, int], list[JobOrder]] = {}
    n = 0
    for m in _months(start, today):
        yrs = (m.year - start.year) + (m.month - 1) / 12.0
        k = max(1, int(rng.poisson(pr.per_month * pr.growth ** yrs * pr.season[m.month - 1] / 12.0)))
        for _ in range(k):
            n += 1
            t = templates[int(rng.integers(len(templates)))]
            approved = m + dt.timedelta(days=int(rng.integers(0, _days_in(m))))
            if approved > today:
                approved = today
            o = JobOrder(
                order_id=f"H{approved.year}-{n:04d}", recruiter_id=t.recruiter_id,
                **{c: getattr(t, c) for c in _CLONED},
                positions=int(rng.integers(3, 21)), places_filled=0,
                approval_no=f"H{n:04d}/{approved.year}/DOLAB-CB", approval_date=approved,
                deadline=approved + dt.timedelta(days=60), departure_date=approved + dt.timedelta(days=180),
                status="closed", extra={"synthetic_history": True},
                created_at=dt.datetime.combine(approved, dt.time(9)),
                updated_at=dt.datetime.combine(approved, dt.time(9)),
            )
            orders.append(o)
            by_month.setdefault((m.year, m.month), []).append(o)

    return orders, by_month


def build(data: Any, seed: int = 1244, years: int = 3, process: Process | None = None,
          today: dt.date | None = None, schooling: Schooling | None = None) -> History:
    """Past orders and applications for ``data`` (a ``data.synthetic.SyntheticData``) over the
    ``years`` before ``today`` (default ``data.today``). Events after ``today`` are dropped, so
    the applications still open on ``today`` are the current pipeline. Each application gets a
    worker who has no application to the same order and has not departed before. Training
    classes and enrolments follow (:class:`Schooling`): the workers' declared
    ``language_training`` rises with the classes they completed, so build before saving ``data``.
    """
    pr = process or Process()
    today = today or data.today
    start = dt.date(today.year - years, 1, 1)
    sims = simulate(seed, start, today, pr)
    rng = np.random.default_rng(seed + 1)
    excluded = set(getattr(data.truth, "excluded", {}) or {})
    templates = [o for o in data.orders if o.order_id not in excluded]
    current = [o for o in templates if o.status == "open"]
    if not templates or not data.workers:
        return History(process=pr, today=today)

    orders, by_month = _past_orders(templates, start, today, pr, rng)

    workers = sorted(data.workers, key=lambda w: w.worker_id)
    departed: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    apps: list[Application] = []
    for sim in sims:
        # an order posted in the application's month or the two before; the current ones late on
        pool: list[JobOrder] = []
        for back in range(3):
            y, mo = sim.created.year, sim.created.month - back
            while mo < 1:
                y, mo = y - 1, mo + 12
            pool += by_month.get((y, mo), [])
        if (today - sim.created).days < 90:
            pool += current
        if not pool:
            continue
        order = pool[int(rng.integers(len(pool)))]
        wid = None
        for _ in range(20):
            w = workers[int(rng.integers(len(workers)))]
            if w.worker_id not in departed and (w.worker_id, order.order_id) not in pairs:
                wid = w.worker_id
                break
        if wid is None:
            continue
        events = [e for e in sim.events if e[1] <= today]
        if any(s == "departed" for s, _ in events):
            departed.add(wid)
            order.places_filled = min(order.positions, (order.places_filled or 0) + 1)
        pairs.add((wid, order.order_id))
        at = dt.datetime.combine(sim.created, dt.time(8))
        app = Application(worker_id=wid, order_id=order.order_id, stage=events[-1][0], created_by="history",
                          created_at=at, updated_at=dt.datetime.combine(events[-1][1], dt.time(10)),
                          note="synthetic history")
        prev = None
        for i, (stage, day) in enumerate(events):
            app.events.append(StageEvent(from_stage=prev, to_stage=stage, by="history",
                                         at=dt.datetime.combine(day, dt.time(10 if i else 8, 0))))
            prev = stage
        apps.append(app)
    by_id = {o.order_id: o for o in [*orders, *data.orders]}
    _after_departure(apps, by_id, today, np.random.default_rng(seed + 3))
    courses = _training(apps, by_id, {w.worker_id: w for w in workers}, today, np.random.default_rng(seed + 2),
                        schooling or Schooling())
    log.info("history: %d past orders, %d applications (%d departed), %d classes from %s to %s",
             len(orders), len(apps), len(departed), len(courses), start, today)
    return History(orders, apps, pr, today, courses)


def save(session: Any, history: History) -> None:
    """Add the history's orders and applications to ``session`` and flush (the caller commits).
    The recruiters and workers of the synthetic data set must be in the database already."""
    session.add_all(history.orders)
    session.flush()
    session.add_all(history.applications)
    session.flush()
    session.add_all(history.courses)
    session.flush()


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - a demo helper
    from sqlalchemy import select

    from data.store import Store
    from data.synthetic import generate
    from models import Worker

    p = argparse.ArgumentParser(prog="python -m data.history", description=__doc__.split("\n\n")[0])
    p.add_argument("--database", required=True, help="SQLAlchemy URL of a database holding synthetic data")
    p.add_argument("--seed", type=int, default=1244, help="the synthetic data's seed")
    p.add_argument("--today", default=None, help="YYYY-MM-DD (default: the synthetic data's)")
    p.add_argument("--years", type=int, default=3)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    store = Store(args.database)
    with store.session() as s:
        ids = set(s.scalars(select(Worker.worker_id)))
        today = dt.date.fromisoformat(args.today) if args.today else None
        data = generate(seed=args.seed, **({"today": today} if today else {}))
        if not {w.worker_id for w in data.workers} <= ids:
            raise SystemExit("the database does not hold this seed's synthetic workers; load them first")
        save(s, build(data, seed=args.seed, years=args.years, today=today))
        s.commit()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
