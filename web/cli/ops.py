"""Operations verbs of the ``matcher`` command: backup, restore, and a worker's data rights.

- ``matcher backup FILE``: a consistent snapshot. SQLite: the online backup API of ``sqlite3``
  (safe while the server runs: readers and writers keep going, the copy is one point in time).
  PostgreSQL: ``pg_dump -Fc`` (a custom-format archive, restorable with ``pg_restore``).
- ``matcher restore FILE``: puts a snapshot back over the configured database (SQLite: the
  backup API in the other direction; PostgreSQL: ``pg_restore --clean --if-exists``). Stop the
  web server first.
- ``matcher worker export ID FILE`` (right of access) and ``matcher worker erase ID --yes``
  (right to deletion), see ``web.views.privacy``.

The database password goes to ``pg_dump``/``pg_restore`` through the ``PGPASSWORD``
environment variable, never on a command line or in a message.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from web.cli.common import EXIT_FAILED, EXIT_OK, UsageError, mask_url, open_store, settings_from


def _sqlite_path(url) -> str:
    path = url.database or ""
    if not path or path == ":memory:":
        raise UsageError("an in-memory SQLite database cannot be backed up")
    return path


def _pg_args(url) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise UsageError(f"{name} was not found on PATH; install the PostgreSQL client tools")
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def backup(database_url: str, file: Path) -> None:
    """Write a consistent snapshot of the database to ``file``."""
    url = make_url(database_url)
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        tmp = file.with_name(file.name + ".part")
        tmp.unlink(missing_ok=True)
        src = sqlite3.connect(_sqlite_path(url), timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        os.chmod(tmp, 0o600)  # personal data: readable by the service account only
        os.replace(tmp, file)
        return
    if url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        _run([_tool("pg_dump"), "-Fc", "--no-owner", *args, "-f", str(file), "-d", url.database], env)
        return
    raise UsageError(f"backup supports SQLite and PostgreSQL, not {url.get_backend_name()}")


# Tables a snapshot of this product must hold, each with these columns at least (the columns of
# the first schema: a snapshot from an older version gains the newer columns by `matcher init`).
SNAPSHOT_TABLES = {
    "recruiters": {"recruiter_id", "name", "licence_no", "status"},
    "job_orders": {"order_id", "recruiter_id", "title", "country", "positions"},
    "workers": {"worker_id", "full_name", "birth_date"},
    "applications": {"id", "worker_id", "order_id", "stage"},
    "users": {"id", "username", "password_hash", "role"},
}


def check_snapshot(path: Path) -> None:
    """Refuse a file that is not a sound SQLite snapshot of this product's schema.

    Opened read-only as a plain path (a URI is built with the path quoted, so ``?`` or ``#`` in
    the name never become URI parameters)."""
    from urllib.parse import quote

    try:
        con = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RuntimeError(f"{path}: không mở được bản sao lưu / cannot open the snapshot ({exc})") from None
    try:
        if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise RuntimeError(f"{path}: bản sao lưu bị hỏng / not a sound SQLite snapshot")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = {t: cols for t, cols in SNAPSHOT_TABLES.items() if t not in tables}
        if missing:
            raise RuntimeError(
                f"{path}: không phải bản sao lưu của hệ thống này (thiếu bảng {', '.join(sorted(missing))}); "
                f"cơ sở dữ liệu hiện tại được giữ nguyên / not a snapshot of this product (tables "
                f"{', '.join(sorted(missing))} are missing); the live database is left as it was")
        for table, cols in SNAPSHOT_TABLES.items():
            have = {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}
            if not cols <= have:
                raise RuntimeError(f"{path}: bảng {table} thiếu cột {', '.join(sorted(cols - have))} / table {table} "
                                   f"lacks columns {', '.join(sorted(cols - have))}; the live database is left as it was")
    except sqlite3.DatabaseError as exc:
        raise RuntimeError(f"{path}: không phải tệp SQLite / not a SQLite snapshot ({exc}); "
                           "the live database is left as it was") from None
    finally:
        con.close()


def _restore_sqlite(live: Path, file: Path) -> None:
    """Check the snapshot, keep a copy of the live database beside it, then copy the snapshot
    in with SQLite's backup API (one step: readers see the old or the new content)."""
    from urllib.parse import quote

    check_snapshot(file)
    if live.exists():
        keep = live.with_name(live.name + ".before-restore")
        backup(f"sqlite:///{live}", keep)
    src = sqlite3.connect(f"file:{quote(str(file.resolve()))}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.chmod(live, 0o600)


def restore(database_url: str, file: Path) -> None:
    """Replace the database's content by the snapshot in ``file``."""
    url = make_url(database_url)
    file = Path(file)
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    if url.get_backend_name() == "sqlite":
        _restore_sqlite(Path(_sqlite_path(url)), file)
        return
    if url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
              "-d", url.database, str(file)], env)
        return
    raise UsageError(f"restore supports SQLite and PostgreSQL, not {url.get_backend_name()}")


# ---- backup / restore ----------------------------------------------------------------------


def register_backup(subparsers) -> None:
    p = subparsers.add_parser("backup", help="write a consistent snapshot of the database to FILE")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_backup)


def cmd_backup(args: argparse.Namespace) -> int:
    url = settings_from(args)["database_url"]
    backup(url, args.file)
    print(f"backed up {mask_url(url)} to {args.file}")
    return EXIT_OK


def register_restore(subparsers) -> None:
    p = subparsers.add_parser("restore", help="replace the database's content by a snapshot (stop the server first)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_restore)


def cmd_restore(args: argparse.Namespace) -> int:
    url = settings_from(args)["database_url"]
    restore(url, args.file)
    ended = _end_restored_sessions(args)
    print(f"restored {mask_url(url)} from {args.file}; {ended} sign-in sessions of the snapshot ended")
    return EXIT_OK


def _end_restored_sessions(args: argparse.Namespace) -> int:
    """A snapshot holds the sign-in sessions open when it was taken, some of them ended since
    (logout, password change): after a restore every session ends and everyone signs in again."""
    from sqlalchemy import inspect

    from web.services import accounts

    store = open_store(args)
    try:
        if "user_sessions" not in inspect(store.engine).get_table_names():
            return 0  # a snapshot of a version without server-side sessions
        with store.session() as s:
            return accounts.revoke(s, None, "restore")
    finally:
        store.dispose()


# ---- worker export / erase -----------------------------------------------------------------


def register_worker(subparsers) -> None:
    p = subparsers.add_parser("worker", help="a worker's personal-data rights: export everything held, erase")
    sub = p.add_subparsers(dest="worker_command", metavar="ACTION")
    sub.required = True
    e = sub.add_parser("export", help="write everything held about a worker as JSON (right of access)")
    e.add_argument("worker_id")
    e.add_argument("file", type=Path)
    e.add_argument("--user", default=None, help="user name recorded in the audit log")
    e.set_defaults(func=cmd_worker_export)
    d = sub.add_parser("erase", help="delete a worker and all its data; the erasure is audited (right to deletion)")
    d.add_argument("worker_id")
    d.add_argument("--yes", action="store_true", help="really erase (required)")
    d.add_argument("--user", default=None, help="user name recorded in the audit log")
    d.set_defaults(func=cmd_worker_erase)
    m = sub.add_parser("merge", help="merge the duplicate profile OTHER into KEEP (one person, one profile); audited")
    m.add_argument("keep", help="id of the profile kept")
    m.add_argument("other", help="id of the duplicate, marked merged into KEEP")
    m.add_argument("--user", default=None, help="user name recorded in the audit log")
    m.set_defaults(func=cmd_worker_merge)


def cmd_worker_export(args: argparse.Namespace) -> int:
    from data.repo import audit
    from web.services.privacy import worker_record

    store = open_store(args)
    try:
        with store.session() as s:
            data = worker_record(s, args.worker_id)
            if data is None:
                print(f"error: no worker {args.worker_id!r}")
                return EXIT_FAILED
            audit(s, args.user or "cli", "export", "worker", args.worker_id, via="cli")
    finally:
        store.dispose()
    args.file.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote everything held about {args.worker_id} to {args.file}")
    return EXIT_OK


def cmd_worker_erase(args: argparse.Namespace) -> int:
    from web.services.privacy import erase_worker

    if not args.yes:
        raise UsageError("erasing cannot be undone; add --yes to confirm")
    store = open_store(args)
    try:
        with store.session() as s:
            counts = erase_worker(s, args.worker_id, args.user or "cli", settings_from(args)["instance_path"])
    finally:
        store.dispose()
    if counts is None:
        print(f"error: no worker {args.worker_id!r}")
        return EXIT_FAILED
    print(f"erased {args.worker_id}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return EXIT_OK


def cmd_worker_merge(args: argparse.Namespace) -> int:
    from web.services.merge import MergeError, merge_workers

    store = open_store(args)
    try:
        with store.session() as s:
            result = merge_workers(s, args.keep, args.other, args.user or "cli")
    except MergeError as exc:
        print(f"error: {exc.vi} / {exc.en}")
        return EXIT_FAILED
    finally:
        store.dispose()
    counts = result.counts()
    print(f"merged {args.other} into {args.keep}: " + ", ".join(
        f"{len(v) if isinstance(v, list) else v} {k}" for k, v in counts.items()))
    return EXIT_OK


def register_licence_register(subparsers) -> None:
    p = subparsers.add_parser(
        "licence-register",
        help="verify the enterprises against the regulator's list of licensed enterprises (CSV)",
        description="Verify every enterprise on the list, active, under its name; list the mismatches.",
    )
    p.add_argument("file", type=Path, help="CSV (UTF-8) with licence_no, name, licence_date, status")
    p.add_argument("--user", default=None, help="user name recorded in the audit log")
    p.set_defaults(func=cmd_licence_register)


def cmd_licence_register(args: argparse.Namespace) -> int:
    from data.settings import gate_date
    from web.services.licences import check_register, read_register

    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    entries, errors = read_register(args.file)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print("nothing changed: fix the file first", file=sys.stderr)
        return EXIT_FAILED
    store = open_store(args)
    try:
        with store.session() as s:
            result = check_register(s, entries, gate_date(settings_from(args)), args.user or "cli")
    finally:
        store.dispose()
    print(f"verified now: {len(result.verified)} ({', '.join(result.verified) or '-'}); "
          f"already verified: {len(result.already)}; mismatches: {len(result.mismatches)}")
    for rid, vi, en in result.mismatches:
        print(f"{rid}: {vi} / {en}")
    return EXIT_OK


OPS_COMMANDS = [register_backup, register_restore, register_worker, register_licence_register]
