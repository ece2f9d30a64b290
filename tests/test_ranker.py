"""The ranker on a small hand-made world with the deterministic test encoder."""

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from matcher.encoder import HashingEncoder
from matcher.ranker import Engine, NotFittedError
from models import JobOrder, LanguageCertificate, LicenceStatusChange, Recruiter, Worker
from models.languages import parse_certificate

TODAY = dt.date(2026, 11, 26)


def cert(worker_id, raw, pos=0):
    c = parse_certificate(raw)
    return LanguageCertificate(worker_id=worker_id, position=pos, raw=c.raw, exam=c.exam, language=c.language,
                               label=c.label, score=c.score, level=c.level, test_date=c.test_date)


def recruiter(rid, status="active", name=None, **kw):
    r = Recruiter(recruiter_id=rid, name=name or f"Công ty {rid}", licence_no=f"{rid[-2:]}/LĐTBXH-GP",
                  licence_date=dt.date(2018, 1, 1), status=status, markets=["JP", "KR"], **kw)
    if status != "active":
        r.status_history = [LicenceStatusChange(status=status, effective_date=dt.date(2026, 6, 1), reason="test")]
    return r


def order(oid, rid, title, country="JP", **kw):
    base = dict(order_id=oid, recruiter_id=rid, title=title, country=country, programme="titp",
                positions=5, places_filled=0, monthly_wage=180000, wage_currency="JPY", contract_months=36,
                service_fee_vnd=20_000_000, brokerage_fee_vnd=0, deposit_vnd=0, approval_no=f"A-{oid}",
                approval_date=dt.date(2026, 9, 1), deadline=dt.date(2027, 2, 1),
                departure_date=dt.date(2027, 6, 1), status="open", min_age=18, max_age=35,
                required_skills=[], extra={})
    base.update(kw)
    return JobOrder(**base)


def worker(wid, skills, exp=(), certs=(), prefs=("JP",), born=dt.date(2000, 5, 5), **kw):
    w = Worker(worker_id=wid, full_name=f"Nông Văn {wid}", birth_date=born, gender="male",
               skills=list(skills), experience=[{"occupation": o, "years": y} for o, y in exp],
               preferred_countries=list(prefs), preferred_sectors=[], consent_share=True,
               education="upper_secondary", extra={}, **kw)
    w.certificates = [cert(wid, c, i) for i, c in enumerate(certs)]
    return w


@pytest.fixture
def world():
    recs = [recruiter("R01"), recruiter("R02", status="revoked")]
    orders = [
        order("O-WELD", "R01", "Thợ hàn (welder) - Osaka", required_skills=["hàn điện", "hàn TIG"],
              language_requirement="JLPT N4"),
        order("O-SEW", "R01", "Công nhân may công nghiệp - Gifu", required_skills=["may công nghiệp"]),
        order("O-FARM", "R01", "Thực tập sinh nông nghiệp trồng rau", required_skills=["trồng rau"]),
        order("O-REVOKED", "R02", "Thợ hàn - Aichi", required_skills=["hàn"]),
        order("O-FEE", "R01", "Thợ hàn kết cấu", service_fee_vnd=200_000_000),
    ]
    workers = [
        worker("W-WELD", ["tho han", "han TIG"], exp=[("thợ hàn", 3)], certs=["JLPT N4 (2025)"]),
        worker("W-WELD-N5", ["thợ hàn"], exp=[("tho han", 2)], certs=["JLPT N5 (2025)"]),
        worker("W-SEW", ["cn may", "may công nghiệp"], exp=[("công nhân may", 4)], certs=["JLPT N5 (2025)"]),
        worker("W-OLD", ["thợ hàn"], exp=[("thợ hàn", 10)], certs=["JLPT N4 (2025)"], born=dt.date(1980, 1, 1)),
    ]
    return Engine(HashingEncoder()).fit(recs, orders, workers, today=TODAY)


def test_unfitted_engine_says_so():
    with pytest.raises(NotFittedError, match="not fitted"):
        Engine(HashingEncoder()).blocked_orders()


def test_illegal_orders_never_ranked_and_listed_with_reasons(world):
    blocked = {b.item_id: {r.code for r in b.reasons} for b in world.blocked_orders()}
    assert "licence_revoked" in blocked["O-REVOKED"]
    assert "service_fee_over_cap" in blocked["O-FEE"]
    for wid in world.workers_:
        r = world.rank_orders(world.workers_[wid], top_k=10)
        shown = {m.item_id for m in r.matches}
        assert not shown & {"O-REVOKED", "O-FEE"}
        assert {b.item_id for b in r.blocked} >= {"O-REVOKED", "O-FEE"}


def test_right_order_first_and_explained(world):
    r = world.rank_orders(world.workers_["W-WELD"], top_k=3)
    top = r.matches[0]
    assert top.item_id == "O-WELD"
    assert sum(top.contributions.values()) == pytest.approx(top.score)
    assert {e.feature for e in top.reasons} >= {"occupation_similarity", "language_fit"}
    assert all(e.vi and e.en for e in top.reasons)
    r = world.rank_orders(world.workers_["W-SEW"], top_k=3)
    assert r.matches[0].item_id == "O-SEW"


def test_one_level_language_gap_is_shown_not_hidden(world):
    r = world.rank_orders(world.workers_["W-WELD-N5"], top_k=5)
    weld = next(m for m in r.matches if m.item_id == "O-WELD")
    assert [g.code for g in weld.gaps] == ["language_gap"]
    assert "N4" in weld.gaps[0].vi


def test_age_fail_goes_to_ineligible(world):
    r = world.rank_orders(world.workers_["W-OLD"], top_k=5)
    assert "O-WELD" not in {m.item_id for m in r.matches}
    inel = {b.item_id: {x.code for x in b.reasons} for b in r.ineligible}
    assert "age_above_max" in inel["O-WELD"]


def test_rank_workers_both_ways_and_consent(world):
    o = world.orders_["O-WELD"]
    r = world.rank_workers(o, top_k=5)
    assert r.matches[0].item_id == "W-WELD"
    world.upsert_worker(replace(world.workers_["W-WELD"], consent_share=False))
    r2 = world.rank_workers(o, top_k=5, consent_only=True)
    assert "W-WELD" not in {m.item_id for m in r2.matches}
    assert world.rank_workers(world.orders_["O-REVOKED"]).matches == []


def test_is_candidate_is_the_ranking_membership_without_the_top_k_cut(world):
    """One candidate rule: ``is_candidate`` says yes exactly for the workers ``rank_workers``
    lists (with or without consent), and no for an illegal order."""
    world.upsert_worker(replace(world.workers_["W-SEW"], consent_share=False))
    for oid in world.orders_:
        for consent_only in (False, True):
            listed = {m.item_id for m in world.rank_workers(world.orders_[oid], top_k=100, consent_only=consent_only).matches}
            said = {w for w in world.workers_ if world.is_candidate(w, oid, consent_only=consent_only)}
            assert said == listed, (oid, consent_only)
    assert world.is_candidate("W-WELD", "O-WELD") and not world.is_candidate("W-OLD", "O-WELD")  # age
    assert not world.is_candidate("W-SEW", "O-SEW", consent_only=True) and world.is_candidate("W-SEW", "O-SEW")
    assert not world.is_candidate("W-WELD", "O-REVOKED") and not world.is_candidate("W-WELD", "O-FEE")
    assert not world.is_candidate("NOPE", "O-WELD") and not world.is_candidate("W-WELD", "NOPE")


def test_filters_and_top_k(world):
    w = world.workers_["W-WELD"]
    assert world.rank_orders(w, top_k=1).matches.__len__() == 1
    assert world.rank_orders(w, country="KR").matches == []
    with pytest.raises(ValueError, match="top_k"):
        world.rank_orders(w, top_k=0)


def test_licence_revocation_takes_effect_at_once(world):
    rec = recruiter("R01")  # the enterprise's row as saved after the revocation
    rec.status_history = [LicenceStatusChange(status="revoked", effective_date=dt.date(2026, 11, 1), reason="x")]
    world.set_recruiter(rec)
    assert world.recruiters_["R01"].status_on(TODAY) == "revoked"
    assert all(o.recruiter is world.recruiters_["R01"] for o in world.orders_.values() if o.recruiter_id == "R01")
    r = world.rank_orders(world.workers_["W-WELD"])
    assert r.matches == []


def test_candidate_retrieval_agrees_with_full_scan(world):
    w = world.workers_["W-WELD"]
    full = [m.item_id for m in world.rank_orders(w, top_k=3).matches]
    world.full_scan_below = 1
    world.candidates = 10
    assert [m.item_id for m in world.rank_orders(w, top_k=3).matches] == full


def test_fusion_follows_the_encoder_own_weight(world):
    dense, lex = np.array([0.9, 0.5]), np.array([0.2, 0.7])
    dm, ds, lm, ls = world._bg  # noqa: SLF001 - the background the engine fitted
    mixed = world._z(dense, lex, ["thợ hàn"])  # noqa: SLF001
    np.testing.assert_allclose(mixed, 0.9 * (dense - dm) / ds + 0.1 * (lex - lm) / ls, rtol=1e-6)
    world.encoder.lexical_weight = 0.0  # what a tuned adapter's fusion.json may choose
    try:
        np.testing.assert_allclose(world._z(dense, lex, ["thợ hàn"]), (dense - dm) / ds, rtol=1e-6)  # noqa: SLF001
    finally:
        world.encoder.lexical_weight = None


def test_fusion_weight_follows_the_language_of_each_row_text(world):
    """With weights per query language (fusion.json), each row is fused with the weight of its
    own text's language; a language without one keeps the general weight."""
    dense = np.array([[0.9, 0.5], [0.9, 0.5], [0.9, 0.5]])
    lex = np.array([[0.2, 0.7], [0.2, 0.7], [0.2, 0.7]])
    dm, ds, lm, ls = world._bg  # noqa: SLF001
    world.encoder.lexical_weight_by_language = {"de": 1.0}
    try:
        z = world._z(dense, lex, ["Schweißerin", "welder", "thợ hàn"])  # noqa: SLF001
        one = world._z(dense[0], lex[0], ["Schweißer und Schlosser"])  # noqa: SLF001
    finally:
        world.encoder.lexical_weight_by_language = {}
    np.testing.assert_allclose(z[0], (lex[0] - lm) / ls, rtol=1e-6)
    general = 0.9 * (dense[1] - dm) / ds + 0.1 * (lex[1] - lm) / ls
    np.testing.assert_allclose(z[1], general, rtol=1e-6)
    np.testing.assert_allclose(z[2], general, rtol=1e-6)
    np.testing.assert_allclose(one, (lex[0] - lm) / ls, rtol=1e-6)
    # a 1-d row whose items are each a query (an order's side: every experience text against it)
    world.encoder.lexical_weight_by_language = {"de": 1.0}
    try:
        each = world._z(dense[0], lex[0], ["Schweißerin", "welder"])  # noqa: SLF001
    finally:
        world.encoder.lexical_weight_by_language = {}
    np.testing.assert_allclose(each, [(lex[0][0] - lm) / ls, general[1]], rtol=1e-6)


def _experience_sentence(engine, wid, oid):
    r = engine.rank_orders(engine.workers_[wid], top_k=10)
    m = next(m for m in r.matches if m.item_id == oid)
    return m, next((e for e in m.reasons if e.feature == "experience_fit"), None)


def test_experience_counts_related_trades_only_and_the_sentence_agrees():
    """Farming is not welding experience: a welder who also farmed gets exactly his welding years,
    and the sentence names the welding entry with its diacritics as the vocabulary writes it."""
    recs = [recruiter("R01")]
    orders = [order("O-WELD", "R01", "Thợ hàn kết cấu thép", required_skills=["hàn"], min_experience_years=2)]
    workers = [
        worker("W-MIX", ["han"], exp=[("lam ruong", 6), ("tho han", 1.5), ("cn han", 0.5)]),
        worker("W-FARM", ["trồng lúa"], exp=[("lam ruong", 6)]),
    ]
    engine = Engine(HashingEncoder()).fit(recs, orders, workers, today=TODAY)
    mixed, sentence = _experience_sentence(engine, "W-MIX", "O-WELD")
    assert mixed.features["experience_fit"] == pytest.approx(1.0)  # 1.5 + 0.5 welding years of 2
    assert sentence.vi == "2 năm kinh nghiệm liên quan, chủ yếu «thợ hàn» (1,5 năm); yêu cầu 2 năm."
    assert sentence.en.startswith("2 years of related experience, mainly «thợ hàn» (1.5 years)")
    assert "ruộng" not in sentence.vi
    farmer, sentence = _experience_sentence(engine, "W-FARM", "O-WELD")
    assert farmer.features["experience_fit"] == 0.0
    assert sentence.vi == "Chưa có kinh nghiệm liên quan rõ ràng (yêu cầu 2 năm)."


def test_dates_inside_reason_sentences_read_dd_mm_yyyy(world):
    late = worker("W-LATE", ["thợ hàn"], exp=[("thợ hàn", 3)], certs=["JLPT N4 (2025)"],
                  available_from=dt.date(2027, 9, 20))
    m = world.explain_pair(late, world.orders_["O-WELD"])
    date_fit = [e for e in m.reasons + m.gaps if e.feature == "date_fit"]
    assert date_fit, [e.feature for e in m.reasons + m.gaps]
    assert date_fit[0].vi == "Sẵn sàng từ 20/09/2027, sau ngày xuất cảnh 01/06/2027."
    assert date_fit[0].en == "Available from Sep 20, 2027, after departure on Jun 1, 2027."


def test_country_sentences_name_the_countries_not_their_codes(world):
    """'Nhật Bản là nước mong muốn thứ 2', not 'JP là nước ...' (issue 18)."""
    taiwan_first = worker("W-TW", ["thợ hàn"], exp=[("thợ hàn", 3)], certs=["JLPT N4 (2025)"], prefs=("TW", "JP"))
    m = world.explain_pair(taiwan_first, world.orders_["O-WELD"])
    [sentence] = [e for e in m.reasons if e.feature == "country_preference"]
    assert sentence.vi == "Nhật Bản là nước mong muốn thứ 2 của người lao động."
    assert sentence.en == "Japan is the worker's choice number 2."
    korea_only = worker("W-KR", ["thợ hàn"], exp=[("thợ hàn", 3)], certs=["JLPT N4 (2025)"], prefs=("KR", "DE"))
    m = world.explain_pair(korea_only, world.orders_["O-WELD"])
    [sentence] = [e for e in m.reasons if e.feature == "country_preference"]
    assert sentence.vi == "Nhật Bản không nằm trong các nước mong muốn (Hàn Quốc, Đức)."
    assert sentence.en == "Japan is not among the preferred countries (Korea, Germany)."
