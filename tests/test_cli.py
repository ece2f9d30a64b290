"""The ``matcher`` console script: init, import, export, exit codes, extensibility."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AuditEvent, JobOrder, Recruiter, Worker
from test_import_export import ORDERS_CSV, RECRUITERS_CSV, WORKERS_CSV
from web import cli


@pytest.fixture
def env(store, monkeypatch, tmp_path):
    """MATCHER_DATABASE_URL points at the fixture's (empty, schema-ready) database."""
    monkeypatch.setenv("MATCHER_DATABASE_URL", store.url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    return store


def put(tmp_path: Path, name: str, text: str, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def counts(store) -> dict[str, int]:
    with store.session() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (Recruiter, JobOrder, Worker, AuditEvent)}


def test_init_prints_masked_url_and_is_idempotent(env, capsys):
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("database: ") and "schema up to date" in out


def test_init_creates_tables_on_a_new_sqlite_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'm.sqlite'}")
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    assert "created tables: " in out and "workers" in out


def test_mask_url_hides_the_password():
    assert cli.mask_url("postgresql+psycopg://matcher:s3cret@db.example/matcher") == (
        "postgresql+psycopg://matcher:***@db.example/matcher")
    assert cli.mask_url("sqlite:////tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"


def test_import_then_export_round_trip(env, tmp_path, capsys):
    assert cli.main(["import", "recruiters", str(put(tmp_path, "recruiters.csv", RECRUITERS_CSV))]) == 0
    assert cli.main(["import", "orders", str(put(tmp_path, "job_orders.csv", ORDERS_CSV))]) == 0
    assert cli.main(["import", "workers", str(put(tmp_path, "workers.csv", WORKERS_CSV)),
                     "--user", "mai"]) == 0
    out = capsys.readouterr().out
    assert "created    2" in out and "stored     yes" in out
    for kind, text in (("recruiters", RECRUITERS_CSV), ("orders", ORDERS_CSV), ("workers", WORKERS_CSV)):
        target = tmp_path / "out" / f"{kind}.csv"
        assert cli.main(["export", kind, str(target)]) == 0
        assert target.read_bytes() == text.encode("utf-8-sig")
    assert cli.main(["export", "workers", str(tmp_path / "out" / "w.xlsx")]) == 0
    assert "wrote 2 workers to" in capsys.readouterr().out
    # re-import: updates by id, never duplicates
    assert cli.main(["import", "workers", str(tmp_path / "out" / "w.xlsx")]) == 0
    assert "unchanged  2" in capsys.readouterr().out
    assert counts(env)["Worker"] == 2


BAD = [
    ("workers", "workers.csv", WORKERS_CSV.replace("1999-12-31", "31/02/1999"), "utf-8-sig",
     "workers.csv row 3, birth_date: Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN, ví dụ 01/07/2025. / '31/02/1999' is not a date (dd/mm/yyyy or YYYY-MM-DD)"),
    ("workers", "workers.csv", WORKERS_CSV.replace(",female,", ",woman,"), "utf-8-sig",
     "workers.csv row 3, gender: 'woman' không hợp lệ; hãy ghi một trong: Nam, Nữ, Khác (hoặc mã male, female, "
     "other) / 'woman' is not one of male, female, other (or Male, Female, Other)"),
    ("workers", "workers.csv", WORKERS_CSV.replace("full_name", "name"), "utf-8-sig",
     "workers.csv, full_name: thiếu cột bắt buộc «full_name» (các cột bắt buộc: worker_id, full_name, birth_date) "
     "/ missing required column 'full_name'"),
    ("workers", "workers.csv", WORKERS_CSV.replace("W2,", "W1,"), "utf-8-sig",
     "workers.csv row 3, worker_id: mã 'W1' bị trùng (đã dùng ở dòng 2); mỗi mã chỉ một dòng / duplicate "
     "worker_id 'W1' (first used in row 2)"),
    ("recruiters", "recruiters.csv", "recruiter_id,name,licence_no,status\r\nR9,José,1/GP,active\r\n",
     "latin-1", "recruiters.csv: tệp không phải văn bản UTF-8; hãy lưu dạng CSV UTF-8"),
    ("workers", "workers.csv", "", "utf-8", "workers.csv: tệp rỗng; cần một dòng tiêu đề"),
    ("orders", "job_orders.csv", ORDERS_CSV.replace("O10,R2,", "O10,R77,"), "utf-8-sig",
     "job_orders.csv row 3, recruiter_id: 'R77' không phải mã một doanh nghiệp đã có"),
]


@pytest.mark.parametrize("kind,name,text,encoding,message", BAD,
                         ids=["date", "enum", "missing-column", "duplicate", "latin-1", "empty", "reference"])
def test_import_errors_exit_1_and_store_nothing(env, tmp_path, capsys, kind, name, text, encoding, message):
    assert cli.main(["import", "recruiters", str(put(tmp_path, "r.csv", RECRUITERS_CSV))]) == 0
    before = counts(env)
    capsys.readouterr()
    assert cli.main(["import", kind, str(put(tmp_path, name, text, encoding))]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert "stored     no: nothing stored" in captured.out
    assert counts(env) == before


def test_partial_stores_good_rows_and_exits_1(env, tmp_path, capsys):
    bad = WORKERS_CSV.replace("1999-12-31", "31/02/1999")
    assert cli.main(["import", "workers", str(put(tmp_path, "workers.csv", bad)), "--partial"]) == 1
    captured = capsys.readouterr()
    assert "created    1" in captured.out and "partly" in captured.out
    assert captured.err.strip().splitlines() == [
        "workers.csv row 3, birth_date: Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN, ví dụ 01/07/2025. / '31/02/1999' is not a date (dd/mm/yyyy or YYYY-MM-DD)"]
    assert counts(env)["Worker"] == 1


@pytest.mark.parametrize("argv", [
    [],
    ["import"],
    ["import", "cats", "x.csv"],
    ["import", "workers", "/nonexistent/workers.csv"],
    ["export", "workers", "out.json"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(env, argv, capsys):
    assert cli.main(argv) == 2
    assert capsys.readouterr().err


def test_import_without_schema_says_run_init(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert cli.main(["import", "workers", str(put(tmp_path, "w.csv", WORKERS_CSV))]) == 1
    assert "run `matcher init` first" in capsys.readouterr().err


def test_commands_are_pluggable(capsys):
    def register_hello(subparsers):
        p = subparsers.add_parser("hello")
        p.add_argument("name")
        p.set_defaults(func=lambda args: print(f"xin chào {args.name}") or 0)

    parser = cli.build_parser([*cli.COMMANDS, register_hello])
    args = parser.parse_args(["hello", "Mai"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == "xin chào Mai\n"
    assert {"init", "import", "export"} <= set(parser._subparsers._group_actions[0].choices)


def test_real_subprocess(env, tmp_path):
    exe = shutil.which("matcher") or str(Path(sys.executable).with_name("matcher"))
    environment = {**os.environ, "MATCHER_DATABASE_URL": env.url,
                   "MATCHER_INSTANCE_PATH": str(tmp_path / "instance")}
    good = put(tmp_path, "recruiters.csv", RECRUITERS_CSV)
    run = subprocess.run([exe, "import", "recruiters", str(good)], capture_output=True, text=True,
                         env=environment, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "created    2" in run.stdout
    bad = put(tmp_path, "workers.csv", WORKERS_CSV.replace("1999-12-31", "31/02/1999"))
    run = subprocess.run([exe, "import", "workers", str(bad)], capture_output=True, text=True,
                         env=environment, timeout=120)
    assert run.returncode == 1
    # the installed entry point (its message's English half, which every version writes)
    assert "workers.csv row 3, birth_date: " in run.stderr
    assert "'31/02/1999' is not a date (dd/mm/yyyy or YYYY-MM-DD)" in run.stderr
    run = subprocess.run([exe, "import", "nonsense"], capture_output=True, text=True,
                         env=environment, timeout=120)
    assert run.returncode == 2
    assert counts(env) == {"Recruiter": 2, "JobOrder": 0, "Worker": 0, "AuditEvent": 1}
