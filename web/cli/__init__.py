"""The ``matcher`` console script (entry point ``web.cli:main``).

Subcommands register themselves: a module-level function ``register_<verb>(subparsers)``
adds a sub-parser and sets ``func`` to a handler ``(args) -> int`` (the exit code). To add
a verb, write such a function and append it to :data:`COMMANDS` at the bottom of this file.
Handlers get the resolved settings with ``web.cli.common.settings_from`` and a store with
``open_store``. Logging is configured only in :func:`main`.

Exit codes: 0 success; 1 the command ran but failed (e.g. an import with errors, so nothing
or only the good rows were stored); 2 usage error (bad arguments, unreadable file name).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from web.cli.common import (EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, mask_url, open_store, require_schema,
                            settings_from)

log = logging.getLogger(__name__)

KINDS = ("recruiters", "orders", "workers")


# --------------------------------------------------------------------------------------
# init


def register_init(subparsers) -> None:
    p = subparsers.add_parser("init", help="create or upgrade the database schema")
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    from data.repo import duplicate_national_ids
    from data.store import head_revision
    from data.upgrade import migrate_ethnicities, refresh_search_text

    store = open_store(args)
    try:
        created = store.init_schema()
        with store.session() as s:
            ethnicities = migrate_ethnicities(s)
            searched = refresh_search_text(s)
            duplicates = duplicate_national_ids(s)
    finally:
        store.dispose()
    print(f"database: {mask_url(store.url)}")
    revisions = [c for c in created if c.startswith("revision ")]
    tables = [c for c in created if not c.startswith("revision ")]
    if tables:
        print(f"created tables: {', '.join(tables)}")
    for line in revisions:
        print(f"schema at {line}")
    if not created:
        print(f"schema up to date (revision {head_revision()}, no table created)")
    for line in ethnicities.lines():
        print(line)
    if searched:
        print(f"search words refreshed for {searched} worker(s)")
    for nid, ids in duplicates.items():  # only in a database from before the unique index
        print(f"CCCD {nid} is held by {len(ids)} profiles ({', '.join(ids)}): one person, one profile; "
              f"merge them with `matcher worker merge {ids[0]} {ids[1]}`")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# import


def register_import(subparsers) -> None:
    p = subparsers.add_parser(
        "import",
        help="import a CSV (UTF-8) or .xlsx file of recruiters, orders or workers",
        description="Validate every row, then store the file: all or nothing unless --partial.",
    )
    p.add_argument("kind", choices=KINDS, help="what the file holds (orders = job_orders.csv)")
    p.add_argument("file", type=Path, help="path to a .csv (UTF-8) or .xlsx file")
    p.add_argument("--partial", action="store_true",
                   help="store the good rows even if some rows have errors")
    p.add_argument("--user", default=None, help="user name recorded in the audit log")
    p.set_defaults(func=cmd_import)


def _summary(report) -> list[tuple[str, str]]:
    if report.committed:
        stored = "yes" if not report.errors else "partly: only the rows without errors"
    elif report.errors and not report.partial:
        stored = "no: nothing stored (fix the errors, or use --partial to store the good rows)"
    else:
        stored = "no"
    return [
        ("file", report.file),
        ("kind", report.kind),
        ("rows", str(report.total_rows)),
        ("created", str(report.created)),
        ("updated", str(report.updated)),
        ("unchanged", str(report.unchanged)),
        ("errors", str(len(report.errors))),
        ("stored", stored),
    ]


def _print_table(pairs: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        print(f"{key.ljust(width)}  {value}")


def cmd_import(args: argparse.Namespace) -> int:
    from data.importers import import_file, unknown_columns_note

    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"{path}: không có tệp này / no such file")
    store = open_store(args)
    try:
        if not require_schema(store):
            return EXIT_FAILED
        with store.session() as session:
            report = import_file(session, args.kind, path, partial=args.partial, user=args.user,
                                 max_cells=settings_from(args)["max_xlsx_cells"])
    finally:
        store.dispose()
    _print_table(_summary(report))
    if report.unknown_columns:
        print(" / ".join(unknown_columns_note(report.unknown_columns)))
    for err in report.errors:  # Vietnamese first, then English (data.formats.FieldError)
        print(err.message, file=sys.stderr)
    return EXIT_OK if not report.errors else EXIT_FAILED


# --------------------------------------------------------------------------------------
# export


def register_export(subparsers) -> None:
    p = subparsers.add_parser("export", help="export recruiters, orders or workers to .csv or .xlsx")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", type=Path, help="output path ending in .csv or .xlsx")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from data.exporters import FORMATS, export_file

    path: Path = args.file
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"{path}: the file name must end in .csv or .xlsx")
    store = open_store(args)
    try:
        if not require_schema(store):
            return EXIT_FAILED
        with store.session() as session:
            n = export_file(session, args.kind, path)
    finally:
        store.dispose()
    print(f"wrote {n} {args.kind} to {path}")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# main


def build_parser(commands: Sequence[Callable] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matcher",
        description="Job matching for the Cao Bang Employment Service Centre.",
    )
    parser.add_argument("--instance", default=None,
                        help="instance folder (default: MATCHER_INSTANCE_PATH or ./instance)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for register in commands if commands is not None else all_commands():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args) or EXIT_OK)
    except UsageError as exc:
        print(f"matcher {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a clear line instead of a traceback; -v shows the traceback
        from data.settings import SettingsError

        if isinstance(exc, SettingsError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if args.verbose:
            raise
        print(f"matcher {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


# Registration functions, one per verb; others append theirs here.
COMMANDS: list[Callable[[Any], None]] = [
    register_init,
    register_import,
    register_export,
]


def all_commands() -> list[Callable[[Any], None]]:
    """Every verb: the ones above, then those defined in other modules of web/ (imported here,
    not at module level, because they use this module's helpers; this keeps
    ``python -m web.cli`` free of circular imports)."""
    from web.cli.engine import ENGINE_COMMANDS  # match, allocate, index, weights
    from web.cli.jobs import JOBS_COMMANDS  # jobs worker/list
    from web.cli.model import MODEL_COMMANDS  # model train
    from web.cli.ops import OPS_COMMANDS  # backup, restore, worker export/erase
    from web.cli.reports import REPORT_COMMANDS  # report training-needs/period/forecast
    from web.cli.web import WEB_COMMANDS  # serve, demo, user

    return [*COMMANDS, *ENGINE_COMMANDS, *REPORT_COMMANDS, *WEB_COMMANDS, *OPS_COMMANDS, *MODEL_COMMANDS, *JOBS_COMMANDS]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
