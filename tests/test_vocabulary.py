"""The overseas-work vocabulary (models/resources/vocabulary.tsv) and its lookup and expansion."""

import unicodedata
from importlib import resources

import pytest

from matcher.text import fold
from matcher.vocabulary import COLUMNS, Vocabulary, expand, lookup, training_pairs


@pytest.fixture(scope="module")
def raw_rows():
    text = resources.files("models").joinpath("resources", "vocabulary.tsv").read_text(encoding="utf-8")
    lines = text.splitlines()
    return lines[0], [ln.split("\t") for ln in lines[1:] if ln.strip()]


@pytest.fixture(scope="module")
def vocab():
    return Vocabulary.load()


def keys(text):
    return [c.key for c in lookup(text)]


# -- the table ---------------------------------------------------------------------------------
def test_header_and_size(raw_rows):
    header, rows = raw_rows
    assert tuple(header.split("\t")) == COLUMNS
    assert 300 <= len(rows) <= 600
    assert all(len(r) == len(COLUMNS) for r in rows)


def test_concepts_unique_and_names_required(raw_rows):
    _, rows = raw_rows
    concepts = [r[0] for r in rows]
    assert len(set(concepts)) == len(concepts)
    assert all(r[0] and r[1].strip() and r[2].strip() for r in rows)
    assert all(r[0] == r[0].strip() and "." in r[0] and r[0] == r[0].lower() for r in rows)


def test_text_is_nfc_and_trimmed(raw_rows):
    _, rows = raw_rows
    for r in rows:
        for cell in r:
            assert unicodedata.normalize("NFC", cell) == cell, r[0]
            assert cell == cell.strip(), r[0]


def test_isco_codes_are_four_digits(raw_rows):
    _, rows = raw_rows
    codes = [r[8] for r in rows if r[8]]
    assert codes and all(len(c) == 4 and c.isdigit() and c[0] != "0" for c in codes)


def test_vietnamese_names_carry_diacritics(raw_rows):
    # at least most vi names are written properly (the abbrev column holds the bare spellings)
    _, rows = raw_rows
    with_marks = sum(fold(r[1]) != r[1].casefold() for r in rows)
    assert with_marks / len(rows) > 0.9


def test_no_phrase_names_two_concepts(vocab):
    clashes = {k: {e.concept for e in v} for k, v in vocab._index.items() if len({e.concept for e in v}) > 1}
    assert clashes == {}


def test_loaded_once(vocab):
    assert Vocabulary.load() is vocab
    assert len(vocab) == len(vocab.concepts) >= 300


# -- lookup ------------------------------------------------------------------------------------
@pytest.mark.parametrize("a,b", [
    ("thợ hàn", "THO HAN"),
    ("cốp pha", "cop pha"),
    ("điều dưỡng", "dieu duong"),
    ("lái xe nâng", "Lai Xe Nang"),
    ("chăm sóc người cao tuổi", "cham soc nguoi cao tuoi"),
    ("thợ hàn", unicodedata.normalize("NFD", "thợ hàn")),
])
def test_lookup_is_diacritics_and_case_insensitive(a, b):
    assert keys(a) and keys(a) == keys(b)


@pytest.mark.parametrize("text,key", [
    ("tho han", "welding.welder"),
    ("cn may", "sew.industrial"),
    ("đd", "care.nurse"),
    ("ĐD", "care.nurse"),
    ("lx nâng", "drive.forklift"),
    ("hàn TIG", "welding.tig"),
    ("WIG-Schweißen", "welding.tig"),
    ("介護", "care.eldercare"),
    ("지게차", "drive.forklift"),
    ("家庭看護工", "care.home_carer"),
    ("Pflegehelfer", "care.nursing_aide"),
    ("forklift", "drive.forklift"),
])
def test_lookup_finds_names_in_every_language(text, key):
    assert key in keys(text)


def test_lookup_whole_phrases_longest_first():
    assert keys("hàn MIG/MAG") == ["welding.mig_mag"]
    assert keys("lái xe tải") == ["drive.truck"]
    assert keys("thợ hàn, lái xe nâng") == ["welding.welder", "drive.forklift"]
    assert keys("cnc") == ["mech.cnc"]
    assert keys("cncx") == []  # never inside a word


def test_ambiguous_folded_syllables_are_not_invented():
    # hàn (weld) vs Hàn Quốc (Korea) / thời hạn (term); tiện (lathe) vs tiền (money)
    assert keys("Hàn Quốc") == []
    assert keys("thời hạn hợp đồng 3 năm") == []
    assert keys("tiền lương cao") == []
    assert keys("han") == ["welding.welder"]  # a bare entry "han" means welding
    assert keys("tiện") == ["mech.lathe"] and keys("phay") == ["mech.milling"]
    assert keys("tiện cơ khí, phay CNC") == ["mech.lathe", "mech.cnc"]
    # a bare folded syllable inside a longer text is ignored: "máy" is not "may" (sew)
    assert keys("máy móc hiện đại") == []
    assert keys("may") == ["sew.industrial"]
    assert "welding.welder" in keys("đi Hàn Quốc làm thợ hàn")


def test_lookup_empty():
    assert lookup("") == [] and lookup(None) == [] and lookup("   ") == []


# -- expansion ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("tho han", "tho han (thợ hàn; welder)"),
    ("cn may", "cn may (may công nghiệp; industrial sewing machinist)"),
    ("đd", "đd (điều dưỡng; nurse)"),
    ("lx nâng", "lx nâng (lái xe nâng; forklift operator)"),
])
def test_known_abbreviations_expand(text, expected):
    assert expand(text) == expected


def test_present_names_are_not_repeated():
    assert expand("thợ hàn") == "thợ hàn (welder)"
    assert expand("welder") == "welder (thợ hàn)"
    assert expand("thợ hàn; welder") == "thợ hàn; welder"


def test_unknown_and_empty_text_unchanged():
    for text in ["", "   ", "abc xyz", "Nguyễn Văn A", "massage"]:
        assert expand(text) == text
    assert expand(None) == ""


def test_long_text_is_not_mangled():
    long = "Thợ hàn kết cấu thép, làm ca, ký túc xá 2 người/phòng, có thi tay nghề hàn trước phỏng vấn"
    assert expand(long) == long
    title = "溶接 Thợ hàn bán tự động CO2 – TTS 3 năm, Gifu"
    assert expand(title) == title


SAMPLES = [
    "tho han", "cn may", "đd", "lx nâng", "han", "may", "cốp pha; cot thep", "介護", "kaigo",
    "hàn MIG/MAG", "welding 3G", "F&B", "EPS E-9 xây dựng (건설)", "養護機構看護工", "phụ hồ 2 năm",
    "lái xe tải hạng nặng (heavy driver)", "tiếng Hàn", "sua xe", "Pflegefachkraft",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_expansion_is_idempotent(text):
    once = expand(text)
    assert expand(once) == once


def test_expansion_idempotent_on_every_phrase(vocab):
    for concept in vocab.concepts:
        for phrase in concept.phrases():
            once = vocab.expand(phrase)
            assert vocab.expand(once) == once, phrase
            assert once.startswith(phrase.strip())


def test_expansion_options(vocab):
    long = "Công ty tuyển thợ hàn TIG đi làm việc tại Nhật Bản ba năm"
    assert vocab.expand(long) == long
    assert vocab.expand(long, long_fields=("en",)).endswith("(TIG welding)")
    assert vocab.expand("tho han", short_words=0) == "tho han"


# -- training pairs ----------------------------------------------------------------------------
def test_training_pairs(vocab):
    pairs = list(training_pairs())
    assert ("thợ hàn", "welder") in pairs
    assert ("溶接工", "welder") in pairs
    assert ("Schweißer", "welder") in pairs
    assert all(a and b and fold(a) != fold(b) for a, b in pairs)
    assert len(pairs) == len(set(pairs))
    names_only = list(vocab.training_pairs(include_abbrev=False))
    assert len(names_only) < len(pairs)
    assert {b for _, b in names_only} <= {c.en for c in vocab.concepts}


def test_related_by_trade_groups():
    from matcher.vocabulary import display_name, related, trade_groups

    assert "welding" in trade_groups("tho han") and "isco:721" in trade_groups("thợ hàn")
    assert not trade_groups("đọc bản vẽ an toàn lao động tiếng Nhật") - {"mech"}
    assert related("lam ruong", ["Thợ hàn kết cấu thép", "hàn"]) is False
    assert related("tho han", ["Thợ hàn kết cấu thép"]) is True
    assert related("thợ gò", ["Thợ hàn"]) is True  # ISCO 7213 and 7212: one minor group
    assert related("bảo vệ", ["cắt tóc"]) is False  # misc holds unrelated trades
    assert related("xyz abc", ["Thợ hàn"]) is None and related("tho han", ["xyz"]) is None
    assert display_name("lam ruong") == "làm ruộng" and display_name("cn han") == "thợ hàn"
    assert display_name("xyz abc") == "xyz abc"
