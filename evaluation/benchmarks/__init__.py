"""Benchmark runners, one module per benchmark.

Each module defines ``NAME``, ``run(data, encoder, systems, limit=None, progress=True, **options)``
returning rows ``{"system", "subset", <metric>: value, ...}``, and ``reference_rows()`` with
the published / BASELINES.md figures to print beside them. Optional ``add_arguments(parser)``
adds benchmark-specific command-line options (see ``trec``).
"""

from __future__ import annotations

from importlib import import_module

_MODULES = {
    "talentclef": "talentclef",
    "melo-deu": "melo",
    "onet": "onet",
    "esco-skills": "esco",
    "vanetik": "vanetik",
    "trec": "trec",
    "fusion-dev": "fusion_dev",
}

NAMES = tuple(_MODULES)


def get(name: str):
    """The runner module of benchmark ``name``."""
    if name not in _MODULES:
        raise ValueError(f"Unknown benchmark {name!r}: use one of {list(_MODULES)}.")
    return import_module(f"evaluation.benchmarks.{_MODULES[name]}")
