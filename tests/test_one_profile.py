"""One person, one profile: CCCĐ duplicates refused by every import (CSV and .xlsx, all or
nothing and --partial) and by the database; merging a duplicate keeps both histories and
takes it out of rankings, allocation, lists and exports; the whole-word worker search; the
migration of free-text ethnicity values."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from data import repo
from data.exporters import table_rows
from data.importers import import_file
from data.upgrade import migrate_ethnicities, refresh_search_text
from matcher.encoder import HashingEncoder
from matcher.ranker import Engine
from models import (
    Application,
    AuditEvent,
    ConsentEvent,
    JobOrder,
    LanguageCertificate,
    Recruiter,
    StageEvent,
    Worker,
)
from web.services.merge import MergeError, merge_workers

TODAY = dt.date(2026, 3, 2)
HEADER = ["worker_id", "full_name", "birth_date", "gender", "ethnicity", "phone", "national_id"]
BASE = [
    ["W1", "Nông Văn Đức", "1998-05-17", "male", "Tày", "0912345678", "004098001234"],
    ["W2", "Hoàng Thị Ánh", "2001-02-03", "female", "Nung", "0987000111", "004301002222"],
]


def _csv(rows, header=HEADER) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    return buf.getvalue().encode("utf-8")


def _xlsx(rows, header=HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in [header, *rows]:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(session, rows, fmt="csv", partial=False):
    data = _csv(rows) if fmt == "csv" else _xlsx(rows)
    return import_file(session, "workers", data, partial=partial, filename=f"workers.{fmt}")


def _state(session) -> list[tuple]:
    session.expire_all()
    return [tuple(r) for r in session.execute(
        select(Worker.worker_id, Worker.full_name, Worker.national_id, Worker.ethnicity).order_by(Worker.worker_id))]


@pytest.fixture
def loaded(session):
    report = _import(session, BASE)
    assert report.ok and report.created == 2
    return session


# ----------------------------------------------------------------------------- imports


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_duplicate_within_the_file_stops_the_import(session, fmt):
    rows = [*BASE, ["W3", "Nông Văn Đức", "1998-05-17", "male", "Tay", "", "004 098 001 234"]]
    report = _import(session, rows, fmt)
    assert not report.committed and report.created == 0
    [err] = report.errors
    assert (err.file, err.row, err.column) == (f"workers.{fmt}", 4, "national_id")
    assert "đã dùng ở dòng 2 (W1)" in err.message and "already used in row 2 (W1)" in err.message
    assert session.scalar(select(func.count()).select_from(Worker)) == 0  # nothing stored


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_national_id_held_in_the_database_stops_the_import(loaded, fmt):
    before = _state(loaded)
    rows = [["W3", "Lý Văn Sáng", "1999-01-01", "male", "Dao", "", "004099001111"],
            ["W4", "Nông V. Đức", "1998-05-17", "male", "Tày", "", "004098001234"]]
    report = _import(loaded, rows, fmt)
    assert not report.committed
    [err] = report.errors
    assert (err.row, err.column) == (3, "national_id")
    assert "đã thuộc hồ sơ W1" in err.message and "already belongs to the profile W1" in err.message
    assert _state(loaded) == before  # the database stays as it was


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_partial_skips_the_duplicates_and_lists_them(loaded, fmt):
    rows = [["W3", "Lý Văn Sáng", "1999-01-01", "male", "Dao", "", "004099001111"],
            ["W4", "Nông V. Đức", "1998-05-17", "male", "Tày", "", "004098001234"],
            ["W5", "Lý Văn Sáng", "1999-01-01", "male", "Dao", "", "004099001111"]]
    report = _import(loaded, rows, fmt, partial=True)
    assert report.committed and report.created == 1
    assert [(e.row, e.column) for e in report.errors] == [(3, "national_id"), (4, "national_id")]
    assert [r[0] for r in _state(loaded)] == ["W1", "W2", "W3"]


def test_reimporting_the_same_profile_and_swapping_numbers_is_fine(loaded):
    assert _import(loaded, BASE).errors == []  # the holder is the row's own profile
    # W1 gives its number up in the same file in which W3 takes it
    rows = [["W1", "Nông Văn Đức", "1998-05-17", "male", "Tày", "", "004098005555"],
            ["W3", "Nông Văn Đức", "1998-05-17", "male", "Tày", "", "004098001234"]]
    report = _import(loaded, rows)
    assert report.errors == [] and report.committed
    # ... but not when W1's own row is refused (its new number is now W3's): then W4 is refused too
    rows = [["W1", "Nông Văn Đức", "1998-05-17", "male", "Tày", "", "004098001234"],
            ["W4", "Nông Văn Đức", "1998-05-17", "male", "Tày", "", "004098005555"]]
    report = _import(loaded, rows, partial=True)
    assert [(e.row, e.column) for e in report.errors] == [(2, "national_id"), (3, "national_id")]
    assert "W3" in report.errors[0].message and "W1" in report.errors[1].message


def test_the_import_checks_the_number_against_birth_date_and_gender(session):
    rows = [["W1", "Nông Văn Đức", "1998-05-17", "female", "Tày", "", "004098001234"],
            ["W2", "Hoàng Thị Ánh", "2002-02-03", "female", "Nùng", "", "004301002222"],
            ["W3", "Lý A Páo", "2000-01-01", "male", "Mông", "", "123456789"]]
    report = _import(session, rows)
    assert [(e.row, e.column) for e in report.errors] == [(2, "national_id"), (3, "national_id"), (4, "national_id")]
    assert "giới tính nam" in report.errors[0].message and "năm sinh 2001" in report.errors[1].message
    assert "CMND" in report.errors[2].message
    assert not report.committed


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_unknown_ethnicity_is_refused_and_variants_are_stored_official(session, fmt):
    rows = [[*BASE[0][:4], "H'Mông", *BASE[0][5:]], [*BASE[1][:4], "Người Mỹ", *BASE[1][5:]]]
    report = _import(session, rows, fmt)
    [err] = report.errors
    assert (err.file, err.row, err.column) == (f"workers.{fmt}", 3, "ethnicity")
    assert "54 dân tộc" in err.message and not report.committed
    assert session.scalar(select(func.count()).select_from(Worker)) == 0
    rows[1][4] = "San Chay"
    assert _import(session, rows, fmt).ok
    assert [r[3] for r in _state(session)] == ["Mông", "Sán Chay"]


def test_the_database_refuses_a_second_unmerged_holder(loaded):
    loaded.add(Worker(worker_id="W9", full_name="X", birth_date=dt.date(1998, 1, 1), national_id="004098001234"))
    with pytest.raises(IntegrityError):
        loaded.flush()
    loaded.rollback()
    # any number of profiles without a CCCĐ
    loaded.add_all([Worker(worker_id=f"N{i}", full_name="X", birth_date=dt.date(1998, 1, 1)) for i in range(3)])
    loaded.flush()


# ----------------------------------------------------------------------------- merge


def _order(oid: str, **kw) -> JobOrder:
    base = dict(order_id=oid, recruiter_id="R1", title="Thợ hàn", country="JP", positions=5, monthly_wage=180000,
                wage_currency="JPY", contract_months=36, service_fee_vnd=20_000_000, approval_no=f"{oid}/DOLAB",
                approval_date=TODAY - dt.timedelta(days=10), deadline=TODAY + dt.timedelta(days=60), status="open",
                required_skills=["hàn"], extra={})
    base.update(kw)
    return JobOrder(**base)


@pytest.fixture
def duplicates(session):
    """W1 and W2 are the same person (W2 registered again before the unique index existed:
    W2 has no CCCĐ here), each with history; O1 is an order both applied to."""
    session.add(Recruiter(recruiter_id="R1", name="Công ty A", licence_no="1/LĐTBXH-GP", status="active",
                          licence_date=dt.date(2020, 1, 1), markets=["JP"], extra={}))
    session.add_all([_order("O1"), _order("O2"), _order("O3")])
    w1 = Worker(worker_id="W1", full_name="Nông Văn Đức", birth_date=dt.date(1998, 5, 17), gender="male",
                national_id="004098001234", skills=["hàn"], preferred_countries=["JP"], extra={})
    w1.certificates.append(LanguageCertificate(position=0, raw="JLPT N5 (2025-07)", exam="jlpt", language="ja",
                                               label="N5", level=1, test_date=dt.date(2025, 7, 1)))
    w2 = Worker(worker_id="W2", full_name="Nông Văn Đức", birth_date=dt.date(1998, 5, 17), gender="male",
                phone="0912345678", commune="Xã Hòa An", skills=["hàn điện"], extra={})
    w2.certificates.append(LanguageCertificate(position=0, raw="JLPT N5 (2025-07)", exam="jlpt", language="ja",
                                               label="N5", level=1, test_date=dt.date(2025, 7, 1)))
    w2.certificates.append(LanguageCertificate(position=1, raw="JLPT N4 (2025-12)", exam="jlpt", language="ja",
                                               label="N4", level=2, test_date=dt.date(2025, 12, 1)))
    session.add_all([w1, w2])
    session.flush()
    a11 = Application(worker_id="W1", order_id="O1", stage="suggested", created_by="c",
                      updated_at=dt.datetime(2026, 1, 1))
    a21 = Application(worker_id="W2", order_id="O1", stage="interviewed", created_by="c",
                      updated_at=dt.datetime(2026, 2, 1))
    a21.events.append(StageEvent(from_stage=None, to_stage="sent", by="c"))
    a21.events.append(StageEvent(from_stage="sent", to_stage="interviewed", by="c"))
    a22 = Application(worker_id="W2", order_id="O2", stage="shortlisted", created_by="c")
    a22.events.append(StageEvent(from_stage=None, to_stage="shortlisted", by="c"))
    session.add_all([a11, a21, a22])
    session.add(ConsentEvent(worker_id="W2", action="grant", scope="chia sẻ", consent_date=TODAY, by="c"))
    repo.audit(session, "c", "view", "worker", "W2", page="profile")
    session.flush()
    return session


def test_possible_duplicates_are_found_by_name_and_birth_date(duplicates):
    w1 = duplicates.get(Worker, "W1")
    assert [w.worker_id for w in repo.possible_duplicates(duplicates, w1)] == ["W2"]


def test_merge_keeps_both_histories_on_the_kept_profile(duplicates):
    s = duplicates
    result = merge_workers(s, "W1", "W2", "counsellor")
    s.flush()
    s.expire_all()
    assert result.joined == ["O1"] and result.applications == 1 and result.certificates == 1
    apps = {a.order_id: a for a in s.scalars(select(Application).where(Application.worker_id == "W1"))}
    assert sorted(apps) == ["O1", "O2"]
    assert apps["O1"].stage == "interviewed"  # the later decision wins
    assert [e.to_stage for e in apps["O1"].events] == ["sent", "interviewed"]  # W2's history, kept
    assert [e.to_stage for e in apps["O2"].events] == ["shortlisted"]
    assert s.scalar(select(func.count()).select_from(Application).where(Application.worker_id == "W2")) == 0
    assert s.scalar(select(func.count()).select_from(StageEvent)) == 3  # no event lost
    assert [c.worker_id for c in s.scalars(select(ConsentEvent))] == ["W1"]
    w1, w2 = s.get(Worker, "W1"), s.get(Worker, "W2")
    assert [c.raw for c in w1.certificates] == ["JLPT N5 (2025-07)", "JLPT N4 (2025-12)"]
    assert [c.raw for c in w2.certificates] == ["JLPT N5 (2025-07)"]  # the identical one stays, nothing lost
    assert (w1.phone, w1.commune, w1.skills) == ("0912345678", "Xã Hòa An", ["hàn"])  # empty fields filled
    assert (w2.merged_into, w2.active) == ("W1", False) and w2.merged_at is not None
    views = s.scalars(select(AuditEvent).where(AuditEvent.action == "view")).all()
    assert [(e.entity_id, e.detail["merged_from"]) for e in views] == [("W1", "W2")]
    merge = s.scalars(select(AuditEvent).where(AuditEvent.action == "merge")).one()
    assert (merge.username, merge.entity_id, merge.detail["merged"]) == ("counsellor", "W1", "W2")
    assert s.scalars(select(AuditEvent).where(AuditEvent.action == "merged_into")).one().entity_id == "W2"


def test_the_merged_profile_leaves_lists_exports_rankings_and_allocation(duplicates):
    s = duplicates
    merge_workers(s, "W1", "W2", "counsellor")
    s.flush()
    s.expire_all()
    assert [w.worker_id for w in repo.list_workers(s, "duc")] == ["W1"]
    assert repo.count_workers(s) == 1
    assert [w.worker_id for w in repo.list_workers(s, "W2", include_merged=True)] == ["W2"]
    header, rows = table_rows(s, "workers")
    assert [r[0] for r in rows] == ["W1"]
    recruiters, orders, workers = repo.snapshot(s)
    engine = Engine(HashingEncoder()).fit(recruiters, orders, workers, today=TODAY)
    order = next(o for o in orders if o.order_id == "O3")
    ranked = engine.rank_workers(order, top_k=10)
    assert [m.item_id for m in ranked.matches] == ["W1"]
    w2 = next(w for w in workers if w.worker_id == "W2")
    assert engine.rank_orders(w2, top_k=10).matches == []
    assert {w for w, _ in engine.pair_scores()} == {"W1"}


@pytest.mark.parametrize(("keep", "other", "fragment"), [
    ("W1", "W1", "chính nó"), ("W1", "W404", "W404"), ("W404", "W1", "W404"),
])
def test_merge_refuses_what_it_cannot_do(duplicates, keep, other, fragment):
    with pytest.raises(MergeError) as err:
        merge_workers(duplicates, keep, other, "c")
    assert fragment in err.value.vi


def test_merge_refuses_different_numbers_and_a_second_merge(duplicates):
    s = duplicates
    s.get(Worker, "W2").national_id = "004098009999"
    s.flush()
    with pytest.raises(MergeError, match="different CCCD numbers"):
        merge_workers(s, "W1", "W2", "c")
    s.get(Worker, "W2").national_id = None
    merge_workers(s, "W1", "W2", "c")
    with pytest.raises(MergeError, match="already merged into W1"):
        merge_workers(s, "W1", "W2", "c")


def test_a_merged_profile_frees_its_number_and_the_kept_one_takes_it(session):
    session.add_all([
        Worker(worker_id="W1", full_name="A", birth_date=dt.date(1998, 5, 17), extra={}),
        Worker(worker_id="W2", full_name="A", birth_date=dt.date(1998, 5, 17), national_id="004098001234", extra={}),
    ])
    session.flush()
    result = merge_workers(session, "W1", "W2", "c")
    session.flush()
    assert "national_id" in result.filled
    assert repo.national_id_holders(session, ["004098001234"]) == {"004098001234": "W1"}


# ----------------------------------------------------------------------------- search


@pytest.fixture
def people(session):
    names = {"W00017": ("Hoàng Thị Ánh", "004198001111", "0912 345 678"), "W00018": ("Nông Thị Khánh", None, None),
             "W00019": ("Lý Văn Thanh", None, "0987654321"), "W00020": ("Đàm Anh Tuấn", "004098002222", None),
             "W00021": ("Triệu Thị Ngọc Ánh", None, None)}
    session.add_all([Worker(worker_id=wid, full_name=n, birth_date=dt.date(1998, 1, 1), national_id=nid, phone=ph,
                            skills=["may công nghiệp"], extra={}) for wid, (n, nid, ph) in names.items()])
    session.flush()
    return session


@pytest.mark.parametrize(("q", "found"), [
    ("anh", ["W00017", "W00020", "W00021"]),  # Ánh and Anh, not Khánh nor Thanh
    ("Ánh", ["W00017", "W00020", "W00021"]),
    ("ngoc anh", ["W00021"]),
    ("khanh", ["W00018"]),
    ("thanh", ["W00019"]),
    ("W00017", ["W00017"]),
    ("w00017", ["W00017"]),
    ("004198001111", ["W00017"]),  # CCCĐ
    ("0912345678", ["W00017"]),  # the phone typed without its spaces
    ("0912 345 678", ["W00017"]),
    ("0987", ["W00019"]),  # the start of a phone
    ("may cong nghiep", ["W00017", "W00018", "W00019", "W00020", "W00021"]),  # a skill
    ("an", []),  # whole words only
    ("hoang thi anh x", []),
])
def test_search_by_id_cccd_phone_and_whole_words(people, q, found):
    assert [w.worker_id for w in repo.list_workers(people, q)] == found
    assert repo.count_workers(people, q) == len(found)


def test_search_words_follow_every_write_and_can_be_rebuilt(people):
    w = people.get(Worker, "W00018")
    w.full_name = "Nông Thị Ánh"
    people.flush()
    assert "W00018" in [x.worker_id for x in repo.list_workers(people, "anh")]
    people.execute(Worker.__table__.update().values(search_text=""))  # as in a database from before the column
    assert repo.list_workers(people, "anh") == []
    assert refresh_search_text(people) == 5
    assert refresh_search_text(people) == 0
    assert len(repo.list_workers(people, "anh")) == 4


def test_search_scales_to_thousands_in_sql(session):
    session.add_all([Worker(worker_id=f"W{i:05d}", full_name=f"Nông Văn {'Ánh' if i % 100 == 0 else 'Khánh'}",
                            birth_date=dt.date(1998, 1, 1), extra={}) for i in range(3000)])
    session.flush()
    assert repo.count_workers(session, "anh") == 30
    assert [w.worker_id for w in repo.list_workers(session, "anh", limit=2, offset=1)] == ["W00100", "W00200"]


# ----------------------------------------------------------------------------- migration


def test_migrate_ethnicities_rewrites_free_text_and_reports(session):
    values = ["Nung", "Nùng", "Tay", "H'Mong", "H'Mông", "Hmong", "Lo Lo", "Kinh", "Người Mỹ", None]
    session.add_all([Worker(worker_id=f"W{i}", full_name="X", birth_date=dt.date(1998, 1, 1), ethnicity=v, extra={})
                     for i, v in enumerate(values)])
    session.flush()
    report = migrate_ethnicities(session)
    assert report.workers_changed == 6
    assert report.changed[("H'Mong", "Mông")] == 1 and report.changed[("Nung", "Nùng")] == 1
    assert dict(report.unknown) == {"Người Mỹ": 1}
    assert "ethnicity 'Tay' -> 'Tày': 1 worker(s)" in report.lines()
    session.expire_all()
    counts = dict(session.execute(select(Worker.ethnicity, func.count()).group_by(Worker.ethnicity)).all())
    assert counts == {"Nùng": 2, "Tày": 1, "Mông": 3, "Lô Lô": 1, "Kinh": 1, "Người Mỹ": 1, None: 1}
    assert migrate_ethnicities(session).workers_changed == 0  # idempotent


def test_matcher_init_migrates_old_values(store, monkeypatch, tmp_path, capsys):
    from web import cli

    with store.session() as s:
        s.add(Worker(worker_id="W1", full_name="Nông Thị Ánh", birth_date=dt.date(1998, 1, 1), ethnicity="Tay", extra={}))
    with store.session() as s:
        s.execute(Worker.__table__.update().values(search_text=""))
    monkeypatch.setenv("MATCHER_DATABASE_URL", store.url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    assert "ethnicity 'Tay' -> 'Tày': 1 worker(s)" in out and "search words refreshed for 1 worker(s)" in out
    with store.session() as s:
        assert s.get(Worker, "W1").ethnicity == "Tày"
        assert [w.worker_id for w in repo.list_workers(s, "anh")] == ["W1"]


def test_init_lists_duplicates_left_from_before_the_unique_index(store, monkeypatch, tmp_path, capsys):
    from sqlalchemy import text

    from web import cli

    with store.session() as s:
        s.execute(text("DROP INDEX uq_workers_national_id_unmerged"))  # a database from before it
        s.add_all([Worker(worker_id=f"W{i}", full_name="X", birth_date=dt.date(1998, 5, 17),
                          national_id="004098001234", extra={}) for i in (1, 2)])
    monkeypatch.setenv("MATCHER_DATABASE_URL", store.url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    assert cli.main(["init"]) == 0
    assert "CCCD 004098001234 is held by 2 profiles (W1, W2)" in capsys.readouterr().out
    with store.session() as s:
        assert repo.duplicate_national_ids(s) == {"004098001234": ["W1", "W2"]}
        merge_workers(s, "W1", "W2", "cli")
    with store.session() as s:
        assert repo.duplicate_national_ids(s) == {}


def test_dashboard_counts_no_longer_split_on_spelling(session):
    from web.services.stats import Period, applicants

    spellings = ["Nung", "Nùng", "NÙNG", "Tay", "Tày", "H'Mong", "H'Mông", "Hmong"]
    rows = [[f"W{i}", "Nông Văn A", "1998-05-17", "male", e, "", ""] for i, e in enumerate(spellings)]
    assert _import(session, rows).ok
    period = Period(dt.date(2000, 1, 1), dt.date.today() + dt.timedelta(days=1))
    assert dict(applicants(session, period)["by_ethnicity"]) == {"Nùng": 3, "Tày": 2, "Mông": 3}


def test_access_shows_and_erasure_removes_the_merged_profile_too(duplicates):
    from web.services.privacy import erase_worker, worker_record

    s = duplicates
    merge_workers(s, "W1", "W2", "c")
    s.flush()
    record = worker_record(s, "W1")
    assert [m["worker"]["worker_id"] for m in record["merged_profiles"]] == ["W2"]
    assert {a["order_id"] for a in record["applications"]} == {"O1", "O2"}
    s.expunge_all()  # erasure runs in a session of its own (a request, the CLI)
    erase_worker(s, "W1", "c")
    s.flush()
    s.expire_all()
    assert s.get(Worker, "W1") is None and s.get(Worker, "W2") is None


def test_new_ids_continue_the_form_of_the_existing_ones(db_url):
    from data.repo import next_id
    from data.store import Store
    from models import Worker

    st = Store(db_url)
    st.reset()
    try:
        with st.session() as s:
            assert next_id(s, Worker.worker_id, "W") == "W00001"
            import datetime as dt

            for wid in ("W00009", "W00010", "W-60500E5B", "X7"):
                s.add(Worker(worker_id=wid, full_name="A", birth_date=dt.date(2000, 1, 1), extra={}))
            s.flush()
            assert next_id(s, Worker.worker_id, "W") == "W00011"
    finally:
        st.dispose()
