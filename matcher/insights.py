"""Labour-market intelligence: training needs from the gates, support, trends and a forecast.

Pure functions over objects (``Worker``, ``JobOrder``, ``Recruiter`` and plain values): no
database, no files. The web app and the command line feed them from the store.

Training needs
    For every active worker and every legal open order with places left, the worker's gates
    (:func:`matcher.rules.worker_gates`) are sorted into *steps* a worker can take and
    everything else. A step is a language level one short (``language_gap``), a missing or
    expired EPS-TOPIK pass (``eps_topik_required``, except an undated pass: that is a record to
    complete, not a course), or trade experience below the order's minimum (``experience_short``:
    proof of experience or the field skill test). A pair is *one step short* of a need when it
    has no other fail and exactly that one step. Each need counts the distinct workers one step
    short, the orders and places it concerns (``places``: all places left on those orders;
    ``fillable``: per order at most as many places as workers one step short of it) and splits
    the workers by commune, ethnic group, especially disadvantaged commune and the support they
    may claim.

Support
    :func:`support_for` lists the public support a worker may claim, with the legal source, from
    the household, ethnicity and commune flags (DOMAIN.md, "Support for poor and ethnic-minority
    workers"). These are hints for a counsellor to check, never a decision.

Forecast
    :func:`forecast_departures`: departures in the calendar year of ``cutoff`` = departures
    already recorded + the current pipeline + applications not made yet. Stage-to-stage
    conversion rates are measured on the centre's own history (Beta posteriors with a uniform
    prior), times between stages are resampled from the history, new applications per month
    follow a Poisson GLM with a linear trend and month-of-year effects (statsmodels). The
    interval comes from a Monte-Carlo simulation (``numpy.random.Generator``) that draws the
    conversion rates, the GLM coefficients, the number of new applications and each
    application's outcome.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from matcher import rules
from matcher.text import fold
from models.entities import is_active_worker
from models import formatting, labels
from models.enums import PROGRAMMES, STAGES
from models.languages import CEFR_LABELS, Certificate, CertificateError, parse_requirement
from models.reference import LANGUAGE_NAMES

__all__ = [
    "Forecast",
    "Need",
    "PIPELINE",
    "Step",
    "StageRate",
    "Support",
    "SUPPORTS",
    "TrainingNeeds",
    "Trajectory",
    "blocked_trends",
    "conversion_rates",
    "forecast_departures",
    "monthly_counts",
    "NeedsTracker",
    "order_trends",
    "pair_need",
    "pair_steps",
    "support_for",
    "training_needs",
    "trajectories",
]

# ---------------------------------------------------------------------------------------------
# Support

MAJORITY_ETHNICITIES = frozenset({"kinh", "hoa"})


@dataclass(frozen=True)
class Support:
    """One kind of public support: a code, what it is (Vietnamese, English) and its source (a
    key of ``models.reference.SOURCES`` with the article, read with ``models.reference.cite``)."""

    code: str
    vi: str
    en: str
    source: str


SUPPORTS: Mapping[str, Support] = {
    s.code: s
    for s in (
        Support(
            "project4_training",
            "Hỗ trợ học ngoại ngữ, bồi dưỡng kiến thức và chi phí đi làm việc ở nước ngoài (Dự án 4, tiểu dự án 2, "
            "Chương trình MTQG giảm nghèo bền vững)",
            "Language training, orientation and departure costs (Project 4 sub-project 2, national target "
            "programme for sustainable poverty reduction)",
            "TT46",
        ),
        Support(
            "vbsp_loan",
            "Vay vốn ưu đãi của Ngân hàng Chính sách xã hội để đi làm việc ở nước ngoài",
            "A preferential loan from the Social Policy Bank for working abroad",
            "VBSP",
        ),
        Support(
            "orientation_course",
            "Hỗ trợ khóa bồi dưỡng kiến thức cần thiết trước khi đi",
            "Support for the pre-departure orientation course",
            "D338 Art 30",
        ),
        Support(
            "priority_points",
            "Được cộng điểm ưu tiên khi tuyển chọn trong các chương trình công (dân tộc thiểu số, xã đặc biệt khó khăn)",
            "Extra selection points in public programmes (ethnic minority, especially disadvantaged commune)",
            "KH1244",
        ),
    )
}


def is_ethnic_minority(worker: Any) -> bool:
    """An ethnic group other than Kinh (and Hoa) is an ethnic minority; unknown is not."""
    eth = fold(getattr(worker, "ethnicity", None) or "")
    return bool(eth) and eth not in MAJORITY_ETHNICITIES


def support_for(worker: Any) -> list[Support]:
    """The support ``worker`` may claim (see :data:`SUPPORTS`), from its flags.

    Poor or near-poor household, or an ethnic minority: Project 4 sub-project 2. Those, or an
    especially disadvantaged commune: the Social Policy Bank loan and the orientation course.
    An ethnic minority or a disadvantaged commune: priority points in public programmes. The
    conditions the counsellor's profile page shows.
    """
    poor = (getattr(worker, "household", None) or "") in ("poor", "near_poor")
    minority = is_ethnic_minority(worker)
    remote = bool(getattr(worker, "disadvantaged_commune", None))
    out = []
    if poor or minority:
        out.append(SUPPORTS["project4_training"])
    if poor or minority or remote:
        out.append(SUPPORTS["vbsp_loan"])
        out.append(SUPPORTS["orientation_course"])
    if minority or remote:
        out.append(SUPPORTS["priority_points"])
    return out


# ---------------------------------------------------------------------------------------------
# Training needs

# EPS-TOPIK assessments a worker can fix by sitting the next round (an undated pass needs the
# record completed instead: not a course).
EPS_TRAINABLE = frozenset({"eps_topik_missing", "eps_topik_expired", "eps_topik_score_low"})


@dataclass(frozen=True)
class Step:
    """A step a worker can take towards an order: ``kind`` "language", "eps_topik" or "trade".

    ``key`` identifies the need in URLs and files ("lang-ja-2", "eps-topik", "trade-ssw").
    """

    kind: str
    key: str
    language: str | None = None
    level: int | None = None
    programme: str | None = None

    @property
    def vi(self) -> str:
        if self.kind == "language":
            name = LANGUAGE_NAMES.get(self.language or "", (self.language or "?",))[0]
            return f"{name} bậc {_cefr(self.level)}"
        if self.kind == "eps_topik":
            return "Kỳ thi EPS-TOPIK (đạt từ 80 điểm, còn hiệu lực)"
        prog = labels.PROGRAMMES.phrase(self.programme or "general")
        return f"Kinh nghiệm nghề / thi tay nghề: {prog}"

    @property
    def en(self) -> str:
        if self.kind == "language":
            name = LANGUAGE_NAMES.get(self.language or "", ("", self.language or "?"))[1]
            return f"{name} level {_cefr(self.level)}"
        if self.kind == "eps_topik":
            return "EPS-TOPIK test (a valid pass of 80 points or more)"
        prog = labels.PROGRAMMES.phrase(self.programme or "general", "en")
        return f"Trade experience / skill test: {prog}"


def _cefr(level: int | None) -> str:
    return CEFR_LABELS[level - 1] if level and 1 <= level <= len(CEFR_LABELS) else str(level)


def _requirement(order: Any) -> Certificate | None:
    try:
        return parse_requirement(order.language_requirement)
    except CertificateError:
        return None


def pair_steps(reasons: Iterable[rules.Reason], order: Any) -> list[Step] | None:
    """The steps between a worker and ``order`` given the pair's gate ``reasons``.

    Returns ``None`` when a reason that no step can fix is present (any other "fail" or
    "block": age, gender, education, a language two or more levels short ...); ``[]`` when the
    worker is eligible as is. Warnings are ignored.
    """
    steps: list[Step] = []
    for r in reasons:
        if r.code == "language_gap":
            req = _requirement(order)
            lang = req.language if req is not None else "?"
            level = int(r.detail.get("need_level") or (req.level if req is not None else 0))
            steps.append(Step("language", f"lang-{lang}-{level}", language=lang, level=level))
        elif r.code == "eps_topik_required":
            if r.detail.get("assessment") not in EPS_TRAINABLE:
                return None
            steps.append(Step("eps_topik", "eps-topik", language="ko"))
        elif r.code == "experience_short":
            prog = (order.programme or "general").strip().lower()
            prog = prog if prog in PROGRAMMES else "general"
            steps.append(Step("trade", f"trade-{prog}", programme=prog))
        elif r.severity in ("fail", "block"):
            return None
    return steps


@dataclass
class Need:
    """Workers one step short of orders, for one step (see the module docstring)."""

    step: Step
    pairs: dict[str, list[str]] = field(default_factory=dict)  # worker_id -> order ids
    places: int = 0
    fillable: int = 0
    orders: list[str] = field(default_factory=list)
    requirement_names: list[str] = field(default_factory=list)
    training_months: int | None = None
    by_country: Counter = field(default_factory=Counter)  # places
    by_programme: Counter = field(default_factory=Counter)  # places
    by_commune: Counter = field(default_factory=Counter)  # workers
    by_ethnicity: Counter = field(default_factory=Counter)  # workers
    by_disadvantaged: Counter = field(default_factory=Counter)  # workers: "yes" / "no" / "unknown"
    by_support: Counter = field(default_factory=Counter)  # workers, by support code

    @property
    def key(self) -> str:
        return self.step.key

    @property
    def workers(self) -> int:
        return len(self.pairs)

    @property
    def worker_ids(self) -> list[str]:
        return sorted(self.pairs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.step.kind,
            "vi": self.step.vi,
            "en": self.step.en,
            "language": self.step.language,
            "level": self.step.level,
            "programme": self.step.programme,
            "requirements": self.requirement_names,
            "training_months": self.training_months,
            "workers": self.workers,
            "orders": len(self.orders),
            "places": self.places,
            "fillable_places": self.fillable,
            "by_country": dict(self.by_country.most_common()),
            "by_programme": dict(self.by_programme.most_common()),
            "by_commune": dict(self.by_commune.most_common()),
            "by_ethnicity": dict(self.by_ethnicity.most_common()),
            "by_disadvantaged": dict(self.by_disadvantaged.most_common()),
            "by_support": dict(self.by_support.most_common()),
            "worker_ids": self.worker_ids,
            "order_ids": self.orders,
        }


@dataclass
class TrainingNeeds:
    """The result of :func:`training_needs`: needs ranked by the places they would unlock."""

    day: dt.date
    workers: int  # active workers considered
    orders: int  # legal open orders with places left
    places: int  # places left on them
    ready_workers: int  # workers eligible as they are for at least one of them
    needs: list[Need]

    def need(self, key: str) -> Need | None:
        return next((n for n in self.needs if n.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "active_workers": self.workers,
            "open_orders": self.orders,
            "open_places": self.places,
            "ready_workers": self.ready_workers,
            "definition": (
                "A worker is one step short of an order when the order's only unmet requirement is one "
                "language level, an EPS-TOPIK pass, or the trade experience asked for. places: all places "
                "left on the orders concerned; fillable_places: per order at most as many places as workers "
                "one step short of it."
            ),
            "needs": [n.to_dict() for n in self.needs],
        }


def _markets(worker: Any) -> set[str]:
    return {c.strip().upper() for c in (worker.preferred_countries or []) if c and c.strip()}


def wants_market(worker: Any, order: Any) -> bool:
    """A training need counts a worker for an order only when the worker wants that market:
    the order's country is among the preferred countries, or the worker named none."""
    prefs = _markets(worker)
    return not prefs or (order.country or "").strip().upper() in prefs


class _ByMarket:
    """Orders grouped by country, so that a worker's pairs are read only for the markets wanted
    (:func:`wants_market`), in id order."""

    def __init__(self, orders: Sequence[Any]):
        self.orders = list(orders)
        self._by: dict[str, list[Any]] = defaultdict(list)
        for o in self.orders:
            self._by[(o.country or "").strip().upper()].append(o)

    def wanted(self, worker: Any) -> list[Any]:
        prefs = _markets(worker)
        if not prefs:
            return self.orders
        return sorted((o for c in prefs for o in self._by.get(c, ())), key=lambda o: o.order_id)


def _quick_fail(worker: Any, order: Any, day: dt.date) -> bool:
    """True only when :func:`rules.worker_gates` certainly returns a fail no step can fix (age,
    gender or education, computed as the gates do). A shortcut: the gates decide all the rest."""
    if not is_active_worker(worker):
        return True
    age = worker.age_on(order.deadline or day)
    if age < 18 or (order.min_age is not None and age < order.min_age) or (order.max_age is not None and age > order.max_age):
        return True
    wanted = (order.gender or "any").strip().lower()
    g = (worker.gender or "").strip().lower()
    if wanted in ("male", "female") and g and g != wanted:
        return True
    return False


def pair_need(worker: Any, order: Any, day: dt.date, certs: Sequence[Certificate],
              gate: Callable[..., list[rules.Reason]] | None = None) -> "Step | bool | None":
    """What one worker x order pair adds to the training needs: ``True`` when the worker could
    go now, the :class:`Step` when exactly one trainable step is missing, else ``None``."""
    if not wants_market(worker, order) or _quick_fail(worker, order, day):
        return None
    steps = pair_steps((gate or rules.worker_gates)(worker, order, day, certs), order)
    if steps is None:
        return None
    if not steps:
        return True
    return steps[0] if len(steps) == 1 else None


def worker_certificates(worker: Any) -> list[Certificate]:
    return [Certificate.from_entity(c) for c in (worker.certificates or [])]


def training_needs(
    workers: Iterable[Any],
    orders: Iterable[Any],
    day: dt.date,
    certificates: Mapping[str, Sequence[Certificate]] | None = None,
    gates: Callable[..., list[rules.Reason]] | None = None,
    row: Callable[[Any, list], Iterable[tuple[Any, "Step | bool"]]] | None = None,
) -> TrainingNeeds:
    """Aggregate the gaps between active ``workers`` and ``orders`` into ranked needs.

    ``orders``: the legal open orders with places left (``matcher.orderbook.open_orders``);
    ``certificates``: worker_id -> parsed certificates (parsed from the workers when missing);
    ``gates``: the pair gate, :func:`matcher.rules.worker_gates` by default; ``row``: when the
    caller keeps the pairs (:class:`NeedsTracker`), ``row(worker, orders)`` gives the worker's
    pairs that count (order, :func:`pair_need` result not ``None``) in the orders' order.
    Needs are sorted by fillable places, then places, then workers (descending), then key.
    """
    workers = [w for w in workers if is_active_worker(w)]
    orders = [o for o in orders if o.places_left > 0]
    if row is None:
        markets = _ByMarket(orders)

        def row(w, orders):
            given = certificates.get(w.worker_id) if certificates is not None else None
            certs = given if given is not None else worker_certificates(w)
            return [(o, step) for o in markets.wanted(w) if (step := pair_need(w, o, day, certs, gates)) is not None]

    needs: dict[str, Need] = {}
    ready: set[str] = set()
    by_order: dict[str, Counter] = defaultdict(Counter)  # need key -> order id -> workers
    for w in workers:
        for o, step in row(w, orders):
            if step is True:
                ready.add(w.worker_id)
                continue
            need = needs.get(step.key)
            if need is None:
                need = needs[step.key] = Need(step)
            need.pairs.setdefault(w.worker_id, []).append(o.order_id)
            by_order[step.key][o.order_id] += 1
    worker_of = {w.worker_id: w for w in workers}
    order_of = {o.order_id: o for o in orders}
    for key, need in needs.items():
        need.orders = sorted(by_order[key])
        names: set[str] = set()
        for oid in need.orders:
            o = order_of[oid]
            need.places += o.places_left
            need.fillable += min(o.places_left, by_order[key][oid])
            need.by_country[(o.country or "").upper()] += o.places_left
            need.by_programme[o.programme or "general"] += o.places_left
            req = _requirement(o)
            if need.step.kind == "language" and req is not None:
                names.add(req.name)
        need.requirement_names = sorted(names)
        if need.step.kind == "language":
            from matcher.languages import training_months

            need.training_months = training_months(need.step.language or "", (need.step.level or 1) - 1, need.step.level or 1)
        for wid in need.pairs:
            w = worker_of[wid]
            need.by_commune[w.commune or "—"] += 1
            need.by_ethnicity[w.ethnicity or "—"] += 1
            d = w.disadvantaged_commune
            need.by_disadvantaged["yes" if d else ("no" if d is False else "unknown")] += 1
            for s in support_for(w):
                need.by_support[s.code] += 1
    ranked = sorted(needs.values(), key=lambda n: (-n.fillable, -n.places, -n.workers, n.key))
    return TrainingNeeds(day, len(workers), len(orders), sum(o.places_left for o in orders), len(ready), ranked)


class NeedsTracker:
    """The training needs of an engine's workers and open orders, kept between calls: each pair's
    :func:`pair_need` is remembered, and a change re-reads only the pairs of the workers and
    orders it touched (``Engine.changes_since``). A new engine or a new day starts afresh."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._day: dt.date | None = None
        self._version = 0
        self._cells: dict[str, tuple[set[str], dict[str, Any]]] = {}  # worker -> (orders read, pairs that count)
        self._certs: dict[str, list[Certificate]] = {}

    def needs(self, engine: Any, day: dt.date) -> TrainingNeeds:
        if engine is not self._engine or day != self._day:
            self._cells, self._certs = {}, {}
        else:
            workers, orders = engine.changes_since(self._version)
            for wid in workers:
                self._cells.pop(wid, None)
                self._certs.pop(wid, None)
            if orders:
                for done, hits in self._cells.values():
                    done.difference_update(orders)
                    for oid in orders:
                        hits.pop(oid, None)
        self._engine, self._day, self._version = engine, day, engine.version_
        orders = engine.open_orders(day)
        open_ids = {o.order_id for o in orders}
        order_of = {o.order_id: o for o in orders}

        markets = _ByMarket(orders)

        def row(w, _orders):
            # only the pairs not read yet are read; the rest come from the worker's remembered hits
            done, hits = self._cells.setdefault(w.worker_id, (set(), {}))
            missing = {o.order_id for o in markets.wanted(w)} - done
            if missing:
                if w.worker_id not in self._certs:
                    self._certs[w.worker_id] = worker_certificates(w)
                for oid in sorted(missing):
                    step = pair_need(w, order_of[oid], day, self._certs[w.worker_id])
                    if step is not None:
                        hits[oid] = step
                done |= missing
            return [(order_of[oid], hits[oid]) for oid in sorted(open_ids.intersection(hits))]

        workers = [engine.workers_[i] for i in sorted(engine.workers_)]
        return training_needs(workers, orders, day, row=row)


# ---------------------------------------------------------------------------------------------
# Market trends


def _month(d: dt.date | dt.datetime | None) -> str | None:
    return None if d is None else f"{d.year:04d}-{d.month:02d}"


def _posted(order: Any) -> dt.date | None:
    """When an order came to the market: its approval date, else when it was recorded."""
    if order.approval_date is not None:
        return order.approval_date
    created = getattr(order, "created_at", None)
    return created.date() if isinstance(created, dt.datetime) else created


def order_trends(
    orders: Iterable[Any],
    rates: Mapping[str, float] | None = None,
    by: str = "country",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Orders, places, median monthly wage (VND) and median service fee (VND) per month posted
    and per group (``by`` "country", "programme" or "occupation": the order's title folded).

    Wages are converted with ``rates`` (currency -> VND per unit, over the packaged defaults);
    an order whose currency has no rate counts in orders and places, not in the wage median.
    Rows are sorted by month then group.
    """
    from models.reference import merged_rates

    if by not in ("country", "programme", "occupation"):
        raise ValueError(f"The 'by' parameter of order_trends must be 'country', 'programme' or 'occupation'. Got {by!r} instead.")
    table = merged_rates(rates)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for o in orders:
        day = _posted(o)
        if day is None or (start and day < start) or (end and day > end):
            continue
        if by == "country":
            g = (o.country or "").upper()
        elif by == "programme":
            g = o.programme or "general"
        else:
            g = " ".join((o.title or "").split()).capitalize()
        row = groups.setdefault((_month(day), g), {"month": _month(day), "group": g, "orders": 0, "places": 0,
                                                  "_wages": [], "_fees": []})
        row["orders"] += 1
        row["places"] += int(o.positions or 0)
        rate = table.get((o.wage_currency or "VND").upper())
        if o.monthly_wage and rate:
            row["_wages"].append(float(o.monthly_wage) * rate)
        if o.service_fee_vnd is not None:
            row["_fees"].append(float(o.service_fee_vnd))
    out = []
    for key in sorted(groups):
        row = groups[key]
        wages, fees = row.pop("_wages"), row.pop("_fees")
        row["median_wage_vnd"] = float(np.median(wages)) if wages else None
        row["median_fee_vnd"] = float(np.median(fees)) if fees else None
        out.append(row)
    return out


def blocked_trends(
    orders: Iterable[Any],
    recruiters: Iterable[Any],
    rates: Mapping[str, float] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """Orders that broke the law when they were posted: each order is gated on its posting day
    (approval date, else when recorded) and its legal "block" reasons (not merely closed or
    full) counted by month and reason, and by enterprise. Returns ``{"by_month_reason":
    [(month, code, orders)], "by_enterprise": [(name, orders)], "total": n}``."""
    from matcher.orderbook import OrderBook

    orders = list(orders)
    book = OrderBook(recruiters, orders, rates)
    month_reason: Counter = Counter()
    enterprise: Counter = Counter()
    total = 0
    for o in sorted(orders, key=lambda o: o.order_id):
        day = _posted(o)
        if day is None or (start and day < start) or (end and day > end):
            continue
        rec = book.recruiters_.get(o.recruiter_id) or getattr(o, "recruiter", None)
        state, reasons = book.order_state(o.order_id, day)
        codes = sorted({r.code for r in reasons}) if state == "blocked" else []
        if not codes:
            continue
        total += 1
        for c in codes:
            month_reason[(_month(day), c)] += 1
        enterprise[rec.name if rec is not None else o.recruiter_id] += 1
    return {
        "total": total,
        "by_month_reason": [(m, c, n) for (m, c), n in sorted(month_reason.items())],
        "by_enterprise": enterprise.most_common(),
    }


# ---------------------------------------------------------------------------------------------
# Forecast

PIPELINE: tuple[str, ...] = tuple(s for s in STAGES if s not in ("rejected", "withdrawn"))  # suggested .. departed
_FAILED = frozenset({"rejected", "withdrawn"})


@dataclass(frozen=True)
class Trajectory:
    """One application's history: the day it was made and its stage events in time order."""

    created: dt.date
    events: tuple[tuple[str, dt.date], ...]

    def visible(self, cutoff: dt.date) -> "Trajectory | None":
        """The history as known at the end of ``cutoff`` (``None`` if made later)."""
        if self.created > cutoff:
            return None
        if not self.events or self.events[-1][1] <= cutoff:
            return self
        return Trajectory(self.created, tuple(e for e in self.events if e[1] <= cutoff))

    def entered(self) -> dict[str, dt.date]:
        """Pipeline stage -> the first day the application entered it."""
        out: dict[str, dt.date] = {}
        for stage, day in self.events:
            if stage in PIPELINE and stage not in out:
                out[stage] = day
        out.setdefault("suggested", self.created)
        return out

    @property
    def failed(self) -> bool:
        return bool(self.events) and self.events[-1][0] in _FAILED

    @property
    def current(self) -> str:
        """The furthest pipeline stage reached, or "rejected"/"withdrawn" if it ended so."""
        if self.failed:
            return self.events[-1][0]
        reached = self.entered()
        return max(reached, key=PIPELINE.index)


def trajectories(applications: Iterable[Any]) -> list[Trajectory]:
    """Trajectories of ORM ``Application`` objects (``created_at`` and ``events``)."""
    out = []
    for a in applications:
        created = a.created_at.date() if isinstance(a.created_at, dt.datetime) else a.created_at
        events = sorted(((e.to_stage, e.at.date() if isinstance(e.at, dt.datetime) else e.at) for e in a.events),
                        key=lambda e: e[1])
        if events:
            created = min(created, events[0][1])
        out.append(Trajectory(created, tuple(events)))
    return out


@dataclass(frozen=True)
class StageRate:
    """Conversion from ``stage`` to the next pipeline stage, measured on resolved applications.

    ``advanced``: reached the next stage; ``failed``: ended (rejected or withdrawn) at this stage;
    ``rate`` = advanced / (advanced + failed); ``low``/``high``: Wilson 80% interval
    (statsmodels); ``median_days``: median days from entering this stage to the next.
    """

    stage: str
    next_stage: str
    advanced: int
    failed: int
    open: int
    rate: float | None
    low: float | None
    high: float | None
    median_days: float | None


def _stage_records(history: Sequence[Trajectory]) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, int]]:
    # Returns (advanced durations, failed durations, open counts) per stage.
    """Per stage: durations (days) to the next stage of those that advanced, durations to
    failure, and how many are still open there."""
    adv: dict[str, list[int]] = {s: [] for s in PIPELINE[:-1]}
    fail: dict[str, list[int]] = {s: [] for s in PIPELINE[:-1]}
    still: dict[str, int] = {s: 0 for s in PIPELINE[:-1]}
    for t in history:
        entered = t.entered()
        top = max(entered, key=PIPELINE.index)
        for i, s in enumerate(PIPELINE[:-1]):
            if s not in entered:
                continue
            nxt = PIPELINE[i + 1]
            if nxt in entered:
                adv[s].append((entered[nxt] - entered[s]).days)
            elif top == s:
                if t.failed:
                    fail[s].append((t.events[-1][1] - entered[s]).days)
                else:
                    still[s] += 1
    return adv, fail, still


def conversion_rates(history: Sequence[Trajectory], level: float = 0.8, _records=None) -> list[StageRate]:
    """Stage-to-stage conversion rates of ``history`` (already cut at the forecast date)."""
    from statsmodels.stats.proportion import proportion_confint

    adv, fail, still = _records or _stage_records(history)
    out = []
    for i, s in enumerate(PIPELINE[:-1]):
        a, f = len(adv[s]), len(fail[s])
        n = a + f
        if n:
            lo, hi = proportion_confint(a, n, alpha=1 - level, method="wilson")
            rate, lo, hi = a / n, float(lo), float(hi)
        else:
            rate = lo = hi = None
        med = float(np.median(adv[s])) if adv[s] else None
        out.append(StageRate(s, PIPELINE[i + 1], a, f, still[s], rate, lo, hi, med))
    return out


def monthly_counts(days: Iterable[dt.date], start: dt.date, end: dt.date) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    """Counts per calendar month from ``start``'s month to ``end``'s month, with the share of
    each month observed (``end`` may fall mid-month; ``start`` is taken as the month's first day).
    Returns ``(first days of the months, counts, exposure)``."""
    months = []
    m = dt.date(start.year, start.month, 1)
    while m <= end:
        months.append(m)
        m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    index = {(d.year, d.month): i for i, d in enumerate(months)}
    counts = np.zeros(len(months))
    for d in days:
        if start <= d <= end:
            counts[index[(d.year, d.month)]] += 1
    exposure = np.ones(len(months))
    last = months[-1]
    dim = _days_in_month(last)
    exposure[-1] = min(1.0, ((end - last).days + 1) / dim)
    return months, counts, exposure


def _days_in_month(m: dt.date) -> int:
    nxt = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return (nxt - dt.date(m.year, m.month, 1)).days


def _design(months: Sequence[dt.date], origin: dt.date, seasonal: bool) -> np.ndarray:
    t = np.array([(m.year - origin.year) * 12 + m.month - origin.month for m in months], dtype=float) / 12.0
    cols = [np.ones(len(months)), t]
    if seasonal:
        for k in range(2, 13):
            cols.append(np.array([1.0 if m.month == k else 0.0 for m in months]))
    return np.column_stack(cols)


@dataclass
class Forecast:
    """Departures forecast for ``year`` as seen on ``cutoff`` (see :func:`forecast_departures`)."""

    year: int
    cutoff: dt.date
    target: int
    level: float
    departed: int  # already departed this year (applications)
    pipeline_mean: float  # expected departures from the applications open on cutoff
    new_mean: float  # expected departures from applications not made yet
    mean: float
    low: float
    high: float
    p_target: float  # probability of more than ``target`` departures
    open_by_stage: dict[str, int]
    rates: list[StageRate]
    new_applications_mean: float  # expected new applications until the year's end
    trend_per_year: float | None  # GLM: multiplicative change of new applications per year
    seasonal: bool
    history_months: int
    draws: int
    method_vi: str = ""
    method_en: str = ""
    samples: np.ndarray | None = field(default=None, repr=False)

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "cutoff": self.cutoff.isoformat(),
            "target": self.target,
            "level": self.level,
            "departed_so_far": self.departed,
            "pipeline_expected": round(self.pipeline_mean, 2),
            "new_expected": round(self.new_mean, 2),
            "expected": round(self.mean, 2),
            "interval": [self.low, self.high],
            "probability_above_target": round(self.p_target, 4),
            "open_by_stage": self.open_by_stage,
            "conversion": [r.__dict__ for r in self.rates],
            "new_applications_expected": round(self.new_applications_mean, 2),
            "trend_per_year": self.trend_per_year,
            "seasonal": self.seasonal,
            "history_months": self.history_months,
            "draws": self.draws,
            "method": self.method_en,
        }


def _time_ok_prob(
    rng: np.random.Generator,
    durations: dict[str, np.ndarray],
    stages: Sequence[str],
    elapsed: int,
    horizon: np.ndarray,
    k: int,
) -> np.ndarray:
    """P(the remaining stages ``stages`` are passed within ``horizon`` days), for an
    application that has spent ``elapsed`` days in ``stages[0]``: durations are resampled from
    the history (the first one among those longer than ``elapsed``). Vectorised over ``horizon``."""
    total = np.zeros(k)
    for j, s in enumerate(stages):
        d = durations[s]
        if d.size == 0:
            return np.zeros_like(horizon, dtype=float)
        if j == 0 and elapsed > 0:
            longer = d[d > elapsed]
            if longer.size:
                total += rng.choice(longer, size=k) - elapsed
            else:  # longer than any seen: it may move any day; take a fresh duration
                total += rng.choice(d, size=k)
        else:
            total += rng.choice(d, size=k)
    total.sort()
    return np.searchsorted(total, np.asarray(horizon), side="right") / k


def _pipeline_draws(known, cutoff, survive, durations, rng, draws: int, k: int):
    """Departures by 31 December from the applications open on ``cutoff``: per draw, each open
    application departs with its stage's survival probability times the chance that the
    remaining stages fit before the year ends. Returns (draws, their mean, open by stage)."""
    year_end = dt.date(cutoff.year, 12, 31)
    open_by_stage: Counter = Counter()
    pipeline = np.zeros(draws)
    pipeline_mean = 0.0
    horizon_days = (year_end - cutoff).days
    for t in known:
        cur = t.current
        if cur in _FAILED or cur == "departed":
            continue
        open_by_stage[cur] += 1
        i = PIPELINE.index(cur)
        elapsed = (cutoff - t.entered()[cur]).days
        q_time = float(_time_ok_prob(rng, durations, PIPELINE[i:-1], elapsed, np.array([horizon_days]), k)[0])
        prob = survive[:, i] * q_time
        pipeline += rng.random(draws) < prob
        pipeline_mean += float(prob.mean())
    return pipeline, pipeline_mean, open_by_stage


def _new_application_draws(recent, window_start, cutoff, survive, durations, rng, draws: int, k: int):
    """Departures by 31 December from applications not made yet: a Poisson GLM on the monthly
    counts (trend, and month of year with two years of history), its coefficients drawn, each
    month's new applications drawn and passed through the pipeline. Returns (draws, their mean,
    mean new applications, trend per year or None, seasonal, the history's months)."""
    import statsmodels.api as sm

    year_end = dt.date(cutoff.year, 12, 31)
    created = [t.created for t in recent]
    months, counts, exposure = monthly_counts(created, window_start, cutoff)
    seasonal = len(months) >= 24
    new = np.zeros(draws)
    new_mean = 0.0
    new_apps_mean = 0.0
    trend = None
    if counts.sum() > 0 and len(months) >= 3:
        origin = months[0]
        X = _design(months, origin, seasonal)
        model = sm.GLM(counts, X, family=sm.families.Poisson(), exposure=exposure)
        fit = model.fit()
        trend = float(math.exp(fit.params[1]))
        beta = rng.multivariate_normal(fit.params, fit.cov_params(), size=draws, method="svd")
        # the rest of the cutoff month, then the months left in the year
        future = [months[-1]]
        m = months[-1]
        while m.month < 12:
            m = dt.date(m.year, m.month + 1, 1)
            future.append(m)
        share = np.array([1.0 - exposure[-1]] + [1.0] * (len(future) - 1))
        Xf = _design(future, origin, seasonal)
        mu = np.exp(beta @ Xf.T) * share  # draws x future months
        n_new = rng.poisson(mu)
        new_apps_mean = float(mu.mean(axis=0).sum())
        for j, mstart in enumerate(future):
            first = max(mstart, cutoff + dt.timedelta(days=1)) if j == 0 else mstart
            last = dt.date(mstart.year, mstart.month, _days_in_month(mstart))
            if first > last or share[j] <= 0:
                continue
            # creation day uniform in the month's remaining days
            offsets = rng.integers((first - mstart).days, (last - mstart).days + 1, size=k)
            horizons = (year_end - mstart).days - offsets
            total = np.zeros(k)
            for s in PIPELINE[:-1]:
                if durations[s].size == 0:
                    total += np.inf
                else:
                    total += rng.choice(durations[s], size=k)
            q_time = float(np.mean(total <= horizons))
            q = survive[:, 0] * q_time
            new += rng.binomial(n_new[:, j], q)
            new_mean += float((mu[:, j] * q).mean())
    return new, new_mean, new_apps_mean, trend, seasonal, months


def _method_text(departed: int, cutoff: dt.date, history_years: int, seasonal: bool, level: float,
                 draws: int) -> tuple[str, str]:
    """How the forecast was made, in Vietnamese and English (shown under the figures)."""
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    pct = round(level * 100)
    method_en = (
        f"Departures already recorded this year ({departed}) + the applications open on {formatting.format_date(cutoff, 'en')} "
        f"× the probability that each reaches departure before 31 December + new applications until then. "
        f"Stage-to-stage conversion rates are measured on the centre's own applications of the last "
        f"{history_years} years (Beta posterior, uniform prior); the time between stages is resampled from the "
        f"same history; new applications per month follow a Poisson GLM with a linear trend"
        f"{' and month-of-year effects' if seasonal else ''}. The {pct}% interval is the "
        f"{round(lo_q * 100)}th to {round(hi_q * 100)}th percentile of {draws} random draws (Monte Carlo) of the rates, "
        f"the GLM coefficients, the new applications and every application's outcome."
    )
    method_vi = (
        f"Số đã xuất cảnh trong năm ({departed}) + các hồ sơ đang xử lý ngày {formatting.format_date(cutoff)} "
        f"× xác suất mỗi hồ sơ xuất cảnh trước 31/12 + hồ sơ mới đến cuối năm. Tỷ lệ chuyển giữa các bước "
        f"được đo trên chính hồ sơ của Trung tâm trong {history_years} năm gần nhất (phân phối Beta, tiên nghiệm "
        f"đều); thời gian giữa các bước lấy mẫu lại từ lịch sử; số hồ sơ mới mỗi tháng theo mô hình GLM Poisson "
        f"có xu hướng tuyến tính{' và hiệu ứng theo tháng' if seasonal else ''}. Khoảng {pct}% là "
        f"phân vị {round(lo_q * 100)} đến {round(hi_q * 100)} của {draws} lần mô phỏng ngẫu nhiên (tỷ lệ, hệ số "
        f"của mô hình, số hồ sơ mới và kết quả từng hồ sơ)."
    )
    return method_vi, method_en


def forecast_departures(
    history: Sequence[Trajectory],
    cutoff: dt.date,
    target: int = 150,
    level: float = 0.8,
    draws: int = 4000,
    seed: int = 0,
    history_years: int = 3,
) -> Forecast:
    """Forecast the departures of ``cutoff``'s calendar year from the applications known on
    ``cutoff`` (see the module docstring for the method).

    ``history``: every application's trajectory (events after ``cutoff`` are ignored);
    ``level``: the central probability of the interval (0.8: the 10th to the 90th percentile);
    ``history_years``: how far back the conversion rates, durations and the GLM look.
    Raises ValueError for a ``level`` outside (0, 1) or ``draws`` < 100.
    """
    if not 0 < level < 1:
        raise ValueError(f"The 'level' parameter of forecast_departures must be in (0, 1). Got {level!r} instead.")
    if draws < 100:
        raise ValueError(f"The 'draws' parameter of forecast_departures must be an int >= 100. Got {draws!r} instead.")
    rng = np.random.default_rng(seed)
    year_start = dt.date(cutoff.year, 1, 1)
    window_start = dt.date(cutoff.year - history_years, cutoff.month, 1)
    known = [v for t in history if (v := t.visible(cutoff)) is not None]
    recent = [t for t in known if t.created >= window_start]

    departed = sum(1 for t in known if (d := t.entered().get("departed")) is not None and d >= year_start)
    records = _stage_records(recent)
    rates = conversion_rates(recent, level=level, _records=records)
    adv, fail, _ = records
    durations = {s: np.asarray(v, dtype=float) for s, v in adv.items()}
    a = np.array([len(adv[s]) for s in PIPELINE[:-1]], dtype=float)
    f = np.array([len(fail[s]) for s in PIPELINE[:-1]], dtype=float)
    p = rng.beta(1 + a, 1 + f, size=(draws, len(a)))  # posterior draws, one column per stage
    # probability to go from stage i to departed: product of the rates from i on
    survive = np.flip(np.cumprod(np.flip(p, axis=1), axis=1), axis=1)
    k = 4000

    pipeline, pipeline_mean, open_by_stage = _pipeline_draws(known, cutoff, survive, durations, rng, draws, k)
    glm = _new_application_draws(recent, window_start, cutoff, survive, durations, rng, draws, k)
    new, new_mean, new_apps_mean, trend, seasonal, months = glm

    samples = departed + pipeline + new
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    low, high = (float(x) for x in np.quantile(samples, [lo_q, hi_q], method="inverted_cdf"))
    method_vi, method_en = _method_text(departed, cutoff, history_years, seasonal, level, draws)
    return Forecast(
        year=cutoff.year, cutoff=cutoff, target=target, level=level, departed=departed,
        pipeline_mean=pipeline_mean, new_mean=new_mean, mean=float(samples.mean()), low=low, high=high,
        p_target=float(np.mean(samples > target)), open_by_stage={s: open_by_stage[s] for s in PIPELINE[:-1]},
        rates=rates, new_applications_mean=new_apps_mean, trend_per_year=trend, seasonal=seasonal,
        history_months=len(months), draws=draws, method_vi=method_vi, method_en=method_en, samples=samples,
    )
