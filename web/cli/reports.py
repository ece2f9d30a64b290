"""Report verbs of the ``matcher`` command.

- ``matcher report training-needs [--today DATE] [--json | --xlsx FILE]``: the training needs
  (the same numbers as the counsellor's page);
- ``matcher report period --from DATE --to DATE --xlsx FILE``: the period report the centre sends
  upward (the same totals as the dashboard);
- ``matcher report forecast [--today DATE] [--json]``: departures forecast for the year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from data.sheets import save_workbook
from web.cli.common import EXIT_FAILED, EXIT_OK, UsageError, require_schema, open_store, settings_from


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from None


def _today(args) -> dt.date:
    return _date(getattr(args, "today", None), "--today") or _date(settings_from(args).get("today"), "today setting") or dt.date.today()


def _xlsx_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"--xlsx: the file name must end in .xlsx, got {value!r}")
    if not path.parent.exists():
        raise UsageError(f"--xlsx: the folder {path.parent} does not exist")
    return path


def register_report(subparsers) -> None:
    p = subparsers.add_parser("report", help="labour-market reports: training needs, period report, forecast")
    sub = p.add_subparsers(dest="report", metavar="REPORT")
    sub.required = True
    tn = sub.add_parser("training-needs", help="workers one step short of open orders, per language level, test and programme")
    tn.add_argument("--today", help="reference date (YYYY-MM-DD); default: the 'today' setting or today")
    out = tn.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument("--xlsx", metavar="FILE", help="write a formatted workbook")
    tn.set_defaults(func=cmd_training_needs)
    pr = sub.add_parser("period", help="the periodic report for a date range, as a workbook")
    pr.add_argument("--from", dest="start", required=True, help="first day (YYYY-MM-DD)")
    pr.add_argument("--to", dest="end", required=True, help="last day (YYYY-MM-DD), inclusive")
    pr.add_argument("--xlsx", metavar="FILE", required=True, help="output .xlsx file")
    pr.set_defaults(func=cmd_period)
    fc = sub.add_parser("forecast", help="departures forecast for the current year with an interval")
    fc.add_argument("--today", help="forecast date (YYYY-MM-DD)")
    fc.add_argument("--level", type=float, default=0.8, help="interval probability (default 0.8)")
    fc.add_argument("--json", action="store_true", help="print JSON")
    fc.set_defaults(func=cmd_forecast)


def cmd_training_needs(args: argparse.Namespace) -> int:
    from web.services import reports

    day = _today(args)
    path = _xlsx_path(args.xlsx)
    store = open_store(args)
    try:
        if not require_schema(store):
            return EXIT_FAILED
        with store.session() as s:
            needs = reports.training_needs(s, day)
            if path is not None:
                ids = {wid for n in needs.needs for wid in n.pairs}
                workers = {w.worker_id: w for w in reports.load_workers(s, ids)}
                save_workbook(reports.needs_workbook(needs, workers), path)
    finally:
        store.dispose()
    if args.json:
        json.dump(needs.to_dict(), sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif path is not None:
        print(f"wrote {len(needs.needs)} training needs to {path}")
    else:
        print(f"{needs.day}: {needs.workers} active workers, {needs.orders} legal open orders, {needs.places} places; "
              f"{needs.ready_workers} workers qualify already")
        print(f"{'need':<48} {'workers':>7} {'orders':>6} {'places':>6} {'fillable':>8}")
        for n in needs.needs:
            print(f"{n.step.en[:48]:<48} {n.workers:>7} {len(n.orders):>6} {n.places:>6} {n.fillable:>8}")
    return EXIT_OK


def cmd_period(args: argparse.Namespace) -> int:
    from web.services import reports, stats

    start, end = _date(args.start, "--from"), _date(args.end, "--to")
    if start > end:
        raise UsageError(f"--to ({end}) is before --from ({start})")
    path = _xlsx_path(args.xlsx)
    store = open_store(args)
    try:
        if not require_schema(store):
            return EXIT_FAILED
        with store.session() as s:
            r = reports.period_report(s, stats.Period(start, end))
            save_workbook(reports.period_workbook(r), path)
    finally:
        store.dispose()
    print(f"period {start} .. {end}: advised {r.advised}, selected {r.placements['placed']}, "
          f"departed {r.placements['departed']} (target {r.placements['target']} a year); wrote {path}")
    return EXIT_OK


def cmd_forecast(args: argparse.Namespace) -> int:
    from web.services import reports

    day = _today(args)
    if not 0 < args.level < 1:
        raise UsageError(f"--level must be in (0, 1), got {args.level}")
    store = open_store(args)
    try:
        if not require_schema(store):
            return EXIT_FAILED
        with store.session() as s:
            f = reports.forecast(s, day, level=args.level)
    finally:
        store.dispose()
    if args.json:
        json.dump(f.to_dict(), sys.stdout, ensure_ascii=False, indent=1, default=str)
        print()
    else:
        print(f"departures {f.year}: {f.departed} so far; forecast {f.mean:.1f}, {round(f.level * 100)}% interval "
              f"{f.low:.0f}-{f.high:.0f}; P(> {f.target}) = {f.p_target:.0%}")
        print(f.method_en)
    return EXIT_OK


REPORT_COMMANDS = [register_report]
