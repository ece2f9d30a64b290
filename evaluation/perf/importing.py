"""Import speed: rows/s of ``data.importers.import_file`` for workers from CSV and from .xlsx.

The files are made from ``data.synthetic``: up to 20,000 generated workers (generation is the slow
part), replicated with new ids (and new CCCĐ serial numbers: one person, one profile) to the wanted size, written as CSV (FORMAT.md columns) and as
.xlsx (``data.exporters.to_xlsx_bytes``). Each import goes into a fresh SQLite database in a
temporary folder (all rows are creations) and is timed end to end: reading, validation, writing
and commit. Reading the file alone (``data.importers.read_table``) is timed too.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
import tempfile
import time
from pathlib import Path

from evaluation.perf import section

log = logging.getLogger(__name__)

MAX_GENERATED = 20_000


def _other_serial(nid: str, taken: set[str]) -> str:
    """The CCCĐ number with another serial (its last 6 digits; the first 6 encode province, century,
    gender and birth year, which stay valid), not yet in ``taken``."""
    serial = int(nid[6:])
    while True:
        serial = (serial + 7919) % 1_000_000
        candidate = f"{nid[:6]}{serial:06d}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def worker_files(n: int, folder: Path) -> dict[str, Path]:
    """Write ``workers.csv`` and ``workers.xlsx`` with ``n`` workers into ``folder``."""
    from data.exporters import to_xlsx_bytes
    from data.synthetic import generate, write_csv

    data = generate(1244, workers=max(20, min(n, MAX_GENERATED)), orders=300, recruiters=40)
    src = write_csv(data, folder / "generated")["workers.csv"]
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        base = list(reader)
    id_col = header.index("worker_id")
    nid_col = header.index("national_id") if "national_id" in header else None
    taken = {r[nid_col] for r in base if r[nid_col]} if nid_col is not None else set()
    rows = []
    copy = 0
    while len(rows) < n:
        for r in base:
            if len(rows) >= n:
                break
            if copy:
                r = list(r)
                r[id_col] = f"{r[id_col]}-{copy}"
                if nid_col is not None and r[nid_col]:  # one person, one profile: a copy is another person
                    r[nid_col] = _other_serial(r[nid_col], taken)
            rows.append(r)
        copy += 1
    csv_path = folder / "workers.csv"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    csv_path.write_text(buf.getvalue(), encoding="utf-8")
    xlsx_path = folder / "workers.xlsx"
    xlsx_path.write_bytes(to_xlsx_bytes(header, rows, title="workers"))
    return {"csv": csv_path, "xlsx": xlsx_path}


def run(quick: bool = False, progress: bool = True, *, rows: int | None = None) -> dict:
    from tqdm import tqdm

    from data.importers import import_file, read_table
    from data.store import Store

    n = rows or (2_000 if quick else 100_000)
    out_rows = []
    notes = [f"files: min(n, {MAX_GENERATED:,}) synthetic workers replicated with new ids to n rows; "
             "fresh SQLite database (WAL) per import; rows/s counts reading, validation, writing and commit."]
    with tempfile.TemporaryDirectory(prefix="perf-import-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = worker_files(n, folder)
        make_s = time.perf_counter() - t0
        for fmt, path in tqdm(files.items(), desc="import formats", disable=not progress, file=sys.stderr):
            t0 = time.perf_counter()
            budget = (n + 1) * 64  # the whole file (FORMAT.md has fewer than 64 columns), past the upload budget
            header, table = read_table(path, max_cells=budget)
            read_s = time.perf_counter() - t0
            store = Store(f"sqlite:///{folder / f'import-{fmt}.sqlite'}")
            store.init_schema()
            try:
                with store.session() as s:
                    t0 = time.perf_counter()
                    report = import_file(s, "workers", path, filename=path.name, max_cells=budget)
                    seconds = time.perf_counter() - t0
            finally:
                store.dispose()
            errors = len(report.errors)
            out_rows.append({"system": f"engine-{fmt}", "format": fmt, "rows": n, "seconds": seconds,
                             "rows_per_s": n / seconds if seconds else float("nan"), "read_s": read_s,
                             "read_rows_per_s": len(table) / read_s if read_s else float("nan"),
                             "created": report.created, "errors": errors, "file_bytes": path.stat().st_size})
            if errors:
                notes.append(f"{fmt}: {errors} row errors, first: {report.errors[0].message}")
    return section(out_rows, {"rows": n, "file_generation_s": round(make_s, 1)}, notes)
