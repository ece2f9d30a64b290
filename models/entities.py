"""SQLAlchemy 2 mapped classes: the domain and the database schema.

Attribute names follow FORMAT.md's column names exactly, so importers, exporters, the engine
and the web forms share one vocabulary. Lists are JSON columns; unknown columns of an
imported file are kept in ``extra``. ``version_id`` gives optimistic locking: a stale edit
raises ``sqlalchemy.orm.exc.StaleDataError`` instead of silently overwriting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.text import fold


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Recruiter(Base):
    """A labour-export enterprise (or a local government for seasonal programmes)."""

    __tablename__ = "recruiters"

    recruiter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    licence_no: Mapped[str] = mapped_column(String(100))
    licence_date: Mapped[dt.date | None] = mapped_column(Date)
    # The day an administrator last checked this licence against the regulator's public list
    # (FORMAT.md; DOMAIN.md fraud sign 3): among holders of one licence number, the verified
    # one is released and the others stay blocked. None: never checked.
    licence_verified_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_date: Mapped[dt.date | None] = mapped_column(Date)
    markets: Mapped[list[Any]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(64))
    # "enterprise" (default), "local_government" or "public_agency" (DOMAIN.md: E-8 seasonal
    # places may only be sent by local governments). Optional column `recruiter_type`.
    recruiter_type: Mapped[str | None] = mapped_column(String(32))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    status_history: Mapped[list[LicenceStatusChange]] = relationship(
        back_populates="recruiter",
        cascade="all, delete-orphan",
        order_by="LicenceStatusChange.effective_date",
    )
    orders: Mapped[list[JobOrder]] = relationship(back_populates="recruiter")

    __mapper_args__ = {"version_id_col": version_id}

    def status_on(self, day: dt.date) -> str:
        """Licence status in force on ``day`` (:func:`licence_status_on`)."""
        return licence_status_on(self, day)

    def __repr__(self) -> str:
        return f"Recruiter({self.recruiter_id!r}, {self.status})"


class LicenceStatusChange(Base):
    __tablename__ = "licence_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recruiter_id: Mapped[str] = mapped_column(
        ForeignKey("recruiters.recruiter_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    recruiter: Mapped[Recruiter] = relationship(back_populates="status_history")


class JobOrder(Base):
    """A supply contract / job order posted by a recruiter (FORMAT.md job_orders.csv)."""

    __tablename__ = "job_orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recruiter_id: Mapped[str] = mapped_column(ForeignKey("recruiters.recruiter_id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str] = mapped_column(String(2))
    programme: Mapped[str | None] = mapped_column(String(16))
    # Who the order recruits when the law sets a special fee cap for them (FORMAT.md):
    # returned_trainee, titp_stage3, high_skill; None: the general case (text still read).
    route: Mapped[str | None] = mapped_column(String(32))
    required_skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language_requirement: Mapped[str | None] = mapped_column(String(100))
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(8))
    min_education: Mapped[str | None] = mapped_column(String(20))
    min_experience_years: Mapped[float | None] = mapped_column(Float)
    positions: Mapped[int] = mapped_column(Integer)
    places_filled: Mapped[int] = mapped_column(Integer, default=0)
    monthly_wage: Mapped[float | None] = mapped_column(Float)
    wage_currency: Mapped[str | None] = mapped_column(String(3))
    contract_months: Mapped[int | None] = mapped_column(Integer)
    service_fee_vnd: Mapped[float | None] = mapped_column(Float)
    brokerage_fee_vnd: Mapped[float | None] = mapped_column(Float)
    deposit_vnd: Mapped[float | None] = mapped_column(Float)
    approval_no: Mapped[str | None] = mapped_column(String(100), index=True)
    approval_date: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    departure_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    recruiter: Mapped[Recruiter] = relationship(back_populates="orders")
    applications: Mapped[list[Application]] = relationship(back_populates="order")

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def places_left(self) -> int:
        return places_left(self)

    def __repr__(self) -> str:
        return f"JobOrder({self.order_id!r}, {self.country}, {self.title!r})"


class Worker(Base):
    """A worker profile kept by the centre (FORMAT.md workers.csv).

    One person, one profile: ``national_id`` (CCCĐ) is unique among the profiles not merged
    into another (a partial unique index; checked with a clear message before every write by
    ``data.repo.national_id_holders``). A duplicate profile found later is merged
    (``web.services.merge``): it stays, marked ``merged_into`` the kept profile, out of every ranking,
    allocation, list and export (:func:`is_active_worker`, :meth:`in_pool`).
    ``search_text`` is derived on every write (:func:`worker_search_text`) for the search.
    """

    __tablename__ = "workers"
    __table_args__ = (
        Index(
            "uq_workers_national_id_unmerged", "national_id", unique=True,
            sqlite_where=text("merged_into IS NULL"), postgresql_where=text("merged_into IS NULL"),
        ),
    )

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(8))
    commune: Mapped[str | None] = mapped_column(String(200), index=True)
    former_district: Mapped[str | None] = mapped_column(String(200))
    disadvantaged_commune: Mapped[bool | None] = mapped_column(Boolean)
    ethnicity: Mapped[str | None] = mapped_column(String(50))
    household: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(20))
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # [{"occupation": "thợ hàn", "years": 3.0}, ...] in the order written
    experience: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language_training: Mapped[str | None] = mapped_column(String(10))
    preferred_countries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    preferred_sectors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    min_wage_vnd: Mapped[float | None] = mapped_column(Float)
    max_fee_vnd: Mapped[float | None] = mapped_column(Float)
    available_from: Mapped[dt.date | None] = mapped_column(Date)
    consent_share: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    consent_scope: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    national_id: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the profile this one was merged into (a duplicate of the same person), and when
    merged_into: Mapped[str | None] = mapped_column(String(64), index=True)
    merged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # folded words of id, name, commune, phone, CCCĐ and skills, space-padded: " w00017 nong van ... "
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    certificates: Mapped[list[LanguageCertificate]] = relationship(
        back_populates="worker",
        cascade="all, delete-orphan",
        order_by="LanguageCertificate.position",
    )
    applications: Mapped[list[Application]] = relationship(
        back_populates="worker", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version_id}

    def age_on(self, day: dt.date) -> int:
        return age_on(self.birth_date, day)

    @classmethod
    def in_pool(cls):
        """SQL condition of :func:`is_active_worker`: active and not merged into another."""
        return (cls.active.is_(True)) & (cls.merged_into.is_(None))

    def __repr__(self) -> str:
        return f"Worker({self.worker_id!r})"


def licence_status_on(recruiter: Any, day: dt.date) -> str:
    """Licence status of ``recruiter`` (a mapped row or its snapshot, ``models.snapshots``) in
    force on ``day``: the last recorded change on or before it.

    Without a recorded change before ``day`` the licence counts as active from its issue
    date (or always, if the date is unknown) and as "unlicensed" before it.
    """
    history = recruiter.status_history
    past = [c for c in history if c.effective_date <= day]
    if past:
        return max(past, key=lambda c: (c.effective_date, c.id or 0)).status
    if not history and recruiter.status != "active":
        if recruiter.status_date is None or recruiter.status_date <= day:
            return recruiter.status
    if recruiter.licence_date and recruiter.licence_date > day:
        return "unlicensed"
    return "active"


def places_left(order: Any) -> int:
    """Places of an order (a mapped row or its snapshot) not filled yet."""
    return max(0, (order.positions or 0) - (order.places_filled or 0))


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day`` of someone born on ``birth_date``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_active_worker(worker: Any) -> bool:
    """The one definition of a worker in the pool (rankings, allocation, lists, exports,
    statistics): not deactivated and not merged into another profile. Duck-typed, so the
    engine's plain test objects without these attributes count as active."""
    return getattr(worker, "active", True) is not False and getattr(worker, "merged_into", None) is None


def is_priority_worker(worker: Any) -> bool:
    """The one definition of the priority group a cohort's allocation may reserve a share for
    (Plan 1244/KH-UBND): a worker from an especially disadvantaged commune or a poor or near-poor
    household. Duck-typed like :func:`is_active_worker`."""
    return bool(getattr(worker, "disadvantaged_commune", None)) or getattr(worker, "household", None) in (
        "poor", "near_poor")


def worker_search_text(worker_id: str | None, full_name: str | None, commune: str | None, phone: str | None,
                       national_id: str | None, skills: Any) -> str:
    """The words the worker search matches, folded (diacritics, case, punctuation gone) and
    padded with spaces so a whole word is ``LIKE '% word %'``. An id or phone written with
    separators ("W-1A2B", "0912 345 678") is also there in one piece."""
    words: list[str] = []
    for part in (worker_id, phone, national_id):
        folded = fold(part)
        words.append(folded)
        if " " in folded:
            words.append(folded.replace(" ", ""))
    words.append(fold(full_name))
    words.append(fold(commune))
    words.extend(fold(str(s)) for s in (skills or []))
    joined = " ".join(w for w in words if w)
    return f" {joined} " if joined else ""


@event.listens_for(Worker, "before_insert")
@event.listens_for(Worker, "before_update")
def _refresh_search_text(_mapper, _connection, target: Worker) -> None:
    target.search_text = worker_search_text(target.worker_id, target.full_name, target.commune, target.phone,
                                            target.national_id, target.skills)


class LanguageCertificate(Base):
    """One certificate of a worker, parsed onto DOMAIN.md's scale (see models.languages)."""

    __tablename__ = "language_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(
        ForeignKey("workers.worker_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[str] = mapped_column(String(100))  # as written, e.g. "JLPT N4 (2024-07)"
    exam: Mapped[str] = mapped_column(String(16))  # jlpt, jft, eps_topik, topik, cefr, ...
    language: Mapped[str] = mapped_column(String(2))  # ja, ko, de, en, zh ...
    label: Mapped[str | None] = mapped_column(String(16))  # "N4", "B2", "3" ...
    score: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int] = mapped_column(Integer)  # 0..6 on the one scale
    test_date: Mapped[dt.date | None] = mapped_column(Date)

    worker: Mapped[Worker] = relationship(back_populates="certificates")

    @classmethod
    def from_certificate(cls, c: Any, position: int) -> "LanguageCertificate":
        """A row from a parsed ``models.languages.Certificate``."""
        return cls(position=position, raw=c.raw, exam=c.exam, language=c.language, label=c.label,
                   score=c.score, level=c.level, test_date=c.test_date)


class Application(Base):
    """A worker x order pair moving through the pipeline."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("worker_id", "order_id", name="uq_application_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(
        ForeignKey("workers.worker_id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[str] = mapped_column(ForeignKey("job_orders.order_id"), index=True)
    stage: Mapped[str] = mapped_column(String(16), default="suggested")
    score: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    worker: Mapped[Worker] = relationship(back_populates="applications")
    order: Mapped[JobOrder] = relationship(back_populates="applications")
    events: Mapped[list[StageEvent]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="StageEvent.at"
    )
    after: Mapped["AfterDeparture | None"] = relationship(
        back_populates="application", cascade="all, delete-orphan", uselist=False
    )

    __mapper_args__ = {"version_id_col": version_id}


class AfterDeparture(Base):
    """What happened after a worker left with an application: arrival confirmed, the contract's
    end, the return (at term, or early with a reason from a closed list) and the referral to a
    job at home (reintegration). Feeds the forecast, the period report and the enterprise's record."""

    __tablename__ = "after_departure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    arrived_on: Mapped[dt.date | None] = mapped_column(Date)
    contract_end: Mapped[dt.date | None] = mapped_column(Date, index=True)
    returned_on: Mapped[dt.date | None] = mapped_column(Date)
    return_kind: Mapped[str | None] = mapped_column(String(10))  # models.enums.RETURN_KINDS
    early_reason: Mapped[str | None] = mapped_column(String(20))  # models.enums.EARLY_RETURN_REASONS
    note: Mapped[str | None] = mapped_column(Text)
    reintegration: Mapped[str | None] = mapped_column(Text)  # the job at home the worker was referred to
    by: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship(back_populates="after")


class StageEvent(Base):
    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    by: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    note: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="events")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    recruiter_id: Mapped[str | None] = mapped_column(ForeignKey("recruiters.recruiter_id"))
    full_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Set by an administrator's password reset: the next sign-in leads to the change-password
    # page and nothing else until the user has chosen a new password.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    api_token_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    # When the API token stops working (setting token_lifetime_days). None only for a token
    # issued before tokens expired: its first use gives it the lifetime (web.views.auth).
    api_token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Its last accepted use, written at most once a minute (web.views.auth.TOKEN_TOUCH_SECONDS).
    api_token_last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class UserSession(Base):
    """One signed-in browser session, kept on the server (web.views.sessions). The cookie carries only
    a random id; the table stores its SHA-256, so a copy of the table cannot be replayed. A
    session ends at ``expires_at`` (absolute, never extended), after an idle time, or when
    revoked (logout, password change or reset, deactivation)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str | None] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(32))  # view, create, update, delete, import, ...
    entity: Mapped[str] = mapped_column(String(32))  # worker, order, recruiter, user, ...
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Job(Base):
    """Long work run off the request path (web.services.jobs): a report workbook, a large import,
    an index rebuild. ``progress_done`` of ``progress_total`` steps; ``result`` names what it made
    (a file under the instance folder, or a JSON summary); ``error`` says why it failed."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued running done failed
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    backend: Mapped[str] = mapped_column(String(16), default="thread")  # thread rq inline (setting job_backend)
    worker: Mapped[str | None] = mapped_column(String(100))  # host:pid that holds or runs it
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    message_vi: Mapped[str | None] = mapped_column(String(300))
    message_en: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Written with every progress report: a running job whose heartbeat is old belongs to a
    # process that died (web.services.jobs.fail_stale).
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ExchangeRate(Base):
    """VND per unit of a currency, maintained by the administrator (wage comparisons)."""

    __tablename__ = "exchange_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    vnd_per_unit: Mapped[float] = mapped_column(Float)
    as_of: Mapped[dt.date | None] = mapped_column(Date)


class ConsentEvent(Base):
    """One change of a worker's consent to share the profile (Decree 13/2023/ND-CP): who
    recorded it, when, what was granted or revoked and for which scope. The history of a
    worker goes with the worker when the worker is erased."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.worker_id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # "grant" or "revoke"
    scope: Mapped[str | None] = mapped_column(String(200))
    consent_date: Mapped[dt.date | None] = mapped_column(Date)  # the date the worker gave or withdrew it
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class WorkerNote(Base):
    """A free note or a contact with a worker (call, visit, Zalo message, other) on the
    worker's timeline: typed, dated (the day it happened), by whom, with an optional
    follow-up date (a call-back). Goes with the worker when the worker is erased."""

    __tablename__ = "worker_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.worker_id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # models.enums.NOTE_KINDS
    day: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[dt.date | None] = mapped_column(Date, index=True)
    by: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TrainingCourse(Base):
    """A language or skills class the centre runs or refers workers to: the language and the
    level it aims at, its tier (basic or advanced, what Plan 1244's targets count), dates and
    provider. Opened by hand or from a training need (``need_key``)."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # models.enums.COURSE_KINDS
    language: Mapped[str | None] = mapped_column(String(8))  # ISO 639-1, language courses
    target_level: Mapped[str | None] = mapped_column(String(60))  # "JLPT N4", "TOPIK 2", "A2"
    tier: Mapped[str] = mapped_column(String(10), default="basic")  # models.enums.COURSE_TIERS
    provider: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer)
    need_key: Mapped[str | None] = mapped_column(String(60))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    enrolments: Mapped[list["Enrolment"]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Enrolment.id")

    __mapper_args__ = {"version_id_col": version_id}


class Enrolment(Base):
    """A worker in a course and the result: completed (with the level reached and the
    certificate), failed or dropped. Goes with the worker when the worker is erased."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("course_id", "worker_id", name="uq_enrolment_course_worker"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.worker_id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="enrolled")  # models.enums.ENROLMENT_STATUSES
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    level_reached: Mapped[str | None] = mapped_column(String(60))
    certificate: Mapped[str | None] = mapped_column(String(200))
    by: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[TrainingCourse] = relationship(back_populates="enrolments")


class Registration(Base):
    """A worker's own registration of interest from the public page, waiting for a counsellor:
    it becomes a profile (``worker_id``) only when accepted. ``consent_version`` is the version of
    the consent text the person agreed to (Decree 13/2023/ND-CP). A rejected registration keeps
    no personal data beyond what the decision needs."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(8))
    commune: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    national_id: Mapped[str | None] = mapped_column(String(12), index=True)
    preferred_countries: Mapped[list | None] = mapped_column(JSON)
    skills: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[str] = mapped_column(String(20))
    share_consent: Mapped[bool] = mapped_column(Boolean, default=False)  # may be shown to licensed enterprises
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending, accepted, rejected
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    worker_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)


class WorkerDocument(Base):
    """A document kept with the worker's file (passport, language certificate, health check,
    criminal-record extract, contract...): its number and expiry, and the uploaded scan, stored
    in the instance folder under ``stored_name`` (mode 600). Personal data: every upload and
    view is audited, and it is erased with the worker."""

    __tablename__ = "worker_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.worker_id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # models.enums.DOCUMENT_KINDS
    number: Mapped[str | None] = mapped_column(String(60))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    file_name: Mapped[str | None] = mapped_column(String(200))  # as uploaded, for the download
    stored_name: Mapped[str | None] = mapped_column(String(80))
    content_type: Mapped[str | None] = mapped_column(String(60))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str | None] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
