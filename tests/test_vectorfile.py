"""The saved vector cache: round trip, and every kind of damage detected."""

import numpy as np
import pytest

from data.vectorfile import VectorFileError, load_vectors, load_vectors_or_empty, save_vectors


@pytest.fixture
def saved(tmp_path):
    rng = np.random.default_rng(0)
    vecs = {f"text {i}": rng.standard_normal(8).astype(np.float32) for i in range(5)}
    save_vectors(tmp_path, "enc-a", vecs, {"orders": b"blob"})
    return tmp_path, vecs


def test_round_trip(saved):
    folder, vecs = saved
    back = load_vectors(folder, "enc-a")
    assert sorted(back) == sorted(vecs)
    for t, v in vecs.items():
        np.testing.assert_array_equal(back[t], v)
    assert (folder / "orders.faiss").read_bytes() == b"blob"


def test_other_encoder_refused(saved):
    with pytest.raises(VectorFileError, match="enc-a"):
        load_vectors(saved[0], "enc-b")


def test_truncated_file_detected(saved):
    f = saved[0] / "vectors.npz"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(VectorFileError, match="checksum"):
        load_vectors(saved[0], "enc-a")
    assert load_vectors_or_empty(saved[0], "enc-a") == {}


def test_missing_and_garbage_header(saved, tmp_path_factory):
    assert load_vectors_or_empty(tmp_path_factory.mktemp("empty"), "enc-a") == {}
    (saved[0] / "vectors.json").write_text("{not json")
    with pytest.raises(VectorFileError, match="header"):
        load_vectors(saved[0], "enc-a")


def test_other_format_version_refused(saved):
    import json

    head = saved[0] / "vectors.json"
    doc = json.loads(head.read_text())
    doc["format"] = 999
    head.write_text(json.dumps(doc))
    with pytest.raises(VectorFileError, match="format"):
        load_vectors(saved[0], "enc-a")
