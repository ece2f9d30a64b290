"""Access control, table-driven over every route of the app and every role.

Each (endpoint, method) of ``app.url_map`` must have a row here giving the exact status for an
anonymous visitor, an administrator, a counsellor, recruiter A (REC-A, owns ORD-A1) and
recruiter B (REC-B). A new route without a row fails the test, so nobody adds a page without
deciding who may see it. Unsafe methods are sent with an empty body: where the role is allowed
in, the request fails validation (400/404/422) instead of changing anything.
"""

from __future__ import annotations

import pytest

ROLES = ("anon", "admin", "counsellor", "reca", "recb")
USERS = {"admin": "admin", "counsellor": "counsellor", "reca": "reca", "recb": "recb"}

# URL arguments: ORD-A1 belongs to REC-A; W-CONSENT consented to share; application 1 is W-CONSENT x ORD-A1.
ARGS = {
    "wid": "W-CONSENT",
    "oid": "ORD-A1",
    "rid": "REC-A",
    "uid": "{counsellor_id}",
    "aid": "1",
    "token": "no-such-upload",
    "filename": "style.css",
    "key": "no-such-need",
    "cid": "999",
    "reg_id": "999",
    "doc_id": "999",
    "kind": "workers",
    "fmt": "xlsx",
    "job_id": "999",
}

#                                     anon admin couns reca recb
EXPECTED: dict[tuple[str, str], tuple[int, int, int, int, int]] = {
    ("index", "GET"): (302, 302, 302, 302, 302),
    ("static", "GET"): (200, 200, 200, 200, 200),
    ("auth.login", "GET"): (200, 302, 302, 302, 302),
    ("auth.login", "POST"): (401, 401, 401, 401, 401),
    ("auth.logout", "POST"): (302, 302, 302, 302, 302),
    ("auth.change_password", "GET"): (302, 200, 200, 200, 200),
    ("auth.change_password", "POST"): (302, 422, 422, 422, 422),
    # administrator
    ("admin.recruiters", "GET"): (302, 200, 403, 403, 403),
    ("admin.new_recruiter", "GET"): (302, 200, 403, 403, 403),
    ("admin.new_recruiter", "POST"): (302, 422, 403, 403, 403),
    ("admin.recruiter", "GET"): (302, 200, 403, 403, 403),
    ("admin.change_status", "POST"): (302, 400, 403, 403, 403),
    ("admin.verify_licence", "POST"): (302, 400, 403, 403, 403),
    ("admin.licence_register", "GET"): (302, 200, 403, 403, 403),
    ("admin.licence_register", "POST"): (302, 422, 403, 403, 403),
    ("admin.users", "GET"): (302, 200, 403, 403, 403),
    ("admin.users", "POST"): (302, 422, 403, 403, 403),
    ("admin.set_active", "POST"): (302, 400, 403, 403, 403),
    ("admin.reset_password", "POST"): (302, 422, 403, 403, 403),
    ("admin.audit", "GET"): (302, 200, 403, 403, 403),
    ("admin.weights", "GET"): (302, 200, 403, 403, 403),
    ("admin.use_weights", "POST"): (302, 400, 403, 403, 403),
    # self-registration (web.views.registration): the public page and the review queue
    ("registration.register", "GET"): (200, 200, 200, 200, 200),
    ("registration.register", "POST"): (422, 422, 422, 422, 422),
    ("registration.queue", "GET"): (302, 200, 200, 403, 403),
    ("registration.accept", "POST"): (302, 404, 404, 403, 403),
    ("registration.reject", "POST"): (302, 404, 404, 403, 403),
    # after departure (web.views.aftercare): application 1 is at "sent"
    ("aftercare.record_after", "POST"): (302, 409, 409, 403, 403),
    # documents (web.views.documents)
    ("documents.add", "POST"): (302, 422, 422, 403, 403),
    ("documents.download", "GET"): (302, 404, 404, 403, 403),
    ("documents.remove", "POST"): (302, 404, 404, 403, 403),
    # import templates and web exports (counsellor)
    ("counsellor.import_template", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.export", "GET"): (302, 200, 200, 403, 403),
    # a counsellor's to-do list (web.views.todo)
    ("todo.todo_list", "GET"): (302, 200, 200, 403, 403),
    # pipeline board (web.views.board)
    ("board.order_board", "GET"): (302, 200, 200, 403, 403),
    ("board.order_board", "POST"): (302, 400, 400, 403, 403),
    ("board.recruiter_result", "POST"): (302, 403, 403, 422, 404),
    # training records (web.views.training)
    ("training.courses", "GET"): (302, 200, 200, 403, 403),
    ("training.new_course", "POST"): (302, 422, 422, 403, 403),
    ("training.course", "GET"): (302, 404, 404, 403, 403),
    ("training.enrol_workers", "POST"): (302, 404, 404, 403, 403),
    ("training.results", "POST"): (302, 404, 404, 403, 403),
    ("training.from_need", "POST"): (302, 404, 404, 403, 403),
    # counsellor (administrators too)
    ("counsellor.workers", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.new_worker", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.new_worker", "POST"): (302, 422, 422, 403, 403),
    ("counsellor.worker", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.edit_worker", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.edit_worker", "POST"): (302, 400, 400, 403, 403),
    ("counsellor.merge_worker", "POST"): (302, 400, 400, 403, 403),
    ("counsellor.add_note", "POST"): (302, 422, 422, 403, 403),
    ("counsellor.matches", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.summary", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.shortlist", "POST"): (302, 404, 404, 403, 403),
    ("counsellor.move", "POST"): (302, 400, 400, 403, 403),
    ("counsellor.reopen", "POST"): (302, 400, 400, 403, 403),
    ("counsellor.orders", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.order", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.blocked", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.import_upload", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.import_upload", "POST"): (302, 422, 422, 403, 403),
    ("counsellor.import_commit", "POST"): (302, 404, 404, 403, 403),
    ("counsellor.import_cancel", "POST"): (302, 302, 302, 403, 403),
    ("counsellor.allocation", "GET"): (302, 200, 200, 403, 403),
    ("counsellor.allocation", "POST"): (302, 200, 200, 403, 403),
    ("counsellor.allocation_accept", "POST"): (302, 400, 400, 403, 403),
    ("dashboard.index", "GET"): (302, 200, 200, 403, 403),
    # labour-market intelligence (web.views.intel)
    ("intel.needs", "GET"): (302, 200, 200, 403, 403),
    ("intel.need", "GET"): (302, 404, 404, 403, 403),
    ("intel.needs_xlsx", "GET"): (302, 200, 200, 403, 403),
    ("intel.trends", "GET"): (302, 200, 200, 403, 403),
    ("intel.forecast", "GET"): (302, 200, 200, 403, 403),
    ("intel.report", "GET"): (302, 200, 200, 403, 403),
    ("intel.report_xlsx", "GET"): (302, 200, 200, 403, 403),
    # background jobs (web.views.jobs): staff only; a job is its creator's and the administrators'
    ("jobs.start", "POST"): (302, 400, 400, 403, 403),
    ("jobs.list_jobs", "GET"): (302, 200, 200, 403, 403),
    ("jobs.job_page", "GET"): (302, 404, 404, 403, 403),
    ("jobs.download", "GET"): (302, 404, 404, 403, 403),
    # personal-data rights (web.views.privacy): consent, export, erasure
    ("privacy.worker", "GET"): (302, 200, 200, 403, 403),
    ("privacy.consent", "POST"): (302, 400, 400, 403, 403),
    ("privacy.export", "GET"): (302, 200, 200, 403, 403),
    ("privacy.erase", "POST"): (302, 400, 400, 403, 403),
    # recruiter: own enterprise only (B gets 404 for A's order, never its data)
    ("recruiter.orders", "GET"): (302, 403, 403, 200, 200),
    ("recruiter.new_order", "GET"): (302, 403, 403, 200, 200),
    ("recruiter.new_order", "POST"): (302, 403, 403, 422, 422),
    ("recruiter.order", "GET"): (302, 403, 403, 200, 404),
    ("recruiter.edit_order", "GET"): (302, 403, 403, 200, 404),
    ("recruiter.edit_order", "POST"): (302, 403, 403, 400, 404),
    ("recruiter.close_order", "POST"): (302, 403, 403, 400, 404),
    ("recruiter.reopen_order", "POST"): (302, 403, 403, 400, 404),
    # JSON API: 401 without credentials
    ("api.openapi", "GET"): (200, 200, 200, 200, 200),
    ("api.workers", "GET"): (401, 200, 200, 403, 403),
    ("api.worker", "GET"): (401, 200, 200, 200, 200),
    ("api.worker_matches", "GET"): (401, 200, 200, 403, 403),
    ("api.orders", "GET"): (401, 200, 200, 200, 200),
    ("api.create_order", "POST"): (401, 403, 403, 400, 400),
    ("api.order", "GET"): (401, 200, 200, 200, 404),
    ("api.order_matches", "GET"): (401, 200, 200, 200, 404),
    ("api.blocked_orders", "GET"): (401, 200, 200, 200, 200),
    ("api.move_application", "POST"): (401, 400, 400, 403, 403),
}


def all_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule and method of the app, URLs filled from ARGS."""
    from sqlalchemy import select

    from models import User
    from web.views.db import get_store

    with get_store(app).session() as s:
        counsellor_id = s.scalar(select(User.id).where(User.username == "counsellor"))
    out = []
    for rule in app.url_map.iter_rules():
        values = {a: ARGS[a].format(counsellor_id=counsellor_id) for a in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return sorted(out)


def test_every_route_has_an_expectation(app_no_csrf):
    routes = {(e, m) for e, m, _ in all_routes(app_no_csrf)}
    assert routes - set(EXPECTED) == set(), "routes without an access-control row"
    assert set(EXPECTED) - routes == set(), "rows for routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_status_of_every_route_for_role(app_no_csrf, role):
    from webtesting import AuthActions

    failures = []
    routes = all_routes(app_no_csrf)
    for endpoint, method, url in routes:
        # A fresh client per request: signing out or in must not leak into the next route.
        client = app_no_csrf.test_client()
        if role != "anon":
            AuthActions(client).as_user(USERS[role])
        with client.open(url, method=method) as response:
            status = response.status_code
        expected = EXPECTED[(endpoint, method)][ROLES.index(role)]
        if status != expected:
            failures.append(f"{method} {url} ({endpoint}): expected {expected}, got {status}")
    assert failures == []


def test_recruiter_b_never_sees_a_orders(app, auth, client):
    auth.as_user("recb")
    listing = client.get("/api/orders").get_json()
    ids = {o["order_id"] for o in listing["items"]}
    assert "ORD-A1" not in ids and "ORD-A2" not in ids
    assert {"ORD-B1", "ORD-BX"} <= ids
    assert all(o["recruiter_id"] == "REC-B" for o in listing["items"])
    page = client.get("/recruiter/orders").get_data(as_text=True)
    assert "ORD-A1" not in page and "ORD-B1" in page
    assert client.get("/recruiter/orders/ORD-A1").status_code == 404
    assert client.get("/api/orders/ORD-A1/matches").status_code == 404
    blocked = client.get("/api/blocked-orders").get_json()
    assert {b["item_id"] for b in blocked["items"]} <= {"ORD-B1", "ORD-BX"}


def test_recruiter_never_sees_a_worker_without_consent(app, auth, client):
    # The counsellor's ranking for ORD-A1 does include the non-consenting welder ...
    auth.as_user("counsellor")
    staff = client.get("/api/orders/ORD-A1/matches?top=100").get_json()
    assert "W-PRIVATE" in {m["item_id"] for m in staff["matches"]}
    # ... the recruiter's does not, neither in the API nor on the page, nor by id.
    auth.as_user("reca")
    ranking = client.get("/api/orders/ORD-A1/matches?top=100").get_json()
    ids = {m["item_id"] for m in ranking["matches"]}
    assert "W-PRIVATE" not in ids and "W-CONSENT" in ids
    assert ranking["ineligible"] == []
    page = client.get("/recruiter/orders/ORD-A1?top=100").get_data(as_text=True)
    assert "Hoàng Thị Mai" not in page and "Nguyễn Văn Đức" in page
    assert client.get("/api/workers/W-PRIVATE").status_code == 404


def test_contacts_hidden_until_sent(app, auth, client):
    auth.as_user("reca")  # application 1 (W-CONSENT x ORD-A1) is at "sent"
    mine = client.get("/api/workers/W-CONSENT").get_json()
    assert mine["contacts_visible"] is True and mine["phone"] == "0912345678"
    assert mine["ethnicity"] is None and mine["household"] is None  # sensitive data not shared
    auth.as_user("recb")
    other = client.get("/api/workers/W-CONSENT").get_json()
    assert other["contacts_visible"] is False
    assert other["phone"] == "*******678" and other["national_id"] == "*********234"


def test_counsellor_lists_mask_phone(app, auth, client):
    auth.as_user("counsellor")
    page = client.get("/counsellor/workers?q=duc").get_data(as_text=True)
    assert "Nguyễn Văn Đức" in page
    assert "0912345678" not in page and "*******678" in page
    listing = client.get("/api/workers?q=nguyen van duc").get_json()
    assert [w["worker_id"] for w in listing["items"]] == ["W-CONSENT"]
    assert listing["items"][0]["phone"] == "*******678"
