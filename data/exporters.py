"""Export the store to interchange files (FORMAT.md), CSV UTF-8 or .xlsx by extension.

Columns come in FORMAT.md order, then the optional extension columns some row uses, then
the unknown columns kept in ``extra`` (sorted by name). Rows are sorted by id (digits
compared as numbers, so W2 comes before W10). Values are written as :mod:`data.formats`
formats them (ISO dates, ``true``/``false``, lists joined with ``; ``, numbers without a
trailing ``.0``), so import -> export -> import -> export gives identical files.

Every text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed with one
single quote so a spreadsheet does not run it as a formula; the importer removes exactly
that quote again (see :func:`data.formats.escape_formula`). CSV files are written with a
UTF-8 byte-order mark (so Excel shows Vietnamese correctly) and CRLF line ends; .xlsx
cells are all text, so phone numbers and ids keep their leading zeros.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from data.formats import TableSpec, escape_formula, format_cell, get_spec
from data.sheets import save_workbook, workbook_bytes
from models import Worker

log = logging.getLogger(__name__)

FORMATS = (".csv", ".xlsx")


def natural_key(text: str) -> tuple:
    """Sort key comparing runs of digits as numbers: W2 < W10."""
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


def _load(session: Session, spec: TableSpec) -> list[Any]:
    stmt = select(spec.entity)
    if spec.entity is Worker:  # a duplicate merged into another profile is not exported (web.services.merge)
        stmt = stmt.options(selectinload(Worker.certificates)).where(Worker.merged_into.is_(None))
    objs = list(session.scalars(stmt))
    return sorted(objs, key=lambda o: natural_key(getattr(o, spec.id_column)))


def table_rows(session: Session, kind: str) -> tuple[list[str], list[list[str]]]:
    """The export of ``kind`` as ``(header, rows)`` of escaped cell text."""
    spec = get_spec(kind)
    objs = _load(session, spec)
    columns = list(spec.format_columns)
    for col in spec.columns:
        if col.extension and any(getattr(o, col.attribute) not in (None, "", []) for o in objs):
            columns.append(col)
    known = {c.name for c in spec.columns}
    extra_names = sorted({k for o in objs for k in (o.extra or {}) if k not in known})
    header = [c.name for c in columns] + extra_names
    rows = []
    for o in objs:
        cells = [format_cell(c, getattr(o, c.attribute)) for c in columns]
        extra = o.extra or {}
        cells += ["" if extra.get(k) is None else str(extra.get(k)) for k in extra_names]
        rows.append([escape_formula(c) for c in cells])
    return header, rows


def to_csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([escape_formula(h) for h in header])
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx_bytes(header: list[str], rows: list[list[str]], title: str = "data") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    dropped = 0
    for line in [header, *rows]:
        clean = []
        for text in line:
            if ILLEGAL_CHARACTERS_RE.search(text):
                dropped += 1
                text = ILLEGAL_CHARACTERS_RE.sub("", text)
            clean.append(text)
        ws.append(clean)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for col_cells in ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)):
        width = max((len(c.value or "") for c in col_cells), default=8)
        ws.column_dimensions[col_cells[0].column_letter].width = min(max(width + 2, 8), 50)
    if dropped:
        log.warning("%d cell(s) had control characters a workbook cannot hold; removed them", dropped)
    # every cell is text, whatever it looks like (phone numbers, ids, dates)
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None:
                cell.data_type = "s"
    buf = io.BytesIO()
    save_workbook(wb, buf)
    return buf.getvalue()


def export_bytes(session: Session, kind: str, fmt: str = ".csv") -> bytes:
    """The export of ``kind`` as file content; ``fmt`` is ``.csv`` or ``.xlsx``."""
    fmt = fmt if fmt.startswith(".") else "." + fmt
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    header, rows = table_rows(session, kind)
    if fmt == ".csv":
        return to_csv_bytes(header, rows)
    return to_xlsx_bytes(header, rows, title=get_spec(kind).kind)


def export_file(session: Session, kind: str, path: str | os.PathLike) -> int:
    """Write ``kind`` (recruiters, orders, workers) to ``path`` (.csv or .xlsx).

    The file is replaced atomically. Returns the number of data rows written.

    Raises:
        ValueError: unknown kind or an extension other than .csv/.xlsx.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"{path.name}: export format must be .csv or .xlsx; got {ext or 'no extension'!r}")
    header, rows = table_rows(session, kind)
    data = to_csv_bytes(header, rows) if ext == ".csv" else to_xlsx_bytes(header, rows, get_spec(kind).kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(rows)


__all__ = ["export_file", "export_bytes", "table_rows", "to_csv_bytes", "to_xlsx_bytes", "natural_key"]


# One example row per kind for the import template: a realistic line that imports as it is, written
# the way people type it (the names the drop-down lists offer; the importer reads them as FORMAT.md's codes).
TEMPLATE_EXAMPLES: dict[str, dict[str, str]] = {
    "workers": {
        "worker_id": "W00001", "full_name": "Nông Thị Lan", "birth_date": "28/02/1999", "gender": "Nữ",
        "commune": "Xã Trùng Khánh", "disadvantaged_commune": "không", "ethnicity": "Tày",
        "education": "THPT", "skills": "may công nghiệp; đóng gói", "experience": "may công nghiệp: 2",
        "languages": "JLPT N4 (2025-07)", "language_training": "Cơ bản", "preferred_countries": "Nhật Bản; Đài Loan",
        "preferred_sectors": "may mặc; chế biến thực phẩm", "min_wage_vnd": "25000000", "max_fee_vnd": "60000000",
        "available_from": "01/03/2027", "consent_share": "có", "phone": "0912 345 678", "consent_date": "01/12/2026",
        "consent_scope": "Chia sẻ hồ sơ với doanh nghiệp được cấp phép",
    },
    "orders": {
        "order_id": "O00001", "recruiter_id": "R001", "title": "Thực tập sinh chế biến thực phẩm – Aichi",
        "description": "Xưởng cơm hộp, làm ca, ký túc xá 2 người/phòng.", "country": "Nhật Bản",
        "programme": "Thực tập sinh kỹ năng (TITP)", "required_skills": "chế biến thực phẩm; đóng gói",
        "min_age": "18", "max_age": "30", "gender": "Không yêu cầu", "min_education": "THCS",
        "min_experience_years": "0", "positions": "12", "monthly_wage": "172000", "wage_currency": "JPY",
        "contract_months": "36", "service_fee_vnd": "75000000", "brokerage_fee_vnd": "0", "deposit_vnd": "0",
        "approval_no": "2715/QLLĐNN-ĐKHĐ", "approval_date": "05/10/2026", "deadline": "20/01/2027",
        "departure_date": "15/06/2027", "status": "Đang tuyển",
    },
    "recruiters": {
        "recruiter_id": "R001", "name": "Công ty Cổ phần Nhân lực Quốc tế Bản Giốc", "licence_no": "112/LĐTBXH-GP",
        "licence_date": "14/03/2018", "status": "Đang hoạt động", "markets": "Nhật Bản; Đài Loan",
        "website": "https://bangiochr.vn", "phone": "0206 3851 112", "recruiter_type": "Doanh nghiệp",
    },
}
LISTS_SHEET = "Danh sách - Lists"  # the drop-downs' values, one column per list (hidden)
GUIDE_SHEET = "Hướng dẫn - Guide"
BOOL_CHOICES = (("có", "true"), ("không", "false"))  # data.formats.TRUE_WORDS / FALSE_WORDS


def template_choices(column) -> list[tuple[str, str]]:
    """The drop-down of ``column`` in an import template, as (what the list offers, FORMAT.md's code):
    the Vietnamese name people type ("Nữ", "THPT"), which the importer reads as the code; the code
    itself where a name would not read back. Empty for a column without a closed list."""
    if column.type == "bool":
        return list(BOOL_CHOICES)
    if not column.allowed:
        return []
    if column.names is None:  # ethnicity: the official names are the values
        return [(code, code) for code in column.allowed]
    out = []
    for code in column.allowed:
        name = column.names.label(code)
        out.append((name if column.names.read(name) == code else code, code))
    return out


def template_bytes(kind: str) -> bytes:
    """An .xlsx import template for ``kind``: the header row of FORMAT.md's columns (bold, the
    required ones in red), one example row that imports as it is, drop-down lists of the names
    people type for the closed vocabularies (:func:`template_choices`, kept on a hidden sheet, so
    a list has no length limit), and a guide sheet describing each column (required, type, the
    accepted names with FORMAT.md's codes, which exports write)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = get_spec(kind)
    example = TEMPLATE_EXAMPLES[spec.kind]
    wb = Workbook()
    ws = wb.active
    ws.title = spec.kind
    lists = wb.create_sheet(LISTS_SHEET)
    names = [c.name for c in spec.columns]
    ws.append(names)
    ws.append([example.get(n, "") for n in names])
    list_column = 0
    for i, c in enumerate(spec.columns, start=1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i).font = Font(bold=True, color="B91C1C" if c.required else "000000")
        ws.column_dimensions[letter].width = max(12, min(40, len(example.get(c.name, "")) + 4, len(c.name) + 20))
        choices = template_choices(c)
        if not choices:
            continue
        list_column += 1
        source = get_column_letter(list_column)
        lists.cell(row=1, column=list_column, value=c.name).font = Font(bold=True)
        for row, (shown, _code) in enumerate(choices, start=2):
            lists.cell(row=row, column=list_column, value=shown)
        dv = DataValidation(type="list", allow_blank=not c.required,
                            formula1=f"{quote_sheetname(LISTS_SHEET)}!${source}$2:${source}${len(choices) + 1}")
        dv.error, dv.errorTitle = "Hãy chọn một giá trị trong danh sách / choose a value from the list", c.name
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}1000")
    lists.sheet_state = "hidden"
    ws.freeze_panes = "A2"
    guide = wb.create_sheet(GUIDE_SHEET)
    guide.append(["Cột / column", "Bắt buộc / required", "Kiểu / type",
                  "Giá trị nhận (mã FORMAT.md) / accepted values (FORMAT.md code)"])
    kinds = {"date": "ngày dd/mm/yyyy hoặc yyyy-mm-dd", "int": "số nguyên", "float": "số", "bool": "có / không",
             "list": "danh sách, cách nhau bằng ;", "enum": "một giá trị trong danh sách",
             "experience": "nghề: số năm; ...", "certificates": "ví dụ JLPT N4 (2025-07); EPS-TOPIK 160 (2025-03-10)"}
    for c in spec.columns:
        choices = template_choices(c)
        if c.fmt == "ethnicity":
            allowed = "54 dân tộc, tên chính thức (danh sách chọn)"
        elif choices:
            allowed = ", ".join(shown if shown == code else f"{shown} = {code}" for shown, code in choices)
        elif c.fmt == "country":
            allowed = "tên hoặc mã nước, ví dụ Nhật Bản (JP), Hàn Quốc (KR), Đài Loan (TW), Đức (DE)"
        else:
            allowed = ""
        guide.append([c.name, "có / yes" if c.required else "", kinds.get(c.type, "chữ / text"), allowed])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (26, 18, 40, 80)):
        guide.column_dimensions[letter].width = width
    wb.move_sheet(lists, offset=1)  # after the guide: the tabs read data, guide
    return workbook_bytes(wb)
