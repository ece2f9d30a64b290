"""Model verbs of the ``matcher`` command: ``matcher model train`` (LoRA adapter)."""

from __future__ import annotations

import argparse

from matcher.training import add_train_arguments, train_argv
from web.cli import EXIT_OK, UsageError


def register_model(subparsers) -> None:
    p = subparsers.add_parser("model", help="train the domain adapter of the encoder")
    sub = p.add_subparsers(dest="model_command", metavar="ACTION")
    sub.required = True
    t = sub.add_parser("train", help="train a LoRA adapter on leak-free pairs (ESCO, O*NET dev split, vocabulary)")
    add_train_arguments(t)
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
    cmd = [sys.executable, "-m", "evaluation", "train", *train_argv(args)]
    return subprocess.call(cmd) or EXIT_OK


MODEL_COMMANDS = [register_model]
