"""Model verbs of the ``matcher`` command: ``matcher model train`` (the encoder's LoRA adapter).

Building the training pairs reads the public benchmark files, which is evaluation's job, and
web and evaluation never import each other: the verb runs ``python -m evaluation train`` as a
separate process with the arguments it was given (``matcher model train --help`` lists them).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from web.cli import EXIT_OK


def register_model(subparsers) -> None:
    p = subparsers.add_parser("model", help="train the domain adapter of the encoder")
    sub = p.add_subparsers(dest="model_command", metavar="ACTION")
    sub.required = True
    t = sub.add_parser(
        "train",
        add_help=False,
        help="train a LoRA adapter on leak-free pairs (ESCO, O*NET dev split, vocabulary); "
        "same arguments as 'python -m evaluation train'",
    )
    t.add_argument("args", nargs=argparse.REMAINDER)
    t.set_defaults(func=cmd_model_train)


def cmd_model_train(args: argparse.Namespace) -> int:
    return subprocess.call([sys.executable, "-m", "evaluation", "train", *args.args]) or EXIT_OK


MODEL_COMMANDS = [register_model]
