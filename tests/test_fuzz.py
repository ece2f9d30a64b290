"""Property-based fuzzing of every input boundary: importers, certificates, text, fee caps.

Each property is bounded (``max_examples``, no deadline) so the module runs in CI; the number
of cases tried per property is printed in the terminal summary (``fuzz_count``, tests/conftest.py).

Importer contract: any byte string, and any spreadsheet of random cells (CSV or .xlsx), gives
either stored records or :class:`data.formats.FieldError`\\ s naming the file (and the row and
column when the problem is in a cell). Never another exception, never a half-written import:
after a refused import every table has exactly the rows it had before.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from data.formats import FALSE_WORDS, TRUE_WORDS, FieldError, get_spec, number_text
from data.importers import import_file, preview
from matcher.rules import fee_cap
from matcher.text import fold, prepare
from models import Base, JobOrder, Recruiter, Worker
from models.languages import CertificateError, format_certificate, parse_certificate

FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

KINDS = ("recruiters", "orders", "workers")
SAMPLE_CERTS = ["JLPT N4 (2024-07)", "EPS-TOPIK 152 (2025)", "TOPIK 2", "CEFR B1", "JFT-Basic A2", "N3"]
NASTY = ["", " ", "=1+1", "'=cmd|' /C calc'!A0", "+84912", "-3", "@SUM(A1)", "170.000", "1e9", "NaN", "inf",
         "9" * 40, "-0", "2025-02-30", "x\x00y", "a\x07b", "\u202etxt", "ｔｒｕｅ", "Có", "n/a", ";;;", "a:b:c",
         "thợ hàn: -1", "JLPT N9", "x" * 400, "\r\n", '"quoted, comma"']


def row_counts(store) -> dict[str, int]:
    """Rows per table: the state an import must leave untouched when it is refused."""
    with store.engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in Base.metadata.tables.items()}


# ----------------------------------------------------------------------------- cell strategies

WORDS = st.text(alphabet="abcdeghiklmnopqrstuvxyàáảãạăắằâấđêếôốơớưứỳ ĐỨ", min_size=1, max_size=16)


def valid_cell(column) -> st.SearchStrategy[str]:
    """Text that the column's parser accepts."""
    t, fmt = column.type, column.fmt
    if column.name == "recruiter_id":
        return st.just("REC-1")
    if fmt == "national_id":  # valid alone, but checked against birth_date and gender of the row
        return st.just("")
    if fmt == "ethnicity":
        return st.sampled_from(["Tày", "Nung", "H'Mong", "kinh", "Sán Chay", ""])
    if column.name.endswith("_id") and column.required:
        return st.sampled_from(["ID-1", "ID-2", "ID-3", "ID 4"])
    if t == "str":
        if fmt == "country":
            return st.sampled_from(["JP", "kr", "TW", "DE"])
        if fmt == "currency":
            return st.sampled_from(["JPY", "krw", "TWD"])
        return WORDS
    if t == "int":
        return st.integers(0, 40).map(str)
    if t == "float":
        return st.one_of(st.integers(0, 10**9).map(str), st.floats(0, 1e12, allow_nan=False).map(number_text))
    if t == "date":
        return st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
    if t == "bool":
        return st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS))
    if t == "enum":
        return st.sampled_from(list(column.allowed))
    if t == "list":
        item = st.sampled_from(["JP", "KR", "TW"]) if fmt == "country" else WORDS
        return st.lists(item, max_size=3).map("; ".join)
    if t == "experience":
        return st.lists(st.tuples(WORDS, st.integers(0, 30)), max_size=3).map(
            lambda xs: "; ".join(f"{o.strip() or 'x'}: {y}" for o, y in xs))
    if t == "certificates":
        return st.lists(st.sampled_from(SAMPLE_CERTS), max_size=2).map("; ".join)
    raise AssertionError(t)


def edge_cell(column) -> st.SearchStrategy[str]:
    """Text at the edge of what the column takes: huge numbers, unknown references, near misses."""
    t = column.type
    if column.name == "recruiter_id":
        return st.sampled_from(["REC-2", "rec-1", " REC-1 "])
    if t in ("int", "float"):
        return st.one_of(st.integers(-3, 10**25).map(str), st.just("9" * 400), st.just("-0"),
                         st.just("2147483648"), st.just("1" + "0" * 308 + ".5"))
    if column.fmt == "country":
        return st.sampled_from(["J1", "JPN", "jp ", "ĐẠ"])
    if column.fmt == "currency":
        return st.sampled_from(["EU", "€", "yen"])
    if column.fmt == "national_id":
        return st.sampled_from(["123456789", "003098001234", "0040980012345", "00409800123A", "004098001234"])
    if column.fmt == "ethnicity":
        return st.sampled_from(["Tai", "Nungg", "Kinh Tày", "ĐẠ"])
    if t == "date":
        return st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-29", "2023-02-29", "2024-02-29T00:00"])
    return st.text(min_size=90, max_size=320)  # over the String(n) limits


def any_cell(column) -> st.SearchStrategy[str]:
    """Mostly valid text (so whole rows get through to the database), sometimes not."""
    return st.one_of(*[valid_cell(column)] * 6, edge_cell(column), st.sampled_from(NASTY), st.text(max_size=30))


@st.composite
def sheets(draw, kind: str):
    """(header, rows) for ``kind``: the required columns (one sometimes dropped), some optional
    ones, maybe an unknown column, in random order; 0..4 rows of random cells."""
    spec = get_spec(kind)
    columns = [c for c in spec.columns if c.required]
    if draw(st.integers(0, 9)) == 0:
        columns.pop(draw(st.integers(0, len(columns) - 1)))
    optional = [c for c in spec.columns if not c.required]
    columns += draw(st.lists(st.sampled_from(optional), unique_by=lambda c: c.name, max_size=8))
    columns = draw(st.permutations(columns))
    header = [c.name for c in columns]
    if draw(st.booleans()):
        header.append(draw(st.sampled_from(["ghi_chu", "Ghi chú", "", header[0] if header else "x"])))
    nrows = draw(st.integers(0, 4))
    rows = []
    for _ in range(nrows):
        row = [draw(any_cell(c)) for c in columns]
        if len(header) > len(columns):
            row.append(draw(st.text(max_size=8)))
        rows.append(row)
    return header, rows


def csv_bytes(header, rows, delimiter=",") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def xlsx_bytes(header, rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in [header, *rows]:
        try:
            ws.append(r)
        except Exception:  # openpyxl refuses some control characters: write what it takes
            ws.append(["".join(ch for ch in str(v) if ch.isprintable()) for v in r])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------- importer contract


@pytest.fixture
def seeded(store):
    """The suite's store with one recruiter, so orders can reference REC-1."""
    with store.session() as s:
        s.add(Recruiter(recruiter_id="REC-1", name="Công ty A", licence_no="1/GP", status="active",
                        markets=["JP"], extra={}))
    return store


def check_import(store, kind: str, data: bytes, filename: str, partial: bool = False) -> str:
    """Import and check the contract; returns "stored" or "refused"."""
    spec = get_spec(kind)
    before = row_counts(store)
    with store.session() as s:
        try:
            report = import_file(s, kind, data, partial=partial, filename=filename)
        except FieldError as exc:  # allowed, though import_file reports instead of raising
            errors, created, committed = [exc], 0, False
        else:
            errors, created, committed = report.errors, report.created, report.committed
    after = row_counts(store)
    for err in errors:
        assert isinstance(err, FieldError), repr(err)
        assert err.file == filename and err.message.startswith(filename), err.message
        assert err.message.strip() != filename
        if err.column is not None and err.row is None:
            assert err.column in spec.names  # a missing required column
    if errors and not partial:
        assert after == before, f"refused import changed the database: {errors[:3]}"
        return "refused"
    if not committed:
        assert after == before
        return "refused"
    table = spec.entity.__tablename__
    assert after[table] - before[table] == created
    return "stored"


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.binary(max_size=400), ext=st.sampled_from([".csv", ".xlsx", ".txt", ".xls", ".pdf", ""]),
       prefix=st.sampled_from([b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xd0\xcf\x11\xe0", b"\xff\xfe"]))
def test_random_bytes_never_crash_the_importer(seeded, fuzz_count, kind, data, ext, prefix):
    fuzz_count(f"importer random bytes ({kind})")
    check_import(seeded, kind, prefix + data, f"upload{ext}")


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data(), delimiter=st.sampled_from([",", ";", "\t"]), partial=st.booleans())
def test_random_csv_cells_store_or_refuse_cleanly(seeded, fuzz_count, kind, data, delimiter, partial):
    header, rows = data.draw(sheets(kind))
    outcome = check_import(seeded, kind, csv_bytes(header, rows, delimiter), f"{kind}.csv", partial)
    fuzz_count(f"importer CSV cells ({kind}) -> {outcome}")


@pytest.mark.parametrize("kind", KINDS)
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_random_xlsx_cells_store_or_refuse_cleanly(seeded, fuzz_count, kind, data):
    header, rows = data.draw(sheets(kind))
    outcome = check_import(seeded, kind, xlsx_bytes(header, rows), f"{kind}.xlsx")
    fuzz_count(f"importer xlsx cells ({kind}) -> {outcome}")


@st.composite
def one_bad_cell(draw, kind: str):
    """A one-row sheet of valid cells (every column) where one cell is an edge or garbage value:
    the shape that reaches the database, where a value the parser let through would fail."""
    columns = list(get_spec(kind).columns)
    row = [draw(valid_cell(c)) for c in columns]
    i = draw(st.integers(0, len(columns) - 1))
    row[i] = draw(st.one_of(edge_cell(columns[i]), st.sampled_from(NASTY)))
    return [c.name for c in columns], [row]


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_one_bad_cell_in_a_valid_row(seeded, fuzz_count, kind, data):
    header, rows = data.draw(one_bad_cell(kind))
    outcome = check_import(seeded, kind, csv_bytes(header, rows), f"{kind}.csv")
    fuzz_count(f"importer one edge cell ({kind}) -> {outcome}")


@FUZZ
@given(data=st.data())
def test_preview_never_writes_and_never_crashes(seeded, fuzz_count, data):
    kind = data.draw(st.sampled_from(KINDS))
    header, rows = data.draw(sheets(kind))
    before = row_counts(seeded)
    with seeded.session() as s:
        p = preview(s, kind, csv_bytes(header, rows), filename="p.csv")
    assert all(isinstance(e, FieldError) for e in p.errors)
    assert row_counts(seeded) == before
    fuzz_count("importer preview")


# ----------------------------------------------------------------------------- certificates


@st.composite
def certificate_texts(draw):
    exam = draw(st.sampled_from(["jlpt", "jlpt_score", "jft", "jft_score", "eps", "topik", "cefr", "goethe", "hsk",
                                 "tocfl"]))
    body = {
        "jlpt": lambda: f"JLPT N{draw(st.integers(1, 5))}",
        "jlpt_score": lambda: f"JLPT N{draw(st.integers(1, 5))} {draw(st.integers(0, 180))}",
        "jft": lambda: f"JFT-Basic {draw(st.sampled_from(['A1', 'A2']))}",
        "jft_score": lambda: f"JFT-Basic {draw(st.integers(10, 250))}",
        "eps": lambda: f"EPS-TOPIK {draw(st.integers(0, 200))}",
        "topik": lambda: f"TOPIK {draw(st.integers(1, 6))}",
        "cefr": lambda: f"CEFR {draw(st.sampled_from(['A1', 'A2', 'B1', 'B2', 'C1', 'C2']))}"
                        + draw(st.sampled_from(["", " de", " ja", " en"])),
        "goethe": lambda: f"Goethe {draw(st.sampled_from(['A1', 'A2', 'B1', 'B2', 'C1', 'C2']))}",
        "hsk": lambda: f"HSK {draw(st.integers(1, 6))}",
        "tocfl": lambda: f"TOCFL {draw(st.integers(1, 6))}",
    }[exam]()
    day = draw(st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31)))
    date = draw(st.sampled_from(["", f" ({day.year})", f" ({day:%Y-%m})", f" ({day.isoformat()})"]))
    text = body + date
    # spelling variants the parser must tolerate: case, hyphens, spaces
    return draw(st.sampled_from([text, text.lower(), text.upper(), "  " + text.replace(" ", "  ") + " "]))


@FAST
@given(text=certificate_texts())
def test_certificate_parse_format_parse_round_trip(fuzz_count, text):
    fuzz_count("certificate round trip (notations)")
    try:
        cert = parse_certificate(text)
    except CertificateError:
        return  # e.g. a score out of range: refused with a message, which is the contract
    again = parse_certificate(format_certificate(cert))
    assert again == cert
    assert again.test_date_precision == cert.test_date_precision
    assert format_certificate(again) == format_certificate(cert)


@FAST
@given(text=st.one_of(st.text(max_size=40), st.sampled_from(NASTY)))
def test_certificate_parser_on_any_text(fuzz_count, text):
    fuzz_count("certificate parser (any text)")
    try:
        cert = parse_certificate(text)
    except CertificateError as exc:
        assert str(exc)  # a message that says what is expected
        return
    assert 0 <= cert.level <= 6
    assert parse_certificate(format_certificate(cert)) == cert


# ----------------------------------------------------------------------------- text


@FAST
@given(text=st.one_of(st.text(), st.text(alphabet="CNcnKSksTPtp.,; đĐàÀ\u0301\u0300", max_size=30)))
def test_fold_and_prepare_are_idempotent_and_total(fuzz_count, text):
    fuzz_count("fold/prepare")
    f = fold(text)
    assert fold(f) == f
    assert f == f.strip() and "  " not in f
    p = prepare(text)
    assert prepare(p) == p
    assert fold(None) == "" and prepare(None) == ""


# ----------------------------------------------------------------------------- fee cap


def order(**kw) -> JobOrder:
    base = dict(order_id="O", recruiter_id="R", title="Công nhân nhà máy", description="", country="JP",
                programme="titp", required_skills=[], positions=1, monthly_wage=1000.0, wage_currency="JPY",
                contract_months=36)
    base.update(kw)
    return JobOrder(**base)


ORDER_KW = dict(
    country=st.sampled_from(["JP", "KR", "TW", "DE", "SA", "jp", "", "XX"]),
    programme=st.sampled_from(["titp", "ssw", "eps", "general", "seasonal", None]),
    title=st.sampled_from(["Công nhân nhà máy", "Thuyền viên tàu cá", "Giúp việc gia đình", "Điều dưỡng", "x"]),
    wage_currency=st.sampled_from(["JPY", "KRW", "TWD", "EUR", "USD", "VND", "XXX", None, " jpy "]),
    contract_months=st.one_of(st.none(), st.integers(-12, 120)),
)


@FAST
@given(w1=st.floats(-1e6, 1e9, allow_nan=False), w2=st.floats(-1e6, 1e9, allow_nan=False), **ORDER_KW)
def test_fee_cap_never_negative_and_monotone_in_wage(fuzz_count, w1, w2, **kw):
    fuzz_count("fee cap")
    lo, hi = sorted((w1, w2))
    cap_lo = fee_cap(order(monthly_wage=lo, **kw)).cap_vnd
    cap_hi = fee_cap(order(monthly_wage=hi, **kw)).cap_vnd
    for cap in (cap_lo, cap_hi):
        assert cap is None or cap >= 0
    if cap_lo is not None and cap_hi is not None:
        assert cap_lo <= cap_hi
    if cap_lo is not None and lo > 0:
        assert cap_hi is not None  # a known cap does not become unknown with a higher wage


@FAST
@given(m1=st.integers(1, 120), m2=st.integers(1, 120), wage=st.floats(1, 1e7, allow_nan=False),
       country=ORDER_KW["country"], programme=ORDER_KW["programme"])
def test_fee_cap_monotone_in_contract_length(fuzz_count, m1, m2, wage, country, programme):
    fuzz_count("fee cap (contract length)")
    lo, hi = sorted((m1, m2))
    a = fee_cap(order(monthly_wage=wage, contract_months=lo, country=country, programme=programme)).cap_vnd
    b = fee_cap(order(monthly_wage=wage, contract_months=hi, country=country, programme=programme)).cap_vnd
    assume(a is not None and b is not None)
    assert 0 <= a <= b
