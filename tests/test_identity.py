"""CCCĐ numbers (models.identity) and the 54 ethnic groups (models.ethnicities): the tables,
the checks, and how the interchange format reads them (data.formats)."""

from __future__ import annotations

import datetime as dt

import pytest

from data.formats import WORKERS, FieldError, parse_cell
from models.ethnicities import ETHNICITIES, OFFICIAL_NAMES, _key, official_ethnicity
from models.identity import PROVINCE_CODES, century_and_gender, national_id_problem, normalise_national_id
from models.text import fold

NID = WORKERS.by_name["national_id"]
ETH = WORKERS.by_name["ethnicity"]


def test_the_province_table_is_circular_07_2016():
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["001"] == "Hà Nội" and PROVINCE_CODES["004"] == "Cao Bằng"
    assert PROVINCE_CODES["079"] == "Hồ Chí Minh" and PROVINCE_CODES["096"] == "Cà Mau"
    assert all(len(c) == 3 and c.isdigit() for c in PROVINCE_CODES)


@pytest.mark.parametrize(("nid", "year", "gender"), [
    ("004098001234", 1900, "male"), ("004198001234", 1900, "female"),
    ("004203001234", 2000, "male"), ("004303001234", 2000, "female"),
    ("001405001234", 2100, "male"), ("001505001234", 2100, "female"),
])
def test_the_fourth_digit_is_century_and_gender(nid, year, gender):
    assert century_and_gender(nid) == (year, gender)


@pytest.mark.parametrize(("nid", "birth", "gender", "fragment"), [
    ("004098001234", dt.date(1998, 5, 17), "male", None),
    ("004198009999", dt.date(1998, 1, 1), "female", None),
    ("004203001234", dt.date(2003, 2, 1), "male", None),
    ("004303001234", dt.date(2003, 2, 1), "female", None),
    ("079098001234", dt.date(1998, 5, 17), "other", None),  # gender "other": not checked
    ("004098001234", None, None, None),  # nothing to compare with
    ("04098001234", None, None, "12 chữ số"),  # 11 digits
    ("0040980012345", None, None, "12 chữ số"),  # 13 digits
    ("00409800123A", None, None, "12 chữ số"),
    ("００４０９８００１２３４", None, None, "12 chữ số"),  # full-width digits are not ASCII digits
    ("123456789", None, None, "CMND"),  # the old 9-digit card
    ("003098001234", None, None, "mã tỉnh"),  # 003 is no province code
    ("099098001234", None, None, "mã tỉnh"),
    ("004098001234", dt.date(1997, 5, 17), "male", "năm sinh 1998"),
    ("004298001234", dt.date(1998, 5, 17), "male", "năm sinh 2098"),  # 21st century digit, born 1998
    ("004098001234", dt.date(1998, 5, 17), "female", "giới tính nam"),
    ("004198001234", dt.date(1998, 5, 17), "male", "giới tính nữ"),
])
def test_national_id_table(nid, birth, gender, fragment):
    problem = national_id_problem(nid, birth, gender)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem.vi
        assert problem.en  # and in English


def test_the_import_reads_a_national_id_with_separators_and_refuses_a_bad_one():
    assert normalise_national_id(" 004 098.001-234 ") == "004098001234"
    assert parse_cell(NID, "004 098 001 234", file="workers.csv", row=3) == "004098001234"
    with pytest.raises(FieldError) as err:
        parse_cell(NID, "003098001234", file="workers.csv", row=3)
    e = err.value
    assert (e.file, e.row, e.column) == ("workers.csv", 3, "national_id")
    assert str(e).startswith("workers.csv row 3, national_id: 3 chữ số đầu '003' không phải mã tỉnh")  # Vietnamese first
    assert "not a province code" in str(e)


def test_there_are_54_groups_with_unique_codes_and_folded_names():
    assert len(ETHNICITIES) == 54 == len(set(OFFICIAL_NAMES)) == len({e.code for e in ETHNICITIES})
    assert [e.code for e in ETHNICITIES] == [f"{i:02d}" for i in range(1, 55)]
    assert len({_key(n) for n in OFFICIAL_NAMES}) == 54  # no two groups fold alike
    for name in ("Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai", "Sán Chay", "Lô Lô"):
        assert name in OFFICIAL_NAMES


@pytest.mark.parametrize(("typed", "official"), [
    ("Nung", "Nùng"), ("nùng", "Nùng"), ("NUNG", "Nùng"), ("Tay", "Tày"), ("Tày", "Tày"),
    ("H'Mong", "Mông"), ("H'Mông", "Mông"), ("Hmong", "Mông"), ("HMông", "Mông"), ("Mèo", "Mông"), ("Mong", "Mông"),
    ("San Chay", "Sán Chay"), ("Sán Chay", "Sán Chay"), ("Cao Lan", "Sán Chay"), ("Lo Lo", "Lô Lô"), ("Lolo", "Lô Lô"),
    ("Kinh", "Kinh"), ("Việt", "Kinh"), ("Khơ-me", "Khmer"), ("Gia-rai", "Gia Rai"), ("Jarai", "Gia Rai"),
    ("Ê-đê", "Ê Đê"), ("e de", "Ê Đê"), ("Thai", "Thái"), ("Dao", "Dao"), ("Muong", "Mường"),
    ("\u0054a\u0300y", "Tày"),  # NFD
])
def test_spellings_map_to_the_official_name(typed, official):
    assert official_ethnicity(typed) == official
    assert parse_cell(ETH, typed, file="workers.csv", row=2) == official


@pytest.mark.parametrize("typed", ["Tai", "Nungg", "Việt Nam", "Kinh Tày", "x", "Mỹ"])
def test_unknown_values_are_refused_with_file_row_and_column(typed):
    assert official_ethnicity(typed) is None
    with pytest.raises(FieldError) as err:
        parse_cell(ETH, typed, file="workers.csv", row=7)
    e = err.value
    assert (e.file, e.row, e.column) == ("workers.csv", 7, "ethnicity")
    assert "không phải tên một trong 54 dân tộc" in str(e) and "54 recognised ethnic groups" in str(e)


def test_the_one_folding_is_shared():
    from matcher import text

    assert text.fold is fold  # the engine re-exports the models function, no second copy
    assert fold("Ánh") == "anh" and fold("Nguyễn  Đức!") == "nguyen duc"
