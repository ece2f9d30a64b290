"""Reference tables the project wrote itself from the law (DOMAIN.md), each row citing its source.

Sources (a Vietnamese transcription of all four is in the public repository
Daewoon1111/Compliance-System, backend/app/rules/):

- [L69]  Law 69/2020/QH14 on Vietnamese guest workers (Luật 69/2020/QH14)
- [D112] Decree 112/2021/NĐ-CP (Nghị định 112/2021/NĐ-CP)
- [TT21] Circular 21/2021/TT-BLĐTBXH
- [TT02] Circular 02/2024/TT-BLĐTBXH (replaces TT21's appendices II-XI from 2024-05-15)

Figures that are not law (exchange rates, air fares, typical wages) are approximations, dated,
for an administrator to override; the rules treat them accordingly (warnings, not blocks).
This module holds data only: matching of keywords (after diacritics folding) is the caller's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

__all__ = [
    "AIR_FARE_AS_OF",
    "AIR_FARE_VND",
    "DEFAULT_AIR_FARE_VND",
    "DEFAULT_RATES",
    "DEFAULT_RATES_AS_OF",
    "DEPOSIT_RULES",
    "DepositRule",
    "EPS_KEYWORDS",
    "FEE_CAP_RULES",
    "FeeCapRule",
    "MARKET_OF_COUNTRY",
    "MIN_WAGES",
    "OCCUPATION_CLASS_KEYWORDS",
    "PROHIBITED_AREA_KEYWORDS",
    "PROHIBITED_JOB_KEYWORDS",
    "PUBLIC_SENDER_NAME_KEYWORDS",
    "ROUTE_CLASSES",
    "SEASONAL_KEYWORDS",
    "SOURCES",
    "cite",
    "SUSPICIOUS_WAGE_FACTOR",
    "TYPICAL_WAGES",
    "TypicalWage",
    "WageFloor",
    "LURE_KEYWORDS",
    "market_of",
    "merged_rates",
]

SOURCES: Mapping[str, tuple[str, str]] = MappingProxyType({
    # code: (Vietnamese citation, English citation)
    "L69": ("Luật 69/2020/QH14", "Law 69/2020/QH14"),
    "D112": ("Nghị định 112/2021/NĐ-CP", "Decree 112/2021/ND-CP"),
    "TT21": ("Thông tư 21/2021/TT-BLĐTBXH", "Circular 21/2021/TT-BLDTBXH"),
    "TT02": ("Thông tư 02/2024/TT-BLĐTBXH", "Circular 02/2024/TT-BLDTBXH"),
    "TT46": ("Thông tư 46/2022/TT-BTC", "Circular 46/2022/TT-BTC"),
    "D338": ("Nghị định 338/2025/NĐ-CP", "Decree 338/2025/ND-CP"),
    "D13": ("Nghị định 13/2023/NĐ-CP", "Decree 13/2023/ND-CP"),
    # not a citation of one article: a programme's terms, or what the counsellor checks (DOMAIN.md)
    "TRIPLEWIN": ("Điều kiện của chương trình Triple Win (Việt Nam – Đức)",
                  "Terms of the Triple Win programme (Vietnam–Germany)"),
    "VBSP": ("Quy định cho vay của Ngân hàng Chính sách xã hội (kiểm tra văn bản đang có hiệu lực)",
             "Social Policy Bank lending rules (check the decree in force)"),
    "KH1244": ("Kế hoạch 1244/KH-UBND tỉnh Cao Bằng (ưu tiên xã đặc biệt khó khăn) và quy chế tuyển chọn "
               "của chương trình công", "Plan 1244/KH-UBND of Cao Bằng province (priority to especially "
               "disadvantaged communes) and the public programme's selection rules"),
})
_PART_VI = (("Art", "Điều"), ("App", "Phụ lục"), ("(dd)", "(đ)"))


def cite(source: str) -> tuple[str, str]:
    """A source key and article as people read it, (Vietnamese, English): "L69 Art 23(4)(a)" is
    ("Luật 69/2020/QH14, Điều 23(4)(a)", "Law 69/2020/QH14, Art 23(4)(a)"); "" gives ("", "");
    text that does not start with a key of :data:`SOURCES` is returned as it is."""
    if not source:
        return "", ""
    key, _, rest = source.strip().partition(" ")
    if key not in SOURCES:
        return source, source
    vi_name, en_name = SOURCES[key]
    vi_rest, en_rest = rest.strip(), rest.strip().replace("(dd)", "(đ)")
    for word, vi_word in _PART_VI:
        vi_rest = vi_rest.replace(word, vi_word)
    if not vi_rest:
        return vi_name, en_name
    return f"{vi_name}, {vi_rest}", f"{en_name}, {en_rest}"


# ---------------------------------------------------------------------------------------------
# Markets: ISO 3166 alpha-2 -> market group. The groups follow the appendices of [TT02]
# (App II Japan, III Taiwan, IV Korea, V West Asia/Central Asia/Africa, VI Europe and Oceania,
# VII Americas, VIII China/Macau/South-East Asia) and of [D112 App II] (deposit caps).

_GROUPS: dict[str, tuple[str, ...]] = {
    "japan": ("JP",),
    "korea": ("KR",),
    "taiwan": ("TW",),
    "china": ("CN", "MO", "HK"),
    "se_asia": ("MY", "SG", "TH", "BN", "LA", "KH", "MM", "PH", "ID", "TL"),
    # "Trung Đông" / "Tây Á" of the appendices
    "middle_east": ("SA", "AE", "QA", "KW", "OM", "BH", "JO", "LB", "IL", "IQ", "YE", "SY", "PS", "IR"),
    "central_asia": ("KZ", "UZ", "TM", "KG", "TJ"),
    "africa": ("DZ", "AO", "EG", "LY", "MA", "MZ", "NG", "ZA", "TN", "KE", "TZ", "ET", "GH", "SN", "CM"),
    "europe": (
        "DE", "AT", "CH", "FR", "BE", "NL", "LU", "IT", "ES", "PT", "GB", "IE", "DK", "SE", "NO",
        "FI", "IS", "RO", "HU", "PL", "CZ", "SK", "BG", "HR", "SI", "RS", "BA", "ME", "MK", "AL",
        "GR", "CY", "MT", "LT", "LV", "EE", "BY", "UA", "MD", "RU", "TR",
    ),
    "oceania": ("AU", "NZ", "FJ", "PG"),
    "americas": ("US", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "UY", "PY", "BO", "EC", "VE", "PA", "CR", "CU", "DO"),
}
# The main working language of each destination (ISO 639-1): what a training course must teach
# to count as the market's language (web.services.stats), and what the engine assumes when an order
# names no language (matcher.languages.language_of_country).
LANGUAGE_OF_COUNTRY: Mapping[str, str] = MappingProxyType({
    "JP": "ja", "KR": "ko", "TW": "zh", "CN": "zh", "MO": "zh", "HK": "zh", "SG": "en",
    "DE": "de", "AT": "de", "CH": "de", "LI": "de", "LU": "de",
    "GB": "en", "IE": "en", "US": "en", "CA": "en", "AU": "en", "NZ": "en", "MT": "en",
    "FR": "fr", "BE": "fr", "RO": "ro", "HU": "hu", "PL": "pl", "CZ": "cs", "SK": "sk",
    "BG": "bg", "HR": "hr", "SI": "sl", "RS": "sr", "LT": "lt", "LV": "lv", "EE": "et",
    "FI": "fi", "SE": "sv", "NO": "no", "DK": "da", "NL": "nl", "IT": "it", "ES": "es",
    "PT": "pt", "GR": "el", "CY": "el", "RU": "ru", "UA": "uk", "TR": "tr",
    "SA": "ar", "AE": "ar", "QA": "ar", "KW": "ar", "OM": "ar", "BH": "ar", "JO": "ar",
    "LB": "ar", "IQ": "ar", "EG": "ar", "DZ": "ar", "MA": "ar", "LY": "ar", "TN": "ar",
    "MY": "ms", "BN": "ms", "ID": "id", "TH": "th", "LA": "lo", "KH": "km", "MM": "my",
    "PH": "en", "IL": "he", "MX": "es", "BR": "pt",
})


# Vietnamese and English names of the languages courses and requirements name.
LANGUAGE_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "ja": ("Tiếng Nhật", "Japanese"),
    "ko": ("Tiếng Hàn", "Korean"),
    "zh": ("Tiếng Trung", "Chinese"),
    "de": ("Tiếng Đức", "German"),
    "en": ("Tiếng Anh", "English"),
    "fr": ("Tiếng Pháp", "French"),
    "ar": ("Tiếng Ả Rập", "Arabic"),
    "ro": ("Tiếng Romania", "Romanian"),
    "hu": ("Tiếng Hungary", "Hungarian"),
    "pl": ("Tiếng Ba Lan", "Polish"),
    "cs": ("Tiếng Séc", "Czech"),
    "ru": ("Tiếng Nga", "Russian"),
})

MARKET_OF_COUNTRY: Mapping[str, str] = MappingProxyType(
    {cc: group for group, ccs in _GROUPS.items() for cc in ccs}
)


def market_of(country: str | None) -> str:
    """Market group of a country code (``"other"`` when unknown)."""
    return MARKET_OF_COUNTRY.get((country or "").strip().upper(), "other")


# ---------------------------------------------------------------------------------------------
# Occupation classes detected in a job order's title/description (folded keywords, phrase match).
# They select the special fee and deposit caps below; an order may belong to several classes
# (the caller collects all of them, and the rule tables below are ordered so that the first
# matching rule is the narrower and, between two readings of one order, the stricter one).

OCCUPATION_CLASS_KEYWORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    # seafarers on transport ships [L69 Art 23(4)(a)]; cruise staff [TT02 App IX]
    "seafarer": (
        "thuyen vien tau van tai", "tau van tai bien", "sy quan tau", "si quan tau", "seafarer",
        "merchant ship", "cargo ship", "transport ship", "tau du lich", "cruise ship",
    ),
    # distant-sea fishing crew: no deposit [D112 App II]
    "distant_fishing": ("tau ca xa bo", "distant water fishing", "deep sea fishing", "ocean going fishing"),
    # coastal fishing crew [TT02 App XI Taiwan b, Korea E-10]
    "coastal_fishing": ("tau ca gan bo", "coastal fishing", "e 10", "e10", "ngu phu", "danh ca", "fishing crew", "fishing boat"),
    # home caregivers and domestic work [TT02 App XI Taiwan b; SE/West Asia]
    "home_caregiver": ("khan ho cong", "cham soc nguoi benh tai gia", "cham soc tai gia", "home care", "home caregiver", "live in carer", "live in caregiver"),
    "domestic": ("giup viec gia dinh", "giup viec nha", "domestic work", "domestic helper", "housemaid", "house maid", "maid"),
    # caregivers and nurses in hospitals and nursing homes [TT02 App XI Taiwan a]
    "institutional_caregiver": (
        "ho ly", "dieu duong", "y ta", "benh vien", "vien duong lao", "trung tam duong lao",
        "nursing home", "hospital", "care worker", "caregiver", "nurse", "kaigo",
    ),
    # agriculture [TT02 App XI Taiwan b, Australia]
    "agriculture": (
        "nong nghiep", "trong trot", "chan nuoi", "nong trai", "thu hoach", "hai qua", "trang trai",
        "agriculture", "agricultural", "farm", "farms", "farming", "farm worker", "harvest",
        "harvesting", "horticulture", "horticultural", "livestock",
    ),
    # Japan [TT02 App XI Japan]
    "jp_titp3": ("thuc tap sinh so 3", "tts so 3", "thuc tap ky nang so 3", "titp 3", "titp iii", "stage 3", "3 go", "3go",
                 "技能実習3号", "実習3号"),
    "jp_ssw_after_titp": (
        "sau thuc tap sinh", "hoan thanh thuc tap", "chuyen tiep tu tts", "tu tts", "after titp",
        "completed titp", "former intern", "tts ve nuoc", "tts da ve nuoc", "thuc tap sinh ve nuoc",
        "thuc tap sinh da ve nuoc", "returned trainee", "returned trainees", "returned intern", "returned interns",
        "former trainee", "former trainees", "元技能実習生", "技能実習修了", "技能実習2号修了",
    ),
    "jp_high_skill": (
        "ky thuat cao", "lao dong ky thuat cao", "hoat dong dac dinh", "dong tau", "shipbuilding",
        "high skill", "highly skilled", "designated activities",
    ),
})


# ---------------------------------------------------------------------------------------------
# Service-fee caps [L69 Art 23(4)], [TT02 App XI]. A cap is ``months_per_12`` months of the
# worker's contract salary for each 12 months of contract, pro rata for part of a year, and at
# most ``max_months`` in total. [L69 Art 23(4)(a)] says the total may not pass 3 months for a
# contract of 36 months or more; App XI says the same with 2 or 1. We apply the total to every
# contract length: a 35-month contract is not allowed more than a 36-month one (the stricter,
# worker-protective reading; the difference is at most a few hundredths of a month).
# Extension periods (0.5 month per 12-month extension, [L69 Art 23(4)(b)]) are not modelled:
# a job order states its first contract.


@dataclass(frozen=True)
class FeeCapRule:
    key: str
    markets: frozenset[str] | None  # market groups; None = any market
    countries: frozenset[str] | None  # country codes; None = any country of those markets
    occupation_classes: frozenset[str] | None  # None = any occupation
    programmes: frozenset[str] | None  # None = any programme
    months_per_12: float
    max_months: float | None
    source: str  # citation key and article, e.g. "L69 Art 23(4)(a)"
    vi: str  # the rule, for messages: "1 tháng lương cho mỗi 12 tháng hợp đồng"
    en: str


def _fs(*xs: str) -> frozenset[str]:
    return frozenset(xs)


FEE_CAP_RULES: tuple[FeeCapRule, ...] = (
    # first rule that applies wins: special cases first, the general rule last
    FeeCapRule("jp_titp3", _fs("japan"), None, _fs("jp_titp3"), None, 0.0, 0.0, "TT02 App XI",
               "0 đồng với thực tập sinh kỹ năng số 3 không đổi doanh nghiệp",
               "0 for technical intern stage 3 with the same agency"),
    FeeCapRule("jp_ssw_after_titp", _fs("japan"), None, _fs("jp_ssw_after_titp"), None, 0.0, 0.0, "TT02 App XI",
               "0 đồng với lao động kỹ năng đặc định đã hoàn thành thực tập kỹ năng số 2 hoặc số 3",
               "0 for specified skilled workers after intern stage 2 or 3"),
    FeeCapRule("jp_high_skill", _fs("japan"), None, _fs("jp_high_skill"), None, 0.7, 2.0, "TT02 App XI",
               "0,7 tháng lương cho mỗi 12 tháng hợp đồng, tối đa 2 tháng lương",
               "0.7 month's salary per 12 months of contract, at most 2"),
    FeeCapRule("tw_home_domestic_agri_fishing", _fs("taiwan"), None,
               _fs("home_caregiver", "domestic", "agriculture", "coastal_fishing"), None, 0.4, 1.0, "TT02 App XI",
               "0,4 tháng lương cho mỗi 12 tháng hợp đồng, tối đa 1 tháng lương",
               "0.4 month's salary per 12 months of contract, at most 1"),
    FeeCapRule("tw_institutional_care", _fs("taiwan"), None, _fs("institutional_caregiver"), None, 0.7, 2.0, "TT02 App XI",
               "0,7 tháng lương cho mỗi 12 tháng hợp đồng, tối đa 2 tháng lương",
               "0.7 month's salary per 12 months of contract, at most 2"),
    FeeCapRule("kr_coastal_fishing", _fs("korea"), None, _fs("coastal_fishing"), None, 0.7, 2.0, "TT02 App XI",
               "0,7 tháng lương cho mỗi 12 tháng hợp đồng, tối đa 2 tháng lương",
               "0.7 month's salary per 12 months of contract, at most 2"),
    FeeCapRule("domestic_se_west_asia", _fs("se_asia", "middle_east"), None, _fs("domestic", "home_caregiver"), None,
               0.0, 0.0, "TT02 App XI",
               "0 đồng với lao động giúp việc gia đình tại Đông Nam Á và Tây Á",
               "0 for domestic work in South-East and West Asia"),
    FeeCapRule("au_agriculture", _fs("oceania"), _fs("AU"), _fs("agriculture"), None, 0.0, 0.0, "TT02 App XI",
               "0 đồng với lao động nông nghiệp tại Úc", "0 for agricultural work in Australia"),
    # Germany's Triple Win nursing programme charges trainees nothing (DOMAIN.md, markets table);
    # a programme term, not a cap of the law: the rules still cite it.
    FeeCapRule("de_nursing_triple_win", _fs("europe"), _fs("DE"), None, _fs("nursing"), 0.0, 0.0,
               "TRIPLEWIN",
               "0 đồng với chương trình điều dưỡng Triple Win tại Đức",
               "0 for the Triple Win nursing programme in Germany"),
    FeeCapRule("seafarer", None, None, _fs("seafarer"), None, 1.5, 3.0, "L69 Art 23(4)(a)",
               "1,5 tháng lương cho mỗi 12 tháng hợp đồng, tối đa 3 tháng lương",
               "1.5 months' salary per 12 months of contract, at most 3"),
    FeeCapRule("general", None, None, None, None, 1.0, 3.0, "L69 Art 23(4)(a)",
               "1 tháng lương cho mỗi 12 tháng hợp đồng, tối đa 3 tháng lương",
               "1 month's salary per 12 months of contract, at most 3"),
)


# ---------------------------------------------------------------------------------------------
# Deposit caps [L69 Art 25(5)], [D112 App II], in VND.
# DOMAIN.md's "Japan, the Americas, South-East Asia, Middle East: none" renders D112 App II's
# "Không ký quỹ" ("no deposit"), and the same words stand for distant-sea fishing and transport
# ship crews in every market: the appendix sets the ceiling of what may be asked, so "no
# deposit" is a ceiling of 0 -- any deposit asked there is over the cap. For "other markets"
# the cap is "the value of one economy air ticket from the workplace back to Vietnam": the
# engine only knows an approximate fare (below), so an excess there is a warning, not a block.

@dataclass(frozen=True)
class DepositRule:
    key: str
    markets: frozenset[str] | None
    occupation_classes: frozenset[str] | None
    cap_vnd: float | None  # None: one economy air fare (see AIR_FARE_VND)
    source: str
    vi: str
    en: str


_NO_DEPOSIT_CREWS = _fs("distant_fishing", "seafarer")

DEPOSIT_RULES: tuple[DepositRule, ...] = (
    DepositRule("crew_no_deposit", None, _NO_DEPOSIT_CREWS, 0.0, "D112 App II",
                "không được ký quỹ đối với thuyền viên tàu cá xa bờ và tàu vận tải",
                "no deposit for distant-sea fishing and transport ship crews"),
    DepositRule("taiwan", _fs("taiwan"), None, 12_000_000.0, "D112 App II",
                "tối đa 12.000.000 đồng tại Đài Loan", "at most 12,000,000 VND for Taiwan"),
    DepositRule("korea", _fs("korea"), None, 36_000_000.0, "D112 App II",
                "tối đa 36.000.000 đồng tại Hàn Quốc", "at most 36,000,000 VND for Korea"),
    DepositRule("no_deposit_markets", _fs("japan", "americas", "se_asia", "middle_east"), None, 0.0, "D112 App II",
                "không được ký quỹ tại Nhật Bản, châu Mỹ, Đông Nam Á, Trung Đông",
                "no deposit for Japan, the Americas, South-East Asia and the Middle East"),
    DepositRule("other_markets", None, None, None, "D112 App II",
                "tối đa bằng giá một lượt vé máy bay hạng phổ thông về Việt Nam",
                "at most one economy air fare back to Vietnam"),
)

def fee_rule_for(country: str | None, programme: str | None, classes: Iterable[str]) -> FeeCapRule:
    """The one service-fee rule that applies (the first of :data:`FEE_CAP_RULES` whose market,
    country, programme and occupation classes match; the last rule always does). The gates
    (``matcher.rules.fee_cap``) and the synthetic data both ask this function."""
    market = market_of(country)
    country = (country or "").strip().upper()
    programme = (programme or "").strip().lower()
    classes = frozenset(classes)
    for rule in FEE_CAP_RULES:
        if rule.markets is not None and market not in rule.markets:
            continue
        if rule.countries is not None and country not in rule.countries:
            continue
        if rule.occupation_classes is not None and not (rule.occupation_classes & classes):
            continue
        if rule.programmes is not None and programme not in rule.programmes:
            continue
        return rule
    raise AssertionError("FEE_CAP_RULES ends with a rule that always applies")  # pragma: no cover


def deposit_rule_for(country: str | None, classes: Iterable[str]) -> DepositRule:
    """The one deposit rule that applies (the first of :data:`DEPOSIT_RULES` that matches)."""
    market = market_of(country)
    classes = frozenset(classes)
    for rule in DEPOSIT_RULES:
        if rule.markets is not None and market not in rule.markets:
            continue
        if rule.occupation_classes is not None and not (rule.occupation_classes & classes):
            continue
        return rule
    raise AssertionError("DEPOSIT_RULES ends with a rule that always applies")  # pragma: no cover


# Approximate one-way economy fares to Hanoi, VND (not law: an estimate from published fares,
# for the "other markets" deposit cap only). Administrators may override.
AIR_FARE_AS_OF = dt.date(2025, 11, 1)
DEFAULT_AIR_FARE_VND = 20_000_000.0
AIR_FARE_VND: Mapping[str, float] = MappingProxyType({
    **{cc: 16_000_000.0 for cc in _GROUPS["europe"]},
    "DE": 18_000_000.0, "GB": 20_000_000.0, "FR": 18_000_000.0,
    "CN": 6_000_000.0, "MO": 6_000_000.0, "HK": 6_000_000.0,
    "AU": 12_000_000.0, "NZ": 16_000_000.0,
    **{cc: 14_000_000.0 for cc in _GROUPS["central_asia"]},
    **{cc: 22_000_000.0 for cc in _GROUPS["africa"]},
})


# ---------------------------------------------------------------------------------------------
# Wage floors: the lowest basic monthly wage a supply contract may state.


@dataclass(frozen=True)
class WageFloor:
    key: str
    markets: frozenset[str] | None
    countries: frozenset[str] | None
    occupation_classes: frozenset[str] | None  # None: any occupation not caught by an earlier row
    min_contract_months: int | None  # the row applies from this contract length (inclusive)
    max_contract_months: int | None  # ... up to this one (exclusive)
    amount: float
    currency: str
    source: str
    vi: str
    en: str


WAGE_FLOORS_AS_OF = dt.date(2026, 1, 1)
MIN_WAGES: tuple[WageFloor, ...] = (
    # Korea: statutory minimum wage 2026, 10,320 KRW/h x 209 h = 2,156,880 KRW/month (DOMAIN.md;
    # [TT02 App IV]: wages "according to Korean law")
    WageFloor("kr_minimum", _fs("korea"), None, None, None, None, 2_156_880.0, "KRW", "TT02 App IV",
              "lương tối thiểu Hàn Quốc", "Korea's minimum wage"),
    # Taiwan: live-in home carers and domestic workers NT$20,000 basic [TT02 App III B];
    # other workers the statutory minimum, NT$29,500 from 2026 (DOMAIN.md; [TT02 App III A])
    WageFloor("tw_home_domestic", _fs("taiwan"), None, _fs("home_caregiver", "domestic"), None, None, 20_000.0, "TWD",
              "TT02 App III", "lương cơ bản tối thiểu khán hộ công, giúp việc gia đình tại Đài Loan",
              "Taiwan's basic wage floor for home carers and domestic workers"),
    WageFloor("tw_minimum", _fs("taiwan"), None, None, None, None, 29_500.0, "TWD", "TT02 App III",
              "lương tối thiểu Đài Loan", "Taiwan's minimum wage"),
    # West Asia: domestic work USD 350 [TT02 App V I]; other work USD 400 (500 if the worker pays
    # food or housing -- the order does not say, so the lower floor is used) [TT02 App V II]
    WageFloor("me_domestic", _fs("middle_east", "central_asia", "africa"), None, _fs("domestic", "home_caregiver"),
              None, None, 350.0, "USD", "TT02 App V", "lương cơ bản tối thiểu giúp việc gia đình tại Tây Á",
              "West Asia's basic wage floor for domestic work"),
    WageFloor("me_general", _fs("middle_east", "central_asia", "africa"), None, None, None, None, 400.0, "USD",
              "TT02 App V", "lương cơ bản tối thiểu tại Tây Á, Trung Á và châu Phi",
              "basic wage floor for West Asia, Central Asia and Africa"),
    # Europe: USD 600 for a contract of a year or more, USD 800 from 6 months to under a year, or
    # the host country's minimum if higher (not tabulated here) [TT02 App VI A]
    WageFloor("eu_12m", _fs("europe"), None, None, 12, None, 600.0, "USD", "TT02 App VI",
              "lương cơ bản tối thiểu tại châu Âu (hợp đồng từ 1 năm)", "Europe's basic wage floor (contracts of a year or more)"),
    WageFloor("eu_6_12m", _fs("europe"), None, None, None, 12, 800.0, "USD", "TT02 App VI",
              "lương cơ bản tối thiểu tại châu Âu (hợp đồng dưới 1 năm)", "Europe's basic wage floor (contracts under a year)"),
    # Americas: USD 500 from a year, USD 800 from 6 months to under a year [TT02 App VII]
    WageFloor("am_12m", _fs("americas"), None, None, 12, None, 500.0, "USD", "TT02 App VII",
              "lương cơ bản tối thiểu tại châu Mỹ (hợp đồng từ 1 năm)", "the Americas' basic wage floor (contracts of a year or more)"),
    WageFloor("am_6_12m", _fs("americas"), None, None, None, 12, 800.0, "USD", "TT02 App VII",
              "lương cơ bản tối thiểu tại châu Mỹ (hợp đồng dưới 1 năm)", "the Americas' basic wage floor (contracts under a year)"),
)


# ---------------------------------------------------------------------------------------------
# Typical monthly wages per market (not law; DOMAIN.md's markets table and published ranges),
# for the fraud sign "wages far above the market for the job" (DOMAIN.md, signs of fraud 5).
# A wage above SUSPICIOUS_WAGE_FACTOR x the high end is shown as a warning.


@dataclass(frozen=True)
class TypicalWage:
    market: str
    currency: str
    low: float
    high: float
    note: str


SUSPICIOUS_WAGE_FACTOR = 1.5
TYPICAL_WAGES: Mapping[str, TypicalWage] = MappingProxyType({
    "japan": TypicalWage("japan", "JPY", 140_000, 260_000, "TITP 140-200k, SSW about 170k+ (DOMAIN.md)"),
    "korea": TypicalWage("korea", "KRW", 2_156_880, 3_200_000, "E-9 minimum wage plus overtime"),
    "taiwan": TypicalWage("taiwan", "TWD", 20_000, 40_000, "live-in carers 20k, factories 29.5k plus overtime"),
    "europe": TypicalWage("europe", "USD", 600, 3_000, "TT02 App VI floor; German nurses after recognition"),
    "middle_east": TypicalWage("middle_east", "USD", 350, 1_200, "TT02 App V floors 350-500"),
    "se_asia": TypicalWage("se_asia", "USD", 250, 900, "Malaysia, Singapore, Thailand manual work"),
    "china": TypicalWage("china", "USD", 500, 1_200, "Macau domestic MOP 4,500 (TT02 App VIII)"),
    "oceania": TypicalWage("oceania", "AUD", 3_500, 6_500, "Australian agriculture at award rates"),
    "americas": TypicalWage("americas", "USD", 500, 3_500, "TT02 App VII floors"),
})


# ---------------------------------------------------------------------------------------------
# Exchange rates: VND per unit (not law). Defaults only; the administrator's ExchangeRate rows
# override them (merged_rates). JPY 170 makes 180,000 JPY = 30,600,000 VND.

DEFAULT_RATES_AS_OF = dt.date(2025, 11, 1)
DEFAULT_RATES: Mapping[str, float] = MappingProxyType({
    "VND": 1.0,
    "JPY": 170.0,
    "KRW": 18.5,
    "TWD": 850.0,
    "USD": 26_300.0,
    "EUR": 30_500.0,
    "SAR": 7_000.0,
    "AED": 7_150.0,
    "QAR": 7_200.0,
    "AUD": 17_100.0,
})


class MergedRates(dict):
    """Rates that :func:`merged_rates` already checked and completed (merging them again returns
    them as they are: the legal gates of 100,000 orders merge once, not once per order)."""


def merged_rates(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default rates updated by ``overrides`` (currency code -> VND per unit; upper-cased).

    Raises ValueError for a rate that is not a positive number.
    """
    if isinstance(overrides, MergedRates):
        return overrides
    out = MergedRates(DEFAULT_RATES)
    for cur, rate in (overrides or {}).items():
        try:
            r = float(rate)
        except (TypeError, ValueError):
            r = float("nan")
        if not r > 0:
            raise ValueError(f"The exchange rate of {cur!r} must be a positive number of VND per unit. Got {rate!r} instead.")
        out[str(cur).strip().upper()] = r
    return out


# ---------------------------------------------------------------------------------------------
# Prohibited jobs and areas [L69 Art 7(12), 7(13)], folded keywords (Vietnamese without
# diacritics, and English), matched as whole phrases by the caller. Each maps to the point of
# the article it stands for.

PROHIBITED_JOB_KEYWORDS: Mapping[str, str] = MappingProxyType({
    # (a) massage in restaurants, hotels, entertainment centres
    "massage": "L69 Art 7(12)(a)", "mat xa": "L69 Art 7(12)(a)", "mat xa ge": "L69 Art 7(12)(a)",
    "マッサージ": "L69 Art 7(12)(a)", "마사지": "L69 Art 7(12)(a)", "按摩": "L69 Art 7(12)(a)",
    # (b) explosives and toxics in smelting non-ferrous ores (copper, lead, mercury, silver, zinc); manganese
    "luyen quang": "L69 Art 7(12)(b)", "luyen kim loai mau": "L69 Art 7(12)(b)", "smelting": "L69 Art 7(12)(b)",
    "smelter": "L69 Art 7(12)(b)", "luyen kim doc hai": "L69 Art 7(12)(b)", "nau chay chi": "L69 Art 7(12)(b)",
    "nau chay kim loai mau": "L69 Art 7(12)(b)", "lead smelting": "L69 Art 7(12)(b)", "鉛の製錬": "L69 Art 7(12)(b)",
    "製錬": "L69 Art 7(12)(b)", "제련": "L69 Art 7(12)(b)", "冶炼": "L69 Art 7(12)(b)", "冶煉": "L69 Art 7(12)(b)",
    "tiep xuc mangan": "L69 Art 7(12)(b)", "manganese exposure": "L69 Art 7(12)(b)",
    # (c) open radioactive sources, mining radioactive ores
    "phong xa": "L69 Art 7(12)(c)", "放射性": "L69 Art 7(12)(c)", "방사성": "L69 Art 7(12)(c)",
    "방사능": "L69 Art 7(12)(c)", "放射線": "L69 Art 7(12)(c)", "radioactive": "L69 Art 7(12)(c)", "uranium": "L69 Art 7(12)(c)",
    # (d) producing/packing nitric acid, sodium sulphate, carbon disulphide, strong pesticides
    "axit nitric": "L69 Art 7(12)(d)", "nitric acid": "L69 Art 7(12)(d)", "disulfua cacbon": "L69 Art 7(12)(d)",
    "carbon disulfide": "L69 Art 7(12)(d)", "san xuat thuoc tru sau": "L69 Art 7(12)(d)",
    "dong goi thuoc tru sau": "L69 Art 7(12)(d)", "pesticide production": "L69 Art 7(12)(d)",
    "pesticide packing": "L69 Art 7(12)(d)", "pesticide packaging": "L69 Art 7(12)(d)",
    # (đ) hunting dangerous animals, crocodiles, sharks
    "san bat thu du": "L69 Art 7(12)(dd)", "san thu du": "L69 Art 7(12)(dd)", "bat ca sau": "L69 Art 7(12)(dd)",
    "san ca sau": "L69 Art 7(12)(dd)", "san ca map": "L69 Art 7(12)(dd)", "bat ca map": "L69 Art 7(12)(dd)",
    "crocodile": "L69 Art 7(12)(dd)", "shark fishing": "L69 Art 7(12)(dd)", "shark hunting": "L69 Art 7(12)(dd)",
    "big game hunting": "L69 Art 7(12)(dd)", "dangerous animals": "L69 Art 7(12)(dd)",
    # (e) regular work without air or under high pressure (underground, under the ocean)
    "tho lan": "L69 Art 7(12)(e)", "lan bien": "L69 Art 7(12)(e)", "commercial diver": "L69 Art 7(12)(e)",
    "diver": "L69 Art 7(12)(e)", "ham lo": "L69 Art 7(12)(e)",
    "duoi long dat": "L69 Art 7(12)(e)", "underground mine": "L69 Art 7(12)(e)", "caisson": "L69 Art 7(12)(e)",
    # (g) shrouding and burying corpses, cremation, exhumation
    "mai tang": "L69 Art 7(12)(g)", "liem xac": "L69 Art 7(12)(g)", "khau liem": "L69 Art 7(12)(g)",
    "thieu xac": "L69 Art 7(12)(g)", "hoa tang": "L69 Art 7(12)(g)", "boc mo": "L69 Art 7(12)(g)",
    "burial": "L69 Art 7(12)(g)", "cremation": "L69 Art 7(12)(g)", "crematorium": "L69 Art 7(12)(g)",
    "mortuary": "L69 Art 7(12)(g)", "埋葬": "L69 Art 7(12)(g)", "火葬": "L69 Art 7(12)(g)",
    "납골": "L69 Art 7(12)(g)", "장례": "L69 Art 7(12)(g)", "殡葬": "L69 Art 7(12)(g)", "embalm": "L69 Art 7(12)(g)", "gravedigger": "L69 Art 7(12)(g)",
})

PROHIBITED_AREA_KEYWORDS: Mapping[str, str] = MappingProxyType({
    # (a) war zones or at risk of war; (b) radiation; (c) toxic contamination; (d) dangerous epidemics
    "vung chien su": "L69 Art 7(13)(a)", "khu vuc chien su": "L69 Art 7(13)(a)", "chien su": "L69 Art 7(13)(a)",
    "war zone": "L69 Art 7(13)(a)", "conflict zone": "L69 Art 7(13)(a)", "紛争地域": "L69 Art 7(13)(a)",
    "전쟁 지역": "L69 Art 7(13)(a)", "战区": "L69 Art 7(13)(a)",
    "nhiem xa": "L69 Art 7(13)(b)", "radiation zone": "L69 Art 7(13)(b)",
    "nhiem doc": "L69 Art 7(13)(c)", "contaminated zone": "L69 Art 7(13)(c)",
    "vung dich": "L69 Art 7(13)(d)", "epidemic zone": "L69 Art 7(13)(d)",
})

# Korean seasonal work (E-8) is sent only through local-government agreements (DOMAIN.md,
# markets table and fraud sign 4). Folded phrases that mark a seasonal order, and names that
# mark a public sender when the recruiter's type is not recorded.
SEASONAL_KEYWORDS: tuple[str, ...] = ("thoi vu", "mua vu", "seasonal", "e 8", "e8")
# Korea's EPS (E-9) is sent only by the public Centre of Overseas Labour (DOMAIN.md, markets
# table and fraud sign 4): an enterprise offering E-9 places or "EPS registration" is blocked.
EPS_KEYWORDS: tuple[str, ...] = ("eps", "e 9", "e9", "eps topik", "goc eps", "고용허가제", "cap phep lao dong")
# Routes with their own fee cap (FORMAT.md ``route``) -> the occupation class of FEE_CAP_RULES.
ROUTE_CLASSES: Mapping[str, str] = MappingProxyType({
    "returned_trainee": "jp_ssw_after_titp", "titp_stage3": "jp_titp3", "high_skill": "jp_high_skill",
})
PUBLIC_SENDER_NAME_KEYWORDS: tuple[str, ...] = (
    "ubnd", "uy ban nhan dan", "people s committee", "peoples committee",
    "so lao dong", "so ld tb xh", "so ldtbxh", "so noi vu", "department of labour", "department of labor",
    "department of home affairs", "trung tam dich vu viec lam", "employment service centre",
    "employment service center", "trung tam lao dong ngoai nuoc", "colab",
)

# "Light work, high pay, no language needed" (DOMAIN.md, signs of fraud 5), folded phrases.
LURE_KEYWORDS: tuple[str, ...] = (
    "viec nhe luong cao", "khong can tieng", "khong can ngoai ngu", "khong can biet tieng",
    "bao dau", "bao do", "cam ket 100", "xuat canh ngay", "visa du lich", "visa du hoc",
    "light work high pay", "no language required", "no language needed", "guaranteed visa", "tourist visa",
)
