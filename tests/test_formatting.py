"""The one formatting layer: Vietnamese and English dates, numbers, money, Vietnam time."""

import datetime as dt

import pytest

from data.formats import WORKERS, FieldError, parse_cell
from models import formatting


def test_vietnamese_formats():
    assert formatting.format_date(dt.date(2027, 3, 20)) == "20/03/2027"
    assert formatting.format_number(1234.5, 1) == "1.234,5"
    assert formatting.format_number(1234567) == "1.234.567"
    assert formatting.format_money(12_500_000) == "12.500.000 đ"
    assert formatting.format_percent(0.425, 1) == "42,5%"


def test_english_formats():
    assert formatting.format_date(dt.date(2027, 3, 20), "en") == "Mar 20, 2027"
    assert formatting.format_number(1234.5, 1, "en") == "1,234.5"
    assert formatting.format_money(12_500_000, lang="en") == "12,500,000 đ"


def test_months_and_certificate_dates_read_like_every_other_date():
    """A certificate's test date was shown as typed ("JLPT N4 (2023-07-02)", an ISO date inside
    a sentence); it now reads in the page's format, the notation kept for files and forms."""
    from models.languages import shown_certificate

    assert formatting.format_month(dt.date(2027, 7, 1)) == "07/2027"
    assert formatting.format_month(dt.date(2027, 7, 1), "en") == "Jul 2027"
    assert shown_certificate("JLPT N4 (2023-07-02)") == "JLPT N4 (02/07/2023)"
    assert shown_certificate("jlpt n4 (2023-07-02)", "en") == "JLPT N4 (Jul 2, 2023)"
    assert shown_certificate("EPS-TOPIK 152 (2025-03)") == "EPS-TOPIK 152 (03/2025)"
    assert shown_certificate("TOPIK 2 (2024)") == "TOPIK 2 (2024)"
    assert shown_certificate("CEFR B1") == "CEFR B1"
    assert shown_certificate("chứng chỉ lạ") == "chứng chỉ lạ"  # shown as written when it does not parse


def test_times_stored_utc_are_shown_in_vietnam():
    stored = dt.datetime(2027, 3, 19, 20, 30)  # naive = UTC
    assert formatting.format_date(stored) == "20/03/2027 03:30"
    aware = dt.datetime(2027, 3, 19, 20, 30, tzinfo=dt.timezone.utc)
    assert formatting.format_datetime(aware, "en") == "Mar 20, 2027 03:30"


@pytest.mark.parametrize("text", ["28/02/1999", "1999-02-28", "28-02-1999", "28.02.1999"])
def test_dates_people_type(text):
    assert formatting.parse_date(text) == dt.date(1999, 2, 28)


def test_bad_dates_are_refused():
    assert formatting.parse_date("  ") is None
    for bad in ("31/02/1999", "1999/02/28", "tomorrow"):
        with pytest.raises(ValueError):
            formatting.parse_date(bad)


def test_import_cell_accepts_dd_mm_yyyy():
    column = next(c for c in WORKERS.columns if c.name == "birth_date")
    assert parse_cell(column, "28/02/1999", file="workers.csv", row=3) == dt.date(1999, 2, 28)
    with pytest.raises(FieldError, match="dd/mm/yyyy"):
        parse_cell(column, "31/02/1999", file="workers.csv", row=3)


def test_local_days_and_their_utc_bounds():
    """Stored times are UTC; a day is Cao Bằng's (UTC+7, no daylight saving)."""
    assert formatting.local_date(dt.datetime(2026, 12, 2, 20, 36)) == dt.date(2026, 12, 3)
    assert formatting.local_date(dt.datetime(2026, 12, 2, 16, 59)) == dt.date(2026, 12, 2)
    assert formatting.utc_at_local(dt.date(2027, 3, 20)) == dt.datetime(2027, 3, 19, 17, 0)
    assert formatting.utc_at_local(dt.date(2027, 3, 20), dt.time(12)) == dt.datetime(2027, 3, 20, 5, 0)
    assert formatting.local_today(dt.datetime(2026, 12, 2, 20, 36)) == dt.date(2026, 12, 3)
    assert formatting.local_today(dt.datetime(2026, 12, 2, 20, 36, tzinfo=dt.timezone.utc)) == dt.date(2026, 12, 3)


def test_the_real_date_of_the_gates_is_cao_bangs(monkeypatch):
    """At 20:36 UTC on 2 December it is already 3 December in Cao Bằng: the gates use that day."""
    from data import settings

    at = dt.datetime(2026, 12, 2, 20, 36, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(settings.formatting, "local_today", lambda: formatting.local_date(at))
    assert settings.gate_date({"today": ""}) == dt.date(2026, 12, 3)
    assert settings.gate_date({"today": "2027-01-05"}) == dt.date(2027, 1, 5)


def test_report_periods_are_cao_bang_days():
    from web.services.stats import Period

    p = Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert (p.start_dt, p.end_dt) == (dt.datetime(2026, 11, 30, 17, 0), dt.datetime(2026, 12, 31, 17, 0))
