"""Import interchange files (FORMAT.md) into the store: validate everything, then write.

* :func:`read_table` reads a UTF-8 CSV (with or without BOM; ``,`` or, as Excel writes in
  some locales, ``;``/tab separated) or the first sheet of an .xlsx workbook into text cells.
* :func:`preview` parses and validates a file against the database without writing.
* :func:`import_file` (one file) and :func:`import_batch` (recruiters, orders and workers
  files together, so an order may reference a recruiter of the same batch) validate every
  row first. By default an import is all-or-nothing: any error and nothing is stored.
  With ``partial=True`` the good rows are stored and the bad ones reported.
* One person, one profile: a CCCĐ (``national_id``) used twice in the file, or held by
  another profile in the database, is an error on that row (naming the other row or
  profile); with ``partial=True`` such rows are skipped and listed like any bad row.
* Rows are upserted by id: a re-import updates, never duplicates. Columns absent from the
  file are left as they are on update; an empty cell clears an optional value. A worker's
  certificates are replaced; a recruiter's status change appends a
  :class:`~models.LicenceStatusChange`; unknown columns are kept in ``extra``.

Row numbers follow the spreadsheet convention of :mod:`data.formats` (header = row 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable, NamedTuple, Union

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from data.formats import (
    KIND_ORDER,
    Column,
    FieldError,
    TableSpec,
    clean_cell,
    get_spec,
    header_key,
    number_text,
    parse_cell,
)
from data.settings import BY_NAME
from models import AuditEvent, JobOrder, LanguageCertificate, LicenceStatusChange, Recruiter, Worker
from models.entities import worker_search_text
from models.identity import national_id_problem

log = logging.getLogger(__name__)

Source = Union[str, os.PathLike, bytes, bytearray, BinaryIO]

CHUNK = 500  # ids per IN (...) query
MAX_XLSX_CELLS = BY_NAME["max_xlsx_cells"].default  # rows x columns of a workbook's first sheet
# Bytes of uncompressed workbook XML allowed per cell of the budget: a zip that inflates far past
# what that many cells need (a "zip bomb" of shared strings) is refused before it is parsed.
XML_BYTES_PER_CELL = 250
XML_FIXED_BYTES = 1_000_000  # styles, theme and the other parts every workbook carries
MAX_ERRORS_IN_AUDIT = 50


class TableRow(NamedTuple):
    """One data row: its spreadsheet row number and its cells as text (not yet cleaned)."""

    number: int
    cells: list[str]


@dataclass
class ParsedRow:
    """A validated data row. ``values`` is keyed by column name; ``action`` is
    ``create``, ``update``, ``unchanged`` or ``error``."""

    row: int
    id: str | None
    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    action: str = "create"
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    kind: str
    file: str
    header: list[str]
    unknown_columns: list[str]
    rows: list[ParsedRow]
    errors: list[FieldError]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportReport:
    kind: str
    file: str
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[FieldError] = field(default_factory=list)
    committed: bool = False
    unchanged: int = 0
    partial: bool = False
    unknown_columns: list[str] = field(default_factory=list)  # kept in ``extra``, not an error

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def stored(self) -> int:
        """Rows written (created or changed) by this import."""
        return self.created + self.updated if self.committed else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "committed": self.committed,
            "partial": self.partial,
            "errors": [e.message for e in self.errors],
            "unknown_columns": list(self.unknown_columns),
        }


def unknown_columns_note(columns: Iterable[str]) -> tuple[str, str]:
    """What an import says of the columns FORMAT.md does not list (kept in ``extra``), (vi, en)."""
    names = ", ".join(columns)
    return (f"Cột không thuộc định dạng (được giữ lại trong phần bổ sung «extra»): {names}",
            f"Columns outside the format (kept as extra): {names}")


# --------------------------------------------------------------------------------------
# Reading files


EXPECTED_FILE = "a .csv (UTF-8) or .xlsx file"  # the ``expected`` of a file refused for its type
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
READABLE_EXTENSIONS = (".csv", ".txt", ".tsv", "", *XLSX_EXTENSIONS)
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # an old Excel .xls (or any Office 97 file)


def _file_error(file: str, en: str, vi: str, expected: str = "a readable CSV UTF-8 or .xlsx file",
                column: str | None = None) -> FieldError:
    """An error about the whole file (or its header): Vietnamese first, then English, as the cell
    errors of :mod:`data.formats`; ``str()`` names the file (and the column, if any)."""
    return FieldError(file, None, column, None, expected, en, vi=vi)


def file_problem(data: bytes, file: str, extensions: tuple[str, ...] = READABLE_EXTENSIONS) -> FieldError | None:
    """Why ``data``, the content of the file named ``file``, is not a CSV UTF-8 or .xlsx file,
    judged by its name and its bytes before any parsing (``None``: it may be one). The importer
    and the web upload (which also narrows ``extensions``) refuse a file with the same words."""
    ext = Path(file).suffix.lower()
    if ext == ".xls" or data.startswith(_OLE):
        return _file_error(file, "is an old Excel .xls workbook; save it as .xlsx or as CSV UTF-8",
                           "là bảng tính Excel .xls kiểu cũ; hãy lưu lại dạng .xlsx hoặc CSV UTF-8", EXPECTED_FILE)
    if ext not in extensions:
        return _file_error(file, f"has the extension {ext or 'none'!r}; expected {EXPECTED_FILE}",
                           f"có phần mở rộng {ext or 'trống'!r}; chỉ nhận tệp .csv (UTF-8) hoặc .xlsx", EXPECTED_FILE)
    if ext in XLSX_EXTENSIONS:
        if not data:
            return _file_error(file, "the file is empty; expected an .xlsx workbook with a header row",
                               "tệp rỗng; cần một bảng tính .xlsx có dòng tiêu đề", "a header row")
        if not data.startswith(_ZIP):
            hint_en, hint_vi = ("; it looks like CSV text: name it .csv", "; có vẻ là văn bản CSV: hãy đặt đuôi .csv") \
                if _looks_like_text(data) else ("", "")
            return _file_error(file, f"is not an .xlsx workbook (its content is not one){hint_en}",
                               f"không phải bảng tính .xlsx (nội dung tệp không khớp với phần mở rộng){hint_vi}",
                               EXPECTED_FILE)
        return None
    if data.startswith(_ZIP):
        return _file_error(file, "is an Excel workbook, not CSV text; name it .xlsx or save it as CSV UTF-8",
                           "là bảng tính Excel, không phải văn bản CSV (nội dung tệp không khớp với phần mở rộng); "
                           "hãy đặt đuôi .xlsx hoặc lưu dạng CSV UTF-8", EXPECTED_FILE)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _file_error(file, "is UTF-16 text (\"Unicode text\"); save it as CSV UTF-8 (in Excel: Save As > "
                           "'CSV UTF-8 (Comma delimited)')",
                           "là văn bản UTF-16 («Unicode text»); hãy lưu dạng CSV UTF-8 (trong Excel: Lưu thành > "
                           "«CSV UTF-8 (Comma delimited)»)", "UTF-8 text")
    if data[:512].count(0) * 4 > len(data[:512]):  # UTF-16 without its mark, or binary; one NUL is a cell's problem
        return _file_error(file, "is not CSV text (binary data, or UTF-16); save it as CSV UTF-8",
                           "không phải văn bản CSV (dữ liệu nhị phân hoặc UTF-16; nội dung tệp không khớp với phần "
                           "mở rộng); hãy lưu dạng CSV UTF-8", EXPECTED_FILE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        return _file_error(
            file,
            f"the file is not UTF-8 text; save it as CSV UTF-8 (in Excel: Save As > "
            f"'CSV UTF-8 (Comma delimited)'). First bad byte 0x{byte:02X} on line {line}; "
            f"the file was probably saved as Windows-1258 or Latin-1.",
            f"tệp không phải văn bản UTF-8; hãy lưu dạng CSV UTF-8 (trong Excel: Lưu thành > "
            f"«CSV UTF-8 (Comma delimited)»). Byte sai đầu tiên 0x{byte:02X} ở dòng {line}; có lẽ tệp "
            f"được lưu bằng bảng mã Windows-1258 hoặc Latin-1.",
            "UTF-8 text",
        )
    if not text.strip():
        return _file_error(file, "the file is empty; expected a header row, e.g. 'worker_id,full_name,...'",
                           "tệp rỗng; cần một dòng tiêu đề, ví dụ «worker_id,full_name,...»", "a header row")
    return None


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at 4096 is fine
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _read_bytes(source: Source) -> tuple[bytes, str | None]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), None
    if hasattr(source, "read"):
        data = source.read()
        return (data.encode("utf-8") if isinstance(data, str) else data), getattr(source, "name", None)
    path = Path(source)
    return path.read_bytes(), path.name


def read_table(source: Source, filename: str | None = None, *,
               max_cells: int = MAX_XLSX_CELLS) -> tuple[list[str], list[TableRow]]:
    """Read a CSV or .xlsx file into ``(header, rows)``; cells are text.

    ``source`` is a path, bytes or a binary file; ``filename`` (needed for bytes) decides
    the format by its extension and names the file in messages. Only the first sheet of a
    workbook is read, streamed (openpyxl's read-only mode), and refused once it is larger
    than ``max_cells`` (rows x columns); merged cells read as their top-left value (the others
    are empty); numbers that are whole are read as ``912345678``, never ``9.12e8``; date cells
    as ``YYYY-MM-DD``. Entirely empty rows are skipped (row numbers still count them).

    Raises:
        FieldError: the file is empty, not UTF-8, not a workbook, too large, or not parseable.
        OSError: the path cannot be read.
    """
    data, name = _read_bytes(source)
    file = Path(filename or name or "upload.csv").name
    problem = file_problem(data, file)
    if problem is not None:
        raise problem
    if Path(file).suffix.lower() in XLSX_EXTENSIONS:
        return _read_xlsx(data, file, max_cells)
    return _read_csv(data, file)


def _read_csv(data: bytes, file: str) -> tuple[list[str], list[TableRow]]:
    text = data.decode("utf-8-sig")  # checked by file_problem
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        if ";" in first_line:
            delimiter = ";"
        elif "\t" in first_line:
            delimiter = "\t"
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for cells in reader:
            number += 1
            records.append((number, cells))
    except csv.Error as exc:
        raise _file_error(file, f"row {number + 1} cannot be read as CSV: {exc}",
                          f"dòng {number + 1} không đọc được dạng CSV: {exc}") from None
    return _split_header(records, file)


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        try:
            return number_text(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _vi_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _budget_error(file: str, max_cells: int, en: str, vi: str) -> FieldError:
    """A workbook refused for its size: what was found (``en``/``vi``), then the one limit."""
    return FieldError(
        file, None, None, None, f"a workbook of at most {max_cells:,} cells",
        f"{en}; the limit is {max_cells:,} cells (setting max_xlsx_cells). Split the file, or delete "
        "the empty or unneeded rows, columns and sheets.",
        vi=f"{vi}; giới hạn là {_vi_int(max_cells)} ô (thiết lập max_xlsx_cells). Hãy chia nhỏ tệp hoặc "
        "xóa các dòng, cột, trang tính trống hay không cần.",
    )


def _too_large(file: str, what_vi: str, what_en: str, rows: int, columns: int, max_cells: int) -> FieldError:
    return _budget_error(
        file, max_cells,
        f"the first sheet is too large: it {what_en} {rows:,} rows × {columns:,} columns = {rows * columns:,} cells",
        f"trang tính đầu tiên quá lớn: {what_vi} {_vi_int(rows)} dòng × {_vi_int(columns)} cột = "
        f"{_vi_int(rows * columns)} ô",
    )


_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,15}:)?c[\s/>]")  # a cell element, any namespace prefix
_TAG_OVERLAP = 32  # longer than any match of _CELL_TAG


def _check_archive(data: bytes, file: str, max_cells: int) -> None:
    """Refuse a workbook before openpyxl parses it: its parts inflate past what ``max_cells``
    cells need, or its worksheets hold more cell elements than that (counted on the raw XML,
    chunk by chunk, stopping at the limit: openpyxl scans a whole sheet that lacks a dimension
    even in read-only mode, so an oversized one must never reach it)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        inflated = sum(i.file_size for i in archive.infolist())
        allowed = XML_FIXED_BYTES + max_cells * XML_BYTES_PER_CELL
        if inflated > allowed:
            raise _budget_error(
                file, max_cells,
                f"the workbook expands to {inflated:,} bytes, more than {max_cells:,} cells can need ({allowed:,})",
                f"tệp giải nén ra {_vi_int(inflated)} byte, nhiều hơn mức {_vi_int(max_cells)} ô cần "
                f"({_vi_int(allowed)})",
            )
        cells = 0
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            with archive.open(info) as part:
                tail = b""
                while cells <= max_cells:
                    chunk = part.read(1 << 20)
                    block = tail + chunk
                    # A tag starting in the last _TAG_OVERLAP bytes is counted with the next chunk.
                    end = len(block) - _TAG_OVERLAP if chunk else len(block)
                    cells += len(_CELL_TAG.findall(block)) - len(_CELL_TAG.findall(block, end))
                    tail = block[end:]
                    if not chunk:
                        break
            if cells > max_cells:
                raise _budget_error(file, max_cells, f"the workbook's sheets hold more than {max_cells:,} cells",
                                    f"các trang tính của tệp có hơn {_vi_int(max_cells)} ô")


def _unreadable_xlsx(file: str, exc: Exception) -> FieldError:
    return _file_error(file, f"is not a readable .xlsx workbook: {exc}; open it in Excel or LibreOffice and save it "
                       "again as .xlsx", f"không đọc được bảng tính .xlsx này ({exc}); hãy mở bằng Excel hoặc "
                       "LibreOffice rồi lưu lại dạng .xlsx", EXPECTED_FILE)


def _read_xlsx(data: bytes, file: str, max_cells: int) -> tuple[list[str], list[TableRow]]:
    """The first sheet, streamed, within ``max_cells``: refused first by the workbook's inflated
    size and its cell count (``_check_archive``), then by the size the sheet declares (its
    dimension), then, since a dimension can lie or be missing, by the rows and columns actually
    met while streaming."""
    import openpyxl

    try:
        _check_archive(data, file, max_cells)
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        if isinstance(exc, FieldError):
            raise
        raise _unreadable_xlsx(file, exc) from None
    try:
        ws = wb.worksheets[0]
        rows, columns = ws.max_row, ws.max_column
        if rows and columns and rows * columns > max_cells:
            raise _too_large(file, "khai báo", "declares", rows, columns, max_cells)
        ws.reset_dimensions()  # read every row there is, not only the declared ones
        records = []
        width = 0
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            width = max(width, len(values))
            if number * max(width, 1) > max_cells:
                raise _too_large(file, "có ít nhất", "has at least", number, max(width, 1), max_cells)
            if values:  # merged cells other than the top-left one read as None
                records.append((number, [_xlsx_text(v) for v in values]))
    except FieldError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, TypeError, ValueError, SyntaxError) as exc:
        raise _unreadable_xlsx(file, exc) from None  # XML errors are SyntaxError
    finally:
        wb.close()
    if not records:
        raise _file_error(file, "the first sheet is empty; expected a header row",
                          "trang tính đầu tiên trống; cần một dòng tiêu đề", "a header row")
    for _, cells in records:  # every row as wide as the sheet, as in a full read
        cells.extend([""] * (width - len(cells)))
    return _split_header(records, file)


def _split_header(records: list[tuple[int, list[str]]], file: str) -> tuple[list[str], list[TableRow]]:
    """First non-blank record is the header; the remaining non-blank ones are data rows."""
    it = iter(records)
    header: list[str] | None = None
    rows: list[TableRow] = []
    for number, cells in it:
        if any(c.strip() for c in cells):
            header = [clean_cell(c) for c in cells]
            break
    if header is None:
        raise _file_error(file, "the file is empty; expected a header row", "tệp rỗng; cần một dòng tiêu đề",
                          "a header row")
    for number, cells in it:
        if any(c.strip() for c in cells):
            rows.append(TableRow(number, [unicodedata.normalize("NFC", c) for c in cells]))
    return header, rows


# --------------------------------------------------------------------------------------
# Validation


@dataclass
class _Checked:
    spec: TableSpec
    file: str
    header: list[str]
    present: list[Column]  # known columns present in the file
    unknown: list[str]
    rows: list[ParsedRow]
    file_errors: list[FieldError]

    @property
    def errors(self) -> list[FieldError]:
        return self.file_errors + [e for r in self.rows for e in r.errors]

    @property
    def good(self) -> list[ParsedRow]:
        return [] if self.file_errors else [r for r in self.rows if r.ok]


def _map_header(spec: TableSpec, header: list[str], file: str, rows: list[TableRow]):
    """Header -> (position -> Column or unknown name); file-level errors."""
    errors: list[FieldError] = []
    positions: dict[int, Column | str] = {}
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            if any(i < len(r.cells) and r.cells[i].strip() for r in rows):
                errors.append(_file_error(
                    file, f"column {i + 1} has values but no name in the header row; name it as FORMAT.md does",
                    f"cột thứ {i + 1} có giá trị nhưng không có tên ở dòng tiêu đề; hãy đặt tên cột như FORMAT.md",
                    "a name for every column with values"))
            continue
        key = header_key(name)
        column = spec.by_name.get(key)
        ident = column.name if column else name
        if key in seen:
            errors.append(_file_error(
                file, f"column {name!r} appears twice in the header (columns {seen[key] + 1} and {i + 1})",
                f"cột {name!r} có hai lần ở dòng tiêu đề (cột thứ {seen[key] + 1} và {i + 1}); hãy giữ một",
                "each column once", column=ident))
            continue
        seen[key] = i
        positions[i] = column if column else ident
    for col in spec.columns:
        if col.required and col.name not in seen:
            errors.append(_file_error(
                file, f"missing required column '{col.name}' (required: {', '.join(spec.required)})",
                f"thiếu cột bắt buộc «{col.name}» (các cột bắt buộc: {', '.join(spec.required)})",
                "a column in the header", column=col.name))
    return positions, errors


def _check(
    session: Session,
    spec: TableSpec,
    source: Source,
    filename: str | None,
    batch_recruiters: set[str] | None = None,
    max_cells: int = MAX_XLSX_CELLS,
) -> _Checked:
    data, name = _read_bytes(source)
    file = Path(filename or name or spec.filename).name
    try:
        header, table_rows = read_table(data, file, max_cells=max_cells)
    except FieldError as exc:
        return _Checked(spec, file, [], [], [], [], [exc])
    positions, file_errors = _map_header(spec, header, file, table_rows)
    present = [c for c in positions.values() if isinstance(c, Column)]
    unknown = [c for c in positions.values() if isinstance(c, str)]
    parsed: list[ParsedRow] = []
    if not file_errors:
        for trow in table_rows:
            parsed.append(_parse_row(spec, positions, len(header), trow, file))
        _check_duplicates(spec, parsed, file)
        _check_cross_fields(spec, parsed, file)
        if spec.kind == "orders":
            _check_references(session, parsed, file, batch_recruiters or set())
        if spec.kind == "workers":
            _check_national_ids(session, parsed, file)
        _plan_actions(session, spec, present, parsed)
    return _Checked(spec, file, header, present, unknown, parsed, file_errors)


def _parse_row(spec: TableSpec, positions, width: int, trow: TableRow, file: str) -> ParsedRow:
    pr = ParsedRow(row=trow.number, id=None)
    cells = trow.cells
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        pr.errors.append(
            FieldError(
                file, trow.number, None, None, f"at most {width} cells",
                f"has {len(cells)} cells but the header has only {width} columns "
                f"(an unquoted separator in a value?)",
                vi=f"dòng có {len(cells)} ô nhưng dòng tiêu đề chỉ có {width} cột (có dấu phân cách không nằm "
                "trong ngoặc kép trong một giá trị?)",
            )
        )
    for i, target in positions.items():
        text = clean_cell(cells[i] if i < len(cells) else "")
        if isinstance(target, Column):
            try:
                pr.values[target.name] = parse_cell(target, text, file=file, row=trow.number)
            except FieldError as exc:
                pr.errors.append(exc)
        else:
            pr.extra[target] = text
    ident = pr.values.get(spec.id_column)
    pr.id = ident if isinstance(ident, str) else None
    if pr.errors:
        pr.action = "error"
    return pr


def _check_duplicates(spec: TableSpec, rows: list[ParsedRow], file: str) -> None:
    first: dict[str, int] = {}
    for r in rows:
        if r.id is None:
            continue
        if r.id in first:
            r.errors.append(
                FieldError(
                    file, r.row, spec.id_column, r.id,
                    "an id used once per file",
                    f"duplicate {spec.id_column} {r.id!r} (first used in row {first[r.id]})",
                    vi=f"mã {r.id!r} bị trùng (đã dùng ở dòng {first[r.id]}); mỗi mã chỉ một dòng",
                )
            )
            r.action = "error"
        else:
            first[r.id] = r.row


def _check_cross_fields(spec: TableSpec, rows: list[ParsedRow], file: str) -> None:
    if spec.kind == "workers":
        _check_national_id_person(rows, file)
    if spec.kind != "orders":
        return
    for r in rows:
        lo, hi = r.values.get("min_age"), r.values.get("max_age")
        if lo is not None and hi is not None and lo > hi:
            r.errors.append(
                FieldError(
                    file, r.row, "max_age", str(hi), f"an age of at least min_age ({lo})",
                    f"{hi} is below min_age {lo}",
                    vi=f"tuổi tối đa {hi} nhỏ hơn tuổi tối thiểu (min_age) {lo}",
                )
            )
            r.action = "error"


def _check_national_id_person(rows: list[ParsedRow], file: str) -> None:
    """A CCCĐ whose century, gender and birth-year digits disagree with the row's own
    ``birth_date`` and ``gender`` is an error (models.identity, Circular 07/2016/TT-BCA)."""
    for r in rows:
        nid = r.values.get("national_id")
        if not nid or not r.ok:
            continue
        problem = national_id_problem(nid, r.values.get("birth_date"), r.values.get("gender"))
        if problem is not None:
            r.errors.append(FieldError(file, r.row, "national_id", nid, "a CCCĐ matching birth_date and gender",
                                       problem.en, problem.vi))
            r.action = "error"


def _national_id_error(file: str, r: ParsedRow, nid: str, vi: str, en: str) -> None:
    r.errors.append(FieldError(file, r.row, "national_id", nid, "a CCCĐ held by no other profile", en, vi))
    r.action = "error"


def _check_national_ids(session: Session, rows: list[ParsedRow], file: str) -> None:
    """One person, one profile: a CCCĐ may appear once in the file, and may not belong to
    another (unmerged) profile in the database, unless that profile's own row in this file
    gives it a different CCCĐ. Repeated until stable, because a row refused here may be the
    one that was giving its CCCĐ away."""
    from data.repo import national_id_holders

    if not any("national_id" in r.values for r in rows):
        return
    first: dict[str, ParsedRow] = {}
    for r in rows:
        nid = r.values.get("national_id")
        if not nid or not r.ok:
            continue
        if nid in first:
            _national_id_error(
                file, r, nid,
                f"số CCCD {nid} đã dùng ở dòng {first[nid].row} ({first[nid].id}): mỗi người chỉ một hồ sơ",
                f"the CCCD {nid} is already used in row {first[nid].row} ({first[nid].id}): one person, one profile",
            )
        else:
            first[nid] = r
    holders = national_id_holders(session, list(first))
    while True:
        moving = {r.id: r.values.get("national_id") for r in rows if r.ok and r.id and "national_id" in r.values}
        refused = 0
        for nid, r in first.items():
            holder = holders.get(nid)
            if not r.ok or holder is None or holder == r.id:
                continue
            if holder in moving and moving[holder] != nid:
                continue  # the holder's own row gives this CCCĐ up
            _national_id_error(
                file, r, nid,
                f"số CCCD {nid} đã thuộc hồ sơ {holder} trong cơ sở dữ liệu: mỗi người chỉ một hồ sơ "
                f"(nếu là cùng một người, hãy gộp hồ sơ)",
                f"the CCCD {nid} already belongs to the profile {holder} in the database: one person, one "
                f"profile (if it is the same person, merge the profiles)",
            )
            refused += 1
        if not refused:
            return


def _check_references(session: Session, rows: list[ParsedRow], file: str, batch: set[str]) -> None:
    wanted = {r.values.get("recruiter_id") for r in rows if r.values.get("recruiter_id")}
    missing = wanted - batch
    known: set[str] = set()
    for chunk in _chunks(sorted(missing)):
        known.update(
            session.scalars(select(Recruiter.recruiter_id).where(Recruiter.recruiter_id.in_(chunk)))
        )
    for r in rows:
        rid = r.values.get("recruiter_id")
        if rid and rid not in batch and rid not in known:
            r.errors.append(
                FieldError(
                    file, r.row, "recruiter_id", rid, "the id of a known recruiter",
                    f"{rid!r} is not a known recruiter; import it first (recruiters.csv) "
                    f"or in the same batch",
                    vi=f"{rid!r} không phải mã một doanh nghiệp đã có; hãy nhập doanh nghiệp trước (recruiters.csv) "
                    "hoặc cùng một lần nhập",
                )
            )
            r.action = "error"


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _load_existing(session: Session, spec: TableSpec, ids: list[str]) -> dict[str, Any]:
    entity = spec.entity
    key = getattr(entity, spec.id_column)
    options = []
    if entity is Worker:
        options.append(selectinload(Worker.certificates))
    elif entity is Recruiter:
        options.append(selectinload(Recruiter.status_history))
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        for obj in session.scalars(select(entity).where(key.in_(chunk)).options(*options)):
            found[getattr(obj, spec.id_column)] = obj
    return found


def _current(obj: Any, column: Column) -> Any:
    value = getattr(obj, column.attribute)
    if column.type == "certificates":
        return [c.raw for c in value]
    return value


def _incoming(column: Column, value: Any) -> Any:
    if column.type == "certificates":
        return [c.raw for c in value]
    return value


def _diff(obj: Any, present: list[Column], row: ParsedRow) -> list[str]:
    changed = []
    for column in present:
        if _current(obj, column) != _incoming(column, row.values[column.name]):
            changed.append(column.name)
    old_extra = obj.extra or {}
    if any(old_extra.get(k) != v for k, v in row.extra.items()):
        changed.append("extra")
    return changed


def _plan_actions(session: Session, spec: TableSpec, present: list[Column], rows: list[ParsedRow]) -> None:
    existing = _load_existing(session, spec, [r.id for r in rows if r.ok and r.id])
    for r in rows:
        if not r.ok:
            r.action = "error"
            continue
        obj = existing.get(r.id)
        if obj is None:
            r.action = "create"
            r.changed = [c.name for c in present]
        else:
            r.changed = _diff(obj, present, r)
            r.action = "update" if r.changed else "unchanged"


# --------------------------------------------------------------------------------------
# Writing


def _assign(obj: Any, column: Column, value: Any) -> None:
    if column.type == "certificates":
        obj.certificates = [LanguageCertificate.from_certificate(c, i) for i, c in enumerate(value)]
    elif column.type in ("list", "experience"):
        setattr(obj, column.attribute, list(value))
    else:
        setattr(obj, column.attribute, value)


def _record_status(rec: Recruiter, old: tuple[str | None, dt.date | None] | None, user: str | None, file: str) -> None:
    """Append a LicenceStatusChange when (status, status_date) differs from the last one."""
    history = rec.status_history
    if history:
        last = max(history, key=lambda c: (c.effective_date, c.id or 0))
        last_state = (last.status, last.effective_date)
    else:
        last_state = old
    new_status, new_date = rec.status, rec.status_date
    if last_state is None:  # a new recruiter: record the status if its date is known
        if new_date is None:
            return
    else:
        last_status, last_date = last_state
        if new_status == last_status and (new_date is None or new_date == last_date):
            return
    rec.status_history.append(
        LicenceStatusChange(
            status=new_status,
            effective_date=new_date or dt.date.today(),
            reason=f"import of {file}",
            changed_by=user,
        )
    )


def _write(session: Session, checked: _Checked, user: str | None) -> tuple[int, int, int]:
    spec = checked.spec
    good = checked.good
    existing = _load_existing(session, spec, [r.id for r in good])
    created = updated = unchanged = 0
    new_rows: list[ParsedRow] = []
    for r in good:
        obj = existing.get(r.id)
        if obj is None and spec.entity in (Worker, JobOrder):
            new_rows.append(r)  # inserted in bulk below
            created += 1
            continue
        if obj is None:
            obj = spec.entity()
            for column in spec.columns:
                if column.name in r.values:
                    _assign(obj, column, r.values[column.name])
                else:
                    _assign(obj, column, column.empty_value())
            obj.extra = dict(r.extra)
            if spec.entity is Recruiter:
                _record_status(obj, None, user, checked.file)
            session.add(obj)
            created += 1
            continue
        changed = _diff(obj, checked.present, r)
        if not changed:
            unchanged += 1
            continue
        old_status = (obj.status, obj.status_date) if spec.entity is Recruiter else None
        for column in checked.present:
            if column.name in changed:
                _assign(obj, column, r.values[column.name])
        if "extra" in changed:
            obj.extra = {**(obj.extra or {}), **r.extra}
        if spec.entity is Recruiter and ("status" in changed or "status_date" in changed):
            _record_status(obj, old_status, user, checked.file)
        updated += 1
    session.flush()
    if new_rows:
        _insert_new(session, spec, new_rows)
    return created, updated, unchanged


def _insert_new(session: Session, spec: TableSpec, rows: list[ParsedRow]) -> None:
    """New workers or orders as one bulk INSERT per table (no object is built per row). What an object's creation would do besides is
    done here: the worker's search text (``models.worker_search_text``, the before_insert hook's
    function) and its certificates as child rows."""
    values: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    for r in rows:
        row: dict[str, Any] = {}
        for column in spec.columns:
            value = r.values[column.name] if column.name in r.values else column.empty_value()
            if column.type == "certificates":
                certificates.extend(
                    {"worker_id": r.id, "position": i, "raw": c.raw, "exam": c.exam, "language": c.language,
                     "label": c.label, "score": c.score, "level": c.level, "test_date": c.test_date}
                    for i, c in enumerate(value))
            elif column.type in ("list", "experience"):
                row[column.attribute] = list(value)
            else:
                row[column.attribute] = value
        row["extra"] = dict(r.extra)
        if spec.entity is Worker:
            row["search_text"] = worker_search_text(row.get("worker_id"), row.get("full_name"), row.get("commune"),
                                                    row.get("phone"), row.get("national_id"), row.get("skills"))
        values.append(row)
    # Core INSERTs on the tables, one executemany each (the ORM's bulk mode goes row by row
    # here because of the version counter); the columns' Python defaults still apply
    session.execute(insert(spec.entity.__table__), values)
    if certificates:
        session.execute(insert(LanguageCertificate.__table__), certificates)


def _audit(session: Session, report: ImportReport, user: str | None) -> None:
    session.add(
        AuditEvent(
            username=user,
            action="import",
            entity=get_spec(report.kind).label,
            entity_id=None,
            detail={
                "file": report.file,
                "total_rows": report.total_rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "errors": len(report.errors),
                "partial": report.partial,
                "error_messages": [e.message for e in report.errors[:MAX_ERRORS_IN_AUDIT]],
            },
        )
    )


# --------------------------------------------------------------------------------------
# Public API


def preview(session: Session, kind: str, source: Source, filename: str | None = None, *,
            max_cells: int = MAX_XLSX_CELLS) -> Preview:
    """Parse and validate ``source`` against the database without writing anything.

    Each row gets an ``action`` (``create``/``update``/``unchanged``/``error``) and, for
    updates, the names of the columns that would change. ``max_cells``: see :func:`read_table`.
    """
    spec = get_spec(kind)
    checked = _check(session, spec, source, filename, max_cells=max_cells)
    return Preview(
        kind=spec.kind,
        file=checked.file,
        header=checked.header,
        unknown_columns=checked.unknown,
        rows=checked.rows,
        errors=checked.errors,
    )


def import_file(
    session: Session,
    kind: str,
    source: Source,
    partial: bool = False,
    user: str | None = None,
    *,
    filename: str | None = None,
    commit: bool = True,
    max_cells: int = MAX_XLSX_CELLS,
) -> ImportReport:
    """Validate and store one file of ``kind`` (``recruiters``, ``orders``, ``workers``).

    All-or-nothing unless ``partial``: with any error nothing is written. An order's
    ``recruiter_id`` must exist in the database. With ``commit`` (default) the session is
    committed when rows were stored, and an AuditEvent (action ``import``) records it.
    ``max_cells`` bounds a workbook's first sheet (:func:`read_table`).
    """
    return import_batch(session, [(kind, source)], partial=partial, user=user,
                        filenames=[filename], commit=commit, max_cells=max_cells)[0]


def import_batch(
    session: Session,
    files: Iterable[tuple[str, Source]] | dict[str, Source],
    partial: bool = False,
    user: str | None = None,
    *,
    filenames: list[str | None] | None = None,
    commit: bool = True,
    max_cells: int = MAX_XLSX_CELLS,
) -> list[ImportReport]:
    """Import several files as one batch in one transaction.

    Files are processed recruiters first, then orders, then workers, so an order may
    reference a recruiter of the same batch. All-or-nothing across the whole batch unless
    ``partial``. Reports come back in the order the files were given.
    """
    items = list(files.items()) if isinstance(files, dict) else list(files)
    names = list(filenames or [None] * len(items))
    specs = [get_spec(kind) for kind, _ in items]
    order = sorted(range(len(items)), key=lambda i: KIND_ORDER.index(specs[i].kind))
    checked: dict[int, _Checked] = {}
    batch_recruiters: set[str] = set()
    for i in order:
        c = _check(session, specs[i], items[i][1], names[i], batch_recruiters, max_cells=max_cells)
        checked[i] = c
        if specs[i].kind == "recruiters":
            batch_recruiters.update(r.id for r in c.good if r.id)
    reports = []
    for i in range(len(items)):
        c = checked[i]
        reports.append(
            ImportReport(kind=c.spec.kind, file=c.file, total_rows=len(c.rows), errors=c.errors,
                         partial=partial, unknown_columns=list(c.unknown))
        )
    any_errors = any(r.errors for r in reports)
    if any_errors and not partial:
        log.info("import refused: %d error(s)", sum(len(r.errors) for r in reports))
        return reports
    try:
        wrote = False
        for i in order:
            c = checked[i]
            if c.file_errors or (c.errors and not c.good):
                continue
            created, updated, unchanged = _write(session, c, user)
            rep = reports[i]
            rep.created, rep.updated, rep.unchanged = created, updated, unchanged
            rep.committed = True
            _audit(session, rep, user)
            wrote = True
        if commit and wrote:
            session.commit()
    except Exception:
        session.rollback()
        for rep in reports:
            rep.committed = False
            rep.created = rep.updated = rep.unchanged = 0
        raise
    return reports

