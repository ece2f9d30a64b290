"""Licence verification (issue 13, DOMAIN.md fraud sign 3): a look-alike enterprise with the
same licence number holds both out, the administrator's queue lists them, and verifying the
genuine one in the admin UI releases its orders in the next ranking without a restart."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEvent, Recruiter
from web.db import get_store
from webtesting import csrf_of


def _add_look_alike(app):
    with get_store(app).session() as s:
        s.add(Recruiter(recruiter_id="REC-X", name="Cong ty CP Nhan luc Quoc te An Binh", licence_no="101/LDTBXH-GP",
                        status="active", markets=["JP"], website="anbinh-jobs.com", extra={}))
        s.commit()


def test_verifying_the_genuine_enterprise_releases_its_orders(app, client, auth):
    auth.as_user("counsellor")
    assert 'id="match-ORD-A1"' in client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    _add_look_alike(app)
    page = client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' not in page  # both holders are held out

    auth.as_user("admin")
    listing = client.get("/admin/recruiters").get_data(as_text=True)
    queue = listing.split('id="licence-queue"', 1)[1].split("</section>", 1)[0]
    assert "Cần xác minh giấy phép" in listing and "REC-A" in queue and "REC-X" in queue
    assert "không phải .vn" in queue
    with get_store(app).session() as s:
        version = s.get(Recruiter, "REC-A").version_id
    r = client.post("/admin/recruiters/REC-A/verify",
                    data={"csrf_token": csrf_of(listing), "version_id": version, "next": "list"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert r.headers["Location"].endswith("/admin/recruiters"), r.headers["Location"]
    with get_store(app).session() as s:
        assert s.get(Recruiter, "REC-A").licence_verified_on is not None
    after = client.get("/admin/recruiters").get_data(as_text=True)
    queue = after.split('id="licence-queue"', 1)[1].split("</section>", 1)[0] if 'id="licence-queue"' in after else ""
    assert "REC-A" not in queue and "REC-X" not in queue
    with get_store(app).session() as s:
        assert s.get(Recruiter, "REC-A").licence_verified_on is not None
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "licence_verified")).all()

    auth.as_user("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' in page
    blocked = client.get("/counsellor/blocked").get_data(as_text=True)
    assert "REC-X" not in blocked or "An Binh" in blocked  # the look-alike has no orders to list


def test_verify_refuses_a_future_date_and_a_stale_form(app, client, auth):
    auth.as_user("admin")
    page = client.get("/admin/recruiters/REC-A").get_data(as_text=True)
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    bad = client.post("/admin/recruiters/REC-A/verify",
                      data={"csrf_token": csrf_of(page), "version_id": version, "verified_on": "2999-01-01"})
    assert bad.status_code == 400 and "tương lai" in bad.get_data(as_text=True)
    stale = client.post("/admin/recruiters/REC-A/verify",
                        data={"csrf_token": csrf_of(page), "version_id": int(version) + 5})
    assert stale.status_code == 409
