"""Deterministic synthetic data for Cao Bang: recruiters, job orders and workers (STYLE.md habit 11).

``generate(seed)`` builds unsaved ORM objects (``models.entities``) for a realistic picture of the
province's overseas-work pipeline, plus :class:`Truth`: facts known by construction, for tests
and evaluation.

* ``truth.illegal``: order id -> the one defect planted in it (``licence_revoked``,
  ``licence_suspended``, ``no_approval``, ``service_fee_over_cap``, ``brokerage_fee``,
  ``deposit_over_cap``, ``seasonal_private_sender``, ``prohibited_job``, ``duplicate_licence_no``).
  Every other order is legal: fees at most 0.8 x the strictest cap that could apply to it.
* ``truth.not_open``: order id -> ``order_closed`` or ``deadline_passed`` (legal, not open).
* ``truth.best_orders`` / ``truth.best_workers``: "twin" pairs. A twin worker was built to fit
  exactly one legal open order (its skills verbatim, experience above the minimum, the language
  certificate asked for, the order's country as the only preference, age, gender and education
  within the order's limits). The order is the only legal open order of its occupation in its
  country, and no other worker both has (or, without experience, wants) that occupation and
  wants that country: every other pair is clearly worse (other occupation, other country, or
  language far short). ``truth.order_occupation`` / ``truth.worker_occupations`` give the
  occupation keys of :data:`JOBS` behind the free text.

Everything comes from one ``random.Random(seed)``: the same arguments give the same data
(including the CSV bytes of :func:`write_csv`). Python's hash randomisation cannot leak in: no
set of strings is ever iterated.

Run as a script to write the CSVs: ``python -m data.synthetic --out /tmp/synthetic``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from models import JobOrder, LanguageCertificate, LicenceStatusChange, Recruiter, Worker
from models import labels
from models.text import fold, strip_marks as strip_diacritics
from models.text import nfc as _nfc
from models import reference as ref
from models.enums import EDUCATION_LEVELS, education_rank
from models.languages import parse_certificate, parse_requirement

log = logging.getLogger(__name__)

__all__ = [
    "ILLEGAL_CODES",
    "NOT_OPEN_CODES",
    "RECRUITER_COLUMNS",
    "ORDER_COLUMNS",
    "WORKER_COLUMNS",
    "SyntheticData",
    "Truth",
    "generate",
    "save",
    "write_csv",
]

DEFAULT_TODAY = dt.date(2026, 11, 26)
ESD_START = dt.date(2027, 4, 1)  # Japan's Employment for Skill Development (DOMAIN.md, markets)

ILLEGAL_CODES = (
    "licence_revoked",
    "licence_suspended",
    "no_approval",
    "service_fee_over_cap",
    "brokerage_fee",
    "deposit_over_cap",
    "seasonal_private_sender",
    "prohibited_job",
    "duplicate_licence_no",
)
NOT_OPEN_CODES = ("order_closed", "deadline_passed")

# Planted orders per 300 orders (scaled to the requested number, at least one each).
# 38 of 300 = 12.7 % illegal; 24 of 300 legal but not open.
_ILLEGAL_PER_300 = {
    "licence_revoked": 5,
    "licence_suspended": 4,
    "no_approval": 6,
    "service_fee_over_cap": 6,
    "brokerage_fee": 4,
    "deposit_over_cap": 3,
    "seasonal_private_sender": 3,
    "prohibited_job": 3,
    "duplicate_licence_no": 4,
}
_NOT_OPEN_PER_300 = {"order_closed": 12, "deadline_passed": 12}

# VND per unit: models.reference's defaults (the same figures the rules use).
RATES: dict[str, float] = ref.merged_rates()

# ---------------------------------------------------------------------------------------------
# Cao Bang after the 2025 reform: wards and communes, with the former district (optional field)
# and whether the commune is an especially disadvantaged mountain commune.

_CITY = "Thành phố Cao Bằng"
# (commune, former district, disadvantaged, relative population)
COMMUNES: tuple[tuple[str, str, bool, int], ...] = (
    ("Phường Thục Phán", _CITY, False, 6),
    ("Phường Nùng Trí Cao", _CITY, False, 5),
    ("Phường Tân Giang", _CITY, False, 5),
    ("Xã Quảng Lâm", "Bảo Lâm", True, 2),
    ("Xã Nam Quang", "Bảo Lâm", True, 2),
    ("Xã Lý Bôn", "Bảo Lâm", True, 2),
    ("Xã Bảo Lâm", "Bảo Lâm", False, 3),
    ("Xã Yên Thổ", "Bảo Lâm", True, 2),
    ("Xã Sơn Lộ", "Bảo Lạc", True, 2),
    ("Xã Hưng Đạo", "Bảo Lạc", True, 2),
    ("Xã Bảo Lạc", "Bảo Lạc", False, 3),
    ("Xã Cốc Pàng", "Bảo Lạc", True, 1),
    ("Xã Cô Ba", "Bảo Lạc", True, 1),
    ("Xã Khánh Xuân", "Bảo Lạc", True, 1),
    ("Xã Xuân Trường", "Bảo Lạc", True, 2),
    ("Xã Huy Giáp", "Bảo Lạc", True, 1),
    ("Xã Ca Thành", "Nguyên Bình", True, 1),
    ("Xã Phan Thanh", "Nguyên Bình", True, 1),
    ("Xã Thành Công", "Nguyên Bình", True, 2),
    ("Xã Tĩnh Túc", "Nguyên Bình", True, 2),
    ("Xã Tam Kim", "Nguyên Bình", True, 2),
    ("Xã Nguyên Bình", "Nguyên Bình", False, 3),
    ("Xã Minh Tâm", "Nguyên Bình", True, 2),
    ("Xã Thanh Long", "Hà Quảng", True, 2),
    ("Xã Cần Yên", "Hà Quảng", True, 2),
    ("Xã Thông Nông", "Hà Quảng", False, 2),
    ("Xã Trường Hà", "Hà Quảng", True, 2),
    ("Xã Hà Quảng", "Hà Quảng", False, 3),
    ("Xã Lũng Nặm", "Hà Quảng", True, 1),
    ("Xã Tổng Cọt", "Hà Quảng", True, 1),
    ("Xã Nam Tuấn", "Hòa An", False, 2),
    ("Xã Hòa An", "Hòa An", False, 4),
    ("Xã Bạch Đằng", "Hòa An", False, 2),
    ("Xã Nguyễn Huệ", "Hòa An", False, 2),
    ("Xã Minh Khai", "Thạch An", False, 2),
    ("Xã Canh Tân", "Thạch An", True, 1),
    ("Xã Kim Đồng", "Thạch An", True, 1),
    ("Xã Thạch An", "Thạch An", False, 2),
    ("Xã Đông Khê", "Thạch An", False, 3),
    ("Xã Đức Long", "Thạch An", False, 2),
    ("Xã Phục Hòa", "Quảng Hòa", False, 3),
    ("Xã Bế Văn Đàn", "Quảng Hòa", True, 1),
    ("Xã Độc Lập", "Quảng Hòa", False, 2),
    ("Xã Quảng Uyên", "Quảng Hòa", False, 3),
    ("Xã Hạnh Phúc", "Quảng Hòa", False, 2),
    ("Xã Quang Hán", "Trùng Khánh", True, 2),
    ("Xã Trà Lĩnh", "Trùng Khánh", False, 2),
    ("Xã Quang Trung", "Trùng Khánh", True, 1),
    ("Xã Đoài Dương", "Trùng Khánh", True, 1),
    ("Xã Trùng Khánh", "Trùng Khánh", False, 3),
    ("Xã Đàm Thủy", "Trùng Khánh", False, 2),
    ("Xã Đình Phong", "Trùng Khánh", False, 2),
    ("Xã Lý Quốc", "Hạ Lang", True, 1),
    ("Xã Hạ Lang", "Hạ Lang", False, 2),
    ("Xã Vinh Quý", "Hạ Lang", True, 1),
    ("Xã Quang Long", "Hạ Lang", True, 1),
)

# Ethnicity by its official name (models.ethnicities, as FORMAT.md asks), with its share among
# the centre's clients (DOMAIN.md's main groups; Tày ~40 %, Nùng ~30 %, Mông ~10 %, Dao ~10 %, Kinh ~5 %).
ETHNIC_SHARES: dict[str, float] = {
    "Tày": 40, "Nùng": 30, "Mông": 10, "Dao": 10, "Kinh": 5, "Sán Chay": 3, "Lô Lô": 2,
}
# Where each group lives: weights over former districts.
_ETHNIC_DISTRICTS: dict[str, dict[str, float]] = {
    "Tày": {_CITY: 14, "Hòa An": 16, "Thạch An": 10, "Nguyên Bình": 10, "Bảo Lạc": 6, "Bảo Lâm": 5,
            "Hà Quảng": 10, "Trùng Khánh": 10, "Quảng Hòa": 10, "Hạ Lang": 7},
    "Nùng": {_CITY: 8, "Hòa An": 8, "Thạch An": 8, "Nguyên Bình": 3, "Bảo Lạc": 5, "Bảo Lâm": 4,
             "Hà Quảng": 15, "Trùng Khánh": 20, "Quảng Hòa": 18, "Hạ Lang": 12},
    "Mông": {"Bảo Lâm": 30, "Bảo Lạc": 30, "Hà Quảng": 20, "Nguyên Bình": 15, "Hòa An": 3, "Thạch An": 2},
    "Dao": {"Nguyên Bình": 30, "Bảo Lạc": 15, "Bảo Lâm": 15, "Thạch An": 15, "Hà Quảng": 10, "Hạ Lang": 5,
            "Hòa An": 10},
    "Kinh": {_CITY: 60, "Hòa An": 10, "Nguyên Bình": 8, "Thạch An": 5, "Trùng Khánh": 7, "Quảng Hòa": 5,
             "Bảo Lạc": 5},
    "Sán Chay": {"Nguyên Bình": 35, "Bảo Lạc": 25, "Hòa An": 20, "Thạch An": 20},
    "Lô Lô": {"Bảo Lạc": 60, "Bảo Lâm": 40},
}

# Names: (family names with weights, male middle names, female middle names, male given
# names, female given names). Middle names are weighted by repetition.
_TAY_NUNG_MALE = (
    "Hùng Dũng Tuấn Thắng Phong Quân Sơn Hải Cường Tiến Khánh Lâm Chiến Toản Vịnh Huy Hưng Thái "
    "Thịnh Luân Thuận Đông Bằng Kiên Trường Long Nam Hiếu Tùng Đạt Vũ Quyết Mạnh Thành Quý Tú"
).split()
_TAY_NUNG_FEMALE = (
    "Lan Hoa Huyền Thảo Hương Nhung Mai Duyên Hằng Quyên Liên Vân Yến Thúy Ngân Trang Linh Hạnh "
    "Nga Dung Phượng Thơm Nhàn Xuân Chinh Hiền Lụa Hòa Nhi Ánh Thêm Diệp"
).split()
NAMES: dict[str, tuple[dict[str, float], list[str], list[str], list[str], list[str]]] = {
    "Tày": (
        {"Nông": 14, "Hoàng": 12, "Lương": 7, "Đàm": 6, "Bế": 6, "Lục": 4, "Triệu": 3, "Lý": 4, "Ma": 5,
         "Vi": 3, "Hà": 4, "Lâm": 4, "Sầm": 2, "Dương": 3, "Nguyễn": 4, "Lưu": 2, "Mạc": 2, "La": 2,
         "Đinh": 2, "Chu": 2},
        ["Văn"] * 7 + ["Đức", "Minh", "Quang", "Thanh", "Xuân"],
        ["Thị"] * 7 + ["Thu", "Hồng", "Minh", "Thanh", "Ngọc"],
        _TAY_NUNG_MALE, _TAY_NUNG_FEMALE,
    ),
    "Nùng": (
        {"Hoàng": 14, "Nông": 10, "Lương": 8, "Lý": 8, "Hứa": 5, "Chu": 4, "Đàm": 4, "Lục": 4, "Bế": 4,
         "Lăng": 3, "Mã": 3, "Vi": 3, "Triệu": 3, "Lâm": 3, "Dương": 2, "Nguyễn": 3},
        ["Văn"] * 8 + ["Đức", "Quang", "Minh", "Xuân"],
        ["Thị"] * 8 + ["Thu", "Hồng", "Ngọc"],
        _TAY_NUNG_MALE, _TAY_NUNG_FEMALE,
    ),
    "Mông": (
        {"Giàng": 10, "Vừ": 8, "Sùng": 8, "Thào": 7, "Lò": 5, "Lầu": 5, "Hầu": 4, "Mùa": 4, "Vàng": 6, "Lý": 5},
        ["A"] * 8 + ["Văn"] * 2,
        ["Thị"] * 9 + ["Thị Thu"],
        "Páo Sử Chứ Dính Pó Tủa Lử Sính Dế Cở Chúa Vảng Nhè Súa Chính Phừ Lềnh Chống Dủa Dìa".split(),
        "Mai Dợ Mỷ Sua Dung Pà Say Chu Xí Dua Máy Pằng Sở Dín Lan Chía Mỉ".split(),
    ),
    "Dao": (
        {"Triệu": 12, "Bàn": 10, "Đặng": 8, "Lý": 6, "Chảo": 3, "Phùng": 4, "Dương": 2, "Hoàng": 2},
        ["Văn"] * 6 + ["Tài"] * 2 + ["Quý", "Kim"],
        ["Thị"] * 7 + ["Mùi", "Kim"],
        "Phin Chòi Sinh Kiềm Quẩy Lìn Phấu Tòn Sì Vạn Dụ Tiến Phú Chàn Ón Kiên Diu Chấn".split(),
        "Mây Mùi Chài Nải Liều Sinh Chuyên Dung Hoa Tiên Phương Xuân Mẩy Nhất".split(),
    ),
    "Kinh": (
        {"Nguyễn": 30, "Trần": 12, "Lê": 9, "Phạm": 7, "Hoàng": 5, "Vũ": 5, "Đỗ": 4, "Bùi": 4, "Đặng": 3,
         "Ngô": 3, "Dương": 2, "Đinh": 2},
        ["Văn"] * 4 + ["Đức", "Minh", "Quốc", "Hữu", "Công", "Xuân", "Tuấn"],
        ["Thị"] * 5 + ["Thu", "Ngọc", "Thanh", "Phương", "Hồng"],
        _TAY_NUNG_MALE + "Anh Tú Khoa Phúc Duy".split(),
        _TAY_NUNG_FEMALE + "Anh Trang Ngọc Thủy".split(),
    ),
    "Sán Chay": (
        {"Hoàng": 8, "Lâm": 6, "Trương": 5, "Lưu": 5, "Dương": 4, "Hà": 3, "Đàm": 3, "Lý": 3},
        ["Văn"] * 6 + ["Đức"], ["Thị"] * 6 + ["Thu"], _TAY_NUNG_MALE, _TAY_NUNG_FEMALE,
    ),
    "Lô Lô": (
        {"Lò": 8, "Chi": 6, "Hoàng": 4, "Lý": 3, "Sầm": 2},
        ["Văn"] * 6 + ["Đức"], ["Thị"] * 7,
        "Sình Dũng Páo Chứ Thắng Cường Hùng Sơn Tiến Phong".split(),
        "Lan Mai Thơm Dung Xuân Hoa Nhung Chiên".split(),
    ),
}

_PHONE_PREFIXES = ("096", "097", "098", "091", "094", "093", "090", "032", "033", "034", "035", "036",
                   "037", "038", "039")

# ---------------------------------------------------------------------------------------------
# Occupations rural workers take abroad. ``labels``: how counsellors write the experience
# (Vietnamese with and without diacritics, abbreviations, English); ``skills``: skill phrases.
# ``classes``: the occupation classes of models.reference that this job falls under (for the
# strictest fee and deposit caps).


@dataclass(frozen=True)
class Job:
    key: str
    sector: str
    vi: str
    en: str
    ja: str
    ko: str
    zh: str
    labels: tuple[str, ...]
    skills: tuple[str, ...]
    male_share: float
    supply: float  # relative number of workers with this occupation
    classes: tuple[str, ...] = ()


def _job(key, sector, vi, en, ja, ko, zh, labels, skills, male_share, supply, classes=()) -> Job:
    return Job(key, sector, vi, en, ja, ko, zh, tuple(labels), tuple(skills), male_share, supply, tuple(classes))


JOBS: dict[str, Job] = {j.key: j for j in (
    _job("trong_rau", "nông nghiệp", "trồng rau", "Farm worker", "耕種農業", "농업", "農業",
         ["trồng rau", "trong rau", "trồng trọt", "nông nghiệp", "vegetable farming"],
         ["trồng rau nhà kính", "thu hoạch rau", "tưới tiêu", "phun thuốc BVTV", "greenhouse vegetables",
          "lam dat trong rau"], 0.5, 10, ["agriculture"]),
    _job("chan_nuoi", "nông nghiệp", "chăn nuôi", "Livestock farm worker", "畜産農業", "축산업", "畜牧業",
         ["chăn nuôi", "chan nuoi", "chăn nuôi bò sữa", "livestock farming"],
         ["chăn nuôi lợn", "vắt sữa bò", "nuoi ga", "livestock care", "phối trộn thức ăn chăn nuôi"],
         0.55, 7, ["agriculture"]),
    _job("che_bien", "chế biến thực phẩm", "chế biến thực phẩm", "Food processing worker", "食品製造", "식품가공",
         "食品加工",
         ["chế biến thực phẩm", "che bien thuc pham", "cn chế biến", "food processing"],
         ["chế biến thủy sản", "làm bánh", "đóng hộp thực phẩm", "food hygiene HACCP", "pha lọc thịt",
          "che bien xuc xich"], 0.35, 12),
    _job("cop_pha", "xây dựng", "cốp pha", "Formwork carpenter", "型枠施工", "형틀목공", "模板工",
         ["thợ cốp pha", "cop pha", "mộc cốp pha", "formwork carpenter"],
         ["lắp dựng cốp pha", "đọc bản vẽ", "formwork", "mộc xây dựng"], 0.96, 7, ["construction"]),
    _job("gian_giao", "xây dựng", "giàn giáo", "Scaffolder", "とび", "비계공", "鷹架工",
         ["thợ giàn giáo", "gian giao", "lắp giàn giáo", "scaffolder"],
         ["lắp dựng giàn giáo", "làm việc trên cao", "scaffolding", "an toàn lao động trên cao"],
         0.97, 4, ["construction"]),
    _job("cot_thep", "xây dựng", "cốt thép", "Rebar worker", "鉄筋施工", "철근공", "鋼筋工",
         ["thợ cốt thép", "cot thep", "thợ sắt", "rebar worker"],
         ["buộc cốt thép", "uốn sắt", "rebar tying", "đọc bản vẽ kết cấu"], 0.96, 6, ["construction"]),
    _job("noi_that", "xây dựng", "hoàn thiện nội thất", "Interior finishing worker", "内装仕上げ", "내장공", "室內裝修",
         ["hoàn thiện nội thất", "hoan thien noi that", "thợ sơn bả", "interior finishing"],
         ["sơn bả", "ốp lát", "lắp trần thạch cao", "painting", "dán giấy tường"], 0.85, 4, ["construction"]),
    _job("han", "hàn", "hàn", "Welder", "溶接", "용접", "焊接",
         ["thợ hàn", "tho han", "hàn điện", "welder"],
         ["hàn TIG", "hàn MIG/MAG", "han que", "welding 3G", "hàn hồ quang"], 0.95, 8, ["welding"]),
    _job("may", "may công nghiệp", "may công nghiệp", "Sewing machine operator", "縫製", "봉제", "成衣縫紉",
         ["công nhân may", "cn may", "may công nghiệp", "sewing operator"],
         ["may máy 1 kim", "vắt sổ", "may mau", "sewing machine operation", "cắt vải"], 0.1, 9),
    _job("dien_tu", "điện tử", "lắp ráp điện tử", "Electronics assembler", "電子機器組立て", "전자부품 조립",
         "電子組裝",
         ["lắp ráp điện tử", "lap rap dien tu", "cn điện tử", "electronics assembly"],
         ["hàn mạch điện tử", "kiểm tra linh kiện", "SMT", "electronic assembly", "lắp ráp linh kiện"],
         0.35, 9),
    _job("co_khi", "cơ khí", "cơ khí", "CNC machinist", "機械加工", "기계가공", "機械加工",
         ["cơ khí", "thợ tiện", "tho tien", "CNC operator"],
         ["tiện CNC", "phay", "đọc bản vẽ kỹ thuật", "CNC machining", "vận hành máy tiện"], 0.9, 5),
    _job("dieu_duong", "điều dưỡng", "điều dưỡng", "Nurse", "看護", "간호", "護理",
         ["điều dưỡng", "dieu duong", "nurse", "y tá"],
         ["chăm sóc bệnh nhân", "đo huyết áp", "tiêm truyền", "patient care", "sơ cứu"], 0.2, 3,
         ["institutional_caregiver"]),
    _job("cham_soc", "chăm sóc người cao tuổi", "chăm sóc người cao tuổi", "Elderly caregiver", "介護", "요양보호",
         "看護工",
         ["chăm sóc người cao tuổi", "hộ lý", "ho ly", "caregiver"],
         ["chăm sóc người già", "hỗ trợ vệ sinh cá nhân", "elderly care", "nấu ăn dinh dưỡng",
          "hỗ trợ di chuyển"], 0.15, 6, ["institutional_caregiver", "home_caregiver"]),
    _job("giup_viec", "giúp việc gia đình", "giúp việc gia đình", "Domestic helper", "家事支援", "가사도우미",
         "家庭幫傭",
         ["giúp việc gia đình", "giup viec gia dinh", "giúp việc nhà", "domestic helper"],
         ["nấu ăn", "dọn dẹp nhà cửa", "trông trẻ", "housekeeping", "giặt là"], 0.02, 3, ["domestic"]),
    _job("nha_hang", "nhà hàng - khách sạn", "phục vụ nhà hàng", "Restaurant staff", "外食業", "외식업",
         "餐飲服務",
         ["phục vụ nhà hàng", "phu bep", "đầu bếp", "restaurant service"],
         ["phục vụ bàn", "nấu ăn", "food service", "sơ chế thực phẩm", "pha chế"], 0.45, 4),
    _job("khach_san", "nhà hàng - khách sạn", "buồng phòng khách sạn", "Hotel housekeeper", "宿泊", "숙박업",
         "飯店房務",
         ["buồng phòng khách sạn", "buong phong", "lễ tân khách sạn", "hotel housekeeping"],
         ["dọn phòng khách sạn", "housekeeping", "giặt là", "lễ tân"], 0.3, 2),
    _job("thuy_san", "thủy sản", "đánh bắt thủy sản", "Fishing crew", "漁業", "어업", "漁工",
         ["đánh bắt thủy sản", "ngư nghiệp", "danh bat thuy san", "fisherman"],
         ["kéo lưới", "nuôi cá lồng", "fishing net repair", "bảo quản hải sản"], 0.95, 2, ["coastal_fishing"]),
    _job("lai_xe", "lái xe", "lái xe", "Truck driver", "自動車運送業", "운전", "駕駛",
         ["lái xe", "lx", "tài xế", "truck driver"],
         ["bằng lái hạng C", "lai xe nang", "forklift", "lái xe container", "bằng lái B2"], 0.97, 4),
    _job("dong_goi", "đóng gói", "đóng gói", "Packing worker", "工業包装", "포장", "包裝",
         ["đóng gói", "dong goi", "cn đóng gói", "packing worker"],
         ["đóng gói sản phẩm", "dán nhãn", "kiểm hàng", "packing", "vận hành máy đóng gói"], 0.4, 6),
    _job("ve_sinh", "vệ sinh tòa nhà", "vệ sinh tòa nhà", "Building cleaner", "ビルクリーニング", "청소",
         "清潔",
         ["vệ sinh tòa nhà", "ve sinh toa nha", "tạp vụ", "building cleaning"],
         ["vệ sinh công nghiệp", "lau kính", "vận hành máy chà sàn", "cleaning", "phân loại rác"], 0.4, 3),
)}

# A prohibited job [L69 Art 7(12)(a)], only ever in planted illegal orders.
_MASSAGE = _job("massage", "dịch vụ", "massage", "Massage therapist", "マッサージ", "마사지", "按摩",
                ["massage"], ["massage body", "bấm huyệt", "massage chân"], 0.1, 0)

# Experience that is not one of the jobs above (a worker's second line).
_GENERIC_EXPERIENCE = ("làm ruộng", "lam ruong", "làm nương rẫy", "bốc vác", "bán hàng", "lao động tự do")
_SOFT_SKILLS = ("chịu khó", "sức khỏe tốt", "làm việc nhóm", "teamwork", "biết đi xe máy", "tin học cơ bản")

# Destinations: Vietnamese name (models.labels, the one table of country names), cities
# (Vietnamese, English), order weight.


def _dest(code: str, cities: tuple[tuple[str, str], ...], weight: float) -> tuple[str, tuple[tuple[str, str], ...], float]:
    return labels.COUNTRIES.label(code), cities, weight


COUNTRIES: dict[str, tuple[str, tuple[tuple[str, str], ...], float]] = {
    "JP": _dest("JP", tuple((c, c) for c in (
        "Aichi", "Osaka", "Saitama", "Chiba", "Hiroshima", "Gifu", "Shizuoka", "Ibaraki", "Kumamoto",
        "Hokkaido", "Fukuoka", "Gunma", "Tochigi", "Mie", "Okayama")), 38),
    "KR": _dest("KR", tuple((c, c) for c in (
        "Gyeonggi", "Ansan", "Gimhae", "Changwon", "Incheon", "Cheonan", "Hwaseong", "Pyeongtaek", "Gumi")), 12),
    "TW": _dest("TW", (("Đào Viên", "Taoyuan"), ("Đài Trung", "Taichung"), ("Đài Nam", "Tainan"),
                        ("Cao Hùng", "Kaohsiung"), ("Chương Hóa", "Changhua"), ("Tân Trúc", "Hsinchu"),
                        ("Nghi Lan", "Yilan"), ("Bình Đông", "Pingtung")), 20),
    "DE": _dest("DE", tuple((c, c) for c in (
        "Berlin", "München", "Hamburg", "Frankfurt am Main", "Stuttgart", "Leipzig", "Köln")), 6),
    "SA": _dest("SA", tuple((c, c) for c in ("Riyadh", "Jeddah", "Dammam")), 3),
    "AE": _dest("AE", tuple((c, c) for c in ("Dubai", "Abu Dhabi", "Sharjah")), 3),
    "QA": _dest("QA", (("Doha", "Doha"),), 2),
    "RO": _dest("RO", (("Bucharest", "Bucharest"), ("Cluj-Napoca", "Cluj-Napoca"), ("Timișoara", "Timișoara"),
                       ("Brașov", "Brașov")), 5),
    "HU": _dest("HU", tuple((c, c) for c in ("Budapest", "Győr", "Debrecen", "Kecskemét")), 4),
    "PL": _dest("PL", (("Warszawa", "Warsaw"), ("Wrocław", "Wrocław"), ("Poznań", "Poznań"), ("Łódź", "Łódź")), 5),
    "AU": _dest("AU", tuple((c, c) for c in ("Queensland", "Victoria", "Tasmania")), 2),
}
_KR_SEASONAL_COUNTIES = ("Goesan", "Yanggu", "Inje", "Hongcheon", "Jecheon", "Yeongyang", "Danyang")

# Which jobs each destination offers, under which programmes, with relative weights.
MARKET_JOBS: dict[str, dict[str, tuple[tuple[str, ...], float]]] = {
    "JP": {"che_bien": (("titp", "ssw", "esd"), 14), "may": (("titp",), 8), "dien_tu": (("titp", "esd"), 9),
           "co_khi": (("titp", "ssw"), 6), "han": (("titp", "ssw"), 8), "cop_pha": (("titp", "ssw"), 6),
           "gian_giao": (("titp", "ssw"), 4), "cot_thep": (("titp", "ssw"), 5), "noi_that": (("titp", "ssw"), 4),
           "trong_rau": (("titp", "ssw"), 7), "chan_nuoi": (("titp",), 4), "cham_soc": (("titp", "ssw"), 7),
           "nha_hang": (("ssw",), 4), "khach_san": (("ssw",), 2), "dong_goi": (("titp", "esd"), 6),
           "ve_sinh": (("ssw",), 3), "thuy_san": (("titp",), 2), "lai_xe": (("ssw",), 1)},
    "KR": {"che_bien": (("eps",), 4), "dien_tu": (("eps",), 4), "co_khi": (("eps",), 4),
           "han": (("eps", "general"), 5), "cop_pha": (("eps",), 2), "cot_thep": (("eps",), 2),
           "trong_rau": (("eps", "seasonal", "seasonal"), 9), "chan_nuoi": (("eps",), 3),
           "thuy_san": (("eps", "general"), 4)},
    "TW": {"dien_tu": (("general",), 8), "che_bien": (("general",), 5), "may": (("general",), 4),
           "co_khi": (("general",), 4), "han": (("general",), 3), "dong_goi": (("general",), 5),
           "cop_pha": (("general",), 2), "gian_giao": (("general",), 1), "cot_thep": (("general",), 1),
           "noi_that": (("general",), 1), "cham_soc": (("general",), 6), "giup_viec": (("general",), 3),
           "trong_rau": (("general",), 2), "chan_nuoi": (("general",), 1), "thuy_san": (("general",), 3)},
    "DE": {"dieu_duong": (("nursing",), 6), "cham_soc": (("nursing",), 4), "nha_hang": (("general",), 2)},
    "SA": {"cop_pha": (("general",), 2), "gian_giao": (("general",), 2), "cot_thep": (("general",), 2),
           "han": (("general",), 2), "lai_xe": (("general",), 2), "giup_viec": (("general",), 3),
           "ve_sinh": (("general",), 2), "khach_san": (("general",), 1)},
    "AE": {"gian_giao": (("general",), 1), "cot_thep": (("general",), 1), "noi_that": (("general",), 2),
           "nha_hang": (("general",), 3), "khach_san": (("general",), 3), "lai_xe": (("general",), 2),
           "ve_sinh": (("general",), 3), "giup_viec": (("general",), 2)},
    "QA": {"gian_giao": (("general",), 1), "noi_that": (("general",), 1), "nha_hang": (("general",), 2),
           "khach_san": (("general",), 2), "ve_sinh": (("general",), 2)},
    "RO": {"cop_pha": (("general",), 3), "cot_thep": (("general",), 2), "han": (("general",), 3),
           "che_bien": (("general",), 2), "nha_hang": (("general",), 2), "may": (("general",), 2),
           "lai_xe": (("general",), 2), "dong_goi": (("general",), 1), "noi_that": (("general",), 1)},
    "HU": {"dien_tu": (("general",), 4), "han": (("general",), 2), "co_khi": (("general",), 2),
           "lai_xe": (("general",), 1), "dong_goi": (("general",), 3), "khach_san": (("general",), 1),
           "noi_that": (("general",), 1)},
    "PL": {"cot_thep": (("general",), 2), "han": (("general",), 3), "che_bien": (("general",), 3),
           "dong_goi": (("general",), 3), "lai_xe": (("general",), 2), "trong_rau": (("general",), 2),
           "nha_hang": (("general",), 1), "ve_sinh": (("general",), 1)},
    "AU": {"trong_rau": (("general",), 3), "chan_nuoi": (("general",), 1), "che_bien": (("general",), 1)},
}
_MIDDLE_EAST = ("SA", "AE", "QA")
_EUROPE = ("RO", "HU", "PL")

# ---------------------------------------------------------------------------------------------
# Recruiter names: invented (inspired by the public list of licensed enterprises, none copied).

_NAME_FORMS = (
    ("Công ty Cổ phần", 5), ("Công ty TNHH", 3), ("Công ty TNHH MTV", 1), ("Công ty CP", 1),
)
_NAME_TRADES = (
    "Cung ứng Nhân lực Quốc tế", "Hợp tác Lao động Quốc tế", "Đầu tư và Phát triển Nhân lực",
    "Xuất khẩu Lao động và Thương mại", "Phát triển Nguồn nhân lực", "Dịch vụ Việc làm Quốc tế",
    "Thương mại và Hợp tác Quốc tế", "Nhân lực và Thương mại", "Hợp tác Quốc tế và Đào tạo",
    "Cung ứng Nhân lực và Du học", "Xây dựng và Cung ứng Nhân lực", "Phát triển Nhân lực Quốc tế",
)
_NAME_BRANDS = (
    "Bắc Sơn", "Việt Hưng", "Đông Á", "Phú Cường", "Kim Long", "Thành Đạt", "Lam Sơn Việt", "An Khang",
    "Nhật Minh", "Hải Nam", "Tân Phong", "Hưng Thịnh", "Trường Sinh", "Hiền Lương", "Bản Giốc", "Non Nước",
    "Pác Bó", "Phia Oắc", "Việt Nhật Tân", "Hàn Việt Phát", "Phúc Sen", "Tây Bắc", "Quang Minh", "Kim Đồng",
    "Minh Phát Cao Bằng", "Thăng Long Star", "Thạch Lâm", "Trung Sơn", "Minh Châu", "Âu Cơ", "Lạc Hồng",
    "Thiên Phúc", "Ngọc Linh", "Mẫu Sơn", "Phú Sĩ", "Hồng Hà", "TKS Việt Nam", "VNM Global", "HTC Global",
    "Đông Bắc", "Thái Hòa", "An Phúc Thịnh", "Tĩnh Túc", "Hòa Phát Nhân lực", "Anh Đào", "Nguyên Bình Phát",
)
_LICENCE_FORMS = ("{n}/LĐTBXH-GP", "{n}/LĐTBXH-GP", "{n}/GP-BLĐTBXH", "{n}/LDTBXH-GP")
_REVOKE_REASONS = (
    "Thu hồi giấy phép: không đưa người lao động đi làm việc ở nước ngoài trong 24 tháng liên tục",
    "Thu hồi giấy phép: thu tiền dịch vụ vượt mức trần, lừa đảo người lao động",
    "Thu hồi giấy phép: giả mạo hồ sơ đề nghị cấp giấy phép",
)
_SUSPEND_REASONS = (
    "Đình chỉ 6 tháng: không bảo đảm tiền ký quỹ theo quy định",
    "Đình chỉ 3 tháng: thu tiền của người lao động trước khi hợp đồng được đăng ký",
    "Đình chỉ 6 tháng: vi phạm quy định về tuyển chọn, đào tạo định hướng",
)
_REGULATOR = "Cục Quản lý lao động ngoài nước"

# ---------------------------------------------------------------------------------------------
# Result types


@dataclass
class Truth:
    """Facts known by construction (see the module docstring)."""

    illegal: dict[str, str] = field(default_factory=dict)
    not_open: dict[str, str] = field(default_factory=dict)
    best_orders: dict[str, set[str]] = field(default_factory=dict)
    best_workers: dict[str, set[str]] = field(default_factory=dict)
    twins: list[tuple[str, str]] = field(default_factory=list)  # (worker_id, order_id)
    forged_licence_pair: tuple[str, str] | None = None  # recruiter ids sharing one licence number
    order_occupation: dict[str, str] = field(default_factory=dict)  # order id -> JOBS key
    worker_occupations: dict[str, list[str]] = field(default_factory=dict)  # worker id -> JOBS keys

    @property
    def excluded(self) -> dict[str, str]:
        """Every order that is not legal and open, with its reason code."""
        return {**self.not_open, **self.illegal}


@dataclass
class SyntheticData:
    recruiters: list[Recruiter]
    orders: list[JobOrder]
    workers: list[Worker]
    truth: Truth
    seed: int
    today: dt.date

    def order(self, order_id: str) -> JobOrder:
        return self._index("orders", "order_id")[order_id]

    def worker(self, worker_id: str) -> Worker:
        return self._index("workers", "worker_id")[worker_id]

    def recruiter(self, recruiter_id: str) -> Recruiter:
        return self._index("recruiters", "recruiter_id")[recruiter_id]

    def _index(self, attr: str, key: str) -> dict[str, Any]:
        cache = self.__dict__.setdefault("_indexes", {})
        if attr not in cache:
            cache[attr] = {getattr(o, key): o for o in getattr(self, attr)}
        return cache[attr]


# ---------------------------------------------------------------------------------------------
# Small helpers

def _has_phrase(folded: str, phrase: str) -> bool:
    return f" {phrase} " in f" {folded} "


def _wchoice(rng: random.Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


class _Table:
    """A weighted table prepared once for many draws (same draws as :func:`_wchoice`)."""

    def __init__(self, weights: dict[Any, float]):
        self.keys = list(weights)
        self.cum: list[float] = []
        total = 0.0
        for k in self.keys:
            total += weights[k]
            self.cum.append(total)

    def draw(self, rng: random.Random) -> Any:
        return rng.choices(self.keys, cum_weights=self.cum, k=1)[0]


def _round_down(x: float, step: float) -> float:
    return float(int(x // step) * step)


def _days(rng: random.Random, a: int, b: int) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(a, b))


def _scaled(per_300: dict[str, int], n: int) -> dict[str, int]:
    return {k: max(1, round(v * n / 300)) for k, v in per_300.items()}


def _vnd(amount: float | None, currency: str | None) -> float:
    if amount is None or currency is None:
        return 0.0
    return float(amount) * RATES[currency]


# ---------------------------------------------------------------------------------------------
# Caps (conservative: the strictest reading that could apply, so that a legal order is legal
# under every reasonable rule set)


def order_classes(order: JobOrder, job: Job) -> list[str]:
    """Occupation classes of an order: those of its job plus those its text triggers in
    models.reference's keyword table (what a rules engine reading the text would find)."""
    text = fold(" ".join(filter(None, [order.title, order.description, " ".join(order.required_skills or [])])))
    out = list(job.classes)
    for cls, words in ref.OCCUPATION_CLASS_KEYWORDS.items():
        if cls not in out and any(_has_phrase(text, w) for w in words):
            out.append(cls)
    if order.country == "JP" and ("construction" in out or "welding" in out):
        out.append("jp_high_skill")  # construction/shipbuilding designated activities: 0.7 per 12
    return out


def fee_cap_months(country: str, programme: str | None, months: int, classes: Sequence[str]) -> float:
    """The service-fee cap, in months of wage, of the one rule of models.reference that applies
    (``ref.fee_rule_for``, the rule the gates apply), and 0 for Japan's SSW, which is free for
    former interns."""
    if country == "JP" and programme == "ssw":
        return 0.0
    rule = ref.fee_rule_for(country, programme, classes)
    cap = rule.months_per_12 * months / 12.0
    return min(cap, rule.max_months) if rule.max_months is not None else cap


def general_fee_cap_months(months: int) -> float:
    """[L69 Art 23(4)(a)]: one month per 12 months of contract, at most 3."""
    return min(months / 12.0, 3.0)


def deposit_cap_vnd(country: str, classes: Sequence[str]) -> float:
    """The deposit cap of the one rule that applies (``ref.deposit_rule_for``, as the gates)."""
    rule = ref.deposit_rule_for(country, classes)
    return rule.cap_vnd if rule.cap_vnd is not None else ref.AIR_FARE_VND.get(country, ref.DEFAULT_AIR_FARE_VND)


def _flag_words(text: str) -> list[str]:
    """Keywords of models.reference's fraud and prohibition tables found in a text."""
    folded = fold(text)
    tables: list[Iterable[str]] = [ref.PROHIBITED_JOB_KEYWORDS, ref.PROHIBITED_AREA_KEYWORDS,
                                   ref.LURE_KEYWORDS, ref.SEASONAL_KEYWORDS]
    return [w for table in tables for w in table if _has_phrase(folded, w)]


# ---------------------------------------------------------------------------------------------
# People


_FAMILY_TABLES = {eth: _Table(v[0]) for eth, v in NAMES.items()}
_ETHNIC_TABLE = _Table(ETHNIC_SHARES)
_DISTRICT_TABLES = {eth: _Table(v) for eth, v in _ETHNIC_DISTRICTS.items()}
_COMMUNE_TABLES = {d: _Table({c: w for c, dd, _, w in COMMUNES if dd == d}) for _, d, _, _ in COMMUNES}
_COMMUNE_INFO = {c: (c, d, dis) for c, d, dis, _ in COMMUNES}


def _full_name(rng: random.Random, ethnicity: str, gender: str) -> str:
    _, male_mid, female_mid, male_given, female_given = NAMES[ethnicity]
    female = gender == "female" or (gender == "other" and rng.random() < 0.5)
    while True:
        family = _FAMILY_TABLES[ethnicity].draw(rng)
        middle = rng.choice(female_mid if female else male_mid)
        given = rng.choice(female_given if female else male_given)
        name = _nfc(f"{family} {middle} {given}")
        if not name.isascii():
            return name


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        digits = rng.choice(_PHONE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(7))
        if digits not in used:
            used.add(digits)
            if rng.random() < 0.1:
                return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
            return digits


def _national_id(rng: random.Random, birth: dt.date, gender: str, used: set[str]) -> str:
    """A 12-digit citizen id (models.identity): province code 004 (Cao Bang), gender/century
    digit, year, serial; never one already in ``used`` (one person, one profile)."""
    century = 0 if birth.year < 2000 else 2
    g = century + (1 if gender == "female" else 0)
    while True:
        nid = f"004{g}{birth.year % 100:02d}{rng.randint(0, 999_999):06d}"
        if nid not in used:
            used.add(nid)
            return nid


def _birth_for_age(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date giving exactly ``age`` whole years on ``on``."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    year = on.year - age
    if (month, day) > (on.month, on.day):
        year -= 1
    return dt.date(year, month, day)


def _commune(rng: random.Random, ethnicity: str) -> tuple[str, str, bool]:
    district = _DISTRICT_TABLES[ethnicity].draw(rng)
    return _COMMUNE_INFO[_COMMUNE_TABLES[district].draw(rng)]


def _education(rng: random.Random, hard: bool) -> str:
    if hard:
        weights = [4, 14, 50, 24, 6, 1.5, 0.5]
    else:
        weights = [1, 5, 38, 40, 10, 4, 2]
    return rng.choices(EDUCATION_LEVELS, weights=weights, k=1)[0]


def _household(rng: random.Random, disadvantaged: bool, ethnicity: str) -> str | None:
    p_poor, p_near = (0.28, 0.18) if disadvantaged else (0.08, 0.10)
    if ethnicity in ("Mông", "Dao", "Lô Lô"):
        p_poor += 0.06
    r = rng.random()
    return "poor" if r < p_poor else "near_poor" if r < p_poor + p_near else None


def _vary(rng: random.Random, text: str, p_strip: float = 0.2) -> str:
    return strip_diacritics(text) if rng.random() < p_strip else text


def _years_text(years: float) -> str:
    return str(int(years)) if float(years).is_integer() else f"{years:.1f}"


# ---------------------------------------------------------------------------------------------
# Certificates


def _date_text(d: dt.date, precision: str) -> str:
    if precision == "none":
        return ""
    if precision == "year":
        return f" ({d.year})"
    if precision == "month":
        return f" ({d:%Y-%m})"
    return f" ({d.isoformat()})"


def _jlpt_date(rng: random.Random, today: dt.date, min_age_days: int, max_age_days: int) -> dt.date:
    """A JLPT session (first Sunday of July or December) in the given age window."""
    for _ in range(50):
        d = today - _days(rng, min_age_days, max_age_days)
        month = 7 if d.month <= 9 else 12
        first = dt.date(d.year, month, 1)
        sunday = first + dt.timedelta(days=(6 - first.weekday()) % 7)
        if today - dt.timedelta(days=max_age_days) <= sunday <= today - dt.timedelta(days=min_age_days):
            return sunday
    return today - dt.timedelta(days=min_age_days)


def _cert_text(rng: random.Random, kind: str, today: dt.date, *, value: str | None = None,
               expired: bool = False, recent: bool = False) -> str:
    """One certificate in FORMAT.md notation with a plausible test date.

    ``kind``: jlpt, jft, jft_score, eps, topik, goethe, cefr, hsk, tocfl. ``value`` forces the
    level (``"N4"``, ``"B1"``, ``"2"``) or the score. ``expired`` (EPS-TOPIK only) dates the test
    more than two years back; ``recent`` keeps it within the last 20 months.
    """
    lo, hi = (20, 600) if recent else (20, 1500)
    precision = rng.choices(["year", "month", "day", "none"], weights=[4, 4, 2, 1], k=1)[0]
    if kind == "jlpt":
        label = value or rng.choices(["N5", "N4", "N3"], weights=[55, 35, 10], k=1)[0]
        d = _jlpt_date(rng, today, lo, hi)
        return f"JLPT {label}{_date_text(d, precision)}"
    if kind in ("jft", "jft_score"):
        d = today - _days(rng, lo, hi)
        if kind == "jft_score":
            body = f"JFT-Basic {value or rng.randint(180, 240)}"
        else:
            body = f"JFT-Basic {value or 'A2'}"
        return body + _date_text(d, precision)
    if kind == "eps":
        score = int(value) if value else rng.choice([rng.randint(80, 185), rng.randint(80, 185), rng.randint(60, 79)])
        if expired:
            d = today - _days(rng, 800, 1400)
        else:
            d = today - _days(rng, 20, 560)
        # the year alone is read as July 1st: use it only where that cannot flip validity
        assumed_start = dt.date(d.year, 7, 1)
        end = dt.date(d.year + 2, 7, 1)
        if precision == "none" or (precision == "year" and not (
                (expired and end < today - dt.timedelta(days=30))
                or (not expired and assumed_start <= today - dt.timedelta(days=14)
                    and end > today + dt.timedelta(days=240)))):
            precision = "month"
        return f"EPS-TOPIK {score}{_date_text(d, precision)}"
    d = today - _days(rng, lo, hi)
    if kind == "topik":
        return f"TOPIK {value or rng.choices(['1', '2', '3'], weights=[40, 40, 20], k=1)[0]}{_date_text(d, precision)}"
    if kind == "goethe":
        label = value or rng.choices(["A2", "B1", "B2"], weights=[35, 45, 20], k=1)[0]
        return f"Goethe {label}{_date_text(d, precision)}"
    if kind == "cefr":
        return f"CEFR {value or rng.choice(['A2', 'A2', 'B1'])}{_date_text(d, precision)}"
    if kind == "hsk":
        return f"HSK {value or rng.choice(['1', '2', '2', '3'])}{_date_text(d, precision)}"
    if kind == "tocfl":
        return f"TOCFL {value or rng.choice(['1', '1', '2'])}{_date_text(d, precision)}"
    raise ValueError(f"The 'kind' of a certificate must be a known exam. Got {kind!r} instead.")


# Notations every data set must show (FORMAT.md), handed out first to workers of each market.
_COVERAGE: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "ja": [("jlpt", {"value": "N5"}), ("jlpt", {"value": "N4"}), ("jlpt", {"value": "N3"}),
           ("jft", {"value": "A2"}), ("jft_score", {})],
    "ko": [("eps", {"value": "152"}), ("eps", {"value": "131", "expired": True}), ("topik", {"value": "1"}),
           ("topik", {"value": "2"}), ("topik", {"value": "3"})],
    "de": [("goethe", {"value": "A2"}), ("goethe", {"value": "B1"}), ("goethe", {"value": "B2"}),
           ("cefr", {"value": "B1"})],
    "zh": [("hsk", {"value": "2"}), ("tocfl", {"value": "1"})],
    "en": [("cefr", {"value": "A2"})],
}
_COUNTRY_LANGUAGE = {"JP": "ja", "KR": "ko", "TW": "zh", "DE": "de"}


def _certificate_entities(texts: Sequence[str]) -> list[LanguageCertificate]:
    out = []
    for i, text in enumerate(texts):
        c = parse_certificate(text)
        out.append(LanguageCertificate(position=i, raw=c.raw, exam=c.exam, language=c.language,
                                       label=c.label, score=c.score, level=c.level, test_date=c.test_date))
    return out


# ---------------------------------------------------------------------------------------------
# The generator


@dataclass
class _OrderPlan:
    order: JobOrder
    job: Job
    code: str | None = None  # illegal or not-open code
    twin: bool = False


@dataclass
class _WorkerPlan:
    worker: Worker
    jobs: list[str]
    wish: str  # the JOBS key the worker wants (the main occupation, or a wish without experience)
    twin_of: _OrderPlan | None = None


class _Generator:
    def __init__(self, seed: int, workers: int, orders: int, recruiters: int, twins: int, today: dt.date):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_workers = workers
        self.n_orders = orders
        self.n_recruiters = recruiters
        self.n_twins = twins
        self.today = today
        self.phones: set[str] = set()
        self.national_ids: set[str] = set()
        self.approval_numbers = iter(self.rng.sample(range(1000, 1000 + max(9000, 3 * orders)), orders))
        self.cover_queue = {lang: list(items) for lang, items in _COVERAGE.items()}
        self.offer_tables: dict[str, _Table] = {}
        self.job_tables = {male: _Table({k: j.supply * (j.male_share if male else 1 - j.male_share) + 0.01
                                         for k, j in JOBS.items()}) for male in (True, False)}

    # -- recruiters --------------------------------------------------------------------------

    def recruiters(self) -> None:
        rng, today = self.rng, self.today
        n_enterprises = self.n_recruiters - 3  # COLAB and two local governments
        names = self._company_names(n_enterprises)
        numbers = rng.sample(range(12, 480), n_enterprises)
        self.colab = Recruiter(
            name="Trung tâm Lao động ngoài nước (COLAB)", licence_no="1231/QĐ-BLĐTBXH",
            licence_date=dt.date(2007, 9, 3), status="active", status_date=None, markets=["KR", "DE"],
            website="https://colab.gov.vn", phone="024 3734 6796", recruiter_type="public_agency",
            extra={"note": "Chương trình EPS (Hàn Quốc) và Triple Win (Đức)"}, status_history=[],
        )
        self.local_govs = [
            Recruiter(name=f"UBND xã {commune}", licence_no=f"{num}/QĐ-UBND", licence_date=today - _days(rng, 300, 700),
                      status="active", status_date=None, markets=["KR"], website=f"https://{site}.caobang.gov.vn",
                      phone=f"0206 38{rng.randint(10, 99)} {rng.randint(100, 999)}", recruiter_type="local_government",
                      extra={"note": f"Thỏa thuận lao động thời vụ E-8 với {county} (Hàn Quốc)"}, status_history=[])
            for commune, site, num, county in (("Trùng Khánh", "trungkhanh", 86, "Goesan"),
                                                ("Hà Quảng", "haquang", 142, "Yanggu"))
        ]
        self.enterprises: list[Recruiter] = []
        for i in range(n_enterprises):
            name, brand = names[i]
            licence_date = dt.date(2010, 1, 1) + _days(rng, 0, (today - dt.date(2010, 1, 1)).days - 400)
            form = rng.choice(_LICENCE_FORMS)
            r = Recruiter(
                name=name, licence_no=form.format(n=numbers[i]), licence_date=licence_date, status="active",
                status_date=None, markets=self._markets(), website=self._website(brand),
                phone=rng.choice([f"024 {rng.randint(3500, 7399)} {rng.randint(1000, 9999)}",
                                  f"0{rng.choice(_PHONE_PREFIXES)[1:]}{rng.randint(1_000_000, 9_999_999)}",
                                  f"0206 {rng.randint(3800, 3899)} {rng.randint(100, 999)}"]),
                recruiter_type="enterprise",
                extra={"enterprise_code": f"0{rng.choice([1, 1, 1, 3, 4, 8])}0{rng.randint(1_000_000, 9_999_999)}"},
                status_history=[],
            )
            self.enterprises.append(r)
        for r in [self.colab, *self.local_govs, *self.enterprises]:
            r.status_history.append(LicenceStatusChange(
                status="active", effective_date=r.licence_date, reason="Cấp giấy phép" if r.recruiter_type ==
                "enterprise" else "Quyết định giao nhiệm vụ", changed_by=_REGULATOR if r.recruiter_type !=
                "local_government" else "UBND tỉnh Cao Bằng"))
        # special enterprises: 2 revoked, 2 suspended, 1 reinstated, 1 pair sharing a licence
        special = rng.sample(range(n_enterprises), 7)
        self.revoked = [self.enterprises[i] for i in special[0:2]]
        self.suspended = [self.enterprises[i] for i in special[2:4]]
        reinstated = self.enterprises[special[4]]
        self.forged = [self.enterprises[i] for i in special[5:7]]
        for k, r in enumerate(self.revoked):
            d_susp = today - _days(rng, 150, 260)
            d_rev = d_susp + _days(rng, 40, 120)
            if k == 0:
                self._change(r, "suspended", d_susp, rng.choice(_SUSPEND_REASONS))
            self._change(r, "revoked", d_rev, _REVOKE_REASONS[k % len(_REVOKE_REASONS)])
        for r in self.suspended:
            self._change(r, "suspended", today - _days(rng, 15, 120), rng.choice(_SUSPEND_REASONS))
        d = today - _days(rng, 330, 420)
        self._change(reinstated, "suspended", d, rng.choice(_SUSPEND_REASONS))
        self._change(reinstated, "active", d + _days(rng, 90, 180), "Hết thời hạn đình chỉ, khắc phục vi phạm")
        # one licence number on two enterprises, up to diacritics: a forgery sign (DOMAIN.md)
        base = self.forged[0].licence_no.split("/")[0]
        self.forged[0].licence_no = f"{base}/LĐTBXH-GP"
        self.forged[1].licence_no = f"{base}/LDTBXH-GP"
        self.forged[1].markets = list(self.forged[0].markets)
        self.clean = [r for r in self.enterprises if r not in self.revoked + self.suspended + self.forged]
        # every destination has a clean enterprise; seasonal-private orders need one with KR
        for country in COUNTRIES:
            if not any(country in r.markets for r in self.clean):
                rng.choice(self.clean).markets.append(country)
        self.all_recruiters = [self.colab, *self.local_govs, *self.enterprises]

    def _change(self, r: Recruiter, status: str, day: dt.date, reason: str) -> None:
        r.status_history.append(LicenceStatusChange(status=status, effective_date=day, reason=reason,
                                                    changed_by=_REGULATOR))
        r.status, r.status_date = status, day

    def _company_names(self, n: int) -> list[tuple[str, str]]:
        """``n`` invented enterprise names, each with its brand (for the website)."""
        rng = self.rng
        brands = rng.sample(_NAME_BRANDS, min(n, len(_NAME_BRANDS)))
        while len(brands) < n:
            brands.append(f"{rng.choice(_NAME_BRANDS)} {len(brands)}")
        out = []
        for brand in brands:
            form = _wchoice(rng, dict(_NAME_FORMS))
            trade = rng.choice(_NAME_TRADES)
            out.append((_nfc(f"{form} {trade} {brand}"), brand))
        return out

    def _markets(self) -> list[str]:
        rng = self.rng
        weights = {c: w for c, (_, _, w) in COUNTRIES.items()}
        weights["KR"] = 3  # private senders only for E-7 and E-10; EPS goes through COLAB
        k = rng.choices([1, 2, 3, 4], weights=[3, 4, 3, 1], k=1)[0]
        out: list[str] = []
        while len(out) < k:
            c = _wchoice(rng, weights)
            if c not in out:
                out.append(c)
        return out

    def _website(self, brand: str) -> str:
        slug = "".join(fold(brand).split()) + self.rng.choice(["", "", "jsc", "hr", "group"])
        return f"https://{slug}.{self.rng.choice(['vn', 'com.vn', 'vn'])}"

    # -- orders ------------------------------------------------------------------------------

    def combos(self) -> list[tuple[str, str, str, float]]:
        """(job, country, programme, weight) of every offer, weights summing per country to its share."""
        out = []
        # Employment for Skill Development replaces TITP from 2027-04-01: offered only when its
        # first departures fall within the promised wait (175 days from today)
        esd_open = self.today + dt.timedelta(days=175) >= ESD_START
        for country, jobs in MARKET_JOBS.items():
            total = sum(w for _, w in jobs.values())
            share = COUNTRIES[country][2]
            for job, (programmes, w) in jobs.items():
                if not esd_open:
                    programmes = tuple(dict.fromkeys("titp" if p == "esd" else p for p in programmes))
                for p in programmes:
                    out.append((job, country, p, share * w / total / len(programmes)))
        return out

    def orders(self) -> None:
        rng = self.rng
        combos = self.combos()
        key_weight: dict[tuple[str, str], float] = {}
        for job, country, _, w in combos:
            key_weight[(job, country)] = key_weight.get((job, country), 0.0) + w
        # twin keys: rarer offers first, never the last free offer of a country, never KR farming
        # (the local governments' seasonal orders live there)
        # and never the last free offer of a job (other workers of that trade need somewhere to go)
        free_per_country = {c: sum(1 for (_, cc) in key_weight if cc == c) for c in COUNTRIES}
        free_per_job = {j: sum(1 for (jj, _) in key_weight if jj == j) for j in JOBS}
        candidates = [k for k in key_weight if k != ("trong_rau", "KR")]
        self.twin_keys: list[tuple[str, str]] = []
        while len(self.twin_keys) < self.n_twins and candidates:
            k = rng.choices(candidates, weights=[1.0 / key_weight[c] ** 0.5 for c in candidates], k=1)[0]
            candidates.remove(k)
            if free_per_country[k[1]] <= 1 or free_per_job[k[0]] <= 1:
                continue
            free_per_country[k[1]] -= 1
            free_per_job[k[0]] -= 1
            self.twin_keys.append(k)
        if len(self.twin_keys) < self.n_twins:
            raise ValueError(f"Only {len(self.twin_keys)} twin pairs fit the offers; asked for {self.n_twins}.")
        self.twin_key_set = set(self.twin_keys)
        free = [c for c in combos if (c[0], c[1]) not in self.twin_key_set]

        plans: list[_OrderPlan] = []
        for job, country in self.twin_keys:
            programmes = [c for c in combos if (c[0], c[1]) == (job, country)]
            _, _, programme, _ = rng.choices(programmes, weights=[c[3] for c in programmes], k=1)[0]
            plan = self._order(JOBS[job], country, programme, self._sender(country, programme))
            plan.twin = True
            plans.append(plan)
        n_illegal = _scaled(_ILLEGAL_PER_300, self.n_orders)
        n_not_open = _scaled(_NOT_OPEN_PER_300, self.n_orders)
        n_normal = self.n_orders - len(plans) - sum(n_illegal.values()) - sum(n_not_open.values())
        if n_normal < 0:
            raise ValueError(f"The 'orders' parameter is too small for {self.n_twins} twin pairs and the "
                             f"planted orders: need at least {self.n_orders - n_normal}. Got {self.n_orders} instead.")
        for _ in range(n_normal):
            job, country, programme, _ = rng.choices(free, weights=[c[3] for c in free], k=1)[0]
            plans.append(self._order(JOBS[job], country, programme, self._sender(country, programme)))
        for code, n in n_not_open.items():
            for _ in range(n):
                job, country, programme, _ = rng.choices(combos, weights=[c[3] for c in combos], k=1)[0]
                plan = self._order(JOBS[job], country, programme, self._sender(country, programme), code=code)
                plans.append(plan)
        for code, n in n_illegal.items():
            for i in range(n):
                plans.append(self._illegal(code, i, combos))
        rng.shuffle(plans)
        for i, p in enumerate(plans, start=1):
            p.order.order_id = f"O{i:04d}"
            p.order.recruiter_id = p.order.recruiter.recruiter_id
        self.order_plans = plans

    def _sender(self, country: str, programme: str) -> Recruiter:
        rng = self.rng
        if programme == "eps":
            return self.colab
        if programme == "seasonal":
            return rng.choice(self.local_govs)
        if programme == "nursing" and rng.random() < 0.4:
            return self.colab
        pool = [r for r in self.clean if country in r.markets]
        return rng.choice(pool)

    def _illegal(self, code: str, i: int, combos: list[tuple[str, str, str, float]]) -> _OrderPlan:
        rng = self.rng
        private = [c for c in combos if c[2] not in ("eps", "seasonal", "nursing")]

        def pick(pool, countries=None):
            pool = [c for c in pool if countries is None or c[1] in countries]
            job, country, programme, _ = rng.choices(pool, weights=[c[3] for c in pool], k=1)[0]
            return JOBS[job], country, programme

        if code in ("licence_revoked", "licence_suspended", "duplicate_licence_no"):
            group = {"licence_revoked": self.revoked, "licence_suspended": self.suspended,
                     "duplicate_licence_no": self.forged}[code]
            r = group[i % len(group)]
            job, country, programme = pick(private, r.markets)
            last_change = max(c.effective_date for c in r.status_history)
            before = last_change if code != "duplicate_licence_no" else None
            if code == "licence_revoked" and len(r.status_history) > 2:
                before = r.status_history[1].effective_date  # approved before the suspension
            return self._order(job, country, programme, r, code=code, approved_before=before)
        if code == "seasonal_private_sender":
            r = rng.choice([e for e in self.clean if "KR" in e.markets] or self.clean)
            return self._order(JOBS["trong_rau"], "KR", "seasonal", r, code=code)
        if code == "deposit_over_cap":
            job, country, programme = pick(private, ("TW",))
        elif code == "prohibited_job":
            country, programme = rng.choice(["TW", "AE", "SA"]), "general"
            return self._order(_MASSAGE, country, programme, self._sender(country, programme), code=code)
        else:
            job, country, programme = pick(private)
        return self._order(job, country, programme, self._sender(country, programme), code=code)

    def _order(self, job: Job, country: str, programme: str, recruiter: Recruiter, *, code: str | None = None,
               approved_before: dt.date | None = None) -> _OrderPlan:
        rng, today = self.rng, self.today
        city_vi, city_en = rng.choice(COUNTRIES[country][1])
        if programme == "seasonal":
            city_vi = city_en = rng.choice(_KR_SEASONAL_COUNTIES)
        home_care = job.key == "cham_soc" and country == "TW" and rng.random() < 0.5
        wage, currency = self._wage(job, country, programme, home_care)
        months = self._contract_months(country, programme, job)
        title = self._title(job, country, programme, city_vi, city_en, home_care)
        description = self._description(job, country, programme, city_vi, home_care, months)
        language = self._language(job, country, programme)
        min_age, max_age = self._ages(job, country, programme)
        gender = self._gender(job)
        skills = rng.sample(job.skills, k=min(len(job.skills), rng.randint(1, 3)))
        skills = [_vary(rng, s, 0.15) for s in skills]
        order = JobOrder(
            recruiter=recruiter, title=title, description=description, country=country, programme=programme,
            required_skills=skills, language_requirement=language, min_age=min_age, max_age=max_age,
            gender=gender, min_education=self._min_education(country, programme),
            min_experience_years=self._min_experience(programme), positions=rng.randint(2, 30),
            places_filled=0, monthly_wage=wage, wage_currency=currency, contract_months=months,
            service_fee_vnd=0.0, brokerage_fee_vnd=0.0, deposit_vnd=0.0, status="open", extra={},
        )
        order.places_filled = rng.randint(0, order.positions // 2)
        classes = order_classes(order, job)
        wage_vnd = _vnd(wage, currency)
        cap = fee_cap_months(country, programme, months, classes)
        order.service_fee_vnd = _round_down(rng.uniform(0.3, 0.8) * cap * wage_vnd, 100_000)
        if programme == "eps":  # the public programme's fixed costs, about USD 630
            order.service_fee_vnd = min(order.service_fee_vnd, float(rng.randint(145, 170) * 100_000))
        elif programme == "seasonal" and recruiter.recruiter_type == "local_government":
            order.service_fee_vnd = min(order.service_fee_vnd, float(rng.randint(20, 50) * 100_000))
        dep_cap = deposit_cap_vnd(country, classes)
        if dep_cap > 0 and programme not in ("eps", "seasonal", "nursing") and rng.random() < 0.6:
            order.deposit_vnd = _round_down(rng.uniform(0.4, 0.8) * dep_cap, 1_000_000)
        # dates: approved after the recruiter's last status change, or (for an order of a
        # recruiter whose licence was withdrawn later) some weeks before that change
        if approved_before:
            upper = approved_before - dt.timedelta(days=5)
            lower = max(upper - dt.timedelta(days=90), recruiter.licence_date + dt.timedelta(days=30))
        else:
            upper = today - dt.timedelta(days=3)
            last_change = max(c.effective_date for c in recruiter.status_history)
            lower = min(max(last_change + dt.timedelta(days=1), today - dt.timedelta(days=150)), upper)
        order.approval_date = lower + _days(rng, 0, max(0, (upper - lower).days))
        num = next(self.approval_numbers)
        order.approval_no = (f"{num}/QĐ-UBND" if recruiter.recruiter_type == "local_government"
                             else f"{num}/QLLĐNN-{ {'JP': 'NB', 'TW': 'ĐL', 'KR': 'HQ'}.get(country, 'TTLĐ') }")
        # departure within 175 days of today: the promised wait stays under 180 days [L69 Art 26]
        order.deadline = today + _days(rng, 12, 95)
        order.departure_date = order.deadline + _days(rng, 30, min(120, (today - order.deadline).days + 175))
        if programme == "esd":  # Employment for Skill Development starts 2027-04-01
            order.departure_date = max(order.departure_date, ESD_START + _days(rng, 0, 45))
        plan = _OrderPlan(order, job, code)
        self._plant(plan, wage_vnd, months, classes)
        self._check_text(plan)
        return plan

    def _plant(self, plan: _OrderPlan, wage_vnd: float, months: int, classes: Sequence[str]) -> None:
        """Apply the one defect (or the one not-open reason) of a planted order."""
        rng, o, today = self.rng, plan.order, self.today
        code = plan.code
        if code == "no_approval":
            o.approval_no, o.approval_date = None, None
        elif code == "service_fee_over_cap":
            o.service_fee_vnd = _round_down(3.0 * max(general_fee_cap_months(months), 1.0) * wage_vnd, 1_000_000)
        elif code == "brokerage_fee":
            o.brokerage_fee_vnd = float(rng.choice([15, 20, 25, 30, 40])) * 1_000_000
        elif code == "deposit_over_cap":
            o.deposit_vnd = float(rng.choice([45, 50, 60])) * 1_000_000
        elif code == "order_closed":
            o.status = "closed"
        elif code == "deadline_passed":
            o.deadline = today - _days(rng, 3, 60)
            o.approval_date = min(o.approval_date, o.deadline - dt.timedelta(days=10))
            o.departure_date = o.deadline + _days(rng, 30, 120)

    def _check_text(self, plan: _OrderPlan) -> None:
        o = plan.order
        words = _flag_words(f"{o.title} {o.description} {' '.join(o.required_skills)}")
        expected: list[str] = []
        if plan.job is _MASSAGE:
            expected = ["massage"]
        if o.programme == "seasonal":
            expected = list(ref.SEASONAL_KEYWORDS)
        unexpected = [w for w in words if w not in expected]
        if unexpected:  # pragma: no cover - a template error
            raise AssertionError(f"order text {o.title!r} carries flag words {unexpected}")

    def _wage(self, job: Job, country: str, programme: str, home_care: bool) -> tuple[float, str]:
        rng = self.rng
        if country == "JP":
            lo, hi = {"titp": (150, 185), "ssw": (175, 220), "esd": (160, 190)}[programme]
            if job.key == "cham_soc":
                lo, hi = lo + 10, min(hi + 5, 220)
            return float(rng.randint(lo, hi) * 1000), "JPY"
        if country == "KR":
            if programme == "general":
                lo, hi = (260, 320) if job.key == "han" else (220, 250)
            elif programme == "seasonal":
                lo, hi = 216, 230
            else:
                lo, hi = 216, 260
            return float(rng.randint(lo, hi) * 10_000), "KRW"
        if country == "TW":
            if home_care or job.key == "giup_viec":
                return float(rng.randint(200, 210) * 100), "TWD"
            return float(rng.randint(295, 350) * 100), "TWD"
        if country == "DE":
            if job.key == "nha_hang":
                return float(rng.randint(20, 25) * 100), "EUR"
            return float(rng.randint(115, 145) * 10), "EUR"  # Ausbildung pay; raised below for B2 nurses
        if country in _MIDDLE_EAST:
            domestic = job.key == "giup_viec"
            cur = {"SA": rng.choice(["USD", "SAR"]), "AE": "AED", "QA": "USD"}[country]
            usd = rng.randint(36, 42) * 10 if domestic else rng.randint(46, 70) * 10
            if cur == "USD":
                return float(usd), cur
            per_usd = RATES["USD"] / RATES[cur]
            return float(int(usd * per_usd / 50 + 1) * 50), cur
        if country in _EUROPE:
            cur = rng.choice(["EUR", "EUR", "USD"])
            lo, hi = (85, 115) if cur == "EUR" else (95, 130)
            return float(rng.randint(lo, hi) * 10), cur
        if country == "AU":
            return float(rng.randint(38, 46) * 100), "AUD"
        raise AssertionError(country)  # pragma: no cover

    def _contract_months(self, country: str, programme: str, job: Job) -> int:
        rng = self.rng
        if country == "JP":
            return {"titp": rng.choice([36, 36, 36, 12]), "ssw": rng.choice([36, 48, 60]), "esd": 36}[programme]
        if country == "KR":
            return {"eps": 58, "seasonal": rng.choice([3, 5, 5]), "general": 36}[programme]
        if country in ("TW", "DE"):
            return 36
        if country in _MIDDLE_EAST:
            return 24
        if country in _EUROPE:
            return rng.choice([12, 24, 24])
        return rng.choice([9, 12])  # AU

    def _language(self, job: Job, country: str, programme: str) -> str | None:
        rng = self.rng
        if country == "JP":
            if programme == "ssw":
                return rng.choice(["JLPT N4", "JLPT N4", "JFT-Basic A2"])
            if programme == "esd":
                return "JLPT N5"
            if job.key == "cham_soc":
                return "JLPT N4"  # caregivers N4 [TT02 App II]
            return rng.choice(["JLPT N5", None])
        if country == "KR":
            if programme == "eps":
                return "EPS-TOPIK 80"
            if programme == "general" and job.key == "han":
                return "TOPIK 2"
            return None
        if country == "TW":
            if job.key == "cham_soc":
                return rng.choice(["TOCFL 1", "HSK 2", None, None])
            return rng.choice([None] * 12 + ["TOCFL 1"])
        if country == "DE":
            if job.key == "dieu_duong":
                return rng.choice(["Goethe B1", "Goethe B2"])
            return "Goethe B1"
        if job.key in ("nha_hang", "khach_san") and rng.random() < 0.5:
            return "CEFR A2"
        return None

    def _ages(self, job: Job, country: str, programme: str) -> tuple[int | None, int | None]:
        rng = self.rng
        if country == "JP":
            return {"titp": (18, rng.choice([30, 32, 35])), "ssw": (18, rng.choice([35, 40])),
                    "esd": (18, 35)}[programme]
        if country == "KR":
            return (25, 50) if programme == "seasonal" else (18, 39)
        if country == "DE":
            return 18, 35
        if job.key == "giup_viec":
            return 25, rng.choice([45, 50])
        if country == "TW":
            return 20, rng.choice([38, 40, 45])
        return rng.choice([(20, 45), (21, 40), (None, 45), (22, None)])

    def _gender(self, job: Job) -> str | None:
        r = self.rng.random()
        if job.key == "giup_viec":
            return "female"
        if job.male_share >= 0.9:
            return "male" if r < 0.7 else _any_gender(r)
        if job.male_share <= 0.15:
            return "female" if r < 0.6 else _any_gender(r)
        return _any_gender(r)

    def _min_education(self, country: str, programme: str) -> str | None:
        rng = self.rng
        if programme == "nursing":
            return "upper_secondary"
        if programme == "ssw":
            return rng.choice(["lower_secondary", "upper_secondary"])
        if country == "JP":
            return "lower_secondary"
        return rng.choice([None, None, "primary", "lower_secondary"])

    def _min_experience(self, programme: str) -> float | None:
        rng = self.rng
        if programme == "ssw":
            return rng.choice([0.0, 1.0, 1.0, 2.0])
        return rng.choice([None, None, 0.0, 0.5, 1.0])

    def _title(self, job: Job, country: str, programme: str, city_vi: str, city_en: str, home_care: bool) -> str:
        rng = self.rng
        vi, en = job.vi, job.en
        cvi = COUNTRIES[country][0]
        if job is _MASSAGE:
            return rng.choice([f"Nhân viên massage - {cvi} ({city_vi})",
                               f"Massage therapist / Kỹ thuật viên massage - {city_en}",
                               f"Kỹ thuật viên massage trị liệu - {city_en}"])
        if country == "JP":
            forms = {
                "titp": [f"Thực tập sinh {vi} - {city_vi}", f"TTS {vi} 3 năm - {city_vi}",
                         f"技能実習 {job.ja} / Thực tập sinh {vi} ({city_vi})"],
                "ssw": [f"Kỹ năng đặc định {vi} - {city_vi}", f"{en} (SSW) - {city_en}",
                        f"特定技能 {job.ja} / {vi} - {city_vi}", f"Tokutei Ginou {vi} - {city_vi}"],
                "esd": [f"Dục thành lao động (ESD) {vi} - {city_vi}", f"育成就労 {job.ja} / {vi} - {city_vi}"],
            }[programme]
            return rng.choice(forms)
        if country == "KR":
            if programme == "seasonal":
                return rng.choice([f"Lao động thời vụ E-8 nông nghiệp - {city_vi}",
                                   f"계절근로자 E-8 / Lao động thời vụ trồng rau - {city_vi}"])
            if programme == "general":
                if job.key == "han":
                    return rng.choice(["Thợ hàn đóng tàu E-7-3 - Ulsan", "Welder E-7-3 (shipbuilding) - Geoje"])
                return rng.choice([f"Thuyền viên tàu cá gần bờ E-10 - {c}" for c in ("Tongyeong", "Mokpo", "Yeosu")])
            sector = {"construction": "건설업 xây dựng", "agriculture": "농축산업 nông nghiệp",
                      "coastal_fishing": "어업 ngư nghiệp"}.get((job.classes or ("",))[0], "제조업 sản xuất")
            return rng.choice([f"E-9 {sector} - công nhân {vi}", f"EPS E-9 {vi} - {city_vi}",
                               f"E-9 {job.ko} / {vi} - {city_vi}"])
        if country == "TW":
            if home_care:
                return rng.choice([f"Khán hộ công chăm sóc người già tại gia - Đài Loan ({city_vi})",
                                   f"家庭看護工 / Khán hộ công chăm sóc tại gia - {city_en}"])
            if job.key == "cham_soc":
                return rng.choice([f"Hộ lý viện dưỡng lão - Đài Loan ({city_vi})",
                                   f"機構看護工 / Hộ lý viện dưỡng lão - {city_en}"])
            return rng.choice([f"{vi[0].upper() + vi[1:]} - Đài Loan ({city_vi})",
                               f"台灣 {job.zh} / {vi} - {city_en}", f"Tuyển lao động {vi} đi Đài Loan - {city_vi}"])
        if country == "DE":
            return {
                "dieu_duong": rng.choice([f"Pflegefachkraft / Điều dưỡng Đức - {city_vi}",
                                          f"Ausbildung Pflege - Điều dưỡng viên tại {city_vi}"]),
                "cham_soc": rng.choice([f"Pflegehelfer / Hộ lý chăm sóc người cao tuổi - {city_vi}",
                                        f"Altenpflege Ausbildung / Chăm sóc người cao tuổi - {city_vi}"]),
                "nha_hang": rng.choice([f"Koch / Đầu bếp nhà hàng - {city_vi}",
                                        f"Restaurantfachkraft / Phục vụ nhà hàng - {city_vi}"]),
            }[job.key]
        return rng.choice([f"{en} - {city_en}", f"{vi[0].upper() + vi[1:]} - {cvi} ({city_vi})",
                           f"{en} / {vi} - {city_en}"])

    def _description(self, job: Job, country: str, programme: str, city: str, home_care: bool, months: int) -> str:
        rng = self.rng
        cvi = COUNTRIES[country][0]
        place = {
            "cham_soc": "chăm sóc người già tại gia" if home_care else "viện dưỡng lão",
            "dieu_duong": "cơ sở điều dưỡng",
            "giup_viec": "hộ gia đình",
            "massage": "spa, trung tâm massage",
        }.get(job.key, rng.choice(["nhà máy", "công ty", "xí nghiệp", "công trường"]
                                  if "construction" in job.classes else ["nhà máy", "công ty", "xí nghiệp"]))
        if job.key in ("nha_hang", "khach_san"):
            place = "nhà hàng" if job.key == "nha_hang" else "khách sạn"
        if "agriculture" in job.classes:
            place = "nông trại"
        if job.key == "thuy_san":
            place = "tàu cá gần bờ" if country in ("KR", "TW") else "cơ sở nuôi trồng thủy sản"
        hours = rng.choice([8, 8, 8, 9, 10])
        days = rng.choice([5, 5, 6])
        housing = rng.choice(["Công ty hỗ trợ ký túc xá.", "Chủ sử dụng bố trí chỗ ở miễn phí.",
                              "Có nhà ở, người lao động tự trả tiền điện nước.",
                              "Hỗ trợ một phần tiền nhà và bữa trưa."])
        parts = [f"Làm việc tại {place} ở {city}, {cvi}. Công việc: {job.vi}.",
                 f"Thời gian làm việc {hours} giờ/ngày, {days} ngày/tuần; có làm thêm giờ theo luật nước sở tại.",
                 housing, f"Hợp đồng {months} tháng."]
        if programme == "seasonal":
            parts.append("Tuyển theo thỏa thuận hợp tác giữa hai địa phương; ưu tiên hộ nghèo, cận nghèo.")
        if programme == "nursing":
            parts.append("Học tiếng Đức trước khi xuất cảnh; không thu phí của học viên.")
        if programme == "eps":
            parts.append("Tuyển từ danh sách người lao động đạt kỳ thi EPS-TOPIK còn hiệu lực.")
        return " ".join(parts)

    # -- workers -----------------------------------------------------------------------------

    def workers(self) -> None:
        rng = self.rng
        twin_plans = [p for p in self.order_plans if p.twin]
        plans = [self._twin(p) for p in twin_plans]
        plans += [self._worker() for _ in range(self.n_workers - len(plans))]
        self._check_separation(plans)
        rng.shuffle(plans)
        for i, p in enumerate(plans, start=1):
            p.worker.worker_id = f"W{i:05d}"
            for c in p.worker.certificates:
                c.worker_id = p.worker.worker_id
        self.worker_plans = plans

    def _person(self, gender: str) -> dict[str, Any]:
        rng, today = self.rng, self.today
        ethnicity = _ETHNIC_TABLE.draw(rng)
        commune, district, disadvantaged = _commune(rng, ethnicity)
        consent = rng.random() < 0.8
        return dict(
            full_name=_full_name(rng, ethnicity, gender), gender=gender, commune=commune,
            former_district=district if rng.random() < 0.85 else None, disadvantaged_commune=disadvantaged,
            ethnicity=ethnicity, household=_household(rng, disadvantaged, ethnicity),
            education=_education(rng, disadvantaged or ethnicity in ("Mông", "Dao", "Lô Lô")),
            consent_share=consent, consent_date=today - _days(rng, 1, 700) if consent else None,
            consent_scope="Chia sẻ hồ sơ với doanh nghiệp được cấp phép" if consent else None,
            phone=_phone(rng, self.phones), active=True, extra={},
        )

    def _worker(self) -> _WorkerPlan:
        rng, today = self.rng, self.today
        gender = "other" if rng.random() < 0.003 else ("male" if rng.random() < 0.58 else "female")
        person = self._person(gender)
        age = 18 + int(27.99 * rng.betavariate(1.3, 2.4))
        birth = _birth_for_age(rng, age, today)
        male = gender == "male"
        jobs: list[str] = []
        experience: list[dict[str, Any]] = []
        weights = self.job_tables[male]
        wish = weights.draw(rng)
        # a worker never wants a twin order's country for its trade (the twins stay the best fit)
        countries = self._preferred_countries(wish)
        if rng.random() > 0.15 and age >= 19:
            jobs.append(wish)
            years = min(float(age - 18), rng.choice([0.5, 1, 1, 1.5, 2, 2, 3, 3, 4, 5, 6, 8]))
            experience.append({"occupation": _vary(rng, rng.choice(JOBS[wish].labels)), "years": float(years)})
            if rng.random() < 0.12:  # a second trade
                other = weights.draw(rng)
                if other != wish and not any((other, c) in self.twin_key_set for c in countries):
                    jobs.append(other)
                    experience.append({"occupation": _vary(rng, rng.choice(JOBS[other].labels)),
                                       "years": float(rng.choice([0.5, 1, 2]))})
        if rng.random() < 0.3:
            experience.append({"occupation": rng.choice(_GENERIC_EXPERIENCE),
                               "years": float(rng.choice([1, 2, 3, 5]))})
        skills: list[str] = []
        if jobs:
            skills = [_vary(rng, s) for s in rng.sample(JOBS[jobs[0]].skills, k=rng.randint(1, 3))]
        if rng.random() < 0.35:
            skills.append(rng.choice(_SOFT_SKILLS))
        sectors = [JOBS[wish].sector]
        if rng.random() < 0.2:
            extra_sector = rng.choice(list(JOBS.values())).sector
            if extra_sector not in sectors:
                sectors.append(extra_sector)
        training = rng.choices(["none", "basic", "advanced"], weights=[15, 70, 15], k=1)[0]
        certs = self._certificates(countries, training)
        worker = Worker(
            birth_date=birth, **person, skills=skills, experience=experience, language_training=training,
            preferred_countries=countries, preferred_sectors=[_vary(rng, s, 0.15) for s in sectors],
            min_wage_vnd=float(rng.randint(14, 50) * 500_000) if rng.random() < 0.8 else None,
            max_fee_vnd=float(rng.randint(2, 24) * 5_000_000) if rng.random() < 0.75 else None,
            available_from=today + _days(rng, -90, 150),
            national_id=_national_id(rng, birth, gender, self.national_ids),
        )
        if certs:
            worker.certificates = _certificate_entities(certs)
        return _WorkerPlan(worker, jobs, wish)

    def _preferred_countries(self, job_key: str) -> list[str]:
        rng = self.rng
        offers = self.offer_tables.get(job_key)
        if offers is None:
            offers = self.offer_tables[job_key] = _Table({
                c: COUNTRIES[c][2] * w for c, jobs in MARKET_JOBS.items() for k, (_, w) in jobs.items()
                if k == job_key and (k, c) not in self.twin_key_set})
        k = rng.choices([1, 2, 3], weights=[5, 4, 2], k=1)[0]
        out: list[str] = []
        for _ in range(k):
            c = offers.draw(rng)
            if c not in out:
                out.append(c)
        return out

    def _certificates(self, countries: Sequence[str], training: str) -> list[str]:
        rng, today = self.rng, self.today
        lang = _COUNTRY_LANGUAGE.get(countries[0], "en")
        p = {"none": 0.08, "basic": 0.4, "advanced": 0.85}[training]
        if lang == "en":
            p *= 0.3
        elif lang == "zh":  # Taiwan asks for no language in practice
            p *= 0.4
        if rng.random() >= p:
            return []
        queue = self.cover_queue.get(lang)
        if queue:
            kind, kwargs = queue.pop(0)
            return [_cert_text(rng, kind, today, **kwargs)]
        if lang == "ja":
            kind = rng.choices(["jlpt", "jft", "jft_score"], weights=[85, 10, 5], k=1)[0]
            value = None
            if kind == "jlpt" and training == "advanced":
                value = rng.choice(["N4", "N4", "N3"])
            out = [_cert_text(rng, kind, today, value=value)]
        elif lang == "ko":
            kind = rng.choices(["eps", "topik"], weights=[65, 35], k=1)[0]
            out = [_cert_text(rng, kind, today, expired=kind == "eps" and rng.random() < 0.35)]
        elif lang == "de":
            out = [_cert_text(rng, rng.choice(["goethe", "goethe", "cefr"]), today)]
        elif lang == "zh":
            out = [_cert_text(rng, rng.choice(["tocfl", "hsk"]), today)]
        else:
            out = [_cert_text(rng, "cefr", today)]
        if rng.random() < 0.08:  # an English certificate besides
            out.append(_cert_text(rng, "cefr", today, value="A2"))
        return out

    def _twin(self, plan: _OrderPlan) -> _WorkerPlan:
        """A worker made to fit ``plan``'s order exactly (see the module docstring)."""
        rng, today, o, job = self.rng, self.today, plan.order, plan.job
        gender = o.gender if o.gender in ("male", "female") else ("male" if rng.random() < job.male_share else "female")
        person = self._person(gender)
        person["consent_share"] = True
        person["consent_date"] = today - _days(rng, 5, 300)
        person["consent_scope"] = "Chia sẻ hồ sơ với doanh nghiệp được cấp phép"
        years = float((o.min_experience_years or 0) + rng.choice([2, 3, 4]))
        lo = max(o.min_age or 18, 21, 19 + int(years))
        hi = min(o.max_age or 45, 45) - 1
        if lo > hi:  # pragma: no cover - the age ranges of _ages() leave room
            raise AssertionError(f"no age fits order {o.title!r}")
        age = lo + int((hi - lo + 0.99) * rng.betavariate(1.3, 2.0))  # skewed young, like the others
        birth = _birth_for_age(rng, age, o.deadline)
        edu_rank = max(education_rank(o.min_education), education_rank("lower_secondary"))
        person["education"] = EDUCATION_LEVELS[min(edu_rank + rng.choice([0, 0, 1]), len(EDUCATION_LEVELS) - 1)]
        experience = [{"occupation": rng.choice(job.labels), "years": years}]
        skills = list(o.required_skills)
        extra = [s for s in job.skills if s not in skills and strip_diacritics(s) not in skills]
        if extra:
            skills.append(rng.choice(extra))
        certs: list[str] = []
        training = "basic"
        req = parse_requirement(o.language_requirement)
        if req is not None:
            if req.exam == "eps_topik":
                certs.append(_cert_text(rng, "eps", today, value=str(rng.randint(120, 185)), recent=True))
            elif req.exam == "jft":
                certs.append(_cert_text(rng, "jft", today, value="A2", recent=True))
            else:
                kind = {"jlpt": "jlpt", "topik": "topik", "goethe": "goethe", "cefr": "cefr", "hsk": "hsk",
                        "tocfl": "tocfl"}[req.exam]
                certs.append(_cert_text(rng, kind, today, value=req.label, recent=True))
            training = "advanced" if req.level >= 3 else "basic"
        wage_vnd = _vnd(o.monthly_wage, o.wage_currency)
        worker = Worker(
            birth_date=birth, **person, skills=skills, experience=experience, language_training=training,
            preferred_countries=[o.country], preferred_sectors=[job.sector],
            min_wage_vnd=_round_down(wage_vnd * rng.uniform(0.55, 0.8), 500_000),
            max_fee_vnd=float((int((o.service_fee_vnd or 0) / 5_000_000) + rng.randint(1, 6)) * 5_000_000),
            available_from=min(today + _days(rng, -60, 10), o.deadline),
            national_id=_national_id(rng, birth, gender, self.national_ids),
            certificates=_certificate_entities(certs),
        )
        return _WorkerPlan(worker, [job.key], job.key, twin_of=plan)

    def _check_separation(self, plans: list[_WorkerPlan]) -> None:
        """No non-twin worker both has (or wants) a twin order's occupation and wants its country."""
        for p in plans:
            if p.twin_of is None:
                for k in [*p.jobs, p.wish]:
                    for c in p.worker.preferred_countries:
                        if (k, c) in self.twin_key_set:  # pragma: no cover - a generator error
                            raise AssertionError(f"worker wants twin offer {(k, c)}")

    # -- truth -------------------------------------------------------------------------------

    def truth(self) -> Truth:
        t = Truth()
        for p in self.order_plans:
            t.order_occupation[p.order.order_id] = p.job.key
            if p.code in ILLEGAL_CODES:
                t.illegal[p.order.order_id] = p.code
            elif p.code in NOT_OPEN_CODES:
                t.not_open[p.order.order_id] = p.code
        for p in self.worker_plans:
            t.worker_occupations[p.worker.worker_id] = list(p.jobs)
            if p.twin_of:
                wid, oid = p.worker.worker_id, p.twin_of.order.order_id
                t.twins.append((wid, oid))
                t.best_orders[wid] = {oid}
                t.best_workers[oid] = {wid}
        t.twins.sort()
        t.forged_licence_pair = (self.forged[0].recruiter_id, self.forged[1].recruiter_id)
        return t


def _any_gender(r: float) -> str | None:
    """Spell "no gender requirement" either way FORMAT.md allows (empty or ``any``)."""
    return "any" if r > 0.85 else None


def generate(seed: int = 1244, workers: int = 2000, orders: int = 300, recruiters: int = 40,
             today: dt.date = DEFAULT_TODAY, twins: int | None = None) -> SyntheticData:
    """Build the synthetic data set (unsaved ORM objects and the truth).

    ``twins`` defaults to 60, limited to a fifth of the orders and a quarter of the workers.
    Raises ValueError when the sizes are too small for the planted cases.
    """
    for name, value, minimum in (("workers", workers, 20), ("orders", orders, 40), ("recruiters", recruiters, 12)):
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"The '{name}' parameter of generate must be an int >= {minimum}. Got {value!r} instead.")
    n_twins = min(60, orders // 5, workers // 4) if twins is None else twins
    if n_twins < 0 or n_twins > workers:
        raise ValueError(f"The 'twins' parameter of generate must be an int in [0, workers]. Got {twins!r} instead.")
    g = _Generator(seed, workers, orders, recruiters, n_twins, today)
    g.recruiters()
    rng = g.rng
    recs = list(g.all_recruiters)
    rng.shuffle(recs)
    for i, r in enumerate(recs, start=1):
        r.recruiter_id = f"R{i:03d}"
        for c in r.status_history:
            c.recruiter_id = r.recruiter_id
    g.orders()
    g.workers()
    truth = g.truth()
    orders_out = sorted((p.order for p in g.order_plans), key=lambda o: o.order_id)
    workers_out = sorted((p.worker for p in g.worker_plans), key=lambda w: w.worker_id)
    recruiters_out = sorted(recs, key=lambda r: r.recruiter_id)
    log.info("synthetic data: %d recruiters, %d orders (%d illegal), %d workers (%d twins)",
             len(recruiters_out), len(orders_out), len(truth.illegal), len(workers_out), len(truth.twins))
    return SyntheticData(recruiters_out, orders_out, workers_out, truth, seed, today)


def save(session: Any, data: SyntheticData) -> None:
    """Add every object of ``data`` to ``session`` and flush (the caller commits)."""
    session.add_all(data.recruiters)
    session.add_all(data.orders)
    session.add_all(data.workers)
    session.flush()


# ---------------------------------------------------------------------------------------------
# CSV (FORMAT.md), written with the csv module directly

RECRUITER_COLUMNS = ("recruiter_id", "name", "licence_no", "licence_date", "status", "status_date", "markets",
                     "website", "phone", "licence_verified_on", "recruiter_type")
ORDER_COLUMNS = ("order_id", "recruiter_id", "title", "description", "country", "programme", "route", "required_skills",
                 "language_requirement", "min_age", "max_age", "gender", "min_education", "min_experience_years",
                 "positions", "monthly_wage", "wage_currency", "contract_months", "service_fee_vnd",
                 "brokerage_fee_vnd", "deposit_vnd", "approval_no", "approval_date", "deadline", "departure_date",
                 "status")
WORKER_COLUMNS = ("worker_id", "full_name", "birth_date", "gender", "commune", "former_district",
                  "disadvantaged_commune", "ethnicity", "household", "education", "skills", "experience",
                  "languages", "language_training", "preferred_countries", "preferred_sectors", "min_wage_vnd",
                  "max_fee_vnd", "available_from", "consent_share", "phone", "consent_date", "consent_scope",
                  "national_id")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def _worker_row(w: Worker) -> dict[str, str]:
    row = {c: _cell(getattr(w, c, None)) for c in WORKER_COLUMNS if c not in ("experience", "languages")}
    row["experience"] = "; ".join(f"{e['occupation']}: {_years_text(e['years'])}" for e in w.experience or [])
    row["languages"] = "; ".join(c.raw for c in sorted(w.certificates, key=lambda c: c.position))
    return row


def write_csv(data: SyntheticData, folder: str | Path) -> dict[str, Path]:
    """Write recruiters.csv, job_orders.csv and workers.csv (UTF-8, FORMAT.md columns) into
    ``folder`` (created if missing); returns the paths by file name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = (
        ("recruiters.csv", RECRUITER_COLUMNS, [{c: _cell(getattr(r, c)) for c in RECRUITER_COLUMNS}
                                               for r in data.recruiters]),
        ("job_orders.csv", ORDER_COLUMNS, [{c: _cell(getattr(o, c)) for c in ORDER_COLUMNS} for o in data.orders]),
        ("workers.csv", WORKER_COLUMNS, [_worker_row(w) for w in data.workers]),
    )
    out = {}
    for name, columns, rows in tables:
        path = folder / name
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        out[name] = path
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the synthetic Cao Bang data set as FORMAT.md CSVs.")
    parser.add_argument("--out", required=True, help="folder for recruiters.csv, job_orders.csv, workers.csv")
    parser.add_argument("--seed", type=int, default=1244)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--recruiters", type=int, default=40)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=DEFAULT_TODAY)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = generate(args.seed, args.workers, args.orders, args.recruiters, args.today)
    for name, path in write_csv(data, args.out).items():
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
