"""Vietnam's 54 recognised ethnic groups: the closed vocabulary of ``workers.ethnicity``.

Source: Decision 121-TCTK/PPCĐ of 2 March 1979 of the General Statistics Office, "Danh mục các
thành phần dân tộc Việt Nam" (the list and its order, which gives the two-digit code 01-54 used
in statistics), with the names as the Office writes them today (2019 Population and Housing
Census, e.g. "Mông" for the 1979 "HMông (Mèo)", "Khmer" for "Khơ-me"). The 1979 spellings and
the other names the decision lists ("Mèo", "Cao Lan", "Việt"...) are accepted as variants.

:func:`official_ethnicity` maps what a counsellor types (with or without diacritics, hyphens
or apostrophes: "Tay", "H'Mong", "Hmong", "San Chay", "Lo Lo") to the official name.
"""

from __future__ import annotations

from typing import NamedTuple

from models.labels import Vocabulary, key


class Ethnicity(NamedTuple):
    code: str  # "01".."54", the order of Decision 121-TCTK/PPCĐ
    vi: str  # official Vietnamese name (what is stored)
    en: str
    variants: tuple[str, ...] = ()  # other spellings and names, matched after folding


ETHNICITIES: tuple[Ethnicity, ...] = (
    Ethnicity("01", "Kinh", "Kinh (Viet)", ("Việt", "Người Kinh")),
    Ethnicity("02", "Tày", "Tay", ()),
    Ethnicity("03", "Thái", "Thai", ()),
    Ethnicity("04", "Hoa", "Hoa (ethnic Chinese)", ("Hán",)),
    Ethnicity("05", "Khmer", "Khmer", ("Khơ-me", "Khơ Me", "Khmer Krom")),
    Ethnicity("06", "Mường", "Muong", ()),
    Ethnicity("07", "Nùng", "Nung", ()),
    # "Mèo" is an old exonym that many consider derogatory; it is read here only so old
    # records map, and never written.
    Ethnicity("08", "Mông", "Hmong", ("HMông", "H'Mông", "H'Mong", "Hmông", "Mèo", "Miao")),
    Ethnicity("09", "Dao", "Dao (Yao)", ("Yao",)),
    Ethnicity("10", "Gia Rai", "Jarai", ("Gia-rai", "Jarai", "Giơ-rai")),
    Ethnicity("11", "Ngái", "Ngai", ()),
    Ethnicity("12", "Ê Đê", "Ede (Rhade)", ("Ê-đê", "Rhade", "Rađê")),
    Ethnicity("13", "Ba Na", "Bahnar", ("Ba-na", "Bahnar")),
    Ethnicity("14", "Xơ Đăng", "Sedang", ("Xơ-đăng", "Sedang")),
    Ethnicity("15", "Sán Chay", "San Chay", ("Cao Lan - Sán Chỉ", "Cao Lan", "Sán Chỉ", "Sán Chải")),
    Ethnicity("16", "Cơ Ho", "Koho", ("Cơ-ho", "Koho", "K'Ho")),
    Ethnicity("17", "Chăm", "Cham", ("Chàm",)),
    Ethnicity("18", "Sán Dìu", "San Diu", ()),
    Ethnicity("19", "Hrê", "Hre", ()),
    Ethnicity("20", "Mnông", "Mnong", ("M'Nông",)),
    Ethnicity("21", "Ra Glai", "Raglai", ("Ra-glai", "Raglay", "Raglai")),
    Ethnicity("22", "Xtiêng", "Stieng", ("Stiêng", "Xa Điêng")),
    Ethnicity("23", "Bru Vân Kiều", "Bru-Van Kieu", ("Bru-Vân Kiều", "Vân Kiều", "Bru")),
    Ethnicity("24", "Thổ", "Tho", ()),
    Ethnicity("25", "Giáy", "Giay", ("Nhắng",)),
    Ethnicity("26", "Cơ Tu", "Co Tu (Katu)", ("Cơ-tu", "Katu")),
    Ethnicity("27", "Giẻ Triêng", "Gie Trieng", ("Gié-Triêng", "Gié Triêng")),
    Ethnicity("28", "Mạ", "Ma", ()),
    Ethnicity("29", "Khơ Mú", "Khmu", ("Khơ-mú", "Khmu", "Kmhmu")),
    Ethnicity("30", "Co", "Co", ("Cor",)),
    Ethnicity("31", "Tà Ôi", "Ta Oi", ("Tà-ôi", "Pa Cô")),
    Ethnicity("32", "Chơ Ro", "Cho Ro", ("Chơ-ro",)),
    Ethnicity("33", "Kháng", "Khang", ()),
    Ethnicity("34", "Xinh Mun", "Xinh Mun", ("Xinh-mun",)),
    Ethnicity("35", "Hà Nhì", "Ha Nhi", ()),
    Ethnicity("36", "Chu Ru", "Chu Ru", ("Chu-ru",)),
    Ethnicity("37", "Lào", "Lao", ()),
    Ethnicity("38", "La Chí", "La Chi", ()),
    Ethnicity("39", "La Ha", "La Ha", ()),
    Ethnicity("40", "Phù Lá", "Phu La", ()),
    Ethnicity("41", "La Hủ", "La Hu", ()),
    Ethnicity("42", "Lự", "Lu", ()),
    Ethnicity("43", "Lô Lô", "Lo Lo", ("Lolo",)),
    Ethnicity("44", "Chứt", "Chut", ()),
    Ethnicity("45", "Mảng", "Mang", ()),
    Ethnicity("46", "Pà Thẻn", "Pa Then", ()),
    Ethnicity("47", "Cơ Lao", "Co Lao", ("Co Lao",)),
    Ethnicity("48", "Cống", "Cong", ()),
    Ethnicity("49", "Bố Y", "Bo Y", ()),
    Ethnicity("50", "Si La", "Si La", ()),
    Ethnicity("51", "Pu Péo", "Pu Peo", ()),
    Ethnicity("52", "Brâu", "Brau", ()),
    Ethnicity("53", "Ơ Đu", "O Du", ("Ơ-đu",)),
    Ethnicity("54", "Rơ Măm", "Ro Mam", ("Rơ-măm",)),
)

OFFICIAL_NAMES: tuple[str, ...] = tuple(e.vi for e in ETHNICITIES)
BY_NAME: dict[str, Ethnicity] = {e.vi: e for e in ETHNICITIES}


# The one reader of typed names (models.labels): folded, with spaces, hyphens and apostrophes
# gone, so "H'Mông" and "Hmong" are one key.
_key = key
NAMES = Vocabulary("ethnicity", {e.vi: (e.vi, e.en) for e in ETHNICITIES},
                   {e.vi: e.variants for e in ETHNICITIES if e.variants})
if NAMES.ambiguous:  # pragma: no cover - a table error, caught at import and by the tests
    raise ValueError(f"ethnicity spellings fold alike: {sorted(NAMES.ambiguous)}")


def official_ethnicity(text: str | None) -> str | None:
    """The official Vietnamese name for ``text`` (any accepted spelling), or ``None`` if
    ``text`` names none of the 54 groups (empty text gives ``None`` too)."""
    return NAMES.read(text)
