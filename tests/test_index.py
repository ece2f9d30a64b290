"""Tests for matcher.index.VectorIndex: exactness, recall, filtering, updates, bytes."""
from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from matcher.index import _TRAILER, FORMAT_VERSION, IndexVersionError, NotFittedError, VectorIndex


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _random(n: int, dim: int, seed: int) -> np.ndarray:
    return _unit(np.random.default_rng(seed).standard_normal((n, dim)))


def _clustered(n: int, dim: int, clusters: int, noise: float, seed: int) -> np.ndarray:
    """Normalised Gaussian mixture on the sphere: like real embeddings, unlike iid noise."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.standard_normal((clusters, dim)))
    x = centres[rng.integers(0, clusters, n)] + noise / np.sqrt(dim) * rng.standard_normal((n, dim))
    return _unit(x)


def _brute_force(base: np.ndarray, ids: list[str], queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
    scores = queries @ base.T
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([(ids[j], float(row[j])) for j in order])
    return out


def _assert_same(got, want):
    assert [[i for i, _ in r] for r in got] == [[i for i, _ in r] for r in want]
    for g, w in zip(got, want):
        np.testing.assert_allclose([s for _, s in g], [s for _, s in w], rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def small():
    vectors = _random(2000, 64, seed=1)
    ids = [f"job-{i}" for i in range(len(vectors))]
    queries = _random(25, 64, seed=2)
    return ids, vectors, queries


# ------------------------------------------------------------------ exact search
def test_flat_index_equals_numpy_brute_force(small):
    ids, vectors, queries = small
    index = VectorIndex().fit(ids, vectors)
    assert index.kind_ == "flat"
    _assert_same(index.search(queries, k=10), _brute_force(vectors, ids, queries, 10))


def test_search_accepts_a_single_vector_and_caps_k_at_size(small):
    ids, vectors, queries = small
    index = VectorIndex().fit(ids[:7], vectors[:7])
    [hits] = index.search(queries[0], k=50)
    assert len(hits) == 7
    assert sorted(i for i, _ in hits) == sorted(ids[:7])


def test_inputs_are_normalised_and_zero_query_gives_zero_scores(small):
    ids, vectors, queries = small
    scaled = vectors * np.linspace(0.5, 3.0, len(vectors), dtype=np.float32)[:, None]
    index = VectorIndex().fit(ids, scaled)
    _assert_same(index.search(queries * 7.0, k=5), _brute_force(vectors, ids, queries, 5))
    [hits] = index.search(np.zeros(64, dtype=np.float32), k=3)
    assert len(hits) == 3 and all(s == 0.0 for _, s in hits)


def test_auto_kind_switches_at_threshold(small):
    ids, vectors, _ = small
    assert VectorIndex(exact_threshold=len(ids)).fit(ids, vectors).kind_ == "flat"
    approx = VectorIndex(exact_threshold=len(ids) - 1).fit(ids, vectors)
    assert approx.kind_ == "ivf"
    assert approx.nlist_ == int(np.sqrt(len(ids)))


def test_empty_index_answers_empty_lists():
    index = VectorIndex().fit([], np.zeros((0, 16), dtype=np.float32))
    assert len(index) == 0 and index.dim_ == 16
    assert index.search(_random(2, 16, seed=3), k=5) == [[], []]
    index.add(["a"], _random(1, 16, seed=4))
    assert [i for i, _ in index.search(_random(1, 16, seed=5), k=5)[0]] == ["a"]


# ------------------------------------------------------------ approximate search
def test_ivf_recall_at_10_on_30k_vectors():
    """30k normalised vectors in 1,000 clusters (embeddings cluster; iid Gaussian noise
    in 384 dimensions has no neighbourhoods an ANN index could exploit)."""
    vectors = _clustered(30_000, 384, clusters=1000, noise=1.0, seed=7)
    ids = [f"w{i}" for i in range(len(vectors))]
    rng = np.random.default_rng(8)
    queries = _unit(vectors[rng.integers(0, len(vectors), 200)] + 0.5 / np.sqrt(384) * rng.standard_normal((200, 384)))
    started = time.perf_counter()
    index = VectorIndex().fit(ids, vectors)
    built = time.perf_counter() - started
    assert index.kind_ == "ivf"
    recall = index.recall_at_k(queries, k=10)
    print(f"IVF nlist={index.nlist_} nprobe={index.nprobe}: build {built:.2f}s, recall@10 {recall:.3f}")
    assert recall >= 0.9
    # recall_at_k agrees with a direct comparison against numpy
    approx = index.search(queries, k=10)
    exact = _brute_force(vectors, ids, queries, 10)
    manual = np.mean([len({i for i, _ in a} & {i for i, _ in e}) / 10 for a, e in zip(approx, exact)])
    assert recall == pytest.approx(manual)


def test_flat_recall_is_one(small):
    ids, vectors, queries = small
    assert VectorIndex().fit(ids, vectors).recall_at_k(queries, k=10) == 1.0


def test_hnsw_recall_on_small_clustered_set():
    vectors = _clustered(3000, 64, clusters=100, noise=1.0, seed=9)
    ids = [str(i) for i in range(len(vectors))]
    index = VectorIndex(kind="hnsw").fit(ids, vectors)
    assert index.recall_at_k(vectors[:100], k=10) >= 0.9


def test_ivf_drops_minus_one_padding():
    vectors = _random(400, 32, seed=10)
    ids = [f"o{i}" for i in range(400)]
    index = VectorIndex(kind="ivf", nlist=10, nprobe=1).fit(ids, vectors)
    results = index.search(vectors[:10], k=100)  # one cell holds about 40 vectors
    assert any(len(r) < 100 for r in results)
    for r in results:
        assert all(i in set(ids) for i, _ in r)
        assert len({i for i, _ in r}) == len(r)


# --------------------------------------------------------------------- filtering
@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("n_allowed", [0, 3, 30, 1000, 1900])
def test_filtering_returns_only_allowed_ids(small, kind, n_allowed):
    ids, vectors, queries = small
    index = VectorIndex(kind=kind, nlist=40, nprobe=4).fit(ids, vectors)
    rng = np.random.default_rng(n_allowed)
    allowed_rows = np.sort(rng.choice(len(ids), n_allowed, replace=False))
    allowed = {ids[r] for r in allowed_rows} | {"not-indexed"}
    results = index.search(queries, k=10, allowed=allowed)
    want = _brute_force(vectors[allowed_rows], [ids[r] for r in allowed_rows], queries, 10)
    for got, exact in zip(results, want):
        assert len(got) == min(10, n_allowed)
        assert all(i in allowed for i, _ in got)
        if kind == "flat":
            _assert_same([got], [exact])


def test_filtering_falls_back_to_exact_when_filter_removes_too_much(small):
    ids, vectors, queries = small
    index = VectorIndex(kind="ivf", nlist=40, nprobe=1).fit(ids, vectors)
    # the allowed ids are the ones farthest from the query: approximate candidates
    # near the query are all filtered out, the exact fallback must still find 10
    q = queries[:1]
    far = np.argsort(q @ vectors.T)[0][:600]
    allowed = {ids[r] for r in far}
    [hits] = index.search(q, k=10, allowed=allowed)
    [exact] = _brute_force(vectors[far], [ids[r] for r in far], q, 10)
    _assert_same([hits], [exact])


# ------------------------------------------------------------ incremental updates
@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_upsert_replaces_and_remove_deletes(small, kind):
    ids, vectors, queries = small
    index = VectorIndex(kind=kind, nlist=12).fit(ids[:500], vectors[:500])
    target = queries[0]

    index.upsert(["job-3"], target[None, :])
    assert len(index) == 500 and index.ids_.count("job-3") == 1
    [hits] = index.search(target, k=3)
    assert hits[0][0] == "job-3" and hits[0][1] == pytest.approx(1.0, abs=1e-5)

    index.upsert(["job-3", "new-1"], np.stack([vectors[3], target]))
    assert len(index) == 501 and index.ids_.count("job-3") == 1
    [hits] = index.search(target, k=3)
    assert hits[0][0] == "new-1"
    assert "job-3" not in [i for i, _ in hits]

    assert index.remove(["new-1", "never-there"]) == 1
    assert "new-1" not in index and len(index) == 500
    assert all(i != "new-1" for r in index.search(queries, k=20) for i, _ in r)

    index.add(["new-2"], target[None, :])
    assert index.search(target, k=1) == [[("new-2", pytest.approx(1.0, abs=1e-5))]]
    with pytest.raises(ValueError, match="upsert"):
        index.add(["new-2"], target[None, :])


def test_hnsw_removal_survives_many_deletes(small):
    ids, vectors, queries = small
    index = VectorIndex(kind="hnsw").fit(ids, vectors)
    index.remove(ids[:1500])  # crosses the rebuild threshold
    assert len(index) == 500
    results = index.search(queries, k=10)
    assert all(len(r) == 10 and all(i in set(ids[1500:]) for i, _ in r) for r in results)


# ------------------------------------------------------------------ persistence
@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_bytes_round_trip(small, kind):
    ids, vectors, queries = small
    index = VectorIndex(kind=kind, nlist=30, nprobe=5, encoder_name="hashing-64").fit(ids, vectors)
    index.remove(["job-0"])
    index.upsert(["job-1"], vectors[5:6])
    blob = index.to_bytes()
    loaded = VectorIndex.from_bytes(blob, dim=64, encoder_name="hashing-64")
    assert loaded.ids_ == index.ids_
    assert (loaded.dim_, loaded.kind_, loaded.encoder_name, len(loaded)) == (64, kind, "hashing-64", len(index))
    assert loaded.get_params() == index.get_params()
    assert loaded.search(queries, k=10) == index.search(queries, k=10)
    loaded.upsert(["job-9999"], queries[:1])  # labels keep counting after a load
    assert loaded.search(queries[:1], k=1)[0][0][0] == "job-9999"
    assert loaded.to_bytes() != blob


def _patched_version(blob: bytes, version: int) -> bytes:
    """The trailer's format version replaced (format 2: the trailer ends the blob)."""
    at = len(blob) - _TRAILER.size + 8
    return blob[:at] + struct.pack("<I", version) + blob[at + 4:]


@pytest.fixture(scope="module")
def blob(small):
    ids, vectors, _ = small
    return VectorIndex(encoder_name="enc-a").fit(ids[:100], vectors[:100]).to_bytes()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: _patched_version(b, FORMAT_VERSION + 1), "format version"),
        (lambda b: b[: len(b) // 2], "truncated or corrupt"),
        (lambda b: b[:20], "truncated"),
        (lambda b: b[:-1], "truncated or corrupt"),
        (lambda b: b[:100] + bytes([b[100] ^ 0xFF]) + b[101:], "corrupt"),
        (lambda b: b[: -_TRAILER.size] + b"PK\x03\x04" + b[4 - _TRAILER.size:], "Not a VectorIndex"),
        (lambda b: b"", "truncated"),
    ],
    ids=["version", "half", "header-only", "one-byte-short", "bit-flip", "wrong-magic", "empty"],
)
def test_from_bytes_rejects_bad_blobs(blob, mutate, message):
    with pytest.raises(IndexVersionError, match=message):
        VectorIndex.from_bytes(mutate(blob))


def test_from_bytes_rejects_other_dim_or_encoder(blob):
    with pytest.raises(IndexVersionError, match="64-dimensional.*produces 384"):
        VectorIndex.from_bytes(blob, dim=384)
    with pytest.raises(IndexVersionError, match="'enc-a'.*'enc-b'"):
        VectorIndex.from_bytes(blob, encoder_name="enc-b")
    assert issubclass(IndexVersionError, ValueError)
    assert len(VectorIndex.from_bytes(blob, dim=64, encoder_name="enc-a")) == 100


# ------------------------------------------------------------------- validation
def test_unfitted_index_raises_clear_error():
    index = VectorIndex()
    with pytest.raises(NotFittedError, match="not fitted yet.*before search"):
        index.search(np.zeros((1, 4)), k=1)
    for call in (index.to_bytes, lambda: len(index), lambda: index.remove(["x"])):
        with pytest.raises(ValueError, match="not fitted"):
            call()
    assert not hasattr(index, "ids_")  # scikit-learn's convention


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kind": "annoy"}, "'kind' parameter of VectorIndex must be a str among"),
        ({"nprobe": 0}, "'nprobe' parameter of VectorIndex must be an int in \\[1, inf\\). Got 0"),
        ({"exact_threshold": -1}, "'exact_threshold'"),
        ({"nlist": 5000, "kind": "ivf"}, "'nlist' parameter"),
    ],
)
def test_invalid_parameters_are_named(small, params, message):
    ids, vectors, _ = small
    with pytest.raises(ValueError, match=message):
        VectorIndex(**params).fit(ids, vectors)


def test_invalid_inputs_are_named(small):
    ids, vectors, queries = small
    with pytest.raises(ValueError, match="must be unique. Got 'a' more than once"):
        VectorIndex().fit(["a", "b", "a"], vectors[:3])
    with pytest.raises(ValueError, match="one row per id \\(2\\). Got 3 rows"):
        VectorIndex().fit(["a", "b"], vectors[:3])
    bad = vectors[:2].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        VectorIndex().fit(["a", "b"], bad)
    index = VectorIndex().fit(ids[:10], vectors[:10])
    with pytest.raises(ValueError, match="64 columns"):
        index.search(np.zeros((1, 32)), k=1)
    with pytest.raises(ValueError, match="'k' parameter of search must be an int in \\[1, inf\\). Got 0"):
        index.search(queries, k=0)
    with pytest.raises(TypeError, match="sequence of str"):
        index.add("abc", vectors[:1])


# ------------------------------------------------------------ mapped files
@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_open_maps_the_file_and_copies_it_before_a_change(small, tmp_path, kind):
    import hashlib

    ids, vectors, queries = small
    built = VectorIndex(kind=kind, nlist=8, encoder_name="enc-a").fit(ids, vectors)
    path = tmp_path / "x.faiss"
    path.write_bytes(built.to_bytes())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    a, b = VectorIndex.open(path, dim=64, encoder_name="enc-a"), VectorIndex.open(path)
    assert a.mapped_ and b.mapped_ and not built.mapped_
    with open("/proc/self/maps") as f:
        assert any(line.rstrip().endswith(str(path)) for line in f)  # faiss reads the file in place
    assert a.search(queries, k=10) == built.search(queries, k=10) == b.search(queries, k=10)
    before = b.search(queries, k=10)
    for index in (a, built):
        index.upsert(ids[:3], vectors[10:13])
        index.remove(ids[20:25])
        index.add(["new-1"], queries[:1])
    assert not a.mapped_ and b.mapped_  # a took a private copy; b still reads the file
    assert a.search(queries, k=10) == built.search(queries, k=10) != before
    assert b.search(queries, k=10) == before
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # nothing written through
    assert VectorIndex.open(path, mmap=False).search(queries, k=10) == before


def test_open_refuses_missing_damaged_or_foreign_files(blob, tmp_path):
    path = tmp_path / "x.faiss"
    with pytest.raises(IndexVersionError, match="cannot be read"):
        VectorIndex.open(path)
    path.write_bytes(blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:])
    with pytest.raises(IndexVersionError, match="corrupt"):
        VectorIndex.open(path)
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IndexVersionError, match="truncated"):
        VectorIndex.open(path)
    path.write_bytes(blob)
    with pytest.raises(IndexVersionError, match="'enc-a'.*'enc-b'"):
        VectorIndex.open(path, encoder_name="enc-b")
