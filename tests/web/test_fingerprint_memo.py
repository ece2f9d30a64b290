"""The engine's data fingerprint is read once per request, and again after a commit (issue 15)."""

from __future__ import annotations

from sqlalchemy import event

from models import Worker
from web.views.db import get_session
from web.views.engine import fingerprint


def test_the_fingerprint_is_memoised_until_the_session_commits(app):
    with app.test_request_context():
        s = get_session()
        statements = []
        listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            first = fingerprint(s)
            n = len(statements)
            assert n >= 5 and fingerprint(s) == first and len(statements) == n  # no query the second time
            s.get(Worker, "W-CONSENT").commune = "Xã Hòa An"
            s.commit()
            after = fingerprint(s)
            assert len(statements) > n and after != first  # a commit makes it read again, and it changed
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
