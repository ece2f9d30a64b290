"""models.languages (parsing onto the one scale) and matcher.languages (the gap logic)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.languages import assess, language_of_country, training_months
from models.languages import (
    CEFR_LABELS,
    Certificate,
    CertificateError,
    expiry_date,
    format_certificate,
    is_valid_on,
    parse_certificate,
    parse_certificate_list,
    parse_requirement,
)

DAY = dt.date(2026, 3, 1)

# text -> (exam, language, label, score, level)
NOTATIONS = [
    ("JLPT N1", ("jlpt", "ja", "N1", None, 5)),
    ("JLPT N2", ("jlpt", "ja", "N2", None, 4)),
    ("JLPT N3", ("jlpt", "ja", "N3", None, 3)),
    ("JLPT N4", ("jlpt", "ja", "N4", None, 2)),
    ("JLPT N5", ("jlpt", "ja", "N5", None, 1)),
    ("jlpt n4", ("jlpt", "ja", "N4", None, 2)),
    ("JLPT-N4", ("jlpt", "ja", "N4", None, 2)),
    ("N4", ("jlpt", "ja", "N4", None, 2)),
    ("JLPT N3 98", ("jlpt", "ja", "N3", 98, 2)),  # "N4 (N3 low scores)"
    ("JLPT N3 120", ("jlpt", "ja", "N3", 120, 3)),
    ("JFT-Basic A2", ("jft", "ja", "A2", None, 2)),
    ("jft basic a1", ("jft", "ja", "A1", None, 1)),
    ("JFT-Basic 215", ("jft", "ja", None, 215, 2)),
    ("JFT-Basic 200", ("jft", "ja", None, 200, 2)),
    ("JFT-Basic 199", ("jft", "ja", None, 199, 1)),
    ("JFT-Basic 145", ("jft", "ja", None, 145, 1)),
    ("JFT-Basic 120", ("jft", "ja", None, 120, 0)),
    ("EPS-TOPIK 152", ("eps_topik", "ko", None, 152, 1)),
    ("EPS-TOPIK 80", ("eps_topik", "ko", None, 80, 1)),
    ("eps topik 79", ("eps_topik", "ko", None, 79, 0)),
    ("EPS TOPIK: 120 điểm", ("eps_topik", "ko", None, 120, 1)),
    ("TOPIK 1", ("topik", "ko", "1", None, 1)),
    ("TOPIK 6", ("topik", "ko", "6", None, 6)),
    ("TOPIK I level 2", ("topik", "ko", "2", None, 2)),
    ("TOPIK II level 3", ("topik", "ko", "3", None, 3)),
    ("TOPIK 3급", ("topik", "ko", "3", None, 3)),
    ("topik-4", ("topik", "ko", "4", None, 4)),
    ("CEFR A1", ("cefr", "en", "A1", None, 1)),
    ("CEFR B1", ("cefr", "en", "B1", None, 3)),
    ("CEFR C2", ("cefr", "en", "C2", None, 6)),
    ("CEFR B1 de", ("cefr", "de", "B1", None, 3)),
    ("English B2", ("cefr", "en", "B2", None, 4)),
    ("tiếng Anh B1", ("cefr", "en", "B1", None, 3)),
    ("Goethe B2", ("goethe", "de", "B2", None, 4)),
    ("Goethe-Zertifikat A2", ("goethe", "de", "A2", None, 2)),
    ("HSK 1", ("hsk", "zh", "1", None, 1)),
    ("HSK 6", ("hsk", "zh", "6", None, 6)),
    ("hsk2", ("hsk", "zh", "2", None, 2)),
    ("TOCFL 1", ("tocfl", "zh", "1", None, 1)),
    ("TOCFL 5", ("tocfl", "zh", "5", None, 5)),
    ("TOCFL A2", ("tocfl", "zh", "2", None, 2)),
]


@pytest.mark.parametrize("text, expected", NOTATIONS)
def test_parse_every_notation(text, expected):
    c = parse_certificate(text)
    assert (c.exam, c.language, c.label, c.score, c.level) == expected
    assert c.raw == text
    assert c.test_date is None and c.test_date_precision is None


@pytest.mark.parametrize(
    "text, date, precision",
    [
        ("EPS-TOPIK 152 (2025)", dt.date(2025, 1, 1), "year"),
        ("JLPT N4 (2024-07)", dt.date(2024, 7, 1), "month"),
        ("JLPT N4 (2024-07-15)", dt.date(2024, 7, 15), "day"),
        ("HSK 3 ( 2023-7-5 )", dt.date(2023, 7, 5), "day"),
        # day first, as Vietnamese pages show dates and counsellors type them
        ("JLPT N4 (15/07/2024)", dt.date(2024, 7, 15), "day"),
        ("JLPT N4 (5.7.2024)", dt.date(2024, 7, 5), "day"),
        ("TOPIK 3 (07/2024)", dt.date(2024, 7, 1), "month"),
        ("EPS-TOPIK 152 (1-3-2025)", dt.date(2025, 3, 1), "day"),
    ],
)
def test_parse_dates(text, date, precision):
    c = parse_certificate(text)
    assert (c.test_date, c.test_date_precision) == (date, precision)


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty"),
        ("B1", "bare CEFR level"),
        ("JLPT N6", "N1 to N5"),
        ("TOPIK 7", "1 to 6"),
        ("TOPIK I level 4", "TOPIK I awards levels 1-2"),
        ("TOPIK II level 2", "TOPIK II awards levels 3-6"),
        ("HSK 7", "1 to 6"),
        ("EPS-TOPIK", "needs its score"),
        ("EPS-TOPIK 201", "between 0 and 200"),
        ("JFT-Basic 260", "between 10 and 250"),
        ("JFT-Basic", "needs 'A2'"),
        ("CEFR B1 klingon", "unknown language"),
        ("IELTS 6.5", "unknown notation"),
        ("JLPT N4 (2024-13)", "not a real date"),
        ("JLPT N4 (31/02/2024)", "not a real date"),
        ("JLPT N4 (13/2024)", "not a real date"),
        ("JLPT N4 (15/07/24)", "not a date like"),
        ("JLPT N4 (July)", "not a date"),
    ],
)
def test_parse_errors_say_what_is_expected(text, match):
    with pytest.raises(CertificateError, match=match) as info:
        parse_certificate(text)
    assert isinstance(info.value, ValueError)
    assert "expected one of" in str(info.value)


def test_parse_requirement():
    assert parse_requirement("") is None
    assert parse_requirement(None) is None
    assert parse_requirement("không") is None
    eps = parse_requirement("EPS-TOPIK")
    assert (eps.exam, eps.score, eps.level) == ("eps_topik", 80, 1)
    assert parse_requirement("EPS-TOPIK 80") == eps
    assert parse_requirement("JLPT N4") == parse_certificate("JLPT N4")


def test_parse_certificate_list():
    certs = parse_certificate_list("EPS-TOPIK 152 (2025); JLPT N4 (2024-07);")
    assert [format_certificate(c) for c in certs] == ["EPS-TOPIK 152 (2025)", "JLPT N4 (2024-07)"]
    assert parse_certificate_list("") == []
    with pytest.raises(CertificateError, match="item 2 of the list"):
        parse_certificate_list("JLPT N4; JLPT N9")


@pytest.mark.parametrize("text, _", NOTATIONS)
def test_format_round_trip_on_notations(text, _):
    c = parse_certificate(text)
    assert parse_certificate(format_certificate(c)) == c


_dates = st.one_of(
    st.none(),
    st.tuples(st.integers(2000, 2030), st.none(), st.none()),
    st.tuples(st.integers(2000, 2030), st.integers(1, 12), st.none()),
    st.tuples(st.integers(2000, 2030), st.integers(1, 12), st.integers(1, 28)),
)


def _date_suffix(d) -> str:
    if d is None:
        return ""
    y, m, day = d
    if m is None:
        return f" ({y})"
    if day is None:
        return f" ({y}-{m:02d})"
    return f" ({y}-{m:02d}-{day:02d})"


_bodies = st.one_of(
    st.sampled_from(["N1", "N2", "N3", "N4", "N5"]).map(lambda n: f"JLPT {n}"),
    st.tuples(st.sampled_from(["N3", "N4"]), st.integers(0, 180)).map(lambda t: f"JLPT {t[0]} {t[1]}"),
    st.sampled_from(["A1", "A2"]).map(lambda a: f"JFT-Basic {a}"),
    st.integers(10, 250).map(lambda s: f"JFT-Basic {s}"),
    st.integers(0, 200).map(lambda s: f"EPS-TOPIK {s}"),
    st.integers(1, 6).map(lambda n: f"TOPIK {n}"),
    st.tuples(st.sampled_from(CEFR_LABELS), st.sampled_from(["", " de", " fr", " en"])).map(lambda t: f"CEFR {t[0]}{t[1]}"),
    st.sampled_from(CEFR_LABELS).map(lambda a: f"Goethe {a}"),
    st.tuples(st.sampled_from(["HSK", "TOCFL"]), st.integers(1, 6)).map(lambda t: f"{t[0]} {t[1]}"),
)


@given(body=_bodies, date=_dates, lower=st.booleans())
def test_format_parse_round_trip_generated(body, date, lower):
    text = body + _date_suffix(date)
    c = parse_certificate(text.lower() if lower else text)
    formatted = format_certificate(c)
    again = parse_certificate(formatted)
    assert again == c
    assert format_certificate(again) == formatted
    assert 0 <= c.level <= 6


def test_eps_validity_two_years():
    # a full date: valid until the day before the second anniversary
    c = parse_certificate("EPS-TOPIK 152 (2024-03-10)")
    assert expiry_date(c) == dt.date(2026, 3, 10)
    assert is_valid_on(c, dt.date(2026, 3, 9))
    assert not is_valid_on(c, dt.date(2026, 3, 10))
    # year only: counted from July 1st of that year
    y = parse_certificate("EPS-TOPIK 152 (2024)")
    assert expiry_date(y) == dt.date(2026, 7, 1)
    assert is_valid_on(y, dt.date(2026, 6, 30)) and not is_valid_on(y, dt.date(2026, 7, 1))
    # month only: from the 1st of the month
    m = parse_certificate("EPS-TOPIK 152 (2024-05)")
    assert expiry_date(m) == dt.date(2026, 5, 1)
    # no date: cannot be shown to be valid
    assert not is_valid_on(parse_certificate("EPS-TOPIK 152"), DAY)
    # not yet taken
    assert not is_valid_on(parse_certificate("EPS-TOPIK 152 (2026-05-01)"), DAY)


def test_other_certificates_do_not_expire():
    old = parse_certificate("JLPT N4 (2010)")
    assert expiry_date(old) is None and is_valid_on(old, DAY)


def test_certificate_from_entity_reparses_raw():
    from models.entities import LanguageCertificate

    row = LanguageCertificate(raw="EPS-TOPIK 152 (2025)", exam="eps_topik", language="ko", label=None,
                              score=152, level=1, test_date=dt.date(2025, 1, 1))
    assert Certificate.from_entity(row).test_date_precision == "year"
    bad = LanguageCertificate(raw="???", exam="jlpt", language="ja", label="N4", score=None, level=2, test_date=None)
    assert Certificate.from_entity(bad).level == 2


# ---------------------------------------------------------------------------------------------
# matcher.languages


@pytest.mark.parametrize("cc, lang", [("JP", "ja"), ("kr", "ko"), ("TW", "zh"), ("DE", "de"), ("AT", "de"), ("RO", "ro"), ("XX", None), (None, None)])
def test_language_of_country(cc, lang):
    assert language_of_country(cc) == lang


def certs(*texts):
    return [parse_certificate(t) for t in texts]


@pytest.mark.parametrize(
    "have, need, status, have_level, gap, months, code",
    [
        (("JLPT N4",), "JLPT N4", "ok", 2, 0, 0, "ok"),
        (("JLPT N3",), "JLPT N4", "ok", 3, 0, 0, "ok"),
        (("JFT-Basic A2",), "JLPT N4", "ok", 2, 0, 0, "ok"),  # SSW: N4 or JFT-Basic A2
        (("JLPT N5",), "JLPT N4", "gap", 1, 1, 4, "language_gap"),  # ja: 4 months to reach level 2
        ((), "JLPT N5", "gap", 0, 1, 3, "language_gap"),  # basic Japanese from zero: 3 months
        ((), "JLPT N4", "fail", 0, 2, 0, "language_fail"),
        (("TOPIK 2",), "JLPT N4", "fail", 0, 2, 0, "language_fail"),  # same language only
        (("Goethe B1",), "Goethe B2", "gap", 3, 1, 3, "language_gap"),
        (("CEFR B2 de",), "Goethe B2", "ok", 4, 0, 0, "ok"),
        (("Goethe A2",), "Goethe B2", "fail", 2, 2, 0, "language_fail"),
        (("HSK 1", "TOCFL 2"), "TOCFL 2", "ok", 2, 0, 0, "ok"),
        (("JLPT N5",), None, "none_required", None, 0, 0, "none_required"),
    ],
)
def test_assess_levels(have, need, status, have_level, gap, months, code):
    a = assess(certs(*have), parse_requirement(need), DAY)
    assert (a.status, a.have_level, a.gap, a.training_months, a.reason_code) == (status, have_level, gap, months, code)


def test_training_months_table():
    assert training_months("ja", 1, 2) == 4
    assert training_months("ja", 0, 2) == 7
    assert training_months("de", 0, 4) == 12  # Triple Win: about 12 months to B2
    assert training_months("xx", 2, 2) == 0


def test_language_training_course_is_not_a_certificate():
    # nothing but a course record: still no level
    a = assess([], parse_requirement("JLPT N4"), DAY)
    assert a.have_level == 0 and a.best_cert is None


@pytest.mark.parametrize(
    "have, need, programme, status, code",
    [
        (("EPS-TOPIK 152 (2025-06)",), "EPS-TOPIK 80", "eps", "ok", "eps_topik_ok"),
        (("EPS-TOPIK 152 (2025-06)",), None, "eps", "ok", "eps_topik_ok"),
        (("EPS-TOPIK 152 (2025-06)",), "EPS-TOPIK 160", "eps", "fail", "eps_topik_score_low"),
        (("EPS-TOPIK 70 (2025-06)",), "EPS-TOPIK", None, "fail", "eps_topik_score_low"),
        (("EPS-TOPIK 152 (2023-06-01)",), "EPS-TOPIK 80", "eps", "fail", "eps_topik_expired"),
        (("EPS-TOPIK 152",), "EPS-TOPIK 80", "eps", "fail", "eps_topik_undated"),
        (("TOPIK 6",), "EPS-TOPIK 80", "eps", "fail", "eps_topik_missing"),  # general TOPIK does not replace it
        (("TOPIK 6",), "TOPIK 2", "eps", "fail", "eps_topik_missing"),  # the programme decides
        ((), "EPS-TOPIK", None, "fail", "eps_topik_missing"),  # no gap to train
        (("EPS-TOPIK 152 (2023-06-01)", "EPS-TOPIK 95 (2025-09-01)"), "EPS-TOPIK", "eps", "ok", "eps_topik_ok"),
    ],
)
def test_assess_eps(have, need, programme, status, code):
    a = assess(certs(*have), parse_requirement(need), DAY, programme)
    assert (a.status, a.reason_code, a.training_months) == (status, code, 0)


def test_assess_eps_expired_reports_the_day():
    a = assess(certs("EPS-TOPIK 152 (2023-06-01)"), parse_requirement("EPS-TOPIK"), DAY, "eps")
    assert a.expired_on == dt.date(2025, 6, 1)
    assert a.have_score == 152 and a.need_score == 80


def test_a_certificate_as_a_vietnamese_page_shows_it_reads_back_the_same():
    """What a Vietnamese page shows (dates day first) can be typed back into a form or a file."""
    from models.languages import shown_certificate

    for text in ("JLPT N4 (2024-07-15)", "TOPIK 3 (2024-07)", "EPS-TOPIK 152 (2025)", "CEFR B1 de (2023-01-09)"):
        shown = shown_certificate(text, "vi")
        a, b = parse_certificate(text), parse_certificate(shown)
        assert (a.exam, a.language, a.label, a.score, a.level, a.test_date, a.test_date_precision) == \
               (b.exam, b.language, b.label, b.score, b.level, b.test_date, b.test_date_precision), shown
    assert shown_certificate("JLPT N4 (2024-07-15)", "vi") == "JLPT N4 (15/07/2024)"
