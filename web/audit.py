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
