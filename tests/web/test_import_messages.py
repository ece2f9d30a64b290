"""What an import says about a whole file, on the web import page and from ``matcher import``
(issue 18): Vietnamese first, then English, naming the file (and the column, when there is one)
and what was expected; and the issue's "done when": a spreadsheet typed the way people write
(28/02/1999, Nữ, THPT, Nhật Bản) imports without an error, as .xlsx and as .csv, through the page
and through the command line."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import io
import re

import openpyxl
import pytest

from models import Worker
from web import cli
from web.views.db import get_store
from webtesting import csrf_of


def _xlsx(rows: list[list[str]] | None) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows or []:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD_HEADER = "worker_id,full_name,birth_date\n"
# (file name, content, Vietnamese words, English words): every whole-file refusal the importer has.
CASES = [
    ("cp1258.csv", (GOOD_HEADER + "W1,N\u00f4ng V\u0103n \u0110\u01b0\u0301c,1999-02-28\n").encode("cp1258"),
     "tệp không phải văn bản UTF-8; hãy lưu dạng CSV UTF-8", "the file is not UTF-8 text; save it as CSV UTF-8"),
    ("thieu-cot.csv", b"worker_id,full_name\nW1,Mai\n",
     "thiếu cột bắt buộc «birth_date» (các cột bắt buộc: worker_id, full_name, birth_date)",
     "missing required column 'birth_date'"),
    ("hai-lan.csv", b"worker_id,full_name,birth_date,Full Name\nW1,Mai,1999-02-28,Mai\n",
     "cột 'Full Name' có hai lần ở dòng tiêu đề (cột thứ 2 và 4)",
     "column 'Full Name' appears twice in the header (columns 2 and 4)"),
    ("khong-ten.csv", b"worker_id,full_name,birth_date,\nW1,Mai,1999-02-28,x\n",
     "cột thứ 4 có giá trị nhưng không có tên ở dòng tiêu đề", "column 4 has values but no name in the header row"),
    ("ho-so.pdf", b"%PDF-1.4\n", "có phần mở rộng '.pdf'; chỉ nhận tệp .csv (UTF-8) hoặc .xlsx",
     "has the extension '.pdf'; expected a .csv (UTF-8) or .xlsx file"),
    ("cu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "là bảng tính Excel .xls kiểu cũ",
     "is an old Excel .xls workbook"),
    ("la-csv.xlsx", GOOD_HEADER.encode(), "không phải bảng tính .xlsx (nội dung tệp không khớp với phần mở rộng); "
     "có vẻ là văn bản CSV: hãy đặt đuôi .csv", "is not an .xlsx workbook"),
    ("hong.xlsx", b"PK\x03\x04" + bytes(200), "không đọc được bảng tính .xlsx này",
     "is not a readable .xlsx workbook"),
    ("la-xlsx.csv", _xlsx([["worker_id"]]), "là bảng tính Excel, không phải văn bản CSV",
     "is an Excel workbook, not CSV text"),
    ("unicode.csv", GOOD_HEADER.encode("utf-16"), "là văn bản UTF-16", "is UTF-16 text"),
    ("rong.csv", b"", "tệp rỗng; cần một dòng tiêu đề", "the file is empty; expected a header row"),
    ("chi-dong-trong.csv", b"\r\n\r\n", "tệp rỗng; cần một dòng tiêu đề", "the file is empty; expected a header row"),
    ("rong.xlsx", b"", "tệp rỗng; cần một bảng tính .xlsx có dòng tiêu đề", "the file is empty"),
    ("trang-trong.xlsx", _xlsx(None), "trang tính đầu tiên trống; cần một dòng tiêu đề",
     "the first sheet is empty; expected a header row"),
]
IDS = [c[0] for c in CASES]


def _upload(client, data: bytes, name: str, kind: str = "workers"):
    token = csrf_of(client.get("/counsellor/import").get_data(as_text=True))
    return client.post("/counsellor/import", data={"kind": kind, "csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _shown(page: str) -> str:
    """The error text of the import page or of its preview, tags dropped, entities decoded."""
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S) or \
        re.search(r'<ul id="import-errors">(.*?)</ul>', page, re.S)
    assert found, page
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


@pytest.fixture
def run_cli(app, db_url, tmp_path, monkeypatch, capsys):
    """``matcher ...`` against the web app's database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "cli-instance"))

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.mark.parametrize("name, data, vi, en", CASES, ids=IDS)
def test_a_refused_file_is_named_vietnamese_first_on_the_import_page(staff, name, data, vi, en):
    response = _upload(staff, data, name)
    assert response.status_code in (415, 422)
    text = _shown(response.get_data(as_text=True))
    assert name in text and vi in text and en in text, text
    assert text.index(name) < text.index(vi) < text.index(en)  # the file, Vietnamese, then English


@pytest.mark.parametrize("name, data, vi, en", CASES, ids=IDS)
def test_a_refused_file_is_named_vietnamese_first_by_matcher_import(run_cli, tmp_path, name, data, vi, en):
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = run_cli("import", "workers", str(path))
    assert code == 1 and "stored     no" in out
    [line] = [ln for ln in err.splitlines() if ln.startswith(name)]
    assert vi in line and en in line, line
    assert line.index(vi) < line.index(" / ") < line.index(en)


def test_row_level_problems_read_vietnamese_first_too(run_cli, tmp_path):
    """A row longer than the header, an id used twice: no English-only message is left."""
    path = tmp_path / "dong.csv"
    path.write_text(GOOD_HEADER + "W1,Mai,1999-02-28,thừa\nW1,Lan,2000-01-01\n", encoding="utf-8")
    code, _, err = run_cli("import", "workers", str(path))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [
        "dong.csv row 2: dòng có 4 ô nhưng dòng tiêu đề chỉ có 3 cột (có dấu phân cách không nằm trong ngoặc kép "
        "trong một giá trị?) / has 4 cells but the header has only 3 columns (an unquoted separator in a value?)",
        "dong.csv row 3, worker_id: mã 'W1' bị trùng (đã dùng ở dòng 2); mỗi mã chỉ một dòng / duplicate worker_id "
        "'W1' (first used in row 2)",
    ]
    assert run_cli("import", "workers", str(tmp_path / "khong-co.csv"))[2].endswith(
        "khong-co.csv: không có tệp này / no such file\n")


def test_columns_outside_the_format_are_named_in_both_languages(staff, run_cli, tmp_path):
    data = (GOOD_HEADER.strip() + ",ghi_chu\nW-EXTRA1,Mai,1999-02-28,gọi sau 5 giờ\n").encode()
    page = htmllib.unescape(_upload(staff, data, "them-cot.csv").get_data(as_text=True))
    assert "Cột không thuộc định dạng (được giữ lại trong phần bổ sung «extra»): ghi_chu" in page
    path = tmp_path / "them-cot.csv"
    path.write_bytes(data)
    code, out, _ = run_cli("import", "workers", str(path))
    assert code == 0
    assert ("Cột không thuộc định dạng (được giữ lại trong phần bổ sung «extra»): ghi_chu / "
            "Columns outside the format (kept as extra): ghi_chu") in out


# ----------------------------------------------------------------------------- the "done when"

TYPED_HEADER = ["worker_id", "full_name", "birth_date", "gender", "education", "preferred_countries"]


def _typed(wid: str, ext: str) -> bytes:
    row = [wid, "Hoàng Thị Mai", "28/02/1999", "Nữ", "THPT", "Nhật Bản"]
    if ext == ".xlsx":
        return _xlsx([TYPED_HEADER, row])
    return (",".join(TYPED_HEADER) + "\r\n" + ",".join(row) + "\r\n").encode("utf-8")


def _stored(app, wid: str) -> tuple:
    with get_store(app).session() as s:
        w = s.get(Worker, wid)
        return w.birth_date, w.gender, w.education, w.preferred_countries


@pytest.mark.parametrize("ext", [".xlsx", ".csv"])
def test_28_02_1999_nu_thpt_nhat_ban_import_through_the_page(app, staff, ext):
    wid = f"W-TYPED{ext[1:].upper()}"
    preview = _upload(staff, _typed(wid, ext), "nguoi-lao-dong" + ext)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="import-errors"' not in page, page
    token = re.search(r'/counsellor/import/([\w-]+)"', page).group(1)
    done = staff.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 200 and "1 thêm mới" in done.get_data(as_text=True)
    assert _stored(app, wid) == (dt.date(1999, 2, 28), "female", "upper_secondary", ["JP"])


@pytest.mark.parametrize("ext", [".xlsx", ".csv"])
def test_28_02_1999_nu_thpt_nhat_ban_import_through_matcher_import(app, run_cli, tmp_path, ext):
    wid = f"W-CLI{ext[1:].upper()}"
    path = tmp_path / ("nguoi-lao-dong" + ext)
    path.write_bytes(_typed(wid, ext))
    code, out, err = run_cli("import", "workers", str(path))
    assert (code, err) == (0, "") and "created    1" in out and "stored     yes" in out
    assert _stored(app, wid) == (dt.date(1999, 2, 28), "female", "upper_secondary", ["JP"])
