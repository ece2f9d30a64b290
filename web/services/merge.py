"""One person, one profile: merge a duplicate profile into the one kept (no Flask here).

:func:`merge_workers` keeps the history of both profiles on the kept one: applications with
their stage events, consent events, timeline notes, language certificates and the audit events about the
duplicate move to it; empty fields of the kept profile are filled from the duplicate. The
duplicate is not deleted: it is marked ``merged_into`` the kept profile (and inactive), so it
leaves every ranking, allocation, list and export at once (``models.is_active_worker``) while
its record stays for the right of access. The merge is audited on both profiles.

Shared by the counsellor's page (``web.views.counsellor``) and ``matcher worker merge`` (``web.cli.ops``);
the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from data.formats import WORKERS
from data.repo import audit
from models import (Application, AuditEvent, ConsentEvent, Enrolment, LanguageCertificate, StageEvent, Worker,
                    WorkerDocument, WorkerNote)
from models.entities import utcnow


class MergeError(ValueError):
    """A merge that cannot be done; ``vi`` and ``en`` say why."""

    def __init__(self, vi: str, en: str):
        self.vi, self.en = vi, en
        super().__init__(en)


@dataclass
class MergeResult:
    keep: str
    other: str
    applications: int = 0  # moved to the kept profile
    joined: list[str] = field(default_factory=list)  # orders both had an application for
    stage_events: int = 0
    consent_events: int = 0
    notes: int = 0
    enrolments: int = 0
    documents: int = 0
    certificates: int = 0
    audit_events: int = 0
    filled: list[str] = field(default_factory=list)  # fields of the kept profile filled in

    def counts(self) -> dict[str, Any]:
        return {"applications": self.applications, "joined_orders": self.joined, "stage_events": self.stage_events,
                "consent_events": self.consent_events, "notes": self.notes, "enrolments": self.enrolments, "documents": self.documents, "certificates": self.certificates,
                "audit_events": self.audit_events, "filled_fields": self.filled}


def _load(s: Session, wid: str) -> Worker:
    w = s.get(Worker, wid, options=[selectinload(Worker.certificates)])
    if w is None:
        raise MergeError(f"Không có hồ sơ người lao động {wid!r}.", f"No worker {wid!r}.")
    return w


def _check(keep: Worker, other: Worker) -> None:
    if keep.worker_id == other.worker_id:
        raise MergeError("Không thể gộp một hồ sơ với chính nó.", "A profile cannot be merged with itself.")
    for w in (keep, other):
        if w.merged_into:
            raise MergeError(f"Hồ sơ {w.worker_id} đã được gộp vào {w.merged_into}.",
                             f"The profile {w.worker_id} was already merged into {w.merged_into}.")
    if keep.national_id and other.national_id and keep.national_id != other.national_id:
        raise MergeError(
            f"Hai hồ sơ có số CCCD khác nhau ({keep.national_id}, {other.national_id}): không phải cùng một người, "
            "hoặc một số bị nhập sai; hãy sửa số sai trước khi gộp.",
            f"The two profiles have different CCCD numbers ({keep.national_id}, {other.national_id}): not the "
            "same person, or one number is mistyped; correct it before merging.",
        )


def _move_applications(s: Session, keep: Worker, other: Worker, result: MergeResult) -> None:
    """Applications of ``other`` go to ``keep``. For an order both applied to, the kept
    application takes the state of whichever was updated last, and gets both histories."""
    mine = {a.order_id: a for a in s.scalars(select(Application).where(Application.worker_id == keep.worker_id))}
    theirs = list(s.scalars(select(Application).where(Application.worker_id == other.worker_id)
                            .options(selectinload(Application.events))))
    for a in theirs:
        result.stage_events += len(a.events)
        target = mine.get(a.order_id)
        if target is None:
            a.worker_id = keep.worker_id
            result.applications += 1
            continue
        if (a.updated_at or a.created_at) > (target.updated_at or target.created_at):
            target.stage, target.score, target.note = a.stage, a.score, a.note
        s.execute(update(StageEvent).where(StageEvent.application_id == a.id).values(application_id=target.id))
        s.expire(a)
        s.flush()
        s.delete(s.get(Application, a.id))
        result.joined.append(a.order_id)


def _move_enrolments(s: Session, keep_id: str, other_id: str) -> int:
    """The duplicate's training records join the kept profile; where both were enrolled in the
    same course, the kept profile's record stays and the duplicate's is dropped."""
    taken = set(s.scalars(select(Enrolment.course_id).where(Enrolment.worker_id == keep_id)))
    moved = 0
    for e in s.scalars(select(Enrolment).where(Enrolment.worker_id == other_id)).all():
        if e.course_id in taken:
            s.delete(e)
        else:
            e.worker_id = keep_id
            moved += 1
    s.flush()
    return moved


def _move_certificates(s: Session, keep: Worker, other: Worker, result: MergeResult) -> None:
    """Certificates the kept profile lacks (by the text as written) move to it; identical ones
    stay on the duplicate, so nothing is lost."""
    have = {c.raw for c in keep.certificates}
    position = max((c.position for c in keep.certificates), default=-1) + 1
    ids = [c.id for c in other.certificates if c.raw not in have]
    for cid in ids:
        s.execute(update(LanguageCertificate).where(LanguageCertificate.id == cid)
                  .values(worker_id=keep.worker_id, position=position))
        position += 1
    result.certificates = len(ids)


def _fill_empty(keep: Worker, other: Worker, result: MergeResult) -> None:
    for column in WORKERS.columns:
        attr = column.attribute
        if attr in ("worker_id", "certificates") or attr.startswith("consent_"):
            continue  # consent is the kept profile's own, with its history
        mine, theirs = getattr(keep, attr), getattr(other, attr)
        if mine in (None, "", []) and theirs not in (None, "", []):
            setattr(keep, attr, theirs)
            result.filled.append(column.name)


def merge_workers(s: Session, keep_id: str, other_id: str, by: str | None) -> MergeResult:
    """Merge profile ``other_id`` into ``keep_id`` (see the module docstring).

    Raises:
        MergeError: a profile is missing or already merged, both ids are the same, or the
            two profiles carry different CCCĐ numbers.
    """
    keep, other = _load(s, keep_id), _load(s, other_id)
    _check(keep, other)
    result = MergeResult(keep_id, other_id)
    other.active, other.merged_into, other.merged_at = False, keep_id, utcnow()
    s.flush()  # the duplicate leaves the CCCĐ unique index before the kept one may take its number
    _move_applications(s, keep, other, result)
    _move_certificates(s, keep, other, result)
    result.consent_events = s.execute(
        update(ConsentEvent).where(ConsentEvent.worker_id == other_id).values(worker_id=keep_id)
    ).rowcount
    result.notes = s.execute(update(WorkerNote).where(WorkerNote.worker_id == other_id).values(worker_id=keep_id)).rowcount
    result.enrolments = _move_enrolments(s, keep_id, other_id)
    result.documents = s.execute(
        update(WorkerDocument).where(WorkerDocument.worker_id == other_id).values(worker_id=keep_id)).rowcount
    events = list(s.scalars(select(AuditEvent).where(AuditEvent.entity == "worker", AuditEvent.entity_id == other_id)))
    for e in events:
        e.entity_id, e.detail = keep_id, {**(e.detail or {}), "merged_from": other_id}
    result.audit_events = len(events)
    _fill_empty(keep, other, result)
    s.flush()
    s.expire(keep)
    s.expire(other)
    audit(s, by, "merge", "worker", keep_id, merged=other_id, **result.counts())
    audit(s, by, "merged_into", "worker", other_id, kept=keep_id)
    return result
