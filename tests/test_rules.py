"""matcher.rules: every order gate and worker gate, with exact codes; fee caps worked by hand.

ORM objects are built in memory; no database is needed. Column defaults of SQLAlchemy apply
only on insert, so the factories set every field a gate reads.
"""

from __future__ import annotations

import datetime as dt

import pytest

from models.text import fold

from matcher import rules
from matcher.rules import (
    REASON_CODES,
    Reason,
    consent_gate,
    fee_cap,
    fee_cap_vnd,
    find_duplicate_codes,
    is_public_sender,
    order_gates,
    worker_gates,
    worst_severity,
)
from models import JobOrder, LicenceStatusChange, Recruiter, Worker
from models.languages import parse_certificate

DAY = dt.date(2026, 3, 1)


def recruiter(**kw) -> Recruiter:
    base = dict(recruiter_id="R1", name="Công ty CP Nhân lực Bắc Việt", licence_no="123/LĐTBXH-GP",
                licence_date=dt.date(2015, 5, 1), status="active", status_date=None, recruiter_type=None)
    base.update(kw)
    return Recruiter(**base)


def order(**kw) -> JobOrder:
    base = dict(
        order_id="O1", recruiter_id="R1", title="Thợ hàn", description="Hàn kết cấu thép tại Aichi",
        country="JP", programme="titp", required_skills=["hàn"], language_requirement="JLPT N5",
        min_age=18, max_age=30, gender="any", min_education="lower_secondary", min_experience_years=None,
        positions=5, places_filled=0, monthly_wage=180_000, wage_currency="JPY", contract_months=36,
        service_fee_vnd=30_000_000, brokerage_fee_vnd=0, deposit_vnd=0,
        approval_no="45/QLLĐNN-HĐ", approval_date=dt.date(2026, 1, 10),
        deadline=dt.date(2026, 4, 30), departure_date=dt.date(2026, 8, 15), status="open",
    )
    base.update(kw)
    return JobOrder(**base)


def worker(**kw) -> Worker:
    base = dict(worker_id="W1", full_name="Nông Văn A", birth_date=dt.date(2000, 6, 15), gender="male",
                education="upper_secondary", experience=[{"occupation": "thợ hàn", "years": 3.0}],
                available_from=dt.date(2026, 3, 1), consent_share=True, active=True)
    base.update(kw)
    return Worker(**base)


def codes(reasons: list[Reason]) -> list[str]:
    return [r.code for r in reasons]


def test_clean_order_has_no_reason():
    assert order_gates(order(), recruiter(), DAY) == []


def test_every_reason_severity_is_known():
    assert set(REASON_CODES.values()) <= {"block", "fail", "gap", "warn"}


# ---------------------------------------------------------------------------------------------
# licence on the day


def test_licence_revoked_via_status_history_counts_on_the_day_only():
    r = recruiter()
    r.status_history = [LicenceStatusChange(status="revoked", effective_date=dt.date(2026, 2, 1))]
    assert codes(order_gates(order(), r, DAY)) == ["licence_revoked"]
    assert codes(order_gates(order(), r, dt.date(2026, 1, 31))) == []


def test_licence_revoked_by_status_column():
    r = recruiter(status="revoked", status_date=dt.date(2025, 12, 1))
    [reason] = order_gates(order(), r, DAY)
    assert (reason.code, reason.severity) == ("licence_revoked", "block")
    assert "thu hồi giấy phép" in reason.vi and "[Luật 69/2020/QH14, Điều 16]" in reason.vi


def test_licence_suspended():
    r = recruiter(status="suspended", status_date=dt.date(2026, 2, 1))
    assert codes(order_gates(order(), r, DAY)) == ["licence_suspended"]


@pytest.mark.parametrize(
    "kw",
    [dict(licence_date=dt.date(2026, 6, 1)), dict(licence_no="  ")],
)
def test_unlicensed(kw):
    assert codes(order_gates(order(), recruiter(**kw), DAY)) == ["unlicensed"]


def test_no_recruiter():
    assert codes(order_gates(order(), None, DAY)) == ["no_recruiter"]


# ---------------------------------------------------------------------------------------------
# registration and open for matching


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(approval_no=None), ["no_approval"]),
        (dict(approval_date=None), ["no_approval"]),
        (dict(approval_date=dt.date(2026, 3, 2)), ["no_approval"]),
        (dict(status="closed"), ["order_closed"]),
        (dict(status="draft"), ["order_draft"]),
        (dict(status=None), []),
        (dict(deadline=dt.date(2026, 2, 28), departure_date=dt.date(2026, 6, 1)), ["deadline_passed"]),
        (dict(deadline=DAY), []),
        (dict(places_filled=5), ["no_places_left"]),
        (dict(places_filled=4), []),
    ],
)
def test_open_for_matching(kw, expected):
    assert codes(order_gates(order(**kw), recruiter(), DAY)) == expected


# ---------------------------------------------------------------------------------------------
# service-fee caps, worked by hand (default rates: JPY 170, TWD 850, KRW 18.5, USD 26,300 VND)


def test_fee_cap_japan_titp_36_months():
    # 180,000 JPY x 170 = 30,600,000 VND a month; 1 month per 12 months x 36 months = 3 months,
    # and at most 3 in total: 3 x 30,600,000 = 91,800,000 VND
    cap, explanation = fee_cap_vnd(order(), None)
    assert cap == 91_800_000
    assert explanation == "1 month's salary per 12 months of contract, at most 3: 3 × 30,600,000 VND"
    assert codes(order_gates(order(service_fee_vnd=91_800_000), recruiter(), DAY)) == []
    assert codes(order_gates(order(service_fee_vnd=91_800_001), recruiter(), DAY)) == ["service_fee_over_cap"]


def test_fee_cap_message_japan_12_months():
    # 12 months: 1 x 30,600,000 = 30,600,000 VND; 45,000,000 is over it
    [r] = order_gates(order(contract_months=12, service_fee_vnd=45_000_000), recruiter(), DAY)
    assert r.code == "service_fee_over_cap" and r.severity == "block"
    assert r.vi == (
        "Phí dịch vụ 45.000.000 đ vượt mức trần 30.600.000 đ (1 tháng lương cho mỗi 12 tháng hợp đồng, "
        "tối đa 3 tháng lương: 1 × 30.600.000 đ) [Luật 69/2020/QH14, Điều 23(4)(a)]"
    )
    assert r.en == (
        "Service fee 45,000,000 VND is above the cap of 30,600,000 VND (1 month's salary per 12 months "
        "of contract, at most 3: 1 × 30,600,000 VND) [Law 69/2020/QH14, Art 23(4)(a)]"
    )
    assert r.detail["cap_vnd"] == 30_600_000


@pytest.mark.parametrize(
    "kw, cap, rule",
    [
        # 48 months: 4 months pro rata, but at most 3 in total -> 3 x 30,600,000
        (dict(contract_months=48), 91_800_000, "general"),
        # 18 months: 1.5 x 30,600,000 = 45,900,000
        (dict(contract_months=18), 45_900_000, "general"),
        # TITP stage 3 with the same agency: 0 [TT02 App XI Japan a]
        (dict(title="Thực tập sinh số 3 ngành hàn"), 0, "jp_titp3"),
        # SSW after TITP: 0 [TT02 App XI Japan b]
        (dict(programme="ssw", title="Kỹ năng đặc định cho TTS về nước"), 0, "jp_ssw_after_titp"),
        # shipbuilding designated activities: 0.7 x 3 = 2.1, at most 2 -> 2 x 30,600,000 = 61,200,000
        (dict(title="Lao động đóng tàu theo hoạt động đặc định"), 61_200_000, "jp_high_skill"),
        # Taiwan home caregiver, NT$20,000 x 850 = 17,000,000; 0.4 x 3 = 1.2, at most 1 -> 17,000,000
        (dict(country="TW", programme="general", title="Khán hộ công gia đình", monthly_wage=20_000,
              wage_currency="TWD"), 17_000_000, "tw_home_domestic_agri_fishing"),
        # Taiwan nursing home: NT$29,500 x 850 = 25,075,000; 0.7 x 3 = 2.1 -> 2 -> 50,150,000
        (dict(country="TW", programme="general", title="Hộ lý viện dưỡng lão", monthly_wage=29_500,
              wage_currency="TWD"), 50_150_000, "tw_institutional_care"),
        # Korea coastal fishing E-10, 2,300,000 KRW x 18.5 = 42,550,000; 0.7 x 3 -> 2 -> 85,100,000
        (dict(country="KR", programme="general", title="Thuyền viên tàu cá gần bờ E-10", monthly_wage=2_300_000,
              wage_currency="KRW"), 85_100_000, "kr_coastal_fishing"),
        # domestic work in Saudi Arabia: 0
        (dict(country="SA", programme="general", title="Giúp việc gia đình", monthly_wage=400,
              wage_currency="USD"), 0, "domestic_se_west_asia"),
        # Australian agriculture: 0
        (dict(country="AU", programme="general", title="Thu hoạch nông trại", monthly_wage=4_000,
              wage_currency="AUD"), 0, "au_agriculture"),
        # Triple Win nursing: nothing charged
        (dict(country="DE", programme="nursing", title="Điều dưỡng", monthly_wage=1_200,
              wage_currency="EUR"), 0, "de_nursing_triple_win"),
        # seafarer, 24 months: 1.5 x 2 = 3 months x 1,000 USD x 26,300 = 78,900,000
        (dict(country="PA", programme="general", title="Thuyền viên tàu vận tải", monthly_wage=1_000,
              wage_currency="USD", contract_months=24), 78_900_000, "seafarer"),
    ],
)
def test_fee_caps_by_case(kw, cap, rule):
    fc = fee_cap(order(**kw))
    assert (fc.cap_vnd, fc.rule.key) == (cap, rule)


def test_zero_cap_message():
    o = order(country="SA", programme="general", title="Giúp việc gia đình", monthly_wage=400, wage_currency="USD",
              contract_months=24, service_fee_vnd=5_000_000)
    [r] = order_gates(o, recruiter(), DAY)
    assert r.code == "service_fee_over_cap"
    assert r.vi.startswith("Phí dịch vụ 5.000.000 đ không được thu: mức trần là 0 đ")
    assert r.vi.endswith("[Thông tư 02/2024/TT-BLĐTBXH, Phụ lục XI]")


def test_fee_cap_unknown_is_a_warning():
    assert codes(order_gates(order(contract_months=None), recruiter(), DAY)) == ["fee_cap_unknown"]
    assert codes(order_gates(order(contract_months=None, service_fee_vnd=0), recruiter(), DAY)) == []


def test_fee_cap_uses_given_rates():
    # an administrator's JPY rate of 180: 3 x 180,000 x 180 = 97,200,000
    assert fee_cap_vnd(order(), {"JPY": 180})[0] == 97_200_000
    with pytest.raises(ValueError, match="exchange rate of 'JPY'"):
        fee_cap_vnd(order(), {"JPY": 0})


def test_brokerage_fee():
    assert codes(order_gates(order(brokerage_fee_vnd=None), recruiter(), DAY)) == []
    [r] = order_gates(order(brokerage_fee_vnd=5_000_000), recruiter(), DAY)
    assert (r.code, r.severity) == ("brokerage_fee", "block")
    assert r.vi == ("Thu tiền môi giới 5.000.000 đ của người lao động là hành vi bị nghiêm cấm "
                    "[Luật 69/2020/QH14, Điều 7(8)]")


# ---------------------------------------------------------------------------------------------
# deposits [D112 App II]

TW = dict(country="TW", programme="general", title="Công nhân nhà máy", monthly_wage=29_500, wage_currency="TWD")
KR = dict(country="KR", programme="eps", title="Công nhân sản xuất", monthly_wage=2_300_000, wage_currency="KRW",
          language_requirement="EPS-TOPIK")


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({**TW, "deposit_vnd": 12_000_000}, []),
        ({**TW, "deposit_vnd": 13_000_000}, ["deposit_over_cap"]),
        ({**TW, "title": "Thuyền viên tàu cá xa bờ", "deposit_vnd": 1_000_000}, ["deposit_over_cap"]),
        ({**KR, "deposit_vnd": 36_000_000}, []),
        ({**KR, "deposit_vnd": 40_000_000}, ["deposit_over_cap"]),
        (dict(deposit_vnd=1_000_000), ["deposit_over_cap"]),  # Japan: no deposit at all
        (dict(country="DE", programme="general", monthly_wage=2_000, wage_currency="EUR", deposit_vnd=15_000_000), []),
        (dict(country="DE", programme="general", monthly_wage=2_000, wage_currency="EUR", deposit_vnd=30_000_000),
         ["deposit_may_exceed_cap"]),  # one air fare, estimated: a warning only
    ],
)
def test_deposit_caps(kw, expected):
    # EPS (E-9) places are sent only by the public centre: the Korean rows use it as sender.
    sender = recruiter(recruiter_type="public_agency") if kw.get("programme") == "eps" else recruiter()
    assert codes(order_gates(order(**kw), sender, DAY)) == expected


def test_deposit_message_japan():
    [r] = order_gates(order(deposit_vnd=20_000_000), recruiter(), DAY)
    assert r.vi == ("Yêu cầu ký quỹ 20.000.000 đ trái quy định: không được ký quỹ tại Nhật Bản, châu Mỹ, "
                    "Đông Nam Á, Trung Đông [Nghị định 112/2021/NĐ-CP, Phụ lục II]")


# ---------------------------------------------------------------------------------------------
# prohibited jobs and areas [L69 Art 7(12), 7(13)]


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(title="Nhân viên mát-xa khách sạn"), ["prohibited_job"]),
        (dict(title="Massage therapist, hotel spa"), ["prohibited_job"]),
        (dict(title="Thợ lặn công trình biển"), ["prohibited_job"]),
        (dict(title="Công nhân hỏa táng"), ["prohibited_job"]),
        (dict(description="Làm việc gần vùng chiến sự"), ["prohibited_area"]),
        (dict(title="Thợ sơn"), []),
    ],
)
def test_prohibited(kw, expected):
    assert codes(order_gates(order(**kw), recruiter(), DAY)) == expected


# ---------------------------------------------------------------------------------------------
# Korean seasonal work (E-8): local governments only

E8 = dict(country="KR", programme="general", title="Lao động thời vụ E-8 thu hoạch", monthly_wage=2_200_000,
          wage_currency="KRW", contract_months=5, language_requirement=None, service_fee_vnd=0)


def test_e8_by_private_company_is_blocked():
    [r] = order_gates(order(**E8), recruiter(), DAY)
    assert (r.code, r.severity) == ("seasonal_private_sender", "block")


@pytest.mark.parametrize(
    "kw",
    [
        dict(name="UBND huyện Hà Quảng", licence_no=""),
        dict(name="Ủy ban nhân dân tỉnh Cao Bằng", licence_no=""),
        dict(name="Trung tâm Dịch vụ việc làm tỉnh Cao Bằng", licence_no=""),
        dict(name="Cao Bang People's Committee", licence_no=""),
        dict(name="Any name", recruiter_type="local_government", licence_no=""),
    ],
)
def test_e8_by_local_government_is_allowed(kw):
    r = recruiter(**kw)
    assert is_public_sender(r)
    assert codes(order_gates(order(**E8), r, DAY)) == []


def test_seasonal_programme_by_explicit_enterprise_is_blocked():
    r = recruiter(name="UBND giả mạo", recruiter_type="enterprise")
    assert codes(order_gates(order(**{**E8, "title": "Thu hoạch rau", "programme": "seasonal"}), r, DAY)) == [
        "seasonal_private_sender"
    ]


# ---------------------------------------------------------------------------------------------
# duplicates: the same licence or approval number (after folding) on two entities


def test_duplicate_licence_number_differing_in_d_and_spaces():
    a = recruiter(recruiter_id="R1", licence_no="123/LĐTBXH-GP")
    b = recruiter(recruiter_id="R2", name="Công ty Bắc Việt Mới", licence_no="123 / ldtbxh-gp")
    c = recruiter(recruiter_id="R3", licence_no="124/LĐTBXH-GP")
    dups = find_duplicate_codes([a, b, c], [])
    assert sorted(dups) == ["R1", "R2"]
    assert {r.code for r in dups.values()} == {"duplicate_licence_no"}
    assert dups["R1"].detail["shared_with"] == ("R2",)
    assert "R2" in dups["R1"].vi
    assert codes(order_gates(order(), a, DAY, duplicates=dups)) == ["duplicate_licence_no"]
    assert codes(order_gates(order(recruiter_id="R3"), c, DAY, duplicates=dups)) == []


def test_duplicate_approval_number():
    o1 = order(order_id="O1", approval_no="45/QLLĐNN-HĐ")
    o2 = order(order_id="O2", approval_no="45/qllđnn - hđ")
    o3 = order(order_id="O3", approval_no="46/QLLĐNN-HĐ")
    dups = find_duplicate_codes([recruiter()], [o1, o2, o3])
    assert sorted(dups) == ["O1", "O2"]
    assert codes(order_gates(o2, recruiter(), DAY, duplicates=dups)) == ["duplicate_approval_no"]
    assert codes(order_gates(o3, recruiter(), DAY, duplicates=dups)) == []
    # a plain set of ids held out works too
    assert codes(order_gates(o3, recruiter(), DAY, duplicates={"O3"})) == ["duplicate_approval_no"]


# ---------------------------------------------------------------------------------------------
# wages


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({**KR, "monthly_wage": 2_156_880}, []),
        ({**KR, "monthly_wage": 2_000_000}, ["wage_below_market_floor"]),
        ({**TW, "monthly_wage": 25_000}, ["wage_below_market_floor"]),
        ({**TW, "title": "Khán hộ công gia đình", "monthly_wage": 20_000, "service_fee_vnd": 17_000_000}, []),
        (dict(country="SA", programme="general", title="Công nhân xây dựng", monthly_wage=400, wage_currency="USD",
              contract_months=24, service_fee_vnd=0), []),
        (dict(country="SA", programme="general", title="Công nhân xây dựng", monthly_wage=380, wage_currency="USD",
              contract_months=24, service_fee_vnd=0), ["wage_below_market_floor"]),
        (dict(country="RO", programme="general", title="Công nhân xây dựng", monthly_wage=700, wage_currency="USD",
              contract_months=24, service_fee_vnd=0), []),
        (dict(country="RO", programme="general", title="Công nhân xây dựng", monthly_wage=700, wage_currency="USD",
              contract_months=8, service_fee_vnd=0), ["wage_below_market_floor"]),
        (dict(monthly_wage=None, service_fee_vnd=0), ["wage_missing"]),
        (dict(wage_currency="XYZ", service_fee_vnd=0), ["exchange_rate_missing"]),
    ],
)
def test_wage_floors(kw, expected):
    sender = recruiter(recruiter_type="public_agency") if kw.get("programme") == "eps" else recruiter()
    assert codes(order_gates(order(**kw), sender, DAY)) == expected


def test_wage_floor_message():
    [r] = order_gates(order(**{**KR, "monthly_wage": 2_000_000}), recruiter(recruiter_type="public_agency"), DAY)
    assert r.vi == ("Lương 2.000.000 KRW/tháng thấp hơn mức sàn 2.156.880 KRW/tháng (lương tối thiểu Hàn Quốc) "
                    "[Thông tư 02/2024/TT-BLĐTBXH, Phụ lục IV]")


def test_suspicious_wage_is_a_warning():
    # 260,000 JPY x 1.5 = 390,000: above it is far above the market
    assert codes(order_gates(order(monthly_wage=380_000, service_fee_vnd=0), recruiter(), DAY)) == []
    [r] = order_gates(order(monthly_wage=500_000, service_fee_vnd=0), recruiter(), DAY)
    assert (r.code, r.severity) == ("suspicious_wage", "warn")


def test_lure_wording_and_long_wait():
    assert codes(order_gates(order(description="Việc nhẹ lương cao, không cần tiếng"), recruiter(), DAY)) == [
        "lure_wording"
    ]
    assert codes(order_gates(order(departure_date=dt.date(2026, 11, 30)), recruiter(), DAY)) == [
        "long_wait_before_departure"
    ]


def test_worst_severity():
    rs = order_gates(order(service_fee_vnd=200_000_000, description="việc nhẹ lương cao"), recruiter(), DAY)
    assert codes(rs) == ["service_fee_over_cap", "lure_wording"]
    assert worst_severity(rs) == "block"
    assert worst_severity([]) is None


# ---------------------------------------------------------------------------------------------
# worker gates


def test_eligible_worker_has_no_reason():
    assert worker_gates(worker(), order(), DAY, [parse_certificate("JLPT N5")]) == []


@pytest.mark.parametrize(
    "wkw, okw, expected",
    [
        # age at the deadline 2026-04-30: born 1995-05-01 is 30 (not yet 31) -> ok
        (dict(birth_date=dt.date(1995, 5, 1)), {}, []),
        # born 1995-04-30 is 31 on the deadline
        (dict(birth_date=dt.date(1995, 4, 30)), {}, ["age_above_max"]),
        (dict(birth_date=dt.date(2008, 4, 30)), {}, []),  # 18 on the deadline
        (dict(birth_date=dt.date(2008, 5, 1)), {}, ["age_below_legal_min", "age_below_min"]),
        (dict(birth_date=dt.date(2005, 1, 1)), dict(min_age=22), ["age_below_min"]),
        # without a deadline, the age on the day
        (dict(birth_date=dt.date(1995, 3, 2)), dict(deadline=None), []),
        (dict(birth_date=dt.date(1995, 3, 1)), dict(deadline=None), ["age_above_max"]),
        ({}, dict(gender="female"), ["gender_mismatch"]),
        (dict(gender="female"), dict(gender="female"), []),
        (dict(gender=None), dict(gender="male"), ["gender_unknown"]),
        (dict(education="primary"), {}, ["education_below_min"]),
        (dict(education="lower_secondary"), {}, []),
        (dict(education=None), {}, ["education_unknown"]),
        ({}, dict(min_experience_years=3), []),
        ({}, dict(min_experience_years=4), ["experience_short"]),
        (dict(available_from=dt.date(2026, 10, 1)), {}, ["available_after_departure"]),
        (dict(active=False), {}, ["worker_inactive"]),
    ],
)
def test_worker_gates(wkw, okw, expected):
    assert codes(worker_gates(worker(**wkw), order(**okw), DAY, [parse_certificate("JLPT N5")])) == expected


def test_language_gap_is_trainable():
    [r] = worker_gates(worker(), order(language_requirement="JLPT N4"), DAY, [parse_certificate("JLPT N5")])
    assert (r.code, r.severity) == ("language_gap", "gap")
    assert r.vi == "Cần JLPT N4, hiện có JLPT N5: cần khoảng 4 tháng đào tạo ngoại ngữ"
    assert r.en == "Needs JLPT N4, has JLPT N5: about 4 months of language training"


def test_language_fail():
    [r] = worker_gates(worker(), order(language_requirement="JLPT N3"), DAY, [parse_certificate("JLPT N5")])
    assert (r.code, r.severity) == ("language_fail", "fail")
    assert r.vi == "Cần JLPT N3, hiện có JLPT N5: thiếu 2 bậc, quá xa để đào tạo kịp trước khi xuất cảnh"


EPS_ORDER = dict(country="KR", programme="eps", title="Công nhân sản xuất", monthly_wage=2_300_000, wage_currency="KRW",
                 language_requirement="EPS-TOPIK 80", max_age=39, contract_months=58, service_fee_vnd=0)


def test_eps_valid_pass():
    assert worker_gates(worker(), order(**EPS_ORDER), DAY, [parse_certificate("EPS-TOPIK 152 (2025-06)")]) == []


def test_eps_expired_pass_fails():
    [r] = worker_gates(worker(), order(**EPS_ORDER), DAY, [parse_certificate("EPS-TOPIK 152 (2023-06-01)")])
    assert (r.code, r.severity) == ("eps_topik_required", "fail")
    assert r.detail["assessment"] == "eps_topik_expired"
    assert "hết hiệu lực từ ngày 01/06/2025" in r.vi
    assert "kỳ thi EPS-TOPIK tiếp theo" in r.vi


def test_eps_general_topik_does_not_replace():
    [r] = worker_gates(worker(), order(**EPS_ORDER), DAY, [parse_certificate("TOPIK 5")])
    assert r.code == "eps_topik_required" and r.detail["assessment"] == "eps_topik_missing"
    assert "chứng chỉ TOPIK thông thường không thay thế được" in r.vi


def test_certificates_default_to_stored_rows():
    from models.entities import LanguageCertificate

    w = worker()
    w.certificates = [LanguageCertificate(raw="JLPT N4 (2025-07)", exam="jlpt", language="ja", label="N4",
                                          score=None, level=2, test_date=dt.date(2025, 7, 1))]
    assert worker_gates(w, order(language_requirement="JLPT N4"), DAY) == []


def test_unreadable_requirement_is_a_warning():
    assert codes(worker_gates(worker(), order(language_requirement="tiếng Nhật giao tiếp"), DAY, [])) == [
        "language_requirement_unreadable"
    ]


def test_consent_gate():
    assert consent_gate(worker(consent_share=True)) == []
    [r] = consent_gate(worker(consent_share=False))
    assert (r.code, r.severity) == ("no_consent", "fail")


def test_reasons_vietnamese_has_diacritics_and_both_languages():
    rs = order_gates(order(service_fee_vnd=200_000_000, brokerage_fee_vnd=1, deposit_vnd=1, status="closed",
                           approval_no=None), recruiter(status="revoked"), DAY)
    assert len(rs) == 6
    for r in rs:
        assert r.vi and r.en and r.vi != r.en
        assert r.severity == REASON_CODES[r.code]


# ---------------------------------------------------------------------------------------------
# issue 13: special-route fee caps, prohibited jobs in many languages, EPS senders, licence
# verification among holders of one licence number

SSW = dict(country="JP", programme="ssw", title="Thợ hàn SSW", monthly_wage=200_000, wage_currency="JPY",
           contract_months=36, language_requirement="JLPT N4")


@pytest.mark.parametrize("text", [
    "Thợ hàn SSW dành cho TTS đã về nước", "tuyen thuc tap sinh da ve nuoc nganh han",
    "Welding SSW for returned trainees", "溶接 特定技能 元技能実習生 歓迎",
])
def test_returned_trainee_route_detected_from_text_caps_the_fee_at_zero(text):
    o = order(**SSW, description=text, service_fee_vnd=35_000_000)
    assert "service_fee_over_cap" in codes(order_gates(o, recruiter(), DAY))
    cap = rules.fee_cap(o)
    assert cap.cap_vnd == 0
    # the reason names the words that triggered the route (issue 13)
    trigger = rules.occupation_class_triggers(o)["jp_ssw_after_titp"]
    assert trigger and f"«{trigger}»" in cap.vi and f"«{trigger}»" in cap.en
    assert trigger in fold(text)


def test_declared_route_is_named_as_declared_in_the_reason():
    cap = rules.fee_cap(order(**SSW, route="returned_trainee", service_fee_vnd=1))
    assert "theo tuyến khai trên đơn hàng" in cap.vi and "declared on the order" in cap.en


@pytest.mark.parametrize("route, fee, blocked", [
    ("returned_trainee", 1, True), ("titp_stage3", 1, True),
    ("high_skill", 2 * 200_000 * 170, False), ("high_skill", 2 * 200_000 * 170 + 1_000_000, True),
    (None, 3 * 200_000 * 170 - 1_000, False),
])
def test_declared_route_sets_the_fee_cap(route, fee, blocked):
    o = order(**SSW, route=route, service_fee_vnd=fee)
    got = "service_fee_over_cap" in codes(order_gates(o, recruiter(), DAY, rates={"JPY": 170}))
    assert got is blocked, (route, rules.fee_cap(o, {"JPY": 170}).en)


@pytest.mark.parametrize("title", [
    "Công nhân luyện kim độc hại (nấu chảy chì)", "cong nhan nau chay chi", "Lead smelting worker",
    "鉛の製錬工場作業員", "제련 공장 작업자", "冶炼厂工人", "Nhân viên mát xa khách sạn", "マッサージ店スタッフ",
    "방사능 구역 청소", "火葬場 作業員",
])
def test_prohibited_jobs_in_many_languages(title):
    assert "prohibited_job" in codes(order_gates(order(title=title, description=""), recruiter(), DAY))


@pytest.mark.parametrize("title", ["Thợ hàn kết cấu thép", "Công nhân lắp ráp ghế massage? no", "Hộ lý viện dưỡng lão"])
def test_ordinary_jobs_are_not_prohibited(title):
    title = title.replace("ghế massage? no", "linh kiện điện tử")
    assert "prohibited_job" not in codes(order_gates(order(title=title, description=""), recruiter(), DAY))


@pytest.mark.parametrize("kw", [dict(programme="eps"), dict(programme="general", title="Lao động EPS E-9 sản xuất")])
def test_eps_places_from_a_private_enterprise_are_blocked(kw):
    o = order(country="KR", monthly_wage=2_300_000, wage_currency="KRW", language_requirement="EPS-TOPIK",
              service_fee_vnd=40_000_000, **kw)
    assert "eps_private_sender" in codes(order_gates(o, recruiter(), DAY))
    public = recruiter(name="Trung tâm Lao động ngoài nước", recruiter_type="public_agency")
    assert "eps_private_sender" not in codes(order_gates(o, public, DAY))


def _holders(**b):
    genuine = recruiter(recruiter_id="GEN", name="Công ty CP Nhân lực Bắc Việt", licence_no="123/LĐTBXH-GP")
    fake = recruiter(recruiter_id="FAKE", name="Cong ty CP Nhan luc Bac Viet", licence_no="123/LDTBXH-GP",
                     website="bacviet-jobs.com", **b)
    return genuine, fake


def test_shared_licence_holds_both_until_one_is_verified():
    genuine, fake = _holders()
    dups = rules.find_duplicate_codes([genuine, fake], [])
    assert set(dups) == {"GEN", "FAKE"}
    genuine.licence_verified_on = dt.date(2026, 11, 20)
    dups = rules.find_duplicate_codes([genuine, fake], [])
    assert set(dups) == {"FAKE"}
    assert "GEN" in dups["FAKE"].vi and "20/11/2026" in dups["FAKE"].vi
    assert codes(order_gates(order(recruiter_id="GEN"), genuine, DAY, duplicates=dups)) == []


def test_revoking_the_look_alike_releases_the_genuine_one():
    genuine, fake = _holders(status="revoked")
    dups = rules.find_duplicate_codes([genuine, fake], [])
    assert "GEN" not in dups and "FAKE" in dups


def test_two_verified_holders_stay_held():
    genuine, fake = _holders(licence_verified_on=dt.date(2026, 1, 1))
    genuine.licence_verified_on = dt.date(2026, 2, 1)
    assert set(rules.find_duplicate_codes([genuine, fake], [])) == {"GEN", "FAKE"}


def test_gender_and_education_sentences_use_the_vocabulary_names():
    """The sentences name the values as the forms do ("nữ", "THPT", "cao đẳng"), never the
    codes ("female", "upper_secondary")."""
    certs = [parse_certificate("JLPT N5")]
    [r] = worker_gates(worker(), order(gender="female"), DAY, certs)
    assert r.vi == "Đơn hàng tuyển lao động nữ; hồ sơ ghi giới tính nam"
    assert r.en == "The order asks for female workers; the profile records male"
    [r] = worker_gates(worker(), order(min_education="college"), DAY, certs)
    assert r.vi == "Trình độ THPT thấp hơn yêu cầu cao đẳng"
    assert r.en == "Education upper secondary is below the required college"
    [r] = worker_gates(worker(education=None), order(min_education="vocational"), DAY, certs)
    assert "trình độ trung cấp nghề;" in r.vi and "vocational" not in r.vi


def test_legal_sources_are_cited_by_name():
    from models.reference import cite

    assert cite("L69 Art 7") == ("Luật 69/2020/QH14, Điều 7", "Law 69/2020/QH14, Art 7")
    assert cite("L69 Art 26(2)(dd)") == ("Luật 69/2020/QH14, Điều 26(2)(đ)", "Law 69/2020/QH14, Art 26(2)(đ)")
    assert cite("D112 App II") == ("Nghị định 112/2021/NĐ-CP, Phụ lục II", "Decree 112/2021/ND-CP, App II")
    assert cite("TT46") == ("Thông tư 46/2022/TT-BTC", "Circular 46/2022/TT-BTC")
    assert cite("") == ("", "")
    [r] = consent_gate(worker(consent_share=False))
    assert r.vi.endswith("[Nghị định 13/2023/NĐ-CP, Điều 11]") and r.en.endswith("[Decree 13/2023/ND-CP, Art 11]")
    # every source a gate may cite names a known document
    from models.reference import DEPOSIT_RULES, FEE_CAP_RULES, MIN_WAGES, PROHIBITED_AREA_KEYWORDS, PROHIBITED_JOB_KEYWORDS

    sources = {x.source for x in (*FEE_CAP_RULES, *DEPOSIT_RULES, *MIN_WAGES)}
    sources |= set(PROHIBITED_JOB_KEYWORDS.values()) | set(PROHIBITED_AREA_KEYWORDS.values())
    for source in sources:
        vi, en = cite(source)
        assert vi != source and "Art" not in vi and "App" not in vi, source


def test_phrase_tests_by_one_expression_agree_with_the_phrase_by_phrase_definition():
    """The keyword tables are searched through an index of their phrases' first words (speed at
    100k orders);
    what they find must be what the phrase-by-phrase whole-phrase test finds, on order texts with
    the tables' own phrases spliced in, at the ends, inside words and glued to other words."""
    import random

    from matcher.rules import _all_phrases, _first_phrase, _has_phrase
    from models.reference import (
        LURE_KEYWORDS,
        OCCUPATION_CLASS_KEYWORDS,
        PROHIBITED_AREA_KEYWORDS,
        PROHIBITED_JOB_KEYWORDS,
        PUBLIC_SENDER_NAME_KEYWORDS,
        SEASONAL_KEYWORDS,
    )
    from matcher.text import fold

    tables = [tuple(kws) for kws in OCCUPATION_CLASS_KEYWORDS.values()]
    tables += [tuple(PROHIBITED_JOB_KEYWORDS), tuple(PROHIBITED_AREA_KEYWORDS), tuple(LURE_KEYWORDS),
               tuple(SEASONAL_KEYWORDS), tuple(PUBLIC_SENDER_NAME_KEYWORDS)]
    phrases = sorted({p for t in tables for p in t})
    words = ["tho", "han", "cong", "ty", "nhat", "ban", "xay", "dung", "e", "8", "溶接", "x"]
    rng = random.Random(3)
    checked = hits = 0
    for _ in range(3000):
        parts = [rng.choice(phrases + words) for _ in range(rng.randint(0, 6))]
        glue = rng.choice([" ", " ", "", "x "])
        text = fold(glue.join(parts))
        for t in tables:
            expected = [k for k in t if _has_phrase(text, k)]
            assert _all_phrases(text, t) == expected, (text, t)
            assert _first_phrase(text, t, frozenset(text.split(" "))) == (expected[0] if expected else None)
            checked += 1
            hits += bool(expected)
    assert hits > 1000 and checked - hits > 1000
