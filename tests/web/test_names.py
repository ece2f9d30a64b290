"""Pages name the codes a person reads (issue 18): countries, stages, audit actions and their
detail, legal sources; the code stays visible only as small text or a tooltip."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def admin(auth, client):
    auth.login("admin")
    return client


def _audit_rows(client, query: str = "") -> str:
    return client.get(f"/admin/audit{query}").get_data(as_text=True).split('id="audit-table"', 1)[1]


def test_audit_page_names_actions_records_and_detail(admin):
    admin.get("/counsellor/workers/W-PRIVATE")
    admin.get("/counsellor/workers")  # a bulk read, audited with the list of ids
    rows = _audit_rows(admin)
    # the action by its name, the code kept as small text and as a tooltip
    assert re.search(r'<span title="login">Đăng nhập</span> <small class="code">login</small>', rows)
    assert re.search(r'<span title="view">Xem</span>', rows)
    assert '<span title="worker">Người lao động</span> W-PRIVATE' in rows
    assert '<span title="page">trang</span>: profile' in rows
    # a list is shown as a list, shortened, never as a Python repr
    assert "['" not in rows and "view_list" not in rows.replace('title="view_list"', "").replace(
        '<small class="code">view_list</small>', "")
    assert "Xem danh sách" in rows
    # the filter offers the names too, with the codes as values
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert re.search(r'<option value="login"\s*>Đăng nhập</option>', page)
    assert "Thời điểm (giờ Việt Nam)" in page and "UTC" not in page.split('id="audit-table"', 1)[1].split("</thead>")[0]
    english = _audit_rows(admin, "?lang=en")
    assert "Signed in" in english and '<span title="page">page</span>: profile' in english


def test_audit_detail_names_stage_codes(admin):
    from web.views.audit import detail_items

    items = detail_items({"from_stage": "sent", "to_stage": "selected", "workers": [f"W{i}" for i in range(8)],
                          "partial": False, "via": None})
    assert items == [
        ("from_stage", "từ giai đoạn", "Đã giới thiệu cho doanh nghiệp"),
        ("to_stage", "sang giai đoạn", "Trúng tuyển"),
        ("workers", "người lao động", "W0, W1, W2, W3, W4 … (+3)"),
        ("partial", "nhập một phần", "không"),
        ("via", "qua", "—"),
    ]
    assert detail_items({"to_stage": "selected"}, "en") == [("to_stage", "to stage", "Selected")]


def test_match_reasons_name_the_countries(auth, client):
    auth.login("counsellor")
    html = client.get("/counsellor/workers/W-CONSENT/matches").get_data(as_text=True)
    assert "Nhật Bản là nước mong muốn thứ 1" in html
    assert not re.search(r"\b(JP|TW) (là|không nằm)", html)


def test_support_sources_are_cited_in_vietnamese(auth, client):
    auth.login("counsellor")
    html = client.get("/intel/needs").get_data(as_text=True)
    assert "Thông tư 46/2022/TT-BTC" in html and "Nghị định 338/2025/NĐ-CP, Điều 30" in html
    for english in ("Circular 46", "Decree 338", "DOMAIN.md", "check the decree"):
        assert english not in html


def test_forms_show_country_names_and_read_them_back(app, auth, client):
    """The edit form shows "Nhật Bản; Đài Loan" (not "JP; TW"); saving it, or typing names, stores
    the codes."""
    from models import Worker
    from web.views.db import get_store
    from webtesting import csrf_of

    auth.login("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT/edit").get_data(as_text=True)
    assert 'value="Nhật Bản; Đài Loan"' in page
    assert "Tên hoặc mã nước" in page
    fields = dict(re.findall(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', page))
    fields.update({k: v for k, v in re.findall(r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page)})
    for name in ("gender", "education", "household", "language_training", "ethnicity"):
        options = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
        m = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = m.group(1) if m else ""
    fields["consent_share"] = "true"
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    fields.update({"preferred_countries": "Hàn Quốc; dai loan; Đức", "version_id": version, "csrf_token": csrf_of(page)})
    saved = client.post("/counsellor/workers/W-CONSENT/edit", data=fields)
    assert saved.status_code == 302, re.findall(r"class=\"error\" id=\"e-[^\"]+\"[^>]*>[^<]*", saved.get_data(as_text=True))
    with get_store(app).session() as s:
        assert s.get(Worker, "W-CONSENT").preferred_countries == ["KR", "TW", "DE"]


def test_country_filters_read_names(auth, client):
    """The matches page's country filter takes "Đài Loan" as well as "TW" and shows the name back."""
    auth.login("counsellor")
    by_code = client.get("/counsellor/workers/W-CONSENT/matches?country=TW&top=100").get_data(as_text=True)
    by_name = client.get("/counsellor/workers/W-CONSENT/matches?country=dai+loan&top=100").get_data(as_text=True)
    ids = lambda html: re.findall(r'id="match-([^"]+)"', html)  # noqa: E731
    assert ids(by_code) == ids(by_name) and "ORD-A2" in ids(by_name) and "ORD-A1" not in ids(by_name)
    assert 'name="country" value="Đài Loan"' in by_name
    nowhere = client.get("/counsellor/workers/W-CONSENT/matches?country=Atlantis").get_data(as_text=True)
    assert ids(nowhere) == []  # an unknown name filters to nothing, never to another country


def test_allocation_names_its_method(auth, client):
    from webtesting import csrf_of

    auth.login("counsellor")
    page = client.get("/counsellor/allocation").get_data(as_text=True)
    html = client.post("/counsellor/allocation", data={"size": "10", "country": "Nhật Bản",
                                                        "csrf_token": csrf_of(page)}).get_data(as_text=True)
    assert "Tối ưu chính xác (quy hoạch tuyến tính)" in html and ">exact-lp" not in html


def test_import_preview_lists_errors_vietnamese_first(auth, client):
    import io

    from webtesting import csrf_of

    auth.login("counsellor")
    token = csrf_of(client.get("/counsellor/import").get_data(as_text=True))
    data = ("worker_id,full_name,birth_date,gender,education,preferred_countries\n"
            "W-IMP1,Bế Thị Hoa,28/02/1999,Nữ,THPT,Nhật Bản\n"
            "W-IMP2,Đàm Văn Quý,30/02/1998,Nam,Tiến sĩ,Atlantis\n").encode()
    html = client.post("/counsellor/import", data={"kind": "workers", "csrf_token": token,
                                                   "file": (io.BytesIO(data), "nguoi.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    errors = html.split('id="import-errors"', 1)[1].split("</ul>", 1)[0]
    assert errors.count("<li>") == 3  # row 2 (the labels people type) has none
    for column, vietnamese, english in (("birth_date", "Cần một ngày dạng NN/TT/NNNN", "a date (dd/mm/yyyy"),
                                        ("education", "không hợp lệ; hãy ghi một trong", "one of none, primary"),
                                        ("preferred_countries", "không phải mã hay tên một nước", "a country code")):
        item = next(li for li in errors.split("<li>") if f"Dòng 3, {column}:" in li)
        assert vietnamese in item and english in item and item.index(vietnamese) < item.index(english), column
    client.get("/privacy/workers/W-CONSENT")
    privacy = client.get("/privacy/workers/W-CONSENT").get_data(as_text=True)
    assert re.search(r"Đã đồng ý \(\d\d/\d\d/\d{4}\)", privacy)  # the consent day as dd/mm/yyyy
