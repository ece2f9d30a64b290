"""The regulator's list of licensed enterprises verifies the genuine holder and lists mismatches
(issue 13): a look-alike under the same number is not verified, a revoked licence is reported,
and a file with errors changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from data.store import Store
from models import AuditEvent, Recruiter
from web.cli import main
from web.services.licences import look_alike, read_register, same_name

DAY = dt.date(2026, 11, 26)


def _seed(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("MATCHER_TODAY", DAY.isoformat())
    st = Store(db_url)
    st.reset()
    with st.session() as s:
        s.add_all([
            Recruiter(recruiter_id="R-GEN", name="Công ty Cổ phần Nhân lực Quốc tế An Bình", licence_no="101/LĐTBXH-GP",
                      status="active", markets=["JP"], extra={}),
            Recruiter(recruiter_id="R-FAKE", name="Cong ty CP Nhan luc Quoc te An Binh Viet", licence_no="101/LDTBXH-GP",
                      status="active", markets=["JP"], website="anbinh-jobs.com", extra={}),
            Recruiter(recruiter_id="R-OLD", name="Công ty TNHH Hải Long", licence_no="202/LĐTBXH-GP",
                      status="active", markets=["TW"], extra={}),
            Recruiter(recruiter_id="R-NONE", name="Công ty Không Phép", licence_no="999/LĐTBXH-GP",
                      status="active", markets=["TW"], extra={}),
        ])
    return st


REGISTER = (
    "licence_no,name,licence_date,status\n"
    "101/LĐTBXH-GP,Công ty CP Nhân lực Quốc tế An Bình,15/03/2019,còn hiệu lực\n"
    "202/LDTBXH-GP,Công ty TNHH Hải Long,2018-01-02,thu hồi\n"
)


def test_names_compare_folded_with_abbreviations_expanded():
    assert same_name("Công ty CP Nhân lực Quốc tế An Bình", "CONG TY CO PHAN NHAN LUC QUOC TE AN BINH")
    assert not same_name("Công ty CP Nhân lực Quốc tế An Bình", "Công ty CP Xây dựng Hải Long")
    assert look_alike("Công ty CP Nhân lực Quốc tế An Bình", "Cong ty CP Nhan luc Quoc te An Binh Viet")
    assert not look_alike("Công ty CP Nhân lực Quốc tế An Bình", "Công ty CP Xây dựng Hải Long")


def test_register_verifies_the_genuine_holder_and_lists_mismatches(db_url, tmp_path, capsys, monkeypatch):
    st = _seed(db_url, monkeypatch, tmp_path)
    f = tmp_path / "register.csv"
    f.write_text(REGISTER, encoding="utf-8")
    assert main(["licence-register", str(f), "--user", "admin"]) == 0
    out = capsys.readouterr().out
    assert "verified now: 1 (R-GEN)" in out
    assert "R-FAKE:" in out and "mạo danh" in out  # same number, a look-alike name
    assert "R-OLD:" in out and "thu hồi" in out
    assert "R-NONE:" in out and "không có trong danh sách" in out
    with st.session() as s:
        assert s.get(Recruiter, "R-GEN").licence_verified_on == DAY
        assert s.get(Recruiter, "R-FAKE").licence_verified_on is None
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "licence_verified")).all()
        assert [(e.entity_id, e.username) for e in events] == [("R-GEN", "admin")]
    # a second run changes nothing more
    assert main(["licence-register", str(f)]) == 0
    assert "verified now: 0" in capsys.readouterr().out
    st.dispose()


def test_a_file_with_errors_changes_nothing_and_names_row_and_column(db_url, tmp_path, capsys, monkeypatch):
    st = _seed(db_url, monkeypatch, tmp_path)
    f = tmp_path / "bad.csv"
    f.write_text(REGISTER + "303/LĐTBXH-GP,Công ty X,31/02/2020,maybe\n", encoding="utf-8")
    assert main(["licence-register", str(f)]) == 1
    err = capsys.readouterr().err
    assert "dòng 4, cột licence_date" in err and "row 4, column status" in err
    with st.session() as s:
        assert s.get(Recruiter, "R-GEN").licence_verified_on is None
    entries, errors = read_register(tmp_path / "bad.csv")
    assert len(entries) == 2 and len(errors) == 2
    missing = tmp_path / "cols.csv"
    missing.write_text("licence_no,name\n1,A\n", encoding="utf-8")
    assert "missing column(s) licence_date, status" in read_register(missing)[1][0]
    st.dispose()


def test_a_forger_copying_the_name_without_diacritics_is_not_verified(db_url, tmp_path, capsys, monkeypatch):
    st = _seed(db_url, monkeypatch, tmp_path)
    with st.session() as s:
        s.get(Recruiter, "R-FAKE").name = "Cong ty CP Nhan luc Quoc te An Binh"  # the same name once folded
        s.commit()
    f = tmp_path / "register.csv"
    f.write_text(REGISTER, encoding="utf-8")
    assert main(["licence-register", str(f)]) == 0
    out = capsys.readouterr().out
    assert "verified now: 1 (R-GEN)" in out and "R-FAKE:" in out and "mạo danh" in out
    with st.session() as s:
        assert s.get(Recruiter, "R-FAKE").licence_verified_on is None
    st.dispose()


def test_two_holders_spelled_alike_and_unlike_the_list_leave_the_choice_to_the_administrator(
        db_url, tmp_path, capsys, monkeypatch):
    st = _seed(db_url, monkeypatch, tmp_path)
    with st.session() as s:
        s.get(Recruiter, "R-GEN").name = "CONG TY CP NHAN LUC QUOC TE AN BINH"
        s.get(Recruiter, "R-FAKE").name = "Cong ty CP Nhan luc Quoc te An Binh"
        s.commit()
    f = tmp_path / "register.csv"
    f.write_text(REGISTER, encoding="utf-8")
    assert main(["licence-register", str(f)]) == 0
    out = capsys.readouterr().out
    assert "verified now: 0" in out and "Cần xác minh giấy phép" in out
    with st.session() as s:
        assert s.get(Recruiter, "R-GEN").licence_verified_on is None
    st.dispose()
