"""matcher.insights: training needs against a brute-force count, support, trends, and the
forecast's interval against the known truth of synthetic histories."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import numpy as np
import pytest

from data.history import Process, departures_in, simulate
from data.synthetic import generate
from matcher import insights, rules
from matcher.encoder import load_encoder
from matcher.orderbook import open_orders
from matcher.ranker import Engine
from models import JobOrder, LanguageCertificate, Worker

DAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def demo():
    return generate(seed=7, workers=150, orders=60, recruiters=12, today=DAY)


def brute_force(workers, orders, day):
    """Loop over every worker x order with rules.worker_gates and classify the reasons inline."""
    by_key: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # key -> worker -> orders
    for w in workers:
        if w.active is False:
            continue
        prefs = [c.upper() for c in w.preferred_countries or []]
        for o in orders:
            if o.places_left <= 0 or (prefs and o.country.upper() not in prefs):
                continue
            keys, hard = [], False
            for r in rules.worker_gates(w, o, day):
                if r.code == "language_gap":
                    lang = {"JLPT": "ja", "JFT": "ja", "TOPIK": "ko", "TOCFL": "zh", "HSK": "zh", "Goethe": "de",
                            "CEFR": "en"}
                    name = (o.language_requirement or "").split()[0].split("-")[0]
                    keys.append(f"lang-{lang.get(name, '?')}-{r.detail['need_level']}")
                elif r.code == "eps_topik_required" and r.detail["assessment"] != "eps_topik_undated":
                    keys.append("eps-topik")
                elif r.code == "experience_short":
                    keys.append(f"trade-{o.programme or 'general'}")
                elif r.severity in ("fail", "block"):
                    hard = True
            if not hard and len(keys) == 1:
                by_key[keys[0]][w.worker_id].add(o.order_id)
    return by_key


def test_open_orders_are_the_engines_rankable_orders(demo):
    engine = Engine(load_encoder("hashing")).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    expected = sorted(oid for oid, n in engine.places_left(DAY).items() if n > 0)
    got = [o.order_id for o in open_orders(demo.orders, demo.recruiters, DAY)]
    assert got == expected == [o.order_id for o in engine.open_orders(DAY)]
    assert set(got).isdisjoint(demo.truth.excluded)
    # against the gates read one by one
    duplicates = rules.find_duplicate_codes(demo.recruiters, demo.orders)
    direct = sorted(o.order_id for o in demo.orders if o.places_left > 0 and not any(
        r.severity == "block" for r in rules.order_gates(o, o.recruiter, DAY, None, duplicates=duplicates)))
    assert got == direct


def test_training_needs_equal_a_brute_force_count(demo):
    orders = open_orders(demo.orders, demo.recruiters, DAY)
    result = insights.training_needs(demo.workers, orders, DAY)
    expected = brute_force(demo.workers, orders, DAY)
    assert expected, "the demo data should have workers one step short"
    assert {n.key for n in result.needs} == set(expected)
    places = {o.order_id: o.places_left for o in orders}
    for n in result.needs:
        want = expected[n.key]
        assert n.worker_ids == sorted(want)
        assert {w: set(o) for w, o in n.pairs.items()} == want
        per_order = Counter(oid for oids in want.values() for oid in oids)
        assert n.orders == sorted(per_order)
        assert n.places == sum(places[o] for o in per_order)
        assert n.fillable == sum(min(places[o], k) for o, k in per_order.items())
        assert sum(n.by_commune.values()) == sum(n.by_ethnicity.values()) == sum(n.by_disadvantaged.values()) == n.workers
    # ranked by the places a course would fill
    assert [n.fillable for n in result.needs] == sorted((n.fillable for n in result.needs), reverse=True)
    assert any(n.step.kind == "language" for n in result.needs)


def test_training_needs_count_only_workers_who_want_the_market():
    def worker(wid, prefs):
        w = Worker(worker_id=wid, full_name="A", birth_date=dt.date(2000, 1, 1), gender="male", active=True,
                   education="upper_secondary", experience=[], skills=[], preferred_countries=prefs)
        w.certificates.append(LanguageCertificate(position=0, raw="JLPT N5 (2025-07)", exam="jlpt", language="ja",
                                                  label="N5", level=1, test_date=dt.date(2025, 7, 1)))
        return w

    o = JobOrder(order_id="O1", recruiter_id="R", title="Chế biến thực phẩm", country="JP", programme="ssw",
                 language_requirement="JLPT N4", positions=3, min_age=18, max_age=35)
    ws = [worker("W-JP", ["JP", "KR"]), worker("W-ANY", []), worker("W-TW", ["TW"]), worker("W-KR", ["kr"])]
    (need,) = insights.training_needs(ws, [o], DAY).needs
    assert need.worker_ids == ["W-ANY", "W-JP"]


def test_pair_steps_one_step_only_when_nothing_else_fails():
    order = JobOrder(order_id="O", recruiter_id="R", title="t", country="JP", programme="ssw",
                     language_requirement="JLPT N4", positions=3)
    gap = rules.Reason("language_gap", "gap", "", "", detail={"need_level": 2, "have_level": 1})
    exp = rules.Reason("experience_short", "gap", "", "")
    age = rules.Reason("age_above_max", "fail", "", "")
    warn = rules.Reason("gender_unknown", "warn", "", "")
    assert [s.key for s in insights.pair_steps([gap, warn], order)] == ["lang-ja-2"]
    assert insights.pair_steps([gap, age], order) is None
    assert [s.key for s in insights.pair_steps([gap, exp], order)] == ["lang-ja-2", "trade-ssw"]
    assert insights.pair_steps([warn], order) == []
    undated = rules.Reason("eps_topik_required", "fail", "", "", detail={"assessment": "eps_topik_undated"})
    missing = rules.Reason("eps_topik_required", "fail", "", "", detail={"assessment": "eps_topik_missing"})
    assert insights.pair_steps([undated], order) is None
    assert [s.key for s in insights.pair_steps([missing], order)] == ["eps-topik"]


def test_one_level_short_worker_is_counted_with_the_places():
    w = Worker(worker_id="W1", full_name="A", birth_date=dt.date(2000, 1, 1), gender="male", active=True,
               education="upper_secondary", ethnicity="Tày", household="poor", disadvantaged_commune=True,
               commune="Xã Lý Bôn", experience=[], skills=[])
    w.certificates.append(LanguageCertificate(position=0, raw="JLPT N5 (2025-07)", exam="jlpt", language="ja",
                                              label="N5", level=1, test_date=dt.date(2025, 7, 1)))
    o = JobOrder(order_id="O1", recruiter_id="R", title="Chế biến thực phẩm", country="JP", programme="ssw",
                 language_requirement="JLPT N4", positions=7, places_filled=2, min_age=18, max_age=35)
    result = insights.training_needs([w], [o], DAY)
    (need,) = result.needs
    assert (need.key, need.workers, need.places, need.fillable) == ("lang-ja-2", 1, 5, 1)
    assert need.training_months == 4
    assert need.by_support["project4_training"] == 1 and need.by_support["priority_points"] == 1
    assert result.ready_workers == 0


@pytest.mark.parametrize(
    ("household", "ethnicity", "remote", "codes"),
    [
        (None, "Kinh", False, []),
        ("poor", "Kinh", False, ["project4_training", "vbsp_loan", "orientation_course"]),
        (None, "Tày", False, ["project4_training", "vbsp_loan", "orientation_course", "priority_points"]),
        (None, "Kinh", True, ["vbsp_loan", "orientation_course", "priority_points"]),
        ("near_poor", None, False, ["project4_training", "vbsp_loan", "orientation_course"]),
    ],
)
def test_support_for_flags(household, ethnicity, remote, codes):
    w = Worker(worker_id="W", household=household, ethnicity=ethnicity, disadvantaged_commune=remote)
    got = insights.support_for(w)
    assert [s.code for s in got] == codes
    assert all(s.source for s in got)


def test_support_sources_cite_the_domain_sources():
    from models.reference import SOURCES, cite

    assert all(s.source.split(" ")[0] in SOURCES for s in insights.SUPPORTS.values())
    vi = " ".join(cite(s.source)[0] for s in insights.SUPPORTS.values())
    en = " ".join(cite(s.source)[1] for s in insights.SUPPORTS.values())
    assert "Thông tư 46/2022/TT-BTC" in vi and "Nghị định 338/2025/NĐ-CP, Điều 30" in vi
    assert "Circular 46/2022/TT-BTC" in en and "Decree 338/2025/ND-CP, Art 30" in en
    assert "Decree" not in vi and "Circular" not in vi and "DOMAIN.md" not in vi + en


def test_order_trends_sum_places_and_convert_wages(demo):
    rows = insights.order_trends(demo.orders, {"JPY": 170.0}, "country")
    dated = [o for o in demo.orders if insights._posted(o) is not None]
    assert sum(r["places"] for r in rows) == sum(o.positions for o in dated)
    assert sum(r["orders"] for r in rows) == len(dated)
    jp = [o for o in dated if o.country == "JP" and o.wage_currency == "JPY" and o.monthly_wage]
    month = insights._month(insights._posted(jp[0]))
    same = [o.monthly_wage * 170.0 for o in jp if insights._month(insights._posted(o)) == month]
    row = next(r for r in rows if r["month"] == month and r["group"] == "JP")
    assert row["median_wage_vnd"] == pytest.approx(float(np.median(same)))
    with pytest.raises(ValueError, match="'by' parameter"):
        insights.order_trends(demo.orders, by="colour")


def test_blocked_trends_find_the_planted_illegal_orders(demo):
    result = insights.blocked_trends(demo.orders, demo.recruiters)
    assert result["total"] >= 1
    assert sum(n for _, n in result["by_enterprise"]) == result["total"]
    codes = {c for _, c, _ in result["by_month_reason"]}
    assert codes & set(demo.truth.illegal.values())


# ---------------------------------------------------------------------------------------------
# forecast


def _history(seed: int, process: Process | None = None):
    sims = simulate(seed, dt.date(2023, 1, 1), dt.date(2026, 12, 31), process)
    return sims, [insights.Trajectory(s.created, s.events) for s in sims]


def test_conversion_rates_recover_the_known_process():
    pr = Process(per_month=150)
    _, hist = _history(3, pr)
    rates = insights.conversion_rates([t for t in (h.visible(dt.date(2026, 6, 30)) for h in hist) if t], level=0.99)
    assert [r.stage for r in rates] == list(insights.PIPELINE[:-1])
    for r, p in zip(rates, pr.advance):
        assert r.low <= p <= r.high, (r, p)


def test_forecast_is_reproducible_and_checks_its_arguments():
    _, hist = _history(5)
    cut = dt.date(2026, 5, 31)
    a = insights.forecast_departures(hist, cut, draws=500, seed=1)
    b = insights.forecast_departures(hist, cut, draws=500, seed=1)
    assert (a.low, a.high, a.mean) == (b.low, b.high, b.mean)
    assert a.low <= a.mean <= a.high and a.departed <= a.low
    assert a.seasonal and a.history_months == 37  # May 2023 to May 2026
    assert "Poisson GLM" in a.method_en and "Monte Carlo" in a.method_en and "GLM Poisson" in a.method_vi
    with pytest.raises(ValueError, match="'level' parameter"):
        insights.forecast_departures(hist, cut, level=1.5)
    with pytest.raises(ValueError, match="'draws' parameter"):
        insights.forecast_departures(hist, cut, draws=10)


def test_forecast_without_history_is_what_is_recorded():
    f = insights.forecast_departures([], dt.date(2026, 6, 30), draws=200)
    assert (f.departed, f.low, f.high, f.p_target) == (0, 0.0, 0.0, 0.0)


@pytest.mark.slow
def test_forecast_interval_covers_the_truth_at_its_stated_rate():
    """200 synthetic histories with known outcomes, forecast dates spread over the year: the 80%
    interval must contain the year's true departures in 70-90% of them."""
    hits, errors = 0, []
    for seed in range(200):
        sims, hist = _history(10_000 + seed)
        cut = dt.date(2026, 1 + seed % 11, 28)
        truth = departures_in(sims, 2026)
        f = insights.forecast_departures(hist, cut, level=0.8, draws=1000, seed=seed)
        hits += f.covers(truth)
        errors.append(truth - f.mean)
    coverage = hits / 200
    assert 0.70 <= coverage <= 0.90, coverage
    assert abs(float(np.mean(errors))) < 3.0  # no systematic bias (departures ~150 a year)
