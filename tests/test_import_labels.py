"""Imports accept the names people type for FORMAT.md's codes (issue 18): "Nữ", "THPT",
"Nhật Bản", with or without diacritics, in any case; unknown values are refused naming the
file, row, column and the accepted values; exports keep writing the codes."""

from __future__ import annotations

import io

import openpyxl
import pytest

from data.exporters import export_bytes
from data.formats import ORDERS, RECRUITERS, WORKERS, FieldError, parse_cell
from data.importers import import_batch, import_file
from models import Worker

HEADER = ["worker_id", "full_name", "birth_date", "gender", "ethnicity", "household", "education",
          "language_training", "preferred_countries", "consent_share"]


def workbook(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_spreadsheet_typed_the_way_people_write_imports(session, tmp_path):
    """The issue's "done when": 28/02/1999, Nữ, THPT and Nhật Bản import without an error."""
    path = tmp_path / "nguoi_lao_dong.xlsx"
    path.write_bytes(workbook([
        ["W1", "Hoàng Thị Mai", "28/02/1999", "Nữ", "Tay", "Hộ nghèo", "THPT", "Cơ bản", "Nhật Bản; Hàn Quốc", "có"],
        ["W2", "Nông Văn Đức", "1998-05-17", "nam", "Nùng", "can ngheo", "Trung cấp", "không", "dai loan; ĐỨC", "không"],
        ["W3", "Lý Thị Hoa", "01/07/2000", "F", "Dao", "", "Cao đẳng", "nâng cao", "JP", "x"],
        ["W4", "Bế Văn Nam", "02.03.1997", "M", "Kinh", "", "đại học", "", "japan; Korea", ""],
    ]))
    report = import_file(session, "workers", path)
    assert report.errors == [] and report.committed, [e.message for e in report.errors]
    got = {w.worker_id: (w.gender, w.household, w.education, w.language_training, w.preferred_countries)
           for w in session.query(Worker).all()}
    assert got == {
        "W1": ("female", "poor", "upper_secondary", "basic", ["JP", "KR"]),
        "W2": ("male", "near_poor", "vocational", "none", ["TW", "DE"]),
        "W3": ("female", None, "college", "advanced", ["JP"]),
        "W4": ("male", None, "university", None, ["JP", "KR"]),
    }
    exported = export_bytes(session, "workers", ".csv").decode("utf-8-sig")
    assert "female" in exported and "upper_secondary" in exported and "JP; KR" in exported
    assert "Nữ" not in exported and "Nhật Bản" not in exported  # FORMAT.md's codes stay canonical


@pytest.mark.parametrize(
    "column, typed, code",
    [
        # gender
        *[(WORKERS.by_name["gender"], t, "female") for t in ("Nữ", "nữ", "NỮ", "nu", "Nu", "F", "f", "female")],
        *[(WORKERS.by_name["gender"], t, "male") for t in ("Nam", "nam", "NAM", "M", "m", "Male")],
        (ORDERS.by_name["gender"], "Không yêu cầu", "any"),
        (ORDERS.by_name["gender"], "nam nữ", "any"),
        # education
        *[(WORKERS.by_name["education"], t, "upper_secondary") for t in ("THPT", "thpt", "Trung học phổ thông", "upper secondary")],
        *[(WORKERS.by_name["education"], t, "vocational") for t in ("Trung cấp", "trung cap", "TRUNG CẤP NGHỀ")],
        *[(WORKERS.by_name["education"], t, "college") for t in ("Cao đẳng", "cao dang", "CAO ĐẲNG")],
        *[(WORKERS.by_name["education"], t, "university") for t in ("Đại học", "dai hoc", "ĐẠI HỌC")],
        (WORKERS.by_name["education"], "THCS", "lower_secondary"),
        (ORDERS.by_name["min_education"], "Trung cấp", "vocational"),
        # countries, on orders and in lists
        *[(ORDERS.by_name["country"], t, "JP") for t in ("Nhật Bản", "nhat ban", "NHẬT BẢN", "Nhật", "Japan", "jp")],
        *[(ORDERS.by_name["country"], t, "KR") for t in ("Hàn Quốc", "han quoc", "HÀN QUỐC", "Korea")],
        *[(ORDERS.by_name["country"], t, "TW") for t in ("Đài Loan", "dai loan", "ĐÀI LOAN", "Taiwan")],
        *[(ORDERS.by_name["country"], t, "DE") for t in ("Đức", "duc", "ĐỨC", "Germany")],
        (ORDERS.by_name["country"], "Mỹ", "US"),  # folds like Malaysia's code MY, but is a name
        (WORKERS.by_name["preferred_countries"], "Nhật Bản; Đài Loan; de", ["JP", "TW", "DE"]),
        (RECRUITERS.by_name["markets"], "Hàn Quốc;Nhat Ban", ["KR", "JP"]),
        # programmes, statuses
        (ORDERS.by_name["programme"], "Thực tập sinh", "titp"),
        (ORDERS.by_name["programme"], "Kỹ năng đặc định", "ssw"),
        (ORDERS.by_name["status"], "Đang tuyển", "open"),
        (RECRUITERS.by_name["status"], "Đang hoạt động", "active"),
        (RECRUITERS.by_name["status"], "bi thu hoi", "revoked"),
    ],
)
def test_names_read_as_codes(column, typed, code):
    assert parse_cell(column, typed, file="f.csv", row=2) == code


@pytest.mark.parametrize(
    "column, typed, accepted",
    [
        (WORKERS.by_name["gender"], "Gái", "Nam, Nữ, Khác"),
        (WORKERS.by_name["gender"], "Không yêu cầu", "Nam, Nữ, Khác"),  # "any" is for orders only
        (WORKERS.by_name["education"], "Sơ cấp", "Tiểu học, THCS, THPT, Trung cấp nghề, Cao đẳng, Đại học"),
        (ORDERS.by_name["country"], "Atlantis", "Nhật Bản, Hàn Quốc, Đài Loan, Đức"),
        (ORDERS.by_name["country"], "JPN", "Nhật Bản, Hàn Quốc, Đài Loan, Đức"),
    ],
)
def test_unknown_names_are_refused_with_the_accepted_values(column, typed, accepted):
    with pytest.raises(FieldError) as err:
        parse_cell(column, typed, file="nguoi_lao_dong.xlsx", row=7)
    e = err.value
    assert (e.file, e.row, e.column) == ("nguoi_lao_dong.xlsx", 7, column.name)
    assert e.message.startswith(f"nguoi_lao_dong.xlsx row 7, {column.name}: '{typed}' không")
    assert accepted in e.message
    assert e.message.index(" / ") > e.message.index(accepted)  # Vietnamese first, English second


def test_a_file_with_an_unknown_name_stores_nothing(session, tmp_path):
    path = tmp_path / "w.xlsx"
    path.write_bytes(workbook([
        ["W1", "Hoàng Thị Mai", "28/02/1999", "Nữ", "Tày", "", "THPT", "", "Nhật Bản", "có"],
        ["W2", "Nông Văn Đức", "1998-05-17", "Nam", "Nùng", "", "Tiến sĩ", "", "Đài Loan", "không"],
    ]))
    report = import_file(session, "workers", path)
    assert not report.committed and session.query(Worker).count() == 0
    [e] = report.errors
    assert (e.file, e.row, e.column) == ("w.xlsx", 3, "education")
    assert "THPT" in e.message and "upper_secondary" in e.message


def test_a_batch_of_orders_with_names(session, tmp_path):
    recruiters = tmp_path / "recruiters.csv"
    recruiters.write_text("recruiter_id,name,licence_no,status,markets\nR1,Công ty A,1/LĐTBXH-GP,Đang hoạt động,"
                          "Nhật Bản; Đài Loan\n", encoding="utf-8")
    orders = tmp_path / "job_orders.csv"
    orders.write_text("order_id,recruiter_id,title,country,programme,gender,min_education,positions,status\n"
                      "O1,R1,Thợ hàn,Nhật Bản,Thực tập sinh,Nam,THPT,5,Đang tuyển\n", encoding="utf-8")
    reports = import_batch(session, [("recruiters", recruiters), ("orders", orders)])
    assert all(r.committed and not r.errors for r in reports), [[e.message for e in r.errors] for r in reports]
    from models import JobOrder, Recruiter

    o = session.get(JobOrder, "O1")
    assert (o.country, o.programme, o.gender, o.min_education, o.status) == ("JP", "titp", "male", "upper_secondary", "open")
    assert session.get(Recruiter, "R1").markets == ["JP", "TW"]


@pytest.mark.parametrize(
    "column, typed, vietnamese",
    [
        (WORKERS.by_name["birth_date"], "31/02/1999", "Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN"),
        (WORKERS.by_name["consent_share"], "maybe", "Chỉ được là có hoặc không"),
        (WORKERS.by_name["min_wage_vnd"], "15.000.000", "không dùng dấu phân cách nghìn"),
        (ORDERS.by_name["positions"], "năm", "Cần một số nguyên"),
        (WORKERS.by_name["experience"], "thợ hàn", "Viết dạng «nghề: số năm»"),
        (ORDERS.by_name["wage_currency"], "yên Nhật", "Cần mã tiền tệ 3 chữ cái"),
        (WORKERS.by_name["full_name"], "", "Bắt buộc nhập"),
    ],
)
def test_every_cell_error_reads_vietnamese_first(column, typed, vietnamese):
    """An import's errors speak Vietnamese first, then English, as the forms do (one table,
    data.formats.VI_BY_TYPE)."""
    with pytest.raises(FieldError) as err:
        parse_cell(column, typed, file="tep.csv", row=4)
    vi, _, en = err.value.message.partition(" / ")
    assert vi.startswith(f"tep.csv row 4, {column.name}: ") and vietnamese in vi
    assert en and vietnamese not in en
