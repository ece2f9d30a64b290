"""Decree 13/2023/ND-CP duties towards a worker: everything held about them (the data-subject
export), their consent history and the erasure of their record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from data.repo import audit
from models import Application, AuditEvent, ConsentEvent, Enrolment, StageEvent, Worker, WorkerDocument, WorkerNote
from web.services.documents import erase_files
from web.services.uploads import remove_mentioning

MAX_SCOPE = 200


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _columns(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs if c.key not in skip}


def worker_record(s: Session, wid: str) -> dict[str, Any] | None:
    """Everything held about worker ``wid`` (``None`` if there is no such worker)."""
    w = s.get(Worker, wid)
    if w is None:
        return None
    apps = s.scalars(select(Application).where(Application.worker_id == wid).order_by(Application.id)).all()
    app_ids = {str(a.id) for a in apps}
    events = s.scalars(
        select(AuditEvent).where(AuditEvent.entity.in_(("worker", "application"))).order_by(AuditEvent.id)
    ).all()
    about = [e for e in events if (e.entity == "worker" and e.entity_id == wid)
             or (e.entity == "application" and (e.entity_id in app_ids or (e.detail or {}).get("worker_id") == wid))]
    consents = s.scalars(select(ConsentEvent).where(ConsentEvent.worker_id == wid).order_by(ConsentEvent.id)).all()
    merged = s.scalars(select(Worker.worker_id).where(Worker.merged_into == wid).order_by(Worker.worker_id)).all()
    notes = s.scalars(select(WorkerNote).where(WorkerNote.worker_id == wid).order_by(WorkerNote.id)).all()
    enrolments = s.scalars(select(Enrolment).where(Enrolment.worker_id == wid).order_by(Enrolment.id)).all()
    return {
        "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "worker": _columns(w),
        "certificates": [_columns(c, ("worker_id",)) for c in w.certificates],
        "applications": [
            {**_columns(a), "events": [_columns(e, ("application_id",)) for e in a.events]} for a in apps
        ],
        "consent_events": [_columns(c, ("worker_id",)) for c in consents],
        "notes": [_columns(n, ("worker_id",)) for n in notes],
        "training": [{**_columns(e, ("worker_id",)), "course": e.course.name} for e in enrolments],
        "documents": [_columns(d, ("worker_id", "stored_name")) for d in
                      s.scalars(select(WorkerDocument).where(WorkerDocument.worker_id == wid).order_by(WorkerDocument.id))],
        "audit_events": [_columns(e) for e in about],
        # duplicate profiles of the same person merged into this one (web.services.merge)
        "merged_profiles": [worker_record(s, m) for m in merged],
    }


def record_consent(s: Session, w: Worker, action: str, by: str | None, scope: str | None = None,
                   day: dt.date | None = None, note: str | None = None) -> ConsentEvent:
    """Grant (with ``scope``) or revoke the worker's consent to share; keeps the history."""
    if action not in ("grant", "revoke"):
        raise ValueError(f"The 'action' of a consent change must be 'grant' or 'revoke'. Got {action!r} instead.")
    day = day or dt.date.today()
    scope = (scope or "").strip()[:MAX_SCOPE] or None
    if action == "grant":
        w.consent_share, w.consent_date, w.consent_scope = True, day, scope
    else:
        w.consent_share, w.consent_date = False, day
    event = ConsentEvent(worker_id=w.worker_id, action=action, scope=scope if action == "grant" else w.consent_scope,
                         consent_date=day, by=by, note=note)
    s.add(event)
    s.flush()
    audit(s, by, f"consent_{action}", "worker", w.worker_id, scope=event.scope, consent_date=day.isoformat())
    return event


def erase_worker(s: Session, wid: str, by: str | None, instance_path: str | None = None) -> dict[str, int] | None:
    """Delete worker ``wid`` with its certificates, applications (and their stage events),
    consent history, timeline notes, and the duplicate profiles merged into it (the same person); audit the
    erasure with counts only. With ``instance_path``, every pending upload preview that holds
    the worker's name or CCCĐ is deleted too (``web.services.uploads``). ``None`` if there is no such worker."""
    w = s.get(Worker, wid)
    if w is None:
        return None
    for merged in s.scalars(select(Worker.worker_id).where(Worker.merged_into == wid)).all():
        erase_worker(s, merged, by, instance_path)
    app_ids = list(s.scalars(select(Application.id).where(Application.worker_id == wid)))
    counts = {
        "stage_events": s.execute(delete(StageEvent).where(StageEvent.application_id.in_(app_ids))).rowcount if app_ids else 0,
        "applications": len(app_ids),
        "certificates": len(w.certificates),
        "consent_events": s.execute(delete(ConsentEvent).where(ConsentEvent.worker_id == wid)).rowcount,
        "notes": s.execute(delete(WorkerNote).where(WorkerNote.worker_id == wid)).rowcount,
        "enrolments": s.execute(delete(Enrolment).where(Enrolment.worker_id == wid)).rowcount,
    }
    if instance_path is not None:
        counts["pending_uploads"] = remove_mentioning(instance_path, w.full_name, w.national_id)
        counts["documents"] = erase_files(s, instance_path, wid)
    else:
        counts["documents"] = s.execute(delete(WorkerDocument).where(WorkerDocument.worker_id == wid)).rowcount
    s.delete(w)  # cascades to certificates and applications
    s.flush()
    audit(s, by, "erase", "worker", wid, **counts)
    return counts
