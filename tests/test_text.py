"""matcher.text: NFC, folding, abbreviations, list cells, licence/approval numbers."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.text import ABBREVIATIONS, expand_abbreviations, fold, nfc, normalise_id_code, prepare, split_list


def test_nfc_composes_decomposed_vietnamese():
    decomposed = unicodedata.normalize("NFD", "Thợ hàn điều dưỡng")
    assert decomposed != "Thợ hàn điều dưỡng"
    assert nfc(decomposed) == "Thợ hàn điều dưỡng"
    assert nfc(None) == ""


@pytest.mark.parametrize(
    "a, b",
    [
        ("Thợ hàn", "tho han"),
        ("THỢ  HÀN", "tho han"),
        (unicodedata.normalize("NFD", "Thợ hàn"), "tho han"),
        ("Điều dưỡng", "dieu duong"),
        ("đóng gói, thực phẩm!", "dong goi thuc pham"),
        ("Lái xe (B2) - 3 năm", "lai xe b2 3 nam"),
        ("Nông_nghiệp/Trồng-trọt", "nong nghiep trong trot"),
    ],
)
def test_fold_equates_spellings(a, b):
    assert fold(a) == fold(b) == b


def test_fold_keeps_non_latin_marks():
    # a dakuten changes a Japanese word; Hangul survives NFD/NFC
    assert fold("が") == "が"
    assert fold("TOPIK 3급") == "topik 3급"


def test_fold_empty():
    assert fold("") == fold(None) == ""
    assert fold(" ;,- ") == ""


@given(st.text())
def test_fold_is_idempotent(s):
    assert fold(fold(s)) == fold(s)


@given(st.text())
def test_prepare_is_nfc_and_trimmed(s):
    out = prepare(s)
    assert unicodedata.is_normalized("NFC", out)
    assert out == out.strip()
    assert "  " not in out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cn may", "công nhân may"),
        ("CN xây dựng", "công nhân xây dựng"),
        ("may cn", "may công nghiệp"),
        ("May CN, 2 năm kn", "may công nghiệp, 2 năm kinh nghiệm"),
        ("lx", "lái xe"),
        ("dd", "điều dưỡng"),
        ("đd", "điều dưỡng"),
        ("ĐD viên", "điều dưỡng viên"),
        ("cn xd", "công nhân xây dựng"),
        ("lao động nn", "lao động nông nghiệp"),
        ("chế biến tp", "chế biến thực phẩm"),
        ("thợ ck", "thợ cơ khí"),
        ("lắp ráp dt", "lắp ráp điện tử"),
        ("lắp ráp đt", "lắp ráp điện tử"),
        ("hl", "hộ lý"),
        ("tts nb", "thực tập sinh Nhật Bản"),
        ("tốt nghiệp thpt", "tốt nghiệp trung học phổ thông"),
    ],
)
def test_expand_abbreviations(text, expected):
    assert expand_abbreviations(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "cnc",  # a CNC machine, not "công nhân c"
        "block",  # "ck" inside a word
        "lxx",
        "3kn",
        "xdựng",
        "TP Cao Bằng",  # "thành phố", not "thực phẩm"
        "TP. HCM",
    ],
)
def test_expand_abbreviations_never_inside_words(text):
    assert expand_abbreviations(text) == text


def test_expand_abbreviations_keeps_separators():
    assert expand_abbreviations("cn/lx; (kn)") == "công nhân/lái xe; (kinh nghiệm)"


def test_about_25_abbreviations_all_keys_folded():
    assert len(ABBREVIATIONS) >= 25
    assert all(fold(k) == k for k in ABBREVIATIONS)


def test_prepare_keeps_diacritics_and_expands():
    assert prepare("  Cn   may\t công nghiệp  ") == "công nhân may công nghiệp"
    assert prepare(unicodedata.normalize("NFD", "thợ hàn, 3 năm kn")) == "thợ hàn, 3 năm kinh nghiệm"


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("thợ hàn; xây dựng", ["thợ hàn", "xây dựng"]),
        (" a ;; b ; ", ["a", "b"]),
        ("", []),
        (None, []),
        (["x; y", " z "], ["x", "y", "z"]),
    ],
)
def test_split_list(cell, expected):
    assert split_list(cell) == expected


@pytest.mark.parametrize(
    "a, b",
    [
        ("123/LĐTBXH-GP", "123/LDTBXH-GP"),
        ("123 / ldtbxh-gp", "123/LDTBXH-GP"),
        ("123/lđtbxh–gp", "123/LDTBXH-GP"),  # en dash
        ("Số 123/LĐTBXH-GP", "123/LDTBXH-GP"),
        (" 45/QLLĐNN ", "45/QLLDNN"),
    ],
)
def test_normalise_id_code(a, b):
    assert normalise_id_code(a) == b
    assert normalise_id_code(b) == b


def test_normalise_id_code_keeps_distinct_numbers_apart():
    assert normalise_id_code("123/LDTBXH-GP") != normalise_id_code("124/LDTBXH-GP")
    assert normalise_id_code("") == normalise_id_code(None) == ""


def test_contains_words_is_whole_word_and_folded():
    from models.text import contains_words

    assert contains_words("Thợ hàn kết cấu thép", "tho HAN")
    assert contains_words("Nguyễn Thị Ánh", "anh")
    assert not contains_words("Lê Văn Khánh", "anh")
    assert not contains_words("Thợ hàn", "ha")
    assert contains_words("anything", "") and contains_words(None, None)
    assert not contains_words(None, "x")


def _strip_marks_one_by_one(s: str) -> str:
    """strip_marks' definition, mark by mark: a combining character is dropped when the last
    character before it that is not combining is a Latin letter (the reference for both of its
    paths)."""
    import unicodedata

    d_map = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})

    out: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFD", s.translate(d_map)):
        if unicodedata.combining(ch):
            if not base_is_latin:
                out.append(ch)
            continue
        o = ord(ch)
        base_is_latin = o < 0x0250 or 0x1E00 <= o <= 0x1EFF
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


_LATIN_AND_MARKS = [chr(c) for c in [*range(0x20, 0x370), *range(0x1E00, 0x1F00), 0x3099, 0x304B, 0x1DC0, 0x20D0]]


def test_strip_marks_fast_path_equals_the_definition():
    import random

    from models.text import strip_marks

    rng = random.Random(7)
    for _ in range(20000):
        s = "".join(rng.choice(_LATIN_AND_MARKS) for _ in range(rng.randint(1, 8)))
        assert strip_marks(s) == _strip_marks_one_by_one(s), repr(s)
    mixed = [*_LATIN_AND_MARKS, "溶", "ギ", "\u0e31", "\u05b7", "\U0001d165", "\U0001e8d0", "\u0951"]
    for _ in range(20000):  # with scripts of other blocks and their marks: the general path
        s = "".join(rng.choice(mixed) for _ in range(rng.randint(1, 10)))
        assert strip_marks(s) == _strip_marks_one_by_one(s), repr(s)
    for s in ("Nguyễn Văn Đức", "Thợ hàn", "が", "\u0301a", "Schweißer", "İstanbul", "溶接工", "Ô\u034f\u033c",
              "Thợ hàn 溶接工 ; công ty ギフ", "a\u0951b\u3099"):
        assert strip_marks(s) == _strip_marks_one_by_one(s), s


def test_every_combining_character_lies_in_the_planes_the_general_path_scans():
    """strip_marks' general path knows the combining characters of the planes it scans; this
    Python's Unicode database must have none elsewhere (a newer one that adds some fails here)."""
    import sys
    import unicodedata

    from models.text import _COMBINING_PLANES

    scanned = set().union(*map(set, _COMBINING_PLANES))
    outside = [hex(c) for c in range(sys.maxunicode + 1) if c not in scanned and unicodedata.combining(chr(c))]
    assert outside == []
    assert unicodedata.combining("\U0001d165") and 0x1D165 in scanned  # a plane-1 mark is scanned
