"""Model verbs of the ``matcher`` command: ``matcher model train`` (LoRA adapter)."""

from __future__ import annotations

import argparse
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
    """Run ``python -m evaluation train`` with the same arguments.

    Building the pairs reads the public benchmark files, which is evaluation's job; web and
    evaluation never import each other, so the verb runs it as a separate process.
    """
    import subprocess
    import sys

    if args.steps < 1:
        raise UsageError("--steps must be at least 1")
    cmd = [sys.executable, "-m", "evaluation", "train", "--esco", str(args.esco), "--onet", str(args.onet),
           "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
           "--rank", str(args.rank), "--top-layers", str(args.top_layers),
           "--max-seq-length", str(args.max_seq_length), "--seed", str(args.seed), "--out", str(args.out)]
    if args.vocabulary:
        cmd.append("--vocabulary")
    if args.benchmarks:
        cmd += ["--benchmarks", str(args.benchmarks)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.no_progress:
        cmd.append("--no-progress")
    return subprocess.call(cmd) or EXIT_OK


MODEL_COMMANDS = [register_model]
