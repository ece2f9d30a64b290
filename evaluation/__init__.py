"""Evaluation: metrics, benchmark runners, labelled and judged sets, fairness, reports, perf."""

from __future__ import annotations

from pathlib import Path


def model_cache() -> Path:
    """The converted-model folder the ``model_cache`` setting names (``MATCHER_MODEL_CACHE`` or
    ``instance/config.json``), else the library's default; the runners pass it to the encoder."""
    from data.settings import load_settings
    from matcher.encoder import default_cache_dir

    configured = load_settings().get("model_cache")
    return Path(configured).expanduser() if configured else default_cache_dir()
