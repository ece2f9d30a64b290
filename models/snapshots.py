"""Plain frozen snapshots of the entities the matching engine reads.

The engine (``matcher``: the order book, the gates, scoring, explanations, training needs,
allocation) works on these, never on ORM objects: a snapshot cannot lazy-load, cannot be
attached to a session, and cannot change under the engine (assigning an attribute raises
``dataclasses.FrozenInstanceError``). A change reaches the engine as a new snapshot
(``Engine.upsert_order`` ...).

The attribute names are the mapped classes' column names (``models.entities``), and the methods
the engine calls (``Recruiter.status_on``, ``JobOrder.places_left``, ``Worker.age_on``) share one
definition with them, so the same code reads either. JSON lists become tuples; a JSON object
(``extra``, an experience entry) is a copy.

One conversion function per type (:func:`recruiter_snapshot`, :func:`order_snapshot`,
:func:`worker_snapshot`, :func:`certificate_snapshot`, :func:`status_change_snapshot`) turns
anything with the column attributes (an ORM row, a SQL result row) into a snapshot, and hands a
snapshot back unchanged. ``data.repo.snapshot`` builds them from the database; the engine
converts whatever it is handed with them, so its own objects are always snapshots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any, Iterable

from models.entities import age_on, licence_status_on, places_left


def _tuple(value: Any) -> Any:
    """A JSON list as a tuple (its objects copied); anything else as it is."""
    if isinstance(value, (list, tuple)):
        return tuple(dict(v) if isinstance(v, dict) else v for v in value)
    return value


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


@dataclass(frozen=True, slots=True, eq=False)
class StatusChangeSnapshot:
    """A recorded licence status change (``models.LicenceStatusChange``)."""

    id: int | None
    recruiter_id: str | None
    status: str
    effective_date: dt.date
    reason: str | None
    changed_by: str | None
    recorded_at: dt.datetime | None


@dataclass(frozen=True, slots=True, eq=False)
class RecruiterSnapshot:
    """An enterprise with its licence status history (``models.Recruiter``, without its orders:
    the engine finds them by ``recruiter_id``)."""

    recruiter_id: str
    name: str
    licence_no: str
    licence_date: dt.date | None
    licence_verified_on: dt.date | None
    status: str
    status_date: dt.date | None
    markets: tuple | None
    website: str | None
    phone: str | None
    recruiter_type: str | None
    extra: dict | None
    version_id: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    status_history: tuple[StatusChangeSnapshot, ...] = ()

    def status_on(self, day: dt.date) -> str:
        """Licence status in force on ``day`` (``models.entities.licence_status_on``)."""
        return licence_status_on(self, day)

    def __repr__(self) -> str:
        return f"RecruiterSnapshot({self.recruiter_id!r}, {self.status})"


@dataclass(frozen=True, slots=True, eq=False)
class OrderSnapshot:
    """A job order with its enterprise (``models.JobOrder``, without its applications: the engine
    reads the recorded outcomes through ``matcher.outcomes``)."""

    order_id: str
    recruiter_id: str
    title: str
    description: str | None
    country: str
    programme: str | None
    route: str | None
    required_skills: tuple | None
    language_requirement: str | None
    min_age: int | None
    max_age: int | None
    gender: str | None
    min_education: str | None
    min_experience_years: float | None
    positions: int
    places_filled: int | None
    monthly_wage: float | None
    wage_currency: str | None
    contract_months: int | None
    service_fee_vnd: float | None
    brokerage_fee_vnd: float | None
    deposit_vnd: float | None
    approval_no: str | None
    approval_date: dt.date | None
    deadline: dt.date | None
    departure_date: dt.date | None
    status: str
    extra: dict | None
    version_id: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    recruiter: RecruiterSnapshot | None = None

    @property
    def places_left(self) -> int:
        return places_left(self)

    def __repr__(self) -> str:
        return f"OrderSnapshot({self.order_id!r}, {self.country}, {self.title!r})"


@dataclass(frozen=True, slots=True, eq=False)
class CertificateSnapshot:
    """One language certificate of a worker (``models.LanguageCertificate``)."""

    id: int | None
    worker_id: str | None
    position: int | None
    raw: str
    exam: str | None
    language: str | None
    label: str | None
    score: float | None
    level: int | None
    test_date: dt.date | None


@dataclass(frozen=True, slots=True, eq=False)
class WorkerSnapshot:
    """A worker profile with its certificates (``models.Worker``, without its applications and
    its search words)."""

    worker_id: str
    full_name: str
    birth_date: dt.date
    gender: str | None
    commune: str | None
    former_district: str | None
    disadvantaged_commune: bool | None
    ethnicity: str | None
    household: str | None
    education: str | None
    skills: tuple | None
    experience: tuple | None
    language_training: str | None
    preferred_countries: tuple | None
    preferred_sectors: tuple | None
    min_wage_vnd: float | None
    max_fee_vnd: float | None
    available_from: dt.date | None
    consent_share: bool | None
    consent_date: dt.date | None
    consent_scope: str | None
    phone: str | None
    national_id: str | None
    active: bool | None
    merged_into: str | None
    merged_at: dt.datetime | None
    extra: dict | None
    version_id: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    certificates: tuple[CertificateSnapshot, ...] = ()

    def age_on(self, day: dt.date) -> int:
        return age_on(self.birth_date, day)

    def __repr__(self) -> str:
        return f"WorkerSnapshot({self.worker_id!r})"


SNAPSHOT_TYPES = (RecruiterSnapshot, OrderSnapshot, WorkerSnapshot, CertificateSnapshot, StatusChangeSnapshot)

_RELATIONS = {"status_history", "recruiter", "certificates"}
_COLUMNS = {cls: tuple(f.name for f in fields(cls) if f.name not in _RELATIONS) for cls in SNAPSHOT_TYPES}


def _columns(cls, row: Any) -> dict[str, Any]:
    return {name: _tuple(_copy(getattr(row, name))) for name in _COLUMNS[cls]}


def status_change_snapshot(row: Any) -> StatusChangeSnapshot:
    if isinstance(row, StatusChangeSnapshot):
        return row
    return StatusChangeSnapshot(**_columns(StatusChangeSnapshot, row))


def recruiter_snapshot(row: Any, status_history: Iterable[Any] | None = None) -> RecruiterSnapshot:
    """The snapshot of an enterprise; ``status_history`` given (a SQL result's rows), else read
    from ``row`` (an ORM row: its loaded or lazily loaded relationship)."""
    if isinstance(row, RecruiterSnapshot):
        return row
    history = row.status_history if status_history is None else status_history
    return RecruiterSnapshot(**_columns(RecruiterSnapshot, row),
                             status_history=tuple(status_change_snapshot(c) for c in history or ()))


def order_snapshot(row: Any, recruiter: Any | None = None) -> OrderSnapshot:
    """The snapshot of a job order, linked to ``recruiter`` (a snapshot shared by the enterprise's
    orders) or else to a snapshot of ``row.recruiter``. A snapshot given with another enterprise
    snapshot is linked to that one."""
    if isinstance(row, OrderSnapshot):
        if recruiter is None or row.recruiter is recruiter:
            return row
        return replace(row, recruiter=recruiter_snapshot(recruiter))
    if recruiter is None:
        recruiter = getattr(row, "recruiter", None)
    return OrderSnapshot(**_columns(OrderSnapshot, row),
                         recruiter=None if recruiter is None else recruiter_snapshot(recruiter))


def certificate_snapshot(row: Any) -> CertificateSnapshot:
    if isinstance(row, CertificateSnapshot):
        return row
    return CertificateSnapshot(**_columns(CertificateSnapshot, row))


def worker_snapshot(row: Any, certificates: Iterable[Any] | None = None) -> WorkerSnapshot:
    """The snapshot of a worker profile; ``certificates`` given (a SQL result's rows, in position
    order), else read from ``row``."""
    if isinstance(row, WorkerSnapshot):
        return row
    certs = row.certificates if certificates is None else certificates
    return WorkerSnapshot(**_columns(WorkerSnapshot, row),
                          certificates=tuple(certificate_snapshot(c) for c in certs or ()))
