"""The synthetic data set: deterministic, realistic, and its truth really holds by construction."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data import synthetic as syn
from models import JobOrder, LanguageCertificate, LicenceStatusChange, Recruiter, Worker
from models import reference as ref
from models.ethnicities import OFFICIAL_NAMES
from models.identity import national_id_problem
from models.enums import (
    EDUCATION_LEVELS,
    GENDERS,
    GENDERS_REQUIRED,
    HOUSEHOLDS,
    LANGUAGE_TRAINING,
    PROGRAMMES,
    education_rank,
)
from models.languages import is_valid_on, parse_certificate, parse_certificate_list, parse_requirement

REPO = Path(__file__).resolve().parent.parent
SMALL = dict(workers=240, orders=80, recruiters=14)


@pytest.fixture(scope="module")
def data() -> syn.SyntheticData:
    return syn.generate()


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in ("recruiters.csv", "job_orders.csv", "workers.csv"):
        h.update(name.encode())
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def _folded_licence(no: str) -> str:
    return syn.fold(no).replace(" ", "")


# ---------------------------------------------------------------------------------------------
# determinism and sizes


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = syn.write_csv(syn.generate(seed=1, **SMALL), tmp_path / "a")
    b = syn.write_csv(syn.generate(seed=1, **SMALL), tmp_path / "b")
    c = syn.write_csv(syn.generate(seed=2, **SMALL), tmp_path / "c")
    assert sorted(a) == ["job_orders.csv", "recruiters.csv", "workers.csv"]
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_determinism_does_not_depend_on_hash_randomisation(tmp_path):
    """Two interpreters with different string-hash seeds write the same bytes."""
    code = (
        "import sys, hashlib; from pathlib import Path; from data import synthetic as s; "
        "p = s.write_csv(s.generate(seed=7, workers=240, orders=80, recruiters=14), sys.argv[1]); "
        "print(hashlib.sha256(b''.join(Path(p[k]).read_bytes() for k in sorted(p))).hexdigest())"
    )
    digests = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / hash_seed)], cwd=REPO, env=env,
                             capture_output=True, text=True, check=True)
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]


def test_default_sizes_and_shares(data):
    assert (len(data.recruiters), len(data.orders), len(data.workers)) == (40, 300, 2000)
    assert len({r.recruiter_id for r in data.recruiters}) == 40
    assert len({o.order_id for o in data.orders}) == 300
    assert len({w.worker_id for w in data.workers}) == 2000
    assert 0.12 <= len(data.truth.illegal) / len(data.orders) <= 0.15
    assert sorted(set(data.truth.illegal.values())) == sorted(syn.ILLEGAL_CODES)
    assert sorted(set(data.truth.not_open.values())) == sorted(syn.NOT_OPEN_CODES)
    assert len(data.truth.twins) == 60
    assert data.today == dt.date(2026, 11, 26)


def test_generation_is_fast():
    """Default sizes in under 3 s of CPU time (wall time varies with the machine's load)."""
    import time

    start = time.process_time()
    syn.generate(seed=3)
    assert time.process_time() - start < 3.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(workers=5), "'workers' parameter"),
        (dict(orders=10), "'orders' parameter"),
        (dict(recruiters=3), "'recruiters' parameter"),
        (dict(twins=-1), "'twins' parameter"),
    ],
)
def test_bad_sizes_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        syn.generate(**kwargs)


# ---------------------------------------------------------------------------------------------
# realistic content


def test_names_are_vietnamese_nfc_with_diacritics(data):
    for w in data.workers:
        assert unicodedata.is_normalized("NFC", w.full_name), w.full_name
        assert not w.full_name.isascii(), w.full_name
        assert len(w.full_name.split()) >= 3
    for r in data.recruiters:
        assert unicodedata.is_normalized("NFC", r.name)
        assert not r.name.isascii()
    names = {w.full_name for w in data.workers}
    assert any(n.startswith("Giàng A ") for n in names) or any(" A " in n for n in names)  # H'Mông
    assert any(n.split()[0] in ("Triệu", "Bàn") for n in names)  # Dao
    assert any(n.split()[0] == "Nông" for n in names)  # Tày


def test_recruiter_names_are_invented(data, shared_dir):
    path = shared_dir / "benchmarks" / "vn-xkld-companies" / "xkld_companies.csv"
    if not path.exists():
        pytest.skip("public list of licensed enterprises not available")
    with path.open(encoding="utf-8") as f:
        real = {syn.fold(row["companyName"]) for row in csv.DictReader(f)}
    assert not [r.name for r in data.recruiters if syn.fold(r.name) in real]


def test_workers_look_like_cao_bang(data):
    ws = data.workers
    communes = {c for c, *_ in syn.COMMUNES}
    assert 30 <= len(communes) <= 56
    assert all(w.commune in communes for w in ws)
    shares = Counter(w.ethnicity for w in ws)
    assert 0.34 <= shares["Tày"] / len(ws) <= 0.46
    assert 0.24 <= shares["Nùng"] / len(ws) <= 0.36
    assert set(shares) == set(syn.ETHNIC_SHARES)
    assert set(shares) <= set(OFFICIAL_NAMES)  # the official names, never "Tay" or "H'Mong"
    nids = [w.national_id for w in ws]
    assert len(set(nids)) == len(nids)  # one person, one profile
    assert all(national_id_problem(w.national_id, w.birth_date, w.gender) is None for w in ws)
    ages = [w.age_on(data.today) for w in ws]
    assert min(ages) >= 18 and max(ages) <= 45
    assert sorted(ages)[len(ages) // 2] <= 28  # skewed young
    assert all(w.gender in GENDERS for w in ws)
    assert all(w.education in EDUCATION_LEVELS for w in ws)
    assert all(w.household in (None, *HOUSEHOLDS) for w in ws)
    assert all(w.language_training in LANGUAGE_TRAINING for w in ws)
    edu = Counter(w.education for w in ws)
    assert edu["lower_secondary"] + edu["upper_secondary"] > 0.6 * len(ws)
    training = Counter(w.language_training for w in ws)
    assert training.most_common(1)[0][0] == "basic"
    assert 0.75 <= sum(w.consent_share for w in ws) / len(ws) <= 0.85
    assert all((w.consent_date is not None) == w.consent_share for w in ws)
    assert all(re.fullmatch(r"0[39]\d{8}", w.phone.replace(" ", "")) for w in ws)

    def poor_rate(flag):
        group = [w for w in ws if w.disadvantaged_commune is flag]
        return sum(w.household == "poor" for w in group) / len(group)

    assert poor_rate(True) > 2 * poor_rate(False)
    for w in ws:
        for e in w.experience:
            assert ":" not in e["occupation"] and ";" not in e["occupation"]
            assert e["years"] > 0
    # free text in Vietnamese with and without diacritics, abbreviations and English
    occupations = {e["occupation"] for w in ws for e in w.experience}
    assert {"tho han", "cn may", "lx"} & occupations
    assert "thợ hàn" in occupations and "welder" in occupations


def test_recruiters(data):
    today = data.today
    by_status = Counter(r.status for r in data.recruiters)
    assert by_status["revoked"] >= 2 and by_status["suspended"] >= 2
    for r in data.recruiters:
        assert r.status_history and r.status_history[0].status == "active"
        assert r.status_on(today) == r.status
        if r.status != "active":
            assert r.status_date == max(c.effective_date for c in r.status_history) <= today
        assert r.website.startswith("https://") and ".vn" in r.website
    kinds = Counter(r.recruiter_type for r in data.recruiters)
    assert kinds["local_government"] >= 1 and kinds["public_agency"] == 1
    assert all(r.name.startswith("UBND") for r in data.recruiters if r.recruiter_type == "local_government")
    licences = Counter(_folded_licence(r.licence_no) for r in data.recruiters)
    shared = [no for no, n in licences.items() if n > 1]
    assert len(shared) == 1
    pair = [r for r in data.recruiters if _folded_licence(r.licence_no) == shared[0]]
    assert sorted(r.recruiter_id for r in pair) == sorted(data.truth.forged_licence_pair)
    assert {r.licence_no.split("/")[1] for r in pair} == {"LĐTBXH-GP", "LDTBXH-GP"}
    assert {"LĐTBXH-GP", "GP-BLĐTBXH"} <= {r.licence_no.split("/", 1)[1] for r in data.recruiters}


def test_orders_content(data):
    countries = Counter(o.country for o in data.orders)
    assert {"JP", "KR", "TW", "DE", "SA", "AE", "RO", "HU", "PL"} <= set(countries)
    assert countries.most_common(1)[0][0] == "JP"
    for o in data.orders:
        assert o.programme in PROGRAMMES
        assert o.gender in (None, *GENDERS_REQUIRED)
        assert o.min_education in (None, *EDUCATION_LEVELS)
        assert o.positions > o.places_filled >= 0
        assert o.recruiter is not None and o.recruiter_id == o.recruiter.recruiter_id
        if o.language_requirement:
            parse_requirement(o.language_requirement)  # every requirement is in FORMAT.md notation
    requirements = {o.language_requirement for o in data.orders}
    assert {"JLPT N4", "JFT-Basic A2", "EPS-TOPIK 80", "Goethe B2"} <= requirements
    currencies = {o.country: set() for o in data.orders}
    for o in data.orders:
        currencies[o.country].add(o.wage_currency)
    assert currencies["JP"] == {"JPY"} and currencies["KR"] == {"KRW"} and currencies["TW"] == {"TWD"}
    assert currencies["DE"] == {"EUR"}
    jp = [o.monthly_wage for o in data.orders if o.country == "JP"]
    assert 150_000 <= min(jp) and max(jp) <= 220_000
    tw = [o.monthly_wage for o in data.orders if o.country == "TW"]
    assert min(tw) >= 20_000 and max(tw) <= 35_000
    titles = " ".join(o.title for o in data.orders)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", titles)  # Japanese/Chinese
    assert re.search(r"[\uac00-\ud7af]", titles)  # Korean
    assert "E-8" in titles and "(SSW)" in titles and "Pflege" in titles
    # seasonal Korean work only from local governments, except the planted illegal ones
    for o in data.orders:
        if o.programme == "seasonal" and o.order_id not in data.truth.illegal:
            assert o.recruiter.recruiter_type == "local_government"
        if o.programme == "eps":
            assert o.recruiter.recruiter_type == "public_agency"


def test_every_certificate_notation_appears(data):
    raws = [c.raw for w in data.workers for c in w.certificates]
    patterns = [
        r"JLPT N5", r"JLPT N4", r"JLPT N3", r"JFT-Basic A2", r"JFT-Basic \d{3}", r"EPS-TOPIK \d{2,3}",
        r"TOPIK 1", r"TOPIK 2", r"TOPIK 3", r"Goethe A2", r"Goethe B1", r"Goethe B2", r"CEFR [AB][12]",
        r"HSK \d", r"TOCFL \d",
        r"\(\d{4}\)$", r"\(\d{4}-\d{2}\)$", r"\(\d{4}-\d{2}-\d{2}\)$",
    ]
    for pattern in patterns:
        assert any(re.search(pattern, r) for r in raws), pattern
    eps = [parse_certificate(r) for r in raws if r.startswith("EPS-TOPIK")]
    assert any(not is_valid_on(c, data.today) for c in eps)  # expired (> 2 years)
    assert any(is_valid_on(c, data.today) and c.level >= 1 for c in eps)
    for w in data.workers:
        for i, c in enumerate(w.certificates):
            assert isinstance(c, LanguageCertificate) and c.position == i
            parsed = parse_certificate(c.raw)
            assert (c.exam, c.level, c.test_date) == (parsed.exam, parsed.level, parsed.test_date)
            assert c.test_date is None or c.test_date < data.today


# ---------------------------------------------------------------------------------------------
# the truth


def _defects(data: syn.SyntheticData, o: JobOrder) -> list[str]:
    """Every defect of an order, found independently of how the generator planted it."""
    today = data.today
    out = []
    status = o.recruiter.status_on(today)
    if status == "revoked":
        out.append("licence_revoked")
    if status == "suspended":
        out.append("licence_suspended")
    if not o.approval_no or o.approval_date is None:
        out.append("no_approval")
    wage_vnd = o.monthly_wage * syn.RATES[o.wage_currency]
    if (o.service_fee_vnd or 0) > syn.general_fee_cap_months(o.contract_months) * wage_vnd:
        out.append("service_fee_over_cap")
    if (o.brokerage_fee_vnd or 0) > 0:
        out.append("brokerage_fee")
    caps = {"TW": 12_000_000, "KR": 36_000_000, "JP": 0, "SA": 0, "AE": 0, "QA": 0}
    cap = caps.get(o.country, ref.AIR_FARE_VND.get(o.country, ref.DEFAULT_AIR_FARE_VND))
    if (o.deposit_vnd or 0) > cap:
        out.append("deposit_over_cap")
    if o.programme == "seasonal" and o.recruiter.recruiter_type != "local_government":
        out.append("seasonal_private_sender")
    text = syn.fold(f"{o.title} {o.description}")
    if any(f" {w} " in f" {text} " for w in ref.PROHIBITED_JOB_KEYWORDS):
        out.append("prohibited_job")
    licences = Counter(_folded_licence(r.licence_no) for r in data.recruiters)
    if licences[_folded_licence(o.recruiter.licence_no)] > 1:
        out.append("duplicate_licence_no")
    return out


def test_every_planted_illegal_order_has_exactly_its_one_defect(data):
    illegal = data.truth.illegal
    assert set(illegal.values()) <= set(syn.ILLEGAL_CODES)
    for o in data.orders:
        expected = [illegal[o.order_id]] if o.order_id in illegal else []
        assert _defects(data, o) == expected, (o.order_id, o.title)
        if o.order_id in illegal:  # and nothing else keeps it from being open
            assert o.status == "open" and o.deadline > data.today


def test_approval_numbers_are_unique(data):
    numbers = [syn.fold(o.approval_no).replace(" ", "") for o in data.orders if o.approval_no]
    assert len(numbers) == len(set(numbers))


def test_not_open_orders(data):
    for o in data.orders:
        reason = data.truth.not_open.get(o.order_id)
        assert (o.status == "closed") == (reason == "order_closed")
        assert (o.deadline < data.today) == (reason == "deadline_passed")
        assert o.order_id not in data.truth.illegal or reason is None


def test_legal_orders_respect_the_strictest_caps_and_wage_floors(data):
    rates = syn.RATES
    for o in data.orders:
        if o.order_id in data.truth.illegal:
            continue
        job = syn.JOBS[data.truth.order_occupation[o.order_id]]
        classes = syn.order_classes(o, job)
        wage_vnd = o.monthly_wage * rates[o.wage_currency]
        cap = syn.fee_cap_months(o.country, o.programme, o.contract_months, classes)
        assert o.service_fee_vnd <= 0.8 * cap * wage_vnd + 1, o.order_id
        assert o.deposit_vnd <= 0.8 * syn.deposit_cap_vnd(o.country, classes) + 1, o.order_id
        assert o.brokerage_fee_vnd == 0
        assert o.approval_date is not None and o.approval_date < data.today
        assert o.departure_date > o.deadline
        market = ref.market_of(o.country)
        for floor in ref.MIN_WAGES:
            if floor.markets is not None and market not in floor.markets:
                continue
            if floor.occupation_classes is not None and not set(floor.occupation_classes) & set(classes):
                continue
            if floor.min_contract_months is not None and o.contract_months < floor.min_contract_months:
                continue
            if floor.max_contract_months is not None and o.contract_months >= floor.max_contract_months:
                continue
            assert wage_vnd >= floor.amount * rates[floor.currency], (o.order_id, floor.key)
            break
        flags = [w for table in (ref.LURE_KEYWORDS, ref.PROHIBITED_AREA_KEYWORDS)
                 for w in table if f" {w} " in f" {syn.fold(o.title + ' ' + o.description)} "]
        assert not flags, (o.order_id, flags)


def test_twins_satisfy_their_orders_hard_requirements(data):
    t = data.truth
    assert len(t.twins) == len(t.best_orders) == len(t.best_workers) == 60
    for wid, oid in t.twins:
        assert t.best_orders[wid] == {oid} and t.best_workers[oid] == {wid}
        w, o = data.worker(wid), data.order(oid)
        assert oid not in t.excluded
        assert o.status == "open" and o.deadline > data.today and o.places_left > 0
        assert o.recruiter.status_on(data.today) == "active"
        age = w.age_on(o.deadline)
        assert (o.min_age or 0) <= age <= (o.max_age or 200), (wid, oid)
        assert w.age_on(data.today) >= 18
        assert o.gender in (None, "any") or w.gender == o.gender
        assert education_rank(w.education) >= education_rank(o.min_education)
        job = syn.JOBS[t.order_occupation[oid]]
        years = sum(e["years"] for e in w.experience if e["occupation"] in job.labels)
        assert years > 0 and years >= (o.min_experience_years or 0)
        assert set(o.required_skills) <= set(w.skills)
        req = parse_requirement(o.language_requirement)
        if req is not None:
            certs = [parse_certificate(c.raw) for c in w.certificates]
            if req.exam == "eps_topik":
                assert any(c.exam == "eps_topik" and c.score >= req.score and is_valid_on(c, data.today)
                           and is_valid_on(c, o.deadline) for c in certs)
            else:
                assert any(c.language == req.language and c.level >= req.level for c in certs), (wid, oid)
        assert w.preferred_countries == [o.country]
        assert w.consent_share
        assert w.min_wage_vnd <= o.monthly_wage * syn.RATES[o.wage_currency]
        assert w.max_fee_vnd >= o.service_fee_vnd
        assert w.available_from <= o.deadline


def test_twins_have_no_rival(data):
    """The twin order is the only legal open order of its occupation and country, and no other
    worker of that occupation wants that country."""
    t = data.truth
    open_legal = [o for o in data.orders if o.order_id not in t.excluded]
    for wid, oid in t.twins:
        o = data.order(oid)
        key = (t.order_occupation[oid], o.country)
        rivals = [x.order_id for x in open_legal if (t.order_occupation[x.order_id], x.country) == key]
        assert rivals == [oid]
        for w in data.workers:
            if w.worker_id != wid and key[0] in t.worker_occupations[w.worker_id]:
                assert key[1] not in w.preferred_countries, (w.worker_id, key)


# ---------------------------------------------------------------------------------------------
# save and CSV


def test_save_adds_everything(session):
    d = syn.generate(seed=5, **SMALL)
    syn.save(session, d)
    session.commit()

    def count(entity):
        return session.scalar(select(func.count()).select_from(entity))

    assert count(Recruiter) == len(d.recruiters)
    assert count(JobOrder) == len(d.orders)
    assert count(Worker) == len(d.workers)
    assert count(LanguageCertificate) == sum(len(w.certificates) for w in d.workers)
    assert count(LicenceStatusChange) == sum(len(r.status_history) for r in d.recruiters)
    session.expire_all()
    oid, code = next(iter(d.truth.illegal.items()))
    stored = session.get(JobOrder, oid)
    assert stored.recruiter.recruiter_id == stored.recruiter_id
    wid = next(w.worker_id for w in d.workers if w.certificates)
    assert [c.raw for c in session.get(Worker, wid).certificates] == [c.raw for c in d.worker(wid).certificates]


def _format_columns(format_md: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in format_md.splitlines():
        m = re.match(r"## (\w+\.csv)", line)
        if m:
            current = m.group(1)
            out[current] = []
            continue
        if line.startswith("## "):
            current = None
        if current and line.startswith("| ") and not line.startswith("| column") and "---" not in line:
            cell = line.split("|")[1]
            out[current] += [c.strip() for c in cell.split(",")]
    return out


def test_csv_has_format_md_columns_and_notation(tmp_path, shared_dir):
    format_md = shared_dir / "FORMAT.md"
    if not format_md.exists():
        pytest.skip("FORMAT.md not available")
    expected = _format_columns(format_md.read_text(encoding="utf-8"))
    assert set(expected) == {"recruiters.csv", "job_orders.csv", "workers.csv"}
    d = syn.generate(seed=11, **SMALL)
    paths = syn.write_csv(d, tmp_path)
    for name, columns in expected.items():
        with paths[name].open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert set(columns) <= set(rows[0]), (name, set(columns) - set(rows[0]))
        assert len(rows) == {"recruiters.csv": len(d.recruiters), "job_orders.csv": len(d.orders),
                             "workers.csv": len(d.workers)}[name]
    with paths["workers.csv"].open(encoding="utf-8", newline="") as f:
        workers = {r["worker_id"]: r for r in csv.DictReader(f)}
    for w in d.workers:
        row = workers[w.worker_id]
        assert row["birth_date"] == w.birth_date.isoformat()
        assert row["consent_share"] in ("true", "false")
        assert [c.raw for c in parse_certificate_list(row["languages"])] == [c.raw for c in w.certificates]
        for item in filter(None, row["experience"].split("; ")):
            occupation, _, years = item.rpartition(": ")
            assert occupation and float(years) > 0
        assert row["preferred_countries"] == "; ".join(w.preferred_countries)
    with paths["job_orders.csv"].open(encoding="utf-8", newline="") as f:
        orders = list(csv.DictReader(f))
    assert all(re.fullmatch(r"\d+", r["monthly_wage"]) for r in orders)
    assert all(r["approval_no"] == "" for r in orders if d.truth.illegal.get(r["order_id"]) == "no_approval")


def test_script_writes_the_csvs(tmp_path):
    assert syn.main(["--out", str(tmp_path), "--seed", "4", "--workers", "240", "--orders", "80",
                     "--recruiters", "14"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job_orders.csv", "recruiters.csv", "workers.csv"]
