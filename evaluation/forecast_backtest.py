"""Backtest of the departures forecast against histories whose truth is known.

``python -m evaluation forecast-backtest [--seeds 40] [--level 0.8] [--json OUT]`` simulates
independent pipelines with the demo's generator (``data.history.simulate``, default
``Process``), three years and one more, and forecasts that last year's departures at the end of
each quarter's first three months (31/03, 30/06, 30/09) from what was known then, with
``matcher.insights.forecast_departures`` -- the same call the dashboard makes. It prints, per
cut-off, how often the stated interval held the true number (its coverage, against the stated
level), the mean width and the mean absolute error of the central value.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from tqdm import tqdm

from data.history import Process, departures_in, simulate
from matcher.insights import Trajectory, forecast_departures

CUTOFFS = ((3, 31), (6, 30), (9, 30))
YEAR = 2025


def backtest(seeds: int = 40, level: float = 0.8, draws: int = 2000, process: Process | None = None,
             progress: bool = True) -> dict:
    """Coverage, width and error of the forecast per cut-off over ``seeds`` simulated histories."""
    rows = {f"{d:02d}/{m:02d}": {"hits": 0, "runs": 0, "width": 0.0, "abs_error": 0.0} for m, d in CUTOFFS}
    for seed in tqdm(range(seeds), desc="backtest", disable=not progress, file=sys.stderr):
        sims = simulate(seed, dt.date(YEAR - 3, 1, 1), dt.date(YEAR, 12, 31), process)
        truth = departures_in(sims, YEAR)
        history = [Trajectory(t.created, t.events) for t in sims]
        for m, d in CUTOFFS:
            f = forecast_departures(history, dt.date(YEAR, m, d), level=level, draws=draws, seed=seed)
            r = rows[f"{d:02d}/{m:02d}"]
            r["runs"] += 1
            r["hits"] += int(f.low <= truth <= f.high)
            r["width"] += f.high - f.low
            r["abs_error"] += abs(f.mean - truth)
    out = {}
    for key, r in rows.items():
        n = r["runs"] or 1
        out[key] = {"coverage": r["hits"] / n, "runs": r["runs"], "mean_width": r["width"] / n,
                    "mean_abs_error": r["abs_error"] / n}
    hits = sum(r["hits"] for r in rows.values())
    runs = sum(r["runs"] for r in rows.values())
    return {"level": level, "seeds": seeds, "cutoffs": out, "coverage": hits / runs if runs else None, "runs": runs}


def format_result(result: dict) -> str:
    lines = [f"stated level {result['level']:.0%}, {result['seeds']} simulated histories",
             f"{'cut-off':<8} {'coverage':>8} {'runs':>5} {'mean width':>10} {'mean |error|':>12}"]
    for key, r in result["cutoffs"].items():
        lines.append(f"{key:<8} {r['coverage']:>8.1%} {r['runs']:>5} {r['mean_width']:>10.1f} {r['mean_abs_error']:>12.1f}")
    lines.append(f"{'all':<8} {result['coverage']:>8.1%} {result['runs']:>5}")
    return "\n".join(lines)


def register(subparsers) -> None:
    p = subparsers.add_parser("forecast-backtest", help="coverage of the departures forecast on simulated histories")
    p.add_argument("--seeds", type=int, default=40, help="number of simulated histories")
    p.add_argument("--level", type=float, default=0.8, help="the interval's stated level")
    p.add_argument("--draws", type=int, default=2000, help="Monte-Carlo draws per forecast")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    if args.seeds < 1 or not 0 < args.level < 1:
        print("error: --seeds must be at least 1 and --level in (0, 1)", file=sys.stderr)
        return 2
    result = backtest(args.seeds, args.level, args.draws, progress=not args.no_progress)
    print(format_result(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0
