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
from data.sheets import save_workbook
from models import Worker

log = logging.getLogger(__name__)

FORMATS = (".csv", ".xlsx")


def natural_key(text: str) -> tuple:
    """Sort key comparing runs of digits as numbers: W2 < W10."""
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


def _load(session: Session, spec: TableSpec) -> list[Any]:
    stmt = select(spec.entity)
    if spec.entity is Worker:  # a duplicate merged into another profile is not exported (web.merge)
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
