"""Importers, exporters, formats and repository functions (data/)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from data import repo
from data.exporters import export_bytes, export_file
from data.formats import (
    ORDERS,
    WORKERS,
    FieldError,
    clean_cell,
    escape_formula,
    format_cell,
    number_text,
    parse_cell,
    unescape_formula,
)
from data.importers import import_batch, import_file, preview, read_table
from models import (
    AuditEvent,
    JobOrder,
    LanguageCertificate,
    LicenceStatusChange,
    Recruiter,
    Worker,
)

# Canonical files: exactly what the exporter writes (UTF-8 BOM, CRLF, sorted ids,
# FORMAT.md column order, unknown columns sorted at the end).
RECRUITERS_CSV = (
    "recruiter_id,name,licence_no,licence_date,status,status_date,markets,website,phone,licence_verified_on,ghi_chu\r\n"
    "R1,Công ty Cổ phần Nhân lực Quốc tế Đông Á,123/LDTBXH-GP,2019-05-20,active,,JP; KR,"
    "https://donga.vn,0912345678,2026-11-20,đối tác lâu năm\r\n"
    "R2,Công ty TNHH Hòa Bình,45/LDTBXH-GP,2018-01-10,revoked,2024-03-01,TW,,,,\r\n"
)
ORDERS_CSV = (
    "order_id,recruiter_id,title,description,country,programme,route,required_skills,language_requirement,"
    "min_age,max_age,gender,min_education,min_experience_years,positions,monthly_wage,wage_currency,"
    "contract_months,service_fee_vnd,brokerage_fee_vnd,deposit_vnd,approval_no,approval_date,deadline,"
    "departure_date,status\r\n"
    "O2,R1,Thợ hàn kết cấu thép,\"Hàn MIG/MAG, làm ca\nLương cao\",JP,ssw,returned_trainee,hàn MIG; đọc bản vẽ,JLPT N4,"
    "18,35,male,upper_secondary,1.5,10,170000,JPY,36,30000000,0,,15/2025/HD-DOLAB,2025-04-01,"
    "2026-09-30,2027-01-15,open\r\n"
    "O10,R2,Nông nghiệp thời vụ,,KR,seasonal,,thu hoạch,,25,45,any,,,20,2156880,KRW,5,,,,,,,,draft\r\n"
)
WORKERS_CSV = (
    "worker_id,full_name,birth_date,gender,commune,former_district,disadvantaged_commune,ethnicity,"
    "household,education,skills,experience,languages,language_training,preferred_countries,"
    "preferred_sectors,min_wage_vnd,max_fee_vnd,available_from,consent_share,phone,national_id,so_thich,zalo\r\n"
    "W1,Nông Văn Đức,2001-03-15,male,Phường Thục Phán,Thành phố Cao Bằng,false,Tày,poor,"
    "upper_secondary,hàn; xây dựng,thợ hàn: 3; xây dựng: 1.5,JLPT N4 (2024-07); EPS-TOPIK 152 (2025),"
    "basic,JP; KR,cơ khí; xây dựng,15000000,60000000,2025-10-01,true,0912345678,004201123456,bóng đá,0912345678\r\n"
    "W2,Hoàng Thị Mai,1999-12-31,female,Xã Hòa An,,true,Mông,,lower_secondary,,,,none,,,,,,false,,004199654321,,\r\n"
)
SAMPLES = {"recruiters": RECRUITERS_CSV, "orders": ORDERS_CSV, "workers": WORKERS_CSV}
FILENAMES = {"recruiters": "recruiters.csv", "orders": "job_orders.csv", "workers": "workers.csv"}


def csv_bytes(text: str, bom: bool = True) -> bytes:
    return text.encode("utf-8-sig" if bom else "utf-8")


def write(tmp_path, name: str, text: str, bom: bool = True):
    path = tmp_path / name
    path.write_bytes(csv_bytes(text, bom))
    return path


def counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Recruiter, JobOrder, Worker, LanguageCertificate, LicenceStatusChange, AuditEvent)
    }


def load_all(session, tmp_path):
    reports = import_batch(
        session,
        [(k, write(tmp_path, FILENAMES[k], SAMPLES[k])) for k in ("workers", "orders", "recruiters")],
    )
    assert [r.errors for r in reports] == [[], [], []]
    assert all(r.committed for r in reports)
    return reports


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("kind", ["recruiters", "orders", "workers"])
def test_csv_round_trip_is_byte_identical(session, tmp_path, kind):
    load_all(session, tmp_path)
    out = tmp_path / f"out_{kind}.csv"
    n = export_file(session, kind, out)
    assert n == 2
    assert out.read_bytes() == SAMPLES[kind].encode("utf-8-sig")


def test_import_export_import_export_identical_csv_and_xlsx(store, tmp_path):
    with store.session() as s:
        load_all(s, tmp_path)
    first = {}
    with store.session() as s:
        for kind in SAMPLES:
            for ext in (".csv", ".xlsx"):
                export_file(s, kind, tmp_path / f"a_{kind}{ext}")
            first[kind] = (tmp_path / f"a_{kind}.csv").read_bytes()
    store.reset()
    with store.session() as s:  # re-import from the workbooks this time
        reports = import_batch(s, [(k, tmp_path / f"a_{k}.xlsx") for k in SAMPLES])
        assert all(r.committed and not r.errors for r in reports), [r.errors for r in reports]
    with store.session() as s:
        for kind in SAMPLES:
            export_file(s, kind, tmp_path / f"b_{kind}.csv")
            assert (tmp_path / f"b_{kind}.csv").read_bytes() == first[kind]
            assert export_bytes(s, kind, ".csv") == first[kind]


def test_nfd_text_and_no_bom_are_normalised(session, tmp_path):
    load_all(session, tmp_path)
    nfd = unicodedata.normalize("NFD", WORKERS_CSV)
    assert nfd != WORKERS_CSV
    path = write(tmp_path, "workers_nfd.csv", nfd, bom=False)
    report = import_file(session, "workers", path)
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    w = session.get(Worker, "W1")
    assert w.full_name == "Nông Văn Đức" and unicodedata.is_normalized("NFC", w.full_name)
    assert export_bytes(session, "workers") == WORKERS_CSV.encode("utf-8-sig")


def test_values_are_typed(session, tmp_path):
    load_all(session, tmp_path)
    w = session.get(Worker, "W1")
    assert w.birth_date == dt.date(2001, 3, 15)
    assert w.disadvantaged_commune is False and w.consent_share is True
    assert w.skills == ["hàn", "xây dựng"]
    assert w.experience == [{"occupation": "thợ hàn", "years": 3.0}, {"occupation": "xây dựng", "years": 1.5}]
    assert [(c.exam, c.label, c.score, c.level, c.position) for c in w.certificates] == [
        ("jlpt", "N4", None, 2, 0),
        ("eps_topik", None, 152.0, 1, 1),
    ]
    assert w.certificates[0].test_date == dt.date(2024, 7, 1)
    assert w.extra == {"so_thich": "bóng đá", "zalo": "0912345678"}
    w2 = session.get(Worker, "W2")
    assert (w2.household, w2.skills, w2.min_wage_vnd, w2.available_from, w2.phone) == (None, [], None, None, None)
    assert w2.extra == {"so_thich": "", "zalo": ""}
    o = session.get(JobOrder, "O2")
    assert o.description == "Hàn MIG/MAG, làm ca\nLương cao"
    assert (o.min_age, o.positions, o.monthly_wage, o.min_experience_years) == (18, 10, 170000.0, 1.5)
    assert o.brokerage_fee_vnd == 0.0 and o.deposit_vnd is None
    r2 = session.get(Recruiter, "R2")
    assert r2.markets == ["TW"]
    assert [(c.status, c.effective_date) for c in r2.status_history] == [("revoked", dt.date(2024, 3, 1))]
    assert r2.status_on(dt.date(2024, 2, 1)) == "active" and r2.status_on(dt.date(2024, 3, 1)) == "revoked"
    assert session.get(Recruiter, "R1").status_history == []


def test_committed_import_writes_an_audit_event(session, tmp_path):
    import_file(session, "recruiters", write(tmp_path, "recruiters.csv", RECRUITERS_CSV), user="mai")
    ev = session.scalars(select(AuditEvent)).one()
    assert (ev.action, ev.entity, ev.username) == ("import", "recruiter", "mai")
    assert ev.detail["file"] == "recruiters.csv" and ev.detail["created"] == 2 and ev.detail["errors"] == 0


# --------------------------------------------------------------------------------------
# xlsx


def test_xlsx_with_typed_cells_merged_cells_and_second_sheet(session, tmp_path):
    import_file(session, "recruiters", write(tmp_path, "recruiters.csv", RECRUITERS_CSV))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Người lao động"
    ws.append(["worker_id", "full_name", "birth_date", "phone", "min_wage_vnd", "consent_share",
               "commune", "ghi chú"])
    ws.append(["W1", "Nông Văn Đức", dt.datetime(2001, 3, 15), 912345678, 15000000.0, True,
               "Phường Tân Giang", "nhóm A"])
    ws.append(["W2", "Hoàng Thị Mai", "1999-12-31", "0987654321", 1.5e7, "có", None, None])
    ws.append(["W3", "Lục Văn Nam", dt.date(1998, 6, 1), None, None, "không", None, None])
    ws.merge_cells("G2:G4")  # one commune for three rows, as counsellors do
    ws.merge_cells("H3:H4")
    ws.append([None] * 8)  # a blank row is skipped
    other = wb.create_sheet("Ghi chú")
    other.append(["this sheet", "is ignored"])
    other.append(["=1+1", dt.date(2020, 1, 1)])
    path = tmp_path / "workers.xlsx"
    wb.save(path)

    header, rows = read_table(path)
    assert header[:3] == ["worker_id", "full_name", "birth_date"]
    assert [r.number for r in rows] == [2, 3, 4]
    assert rows[0].cells[3] == "912345678" and rows[0].cells[4] == "15000000"
    assert rows[1].cells[6] == "" and rows[1].cells[4] == "15000000"

    report = import_file(session, "workers", path)
    assert report.errors == [] and report.created == 3
    w1, w2, w3 = (session.get(Worker, i) for i in ("W1", "W2", "W3"))
    assert (w1.birth_date, w1.phone, w1.min_wage_vnd, w1.consent_share) == (
        dt.date(2001, 3, 15), "912345678", 15000000.0, True)
    assert w1.commune == "Phường Tân Giang" and w2.commune is None  # merged: top-left only
    assert (w2.consent_share, w3.consent_share) == (True, False)
    assert w1.extra == {"ghi chú": "nhóm A"}


def test_xlsx_export_is_all_text_and_neutralised(session, tmp_path):
    load_all(session, tmp_path)
    w = session.get(Worker, "W2")
    w.full_name = "=HYPERLINK(\"http://evil\",\"x\")"
    w.phone = "+84 987 654 321"
    session.flush()
    path = tmp_path / "w.xlsx"
    export_file(session, "workers", path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert all(c.data_type == "s" for c in cells.values())
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in cells
    assert "'+84 987 654 321" in cells
    assert "0912345678" in cells  # leading zero kept: text, not a number
    header = [c.value for c in ws[1]]
    assert header[-2:] == ["so_thich", "zalo"]


# --------------------------------------------------------------------------------------
# Errors: exact messages, nothing stored


BAD_CASES = [
    (
        "workers",
        "workers.csv",
        WORKERS_CSV.replace("1999-12-31", "31/02/1999").encode("utf-8-sig"),
        ["workers.csv row 3, birth_date: Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN, ví dụ 01/07/2025. / "
         "'31/02/1999' is not a date (dd/mm/yyyy or YYYY-MM-DD)"],
    ),
    (
        "workers",
        "workers.csv",
        WORKERS_CSV.replace(",poor,", ",rich,").encode("utf-8-sig"),
        ["workers.csv row 2, household: 'rich' không hợp lệ; hãy ghi một trong: Hộ nghèo, Hộ cận nghèo "
         "(hoặc mã poor, near_poor) / 'rich' is not one of poor, near_poor (or Poor household, Near-poor household)"],
    ),
    (
        "recruiters",
        "recruiters.csv",
        RECRUITERS_CSV.replace(",revoked,", ",closed,").encode("utf-8-sig"),
        ["recruiters.csv row 3, status: 'closed' không hợp lệ; hãy ghi một trong: Đang hoạt động, Bị đình chỉ, "
         "Bị thu hồi (hoặc mã active, suspended, revoked) / 'closed' is not one of active, suspended, revoked "
         "(or Active, Suspended, Revoked)"],
    ),
    (
        "workers",
        "workers.csv",
        "\r\n".join(",".join(r[:2] + r[3:]) for r in rows_of(WORKERS_CSV)).encode("utf-8"),
        ["workers.csv, birth_date: thiếu cột bắt buộc «birth_date» (các cột bắt buộc: worker_id, full_name, "
         "birth_date) / missing required column 'birth_date' (required: worker_id, full_name, birth_date)"],
    ),
    (
        "workers",
        "workers.csv",
        WORKERS_CSV.replace("W2,", "W1,").encode("utf-8-sig"),
        ["workers.csv row 3, worker_id: mã 'W1' bị trùng (đã dùng ở dòng 2); mỗi mã chỉ một dòng / "
         "duplicate worker_id 'W1' (first used in row 2)"],
    ),
    (
        "workers",
        "workers.csv",
        WORKERS_CSV.replace("Nông Văn Đức", "N\u00f4ng V\u0103n \u0110\u01b0\u0301c")
        .replace("Tày", "Tay").replace("Hòa", "Hoa").replace("Hoàng Thị Mai", "Hoang Thi Mai")
        .replace("Phường Thục Phán", "Thuc Phan").replace("Thành phố Cao Bằng", "Cao Bang")
        .replace("hàn; xây dựng", "han").replace("thợ hàn: 3; xây dựng: 1.5", "han: 3")
        .replace("cơ khí; xây dựng", "co khi").replace("bóng đá", "bong da").replace("Xã", "Xa")
        .encode("cp1258"),
        ["workers.csv: tệp không phải văn bản UTF-8; hãy lưu dạng CSV UTF-8 (trong Excel: Lưu thành > "
         "«CSV UTF-8 (Comma delimited)»). Byte sai đầu tiên 0xF4 ở dòng 2; có lẽ tệp được lưu bằng bảng mã "
         "Windows-1258 hoặc Latin-1. / the file is not UTF-8 text; save it as CSV UTF-8 (in Excel: Save As > "
         "'CSV UTF-8 (Comma delimited)'). First bad byte 0xF4 on line 2; the file was probably "
         "saved as Windows-1258 or Latin-1."],
    ),
    (
        "recruiters",
        "recruiters.csv",
        "recruiter_id,name,licence_no,status\r\nR9,José Müller GmbH,1/GP,active\r\n".encode("latin-1"),
        ["recruiters.csv: tệp không phải văn bản UTF-8; hãy lưu dạng CSV UTF-8 (trong Excel: Lưu thành > "
         "«CSV UTF-8 (Comma delimited)»). Byte sai đầu tiên 0xE9 ở dòng 2; có lẽ tệp được lưu bằng bảng mã "
         "Windows-1258 hoặc Latin-1. / the file is not UTF-8 text; save it as CSV UTF-8 (in Excel: Save As > "
         "'CSV UTF-8 (Comma delimited)'). First bad byte 0xE9 on line 2; the file was probably "
         "saved as Windows-1258 or Latin-1."],
    ),
    (
        "workers",
        "workers.csv",
        b"",
        ["workers.csv: tệp rỗng; cần một dòng tiêu đề, ví dụ «worker_id,full_name,...» / the file is empty; "
         "expected a header row, e.g. 'worker_id,full_name,...'"],
    ),
    (
        "workers",
        "workers.xlsx",
        b"",
        ["workers.xlsx: tệp rỗng; cần một bảng tính .xlsx có dòng tiêu đề / the file is empty; expected an "
         ".xlsx workbook with a header row"],
    ),
    (
        "orders",
        "job_orders.csv",
        ORDERS_CSV.replace("O10,R2,", "O10,R77,").encode("utf-8-sig"),
        ["job_orders.csv row 3, recruiter_id: 'R77' không phải mã một doanh nghiệp đã có; hãy nhập doanh "
         "nghiệp trước (recruiters.csv) hoặc cùng một lần nhập / 'R77' is not a known recruiter; import it first "
         "(recruiters.csv) or in the same batch"],
    ),
    (
        "orders",
        "job_orders.csv",
        ORDERS_CSV.replace(",30000000,", ",30.000.000,").replace(",170000,", ",170.000,").encode("utf-8-sig"),
        ["job_orders.csv row 2, monthly_wage: Chỉ viết chữ số, không dùng dấu phân cách nghìn. / '170.000' "
         "looks like a number with thousands separators; write plain digits, e.g. 170000",
         "job_orders.csv row 2, service_fee_vnd: Chỉ viết chữ số, không dùng dấu phân cách nghìn. / "
         "'30.000.000' looks like a number with thousands separators; write plain digits, e.g. 30000000"],
    ),
    (
        "orders",
        "job_orders.csv",
        ORDERS_CSV.replace(",JP,ssw,", ",Japon,ssw,").replace("18,35,", "40,35,").encode("utf-8-sig"),
        ["job_orders.csv row 2, country: 'Japon' không phải mã hay tên một nước (ví dụ JP, Nhật Bản, Hàn Quốc, "
         "Đài Loan, Đức; có dấu hay không dấu đều được) / 'Japon' is not a country code (ISO 3166 alpha-2, "
         "e.g. JP, KR, TW, DE) or a country's name (e.g. Japan, Nhật Bản)",
         "job_orders.csv row 2, max_age: tuổi tối đa 35 nhỏ hơn tuổi tối thiểu (min_age) 40 / 35 is below "
         "min_age 40"],
    ),
    (
        "workers",
        "workers.csv",
        WORKERS_CSV.replace("JLPT N4 (2024-07); ", "JLPT N9; ").encode("utf-8-sig"),
        ["workers.csv row 2, languages: Không đọc được chứng chỉ; ví dụ «JLPT N4 (07/2024)», «EPS-TOPIK 152 "
         "(2025)», «TOPIK 2». / certificate 'JLPT N9' not understood: JLPT levels are N1 to N5 "
         "(write e.g. 'JLPT N4 (2024-07)', 'EPS-TOPIK 152 (2025)', 'TOPIK 2', 'CEFR B1')"],
    ),
]


@pytest.mark.parametrize("kind,filename,content,messages", BAD_CASES,
                         ids=["date", "enum", "status", "missing-column", "duplicate", "cp1258",
                              "latin-1", "empty-csv", "empty-xlsx", "unknown-recruiter",
                              "thousands", "country-and-ages", "certificate"])
def test_bad_file_stores_nothing(session, tmp_path, kind, filename, content, messages):
    load_all(session, tmp_path)
    before = counts(session)
    snapshot_before = {k: export_bytes(session, k) for k in SAMPLES}
    path = tmp_path / filename
    path.write_bytes(content)
    report = import_file(session, kind, path)
    assert [e.message for e in report.errors] == messages
    assert all(isinstance(e, FieldError) and e.file == filename for e in report.errors)
    assert report.committed is False and report.created == report.updated == 0
    assert counts(session) == before
    assert {k: export_bytes(session, k) for k in SAMPLES} == snapshot_before


def test_field_error_attributes():
    with pytest.raises(FieldError, match=r"workers.csv row 17, birth_date: Cần một ngày dạng NN/TT/NNNN .* / "
                                         r"'31/02/1999' is not a date") as ei:
        parse_cell(WORKERS.by_name["birth_date"], "31/02/1999", file="workers.csv", row=17)
    e = ei.value
    assert (e.file, e.row, e.column, e.value, e.expected) == (
        "workers.csv", 17, "birth_date", "31/02/1999", "a date (dd/mm/yyyy or YYYY-MM-DD)")
    assert isinstance(e, ValueError)
    assert e.vi == "Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN, ví dụ 01/07/2025."  # Vietnamese first


def test_partial_stores_the_good_rows(session, tmp_path):
    import_file(session, "recruiters", write(tmp_path, "recruiters.csv", RECRUITERS_CSV))
    bad = WORKERS_CSV.replace("1999-12-31", "31/02/1999")
    report = import_file(session, "workers", write(tmp_path, "workers.csv", bad), partial=True)
    assert [e.message for e in report.errors] == [
        "workers.csv row 3, birth_date: Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN, ví dụ 01/07/2025. / "
        "'31/02/1999' is not a date (dd/mm/yyyy or YYYY-MM-DD)"]
    assert (report.total_rows, report.created, report.committed) == (2, 1, True)
    assert session.scalars(select(Worker.worker_id)).all() == ["W1"]
    ev = session.scalars(select(AuditEvent).where(AuditEvent.entity == "worker")).one()
    assert ev.detail["errors"] == 1 and ev.detail["partial"] is True


def test_batch_resolves_references_within_the_batch_and_is_all_or_nothing(session, tmp_path):
    rec = write(tmp_path, "recruiters.csv", RECRUITERS_CSV.replace("Công ty TNHH Hòa Bình,", ","))
    orders = write(tmp_path, "job_orders.csv", ORDERS_CSV)
    reports = import_batch(session, [("orders", orders), ("recruiters", rec)])
    assert [e.message for e in reports[1].errors] == [
        "recruiters.csv row 3, name: Bắt buộc nhập. / is required but the cell is empty"]
    # O10 cites R2, which failed: an error too, not a dangling reference
    assert [e.column for e in reports[0].errors] == ["recruiter_id"]
    assert counts(session)["Recruiter"] == 0 and counts(session)["JobOrder"] == 0
    reports = import_batch(session, [("orders", orders), ("recruiters", rec)], partial=True)
    assert (reports[0].created, reports[1].created) == (1, 1)
    assert session.scalars(select(JobOrder.order_id)).all() == ["O2"]


def test_reimport_updates_never_duplicates(session, tmp_path):
    load_all(session, tmp_path)
    before = counts(session)
    changed = (
        WORKERS_CSV.replace("Nông Văn Đức", "Nông Văn Đức Anh")
        .replace("JLPT N4 (2024-07); EPS-TOPIK 152 (2025)", "JLPT N3 (2025-07)")
    )
    report = import_file(session, "workers", write(tmp_path, "workers.csv", changed), user="lan")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    after = counts(session)
    assert after["Worker"] == before["Worker"]
    assert after["LanguageCertificate"] == before["LanguageCertificate"] - 1  # replaced, not added
    w = session.get(Worker, "W1")
    assert w.full_name == "Nông Văn Đức Anh" and [c.raw for c in w.certificates] == ["JLPT N3 (2025-07)"]
    assert w.version_id == 2

    # a status change appends to the licence history; an unchanged status does not
    rec = RECRUITERS_CSV.replace("123/LDTBXH-GP,2019-05-20,active,,", "123/LDTBXH-GP,2019-05-20,suspended,2025-06-01,")
    import_file(session, "recruiters", write(tmp_path, "recruiters.csv", rec), user="admin")
    import_file(session, "recruiters", write(tmp_path, "recruiters.csv", rec), user="admin")
    r1 = session.get(Recruiter, "R1")
    assert [(c.status, c.effective_date, c.changed_by) for c in r1.status_history] == [
        ("suspended", dt.date(2025, 6, 1), "admin")]
    assert len(session.get(Recruiter, "R2").status_history) == 1


def test_columns_absent_from_the_file_are_kept_on_update(session, tmp_path):
    load_all(session, tmp_path)
    small = "worker_id,full_name,birth_date,phone\r\nW1,Nông Văn Đức,2001-03-15,0900000000\r\n"
    report = import_file(session, "workers", write(tmp_path, "w.csv", small))
    assert report.updated == 1
    w = session.get(Worker, "W1")
    assert w.phone == "0900000000" and w.skills == ["hàn", "xây dựng"] and len(w.certificates) == 2


def test_preview_writes_nothing(session, tmp_path):
    load_all(session, tmp_path)
    before = counts(session)
    changed = WORKERS_CSV.replace("Xã Hòa An", "Xã Hà Quảng").replace("W2,", "W3,").replace("004199654321", "004199654322")
    p = preview(session, "workers", write(tmp_path, "workers.csv", changed))
    assert p.ok and p.unknown_columns == ["so_thich", "zalo"]
    assert [(r.row, r.id, r.action) for r in p.rows] == [(2, "W1", "unchanged"), (3, "W3", "create")]
    p = preview(session, "workers", write(tmp_path, "workers.csv", WORKERS_CSV.replace("W2,Hoàng", "W1,Hoàng")))
    assert not p.ok and p.rows[1].action == "error"
    assert counts(session) == before


# --------------------------------------------------------------------------------------
# Formula injection


def test_formula_cells_are_neutralised_and_round_trip(session, tmp_path):
    import_file(session, "recruiters", write(tmp_path, "recruiters.csv", RECRUITERS_CSV))
    evil = (
        "worker_id,full_name,birth_date,commune,phone,ghi_chu\r\n"
        "W1,=cmd|' /C calc'!A0,2000-01-01,@SUM(A1:A9),+84912345678,-2+3\r\n"
        "W2,'=already quoted,2000-01-01,'plain quote,0912,''=two quotes\r\n"
    )
    import_file(session, "workers", write(tmp_path, "workers.csv", evil))
    w1, w2 = session.get(Worker, "W1"), session.get(Worker, "W2")
    assert (w1.full_name, w1.commune, w1.phone, w1.extra["ghi_chu"]) == (
        "=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+84912345678", "-2+3")
    assert (w2.full_name, w2.commune, w2.extra["ghi_chu"]) == ("=already quoted", "'plain quote", "'=two quotes")
    text = export_bytes(session, "workers").decode("utf-8-sig")
    rows = rows_of(text)
    col = {name: i for i, name in enumerate(rows[0])}
    assert rows[1][col["full_name"]] == "'=cmd|' /C calc'!A0"
    assert rows[1][col["commune"]] == "'@SUM(A1:A9)"
    assert rows[1][col["phone"]] == "'+84912345678"
    assert rows[1][col["ghi_chu"]] == "'-2+3"
    assert rows[2][col["full_name"]] == "'=already quoted"
    assert rows[2][col["commune"]] == "'plain quote"
    assert rows[2][col["ghi_chu"]] == "''=two quotes"
    for row in rows[1:]:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
    again = write(tmp_path, "again.csv", text, bom=False)
    report = import_file(session, "workers", again)
    assert report.unchanged == 2 and report.updated == 0


@given(st.text(max_size=20))
def test_escape_is_a_bijection(text):
    assert unescape_formula(escape_formula(text)) == text
    assert escape_formula(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------------------
# Cell conversions


@pytest.mark.parametrize("text,expected", [
    ("170000", 170000.0), (" 170000.0 ", 170000.0), ("1.5", 1.5), ("0", 0.0)])
def test_money_accepts_plain_numbers(text, expected):
    assert parse_cell(ORDERS.by_name["monthly_wage"], clean_cell(text)) == expected


@pytest.mark.parametrize("text", ["170,000", "1e5", "abc", "-5", "nan", "inf"])
def test_money_rejects_other_notations(text):
    with pytest.raises(FieldError):
        parse_cell(ORDERS.by_name["monthly_wage"], text, file="f.csv", row=2)


@pytest.mark.parametrize("text,expected", [
    ("true", True), ("FALSE", False), ("1", True), ("0", False), ("yes", True), ("No", False),
    ("có", True), ("Không", False), (unicodedata.normalize("NFD", "không"), False)])
def test_booleans(text, expected):
    assert parse_cell(WORKERS.by_name["consent_share"], clean_cell(text)) is expected


def test_countries_are_upper_cased_and_checked():
    col = WORKERS.by_name["preferred_countries"]
    assert parse_cell(col, "jp; kr ;TW;") == ["JP", "KR", "TW"]
    with pytest.raises(FieldError, match=r"'JPN' is not a country code"):
        parse_cell(col, "JP; JPN", file="w.csv", row=2)


def test_experience_notation():
    col = WORKERS.by_name["experience"]
    assert parse_cell(col, "tho han: 3; a:b: 0.5") == [
        {"occupation": "tho han", "years": 3.0}, {"occupation": "a:b", "years": 0.5}]
    assert format_cell(col, [{"occupation": "tho han", "years": 3.0}]) == "tho han: 3"
    with pytest.raises(FieldError, match=r"item 'tho han 3' is not 'occupation: years'"):
        parse_cell(col, "tho han 3", file="w.csv", row=2)


@given(st.floats(min_value=0, max_value=1e15, allow_nan=False))
def test_money_numbers_round_trip(value):
    col = ORDERS.by_name["service_fee_vnd"]
    text = number_text(value)
    assert parse_cell(col, text) == value
    assert "e" not in text and not text.endswith(".0")


@given(st.text(max_size=300))
def test_free_text_cell_round_trips_or_errors_cleanly(text):
    col = ORDERS.by_name["title"]
    try:
        value = parse_cell(col, clean_cell(text), file="job_orders.csv", row=2)
    except FieldError as exc:
        assert str(exc).startswith("job_orders.csv row 2, title: ")
        return
    out = escape_formula(format_cell(col, value))
    assert parse_cell(col, clean_cell(out)) == value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=220))
def test_free_text_through_files_round_trips_or_errors(session, tmp_path, text):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["worker_id", "full_name", "birth_date", "commune"])
    w.writerow(["W1", "Nông Văn Đức", "2001-03-15", text])
    session.rollback()
    before = export_bytes(session, "workers")
    report = import_file(session, "workers", buf.getvalue().encode("utf-8"), filename="workers.csv")
    if report.errors:
        assert all(str(e).startswith("workers.csv row 2, commune: ") for e in report.errors)
        assert export_bytes(session, "workers") == before
        return
    expected = clean_cell(text) or None
    assert session.get(Worker, "W1").commune == expected
    for ext in (".csv", ".xlsx"):
        first = export_bytes(session, "workers", ext)
        again = import_file(session, "workers", first, filename="workers" + ext)
        assert again.errors == [] and again.updated == 0
        assert session.get(Worker, "W1").commune == expected
    assert export_bytes(session, "workers") == export_bytes(session, "workers")


# --------------------------------------------------------------------------------------
# Repository functions


def test_list_workers_is_diacritics_insensitive(session, tmp_path):
    load_all(session, tmp_path)
    ids = lambda ws: [w.worker_id for w in ws]  # noqa: E731
    assert ids(repo.list_workers(session)) == ["W1", "W2"]
    assert ids(repo.list_workers(session, q="nong van duc")) == ["W1"]
    assert ids(repo.list_workers(session, q="NÔNG đức")) == ["W1"]
    assert ids(repo.list_workers(session, q=unicodedata.normalize("NFD", "hoàng mai"))) == ["W2"]
    assert ids(repo.list_workers(session, q="xay dung")) == ["W1"]  # a skill
    assert ids(repo.list_workers(session, q="0912345")) == ["W1"]  # a phone
    assert ids(repo.list_workers(session, commune="xa hoa an")) == ["W2"]
    assert ids(repo.list_workers(session, commune="Xã Hoà An")) == ["W2"]  # old-style tone mark
    assert ids(repo.list_workers(session, q="han", limit=1, offset=0)) == ["W1"]
    assert ids(repo.list_workers(session, limit=1, offset=1)) == ["W2"]
    assert repo.count_workers(session, q="van") == 1 and repo.count_workers(session) == 2
    assert repo.get_worker(session, "W1").certificates[0].label == "N4"
    assert repo.get_order(session, "O2").recruiter.recruiter_id == "R1"
    assert repo.get_recruiter(session, "nope") is None


def test_snapshot_is_usable_after_the_session(store, tmp_path):
    with store.session() as s:
        load_all(s, tmp_path)
    with store.session() as s:
        recruiters, orders, workers = repo.snapshot(s)
    assert [r.recruiter_id for r in recruiters] == ["R1", "R2"]
    assert [o.order_id for o in orders] == ["O10", "O2"]
    assert orders[1].recruiter.name.startswith("Công ty")
    assert orders[0].recruiter.status_on(dt.date(2025, 1, 1)) == "revoked"
    assert [c.raw for c in workers[0].certificates][0] == "JLPT N4 (2024-07)"
    assert orders[1].recruiter is recruiters[0] and orders[1].places_left == orders[1].positions
    assert type(workers[0]).__name__ == "WorkerSnapshot" and isinstance(workers[0].certificates, tuple)


def test_audit_helper(session):
    ev = repo.audit(session, "mai", "view", "worker", "W1", day=dt.date(2025, 1, 2), fields={"a", })
    session.flush()
    assert ev.id is not None and ev.detail == {"day": "2025-01-02", "fields": ["a"]}
