"""The one writer of every workbook the product produces (exports, reports, CLI files).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (also after leading
blanks or a tab) as a formula: a worker's name or a recruiter's order title typed as
``=HYPERLINK(...)`` would become a live link in the report sent to the province. Every
workbook goes through :func:`save_workbook`, which neutralises such text (one leading quote,
as :func:`data.formats.escape_formula` does for CSV) and stores every text cell as text.
Numbers stay numbers.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from data.formats import escape_formula, is_escaped


def neutralise(wb) -> int:
    """Make every text cell and sheet title of ``wb`` inert; returns how many cells changed."""
    changed = 0
    for ws in wb.worksheets:
        safe_title = escape_formula(ws.title).lstrip("'")
        if safe_title != ws.title:
            ws.title = safe_title[:31] or "Sheet"
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    safe = value if is_escaped(value) else escape_formula(value)
                    if safe != value or cell.data_type == "f":
                        cell.value = safe
                        changed += 1
                    cell.data_type = "s"
    return changed


def save_workbook(wb, target: str | Path | IO[bytes]) -> None:
    """Neutralise ``wb`` (see :func:`neutralise`) and save it to a path or a binary stream."""
    neutralise(wb)
    wb.save(target)


def workbook_bytes(wb) -> bytes:
    buf = io.BytesIO()
    save_workbook(wb, buf)
    return buf.getvalue()
