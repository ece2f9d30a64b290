"""The citizen identity number (số căn cước công dân, CCCĐ) and its province codes.

Source: Circular 07/2016/TT-BCA (Ministry of Public Security, 2016-02-01), Art 7 and its
appendix: a CCCĐ number has 12 digits,

- digits 1-3: the code of the province (or centrally-run city) where the citizen's birth was
  registered, from the appendix (the 63 provinces before the 2025 mergers; numbers already
  issued keep their code for life, so this table stays the one to check against);
- digit 4: century of birth and gender: 0/1 = 20th century (1900-1999) male/female,
  2/3 = 21st, 4/5 = 22nd, 6/7 = 23rd, 8/9 = 24th;
- digits 5-6: the last two digits of the year of birth;
- digits 7-12: a random serial.

The old 9-digit identity card (CMND) stopped being valid on 2025-01-01 (Law on
Identification 26/2023/QH15, Art 46), so only the 12-digit number is accepted.

:func:`national_id_problem` is the one check used by every write path (import, form).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

# Circular 07/2016/TT-BCA, appendix "Danh sách mã tỉnh, thành phố trực thuộc trung ương".
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

_SEPARATORS = re.compile(r"[\s.\-]+")
_GENDER_VI = {"male": "nam", "female": "nữ"}


class Problem(NamedTuple):
    """What is wrong, in Vietnamese first and in English."""

    vi: str
    en: str


def normalise_national_id(text: str | None) -> str:
    """The number as stored: spaces, dots and dashes people type between groups removed."""
    return _SEPARATORS.sub("", text or "")


def century_and_gender(nid: str) -> tuple[int, str]:
    """``(first year of the century, "male"/"female")`` encoded by the 4th digit."""
    d = int(nid[3])
    return 1900 + 100 * (d // 2), ("male", "female")[d % 2]


def national_id_problem(nid: str, birth_date: dt.date | None = None, gender: str | None = None) -> Problem | None:
    """Why ``nid`` (already normalised) is not a valid CCCĐ number for this person, or ``None``.

    Checks the 12 digits and the province code, then, when ``birth_date`` and ``gender``
    (``male``/``female``) are known, that digits 4-6 agree with them.
    """
    if len(nid) == 9 and nid.isdigit():
        return Problem(
            f"{nid!r} là số CMND cũ (9 chữ số), hết giá trị từ 01/01/2025; hãy nhập số CCCD 12 chữ số",
            f"{nid!r} is an old 9-digit ID card number (CMND), no longer valid since 2025-01-01; "
            "enter the 12-digit citizen identity number (CCCD)",
        )
    if len(nid) != 12 or not nid.isascii() or not nid.isdigit():
        return Problem(
            f"số CCCD phải gồm đúng 12 chữ số; nhận được {nid!r}",
            f"a citizen identity number (CCCD) has exactly 12 digits; got {nid!r}",
        )
    if nid[:3] not in PROVINCE_CODES:
        return Problem(
            f"3 chữ số đầu {nid[:3]!r} không phải mã tỉnh nào (Thông tư 07/2016/TT-BCA, ví dụ 004 Cao Bằng)",
            f"the first 3 digits {nid[:3]!r} are not a province code (Circular 07/2016/TT-BCA, e.g. 004 Cao Bang)",
        )
    century, coded_gender = century_and_gender(nid)
    year = century + int(nid[4:6])
    if birth_date is not None and birth_date.year != year:
        return Problem(
            f"số CCCD {nid} mã hóa năm sinh {year} (chữ số 4-6) nhưng ngày sinh là {birth_date.isoformat()}",
            f"the CCCD {nid} encodes the birth year {year} (digits 4-6) but the birth date is {birth_date.isoformat()}",
        )
    if gender in ("male", "female") and gender != coded_gender:
        return Problem(
            f"số CCCD {nid} mã hóa giới tính {_GENDER_VI[coded_gender]} (chữ số thứ 4 là {nid[3]}) "
            f"nhưng hồ sơ ghi {_GENDER_VI[gender]}",
            f"the CCCD {nid} encodes the gender {coded_gender} (4th digit {nid[3]}) but the profile says {gender}",
        )
    return None
