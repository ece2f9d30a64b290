"""The ONNX Runtime encoder (issue 16): export, int8 check and the torch-free encoder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matcher import onnx_encoder as onx
from matcher.encoder import default_cache_dir, merged_adapter_folder, DEFAULT_ADAPTER


def test_encoder_without_export_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="matcher model convert"):
        onx.OnnxEncoder(tmp_path)


def test_no_choice_without_check_file(tmp_path):
    (tmp_path / onx.ONNX_FOLDER).mkdir()
    (tmp_path / onx.ONNX_FOLDER / onx.FP32_FILE).write_bytes(b"x")
    assert onx.onnx_model_file(tmp_path) is None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the merged default model with a fresh ONNX build beside it."""
    src = merged_adapter_folder(default_cache_dir(), DEFAULT_ADAPTER)
    folder = tmp_path_factory.mktemp("onnx") / "m"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns(onx.ONNX_FOLDER))
    chosen = onx.build_onnx(folder, progress=False)
    return folder, chosen


@pytest.mark.model
@pytest.mark.slow
def test_build_checks_against_torch_and_picks_a_file(built):
    folder, chosen = built
    report = json.loads((folder / onx.ONNX_FOLDER / onx.CHECK_FILE).read_text())
    assert report["fp32"]["cosine_mean"] > 0.999
    expected = onx.INT8_FILE if report["int8"]["cosine_mean"] >= onx.MIN_MEAN_COSINE else onx.FP32_FILE
    assert report["chosen"] == expected == chosen.name
    # a second call reuses the build
    assert onx.build_onnx(folder, progress=False) == chosen


@pytest.mark.model
@pytest.mark.slow
def test_encoder_runs_without_torch_and_matches_torch(built):
    folder, _ = built
    code = (
        "import sys, json; from matcher.onnx_encoder import OnnxEncoder, CHECK_TEXTS\n"
        f"e = OnnxEncoder({str(folder)!r}, threads=1)\n"
        "v = e.encode(list(CHECK_TEXTS), batch_size=7)\n"
        "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "print(json.dumps({'bad': bad, 'v': v.tolist()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["bad"] == []
    from matcher.encoder import SentenceTransformerEncoder

    ref = SentenceTransformerEncoder(folder, prefix="query: ").encode(list(onx.CHECK_TEXTS))
    got = np.asarray(result["v"], dtype=np.float32)
    assert got.shape == ref.shape
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.sum(got * ref, axis=1).mean()) >= onx.MIN_MEAN_COSINE
