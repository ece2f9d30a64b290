"""Self-registration (issue 17): the public page keeps what was valid and names what is not,
never reveals whether a person is known, is rate-limited; the review queue flags possible
duplicates by CCCD and phone; accepting creates the profile (with the consent to share when
given), declining clears the personal data."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, ConsentEvent, Registration, Worker
from web.views.db import get_store
from webtesting import csrf_of

GOOD = {"full_name": "Lương Thị Hoa", "birth_date": "15/08/2001", "gender": "female", "commune": "Xã Hà Quảng",
        "phone": "0912 345 678", "national_id": "", "preferred_countries": ["JP", "TW"],
        "skills": "may công nghiệp; đóng gói", "consent": "yes", "share": "yes"}


def _post(client, **changes):
    page = client.get("/register").get_data(as_text=True)
    return client.post("/register", data={"csrf_token": csrf_of(page), **GOOD, **changes})


def test_the_public_page_refuses_bad_input_and_keeps_what_was_valid(app, client):
    r = _post(client, phone="12345", birth_date="31/02/2001", consent="")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Số điện thoại gồm 10 chữ số" in body and "Ngày sinh dạng NN/TT/NNNN" in body
    assert "Cần đồng ý để Trung tâm lưu hồ sơ" in body
    assert 'value="Lương Thị Hoa"' in body and 'value="Xã Hà Quảng"' in body and "may công nghiệp; đóng gói" in body
    with get_store(app).session() as s:
        assert s.scalars(select(Registration)).all() == []


def test_a_registration_lands_in_the_queue_with_its_duplicates_and_becomes_a_profile(app, client, auth):
    with get_store(app).session() as s:
        known_phone = s.get(Worker, "W-PRIVATE").phone
    first = _post(client)
    assert first.status_code == 201 and "Đã nhận đăng ký" in first.get_data(as_text=True)
    again = _post(client, full_name="Hoàng Thị Mai", phone=known_phone, gender="female", birth_date="01/01/1998")
    assert again.status_code == 201  # the public page never says the person is known
    auth.as_user("counsellor")
    queue = client.get("/counsellor/registrations").get_data(as_text=True)
    with get_store(app).session() as s:
        regs = {r.full_name: r.id for r in s.scalars(select(Registration))}
    dup_row = queue.split(f'id="reg-{regs["Hoàng Thị Mai"]}"', 1)[1].split("</tr>", 1)[0]
    assert "W-PRIVATE" in dup_row
    r = client.post(f"/counsellor/registrations/{regs['Lương Thị Hoa']}/accept", data={"csrf_token": csrf_of(queue)})
    assert r.status_code == 302 and "/edit" in r.headers["Location"]
    with get_store(app).session() as s:
        reg = s.get(Registration, regs["Lương Thị Hoa"])
        w = s.get(Worker, reg.worker_id)
        assert reg.status == "accepted" and w.full_name == "Lương Thị Hoa" and w.preferred_countries == ["JP", "TW"]
        assert w.consent_share is True
        assert s.scalars(select(ConsentEvent).where(ConsentEvent.worker_id == w.worker_id)).one().action == "grant"
        assert {"self_register", "accept"} <= set(s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "registration")))
    twice = client.post(f"/counsellor/registrations/{regs['Lương Thị Hoa']}/accept", data={"csrf_token": csrf_of(queue)})
    assert twice.status_code == 409
    no = client.post(f"/counsellor/registrations/{regs['Hoàng Thị Mai']}/reject",
                     data={"csrf_token": csrf_of(queue), "note": "trùng hồ sơ W-PRIVATE"})
    assert no.status_code == 302
    with get_store(app).session() as s:
        reg = s.get(Registration, regs["Hoàng Thị Mai"])
        assert reg.status == "rejected" and reg.phone is None and reg.full_name == "—" and reg.note == "trùng hồ sơ W-PRIVATE"


def test_a_registration_with_a_cccd_already_held_cannot_be_accepted(app, client, auth):
    with get_store(app).session() as s:
        nid = s.get(Worker, "W-PRIVATE").national_id
    assert _post(client, full_name="Hoàng Thị Mai", birth_date="01/01/1998", gender="female", national_id=nid).status_code == 201
    auth.as_user("counsellor")
    queue = client.get("/counsellor/registrations").get_data(as_text=True)
    with get_store(app).session() as s:
        rid = s.scalars(select(Registration.id)).one()
    assert "W-PRIVATE" in queue.split(f'id="reg-{rid}"', 1)[1].split("</tr>", 1)[0]
    r = client.post(f"/counsellor/registrations/{rid}/accept", data={"csrf_token": csrf_of(queue)})
    assert r.status_code == 409 and "đã thuộc một hồ sơ" in r.get_data(as_text=True)


def test_the_public_page_is_rate_limited(app, client):
    codes = [_post(client, phone=f"09123456{i:02d}").status_code for i in range(7)]
    assert codes[:5] == [201] * 5 and codes[5] == 429
