"""Write to the audit log from a request: who did what to which record.

Thin wrapper over ``data.repo.audit`` that fills in the signed-in user; the caller commits
(together with the change it records, so a change is never stored without its audit line).
"""

from __future__ import annotations

from typing import Any

from flask import g

from web.db import get_session


def record(action: str, entity: str, entity_id: str | int | None, by: str | None = None, **detail: Any) -> None:
    from data.repo import audit

    user = g.get("user")
    username = by or (user.username if user is not None else None)
    if g.get("via_token"):
        detail.setdefault("via", "api_token")
    audit(get_session(), username, action, entity, None if entity_id is None else str(entity_id), **detail)


# Lists longer than this are audited by count and digest only (the digest of the sorted ids
# identifies the exact set for an inquiry, without filling the log).
BULK_IDS_SHOWN = 100


def record_bulk_read(page: str, entity: str, ids: list[str], **detail: Any) -> None:
    """Audit a read of many people's data at once (Decree 13/2023: who read which profiles, when):
    a worker list, a ranked list of workers, an allocation run, a bulk API read. Commits, since a
    read changes nothing else."""
    import hashlib

    unique = sorted(set(ids))
    digest = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16]
    shown = unique if len(unique) <= BULK_IDS_SHOWN else None
    record("view_list", entity, None, page=page, count=len(unique), digest=digest, ids=shown, **detail)
    get_session().commit()
