"""HybridMatcher and fuse: behaviour with a hashing encoder (no model needed)."""

from __future__ import annotations

import sys
import types
import unicodedata
import zlib

import numpy as np
import pytest

try:  # the real text preparation, when present
    import matcher.text  # noqa: F401
except ImportError:  # temporary stand-in until matcher/text.py lands
    _t = types.ModuleType("matcher.text")

    def _fold(s):
        s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
        return "".join(c for c in s if not unicodedata.combining(c)).casefold()

    _t.fold = _fold
    _t.prepare = lambda s: unicodedata.normalize("NFC", s)
    sys.modules["matcher.text"] = _t


class _HashingEncoder:
    """Deterministic bag of character trigrams hashed into 256 dims (stand-in)."""

    name, dim = "hashing-standin", 256

    def encode(self, texts, batch_size=64, show_progress=False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            t = f"  {t.lower()}  "
            for j in range(len(t) - 2):
                out[i, zlib.crc32(t[j : j + 3].encode()) % self.dim] += 1.0
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(n == 0, 1, n)


def _encoder():
    try:
        from matcher.encoder import load_encoder
    except ImportError:
        return _HashingEncoder()
    return load_encoder("hashing")


from matcher.similarity import (  # noqa: E402
    DenseMatcher,
    HybridMatcher,
    LexicalMatcher,
    NotFittedError,
    fuse,
)

CORPUS = ["thợ hàn", "công nhân may", "điều dưỡng viên", "welder", "sewing machine operator", "caregiver"]


@pytest.fixture(scope="module")
def encoder():
    return _encoder()


def test_fuse_weight_extremes_reproduce_each_ranking():
    rng = np.random.default_rng(0)
    dense = 0.8 + 0.15 * rng.random((4, 20))
    lexical = rng.random((4, 20))
    for method in ("weighted", "rrf"):
        only_dense = fuse(dense, lexical, 0.0, method=method)
        only_lex = fuse(dense, lexical, 1.0, method=method)
        np.testing.assert_array_equal(np.argsort(-only_dense, axis=1), np.argsort(-dense, axis=1))
        np.testing.assert_array_equal(np.argsort(-only_lex, axis=1), np.argsort(-lexical, axis=1))


def test_fuse_is_scale_invariant_per_query_and_pure():
    rng = np.random.default_rng(1)
    dense = 0.8 + 0.15 * rng.random((3, 10))
    lexical = rng.random((3, 10))
    before = dense.copy()
    a = fuse(dense, lexical, 0.4)
    # an affine change of one query's dense scores does not change its fused row
    dense2 = dense.copy()
    dense2[1] = 10 * dense2[1] - 3
    b = fuse(dense2, lexical, 0.4)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_array_equal(dense, before)
    for norm in ("zscore", "minmax"):
        assert fuse(dense[0], lexical[0], 0.5, normalisation=norm).shape == (10,)


def test_fuse_does_not_let_compressed_dense_scores_vanish():
    # dense cosines squeezed into 0.80-0.81 still decide when the lexical signal is flat
    dense = np.array([[0.80, 0.81, 0.805]])
    lexical = np.zeros((1, 3))
    assert int(np.argmax(fuse(dense, lexical, 0.5))) == 1


def test_fuse_validates_arguments():
    d = np.zeros((1, 3))
    with pytest.raises(ValueError, match="'lexical_weight' parameter must be a float in \\[0, 1\\]. Got 1.5"):
        fuse(d, d, 1.5)
    with pytest.raises(ValueError, match="'method' parameter must be one of"):
        fuse(d, d, 0.5, method="max")
    with pytest.raises(ValueError, match="same shape"):
        fuse(d, np.zeros((1, 4)), 0.5)


def test_lexical_part_is_diacritics_and_case_insensitive():
    lex = LexicalMatcher().fit(CORPUS)
    s = lex.score(["THO HAN", "dieu duong vien"])
    assert int(np.argmax(s[0])) == 0
    assert int(np.argmax(s[1])) == 2
    assert s[0, 0] == pytest.approx(1.0, abs=1e-5)


def test_hybrid_score_search_and_blocks_agree(encoder):
    hm = HybridMatcher(encoder, block_size=2).fit(CORPUS)
    queries = ["tho han", "may công nghiệp", "caregiver", "welding"]
    full = hm.score(queries)
    assert full.shape == (4, len(CORPUS)) and full.dtype == np.float32
    idx, val = hm.search(queries, k=3)
    assert idx.shape == (4, 3)
    np.testing.assert_allclose(val, np.take_along_axis(full, idx, axis=1))
    assert idx[0, 0] == 0 and idx[2, 0] == 5
    # single queries give the same rows as the batch
    for i, q in enumerate(queries):
        np.testing.assert_allclose(hm.score([q])[0], full[i], atol=1e-5)
    # k larger than the corpus is capped
    assert hm.search(["welder"], k=50)[0].shape == (1, len(CORPUS))


def test_hybrid_weight_one_equals_lexical_ranking(encoder):
    queries = ["welder", "may"]
    hm = HybridMatcher(encoder, lexical_weight=1.0).fit(CORPUS)
    lex = LexicalMatcher().fit(CORPUS)
    np.testing.assert_array_equal(
        np.argsort(-hm.score(queries), axis=1, kind="stable"), np.argsort(-lex.score(queries), axis=1, kind="stable")
    )
    dense = DenseMatcher(encoder).fit(CORPUS)
    hm0 = HybridMatcher(encoder, lexical_weight=0.0).fit(CORPUS)
    np.testing.assert_array_equal(
        np.argsort(-hm0.score(queries), axis=1, kind="stable"), np.argsort(-dense.score(queries), axis=1, kind="stable")
    )


def test_unfitted_and_bad_arguments(encoder):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        HybridMatcher(encoder).score(["x"])
    with pytest.raises(ValueError, match="'fusion' parameter must be one of"):
        HybridMatcher(encoder, fusion="max").fit(CORPUS)
    with pytest.raises(ValueError, match="at least one text"):
        LexicalMatcher().fit([])
    with pytest.raises(ValueError, match="'k' parameter of search"):
        HybridMatcher(encoder).fit(CORPUS).search(["x"], k=0)


def test_large_corpus_is_scored_in_blocks(encoder):
    rng = np.random.default_rng(0)
    words = ["tho", "han", "may", "xay", "dung", "cong", "nhan", "dieu", "duong", "lai", "xe", "nong", "nghiep"]
    corpus = [" ".join(rng.choice(words, 3)) + f" {i}" for i in range(50_000)]
    hm = HybridMatcher(encoder, block_size=64).fit(corpus)
    idx, _ = hm.search([corpus[123], corpus[40_000]], k=5)
    assert idx[0, 0] == 123 and idx[1, 0] == 40_000


def test_encoder_own_weight_is_used_unless_one_is_given(encoder):
    import copy

    from matcher.similarity import DEFAULT_LEXICAL_WEIGHT, lexical_weight_for

    queries = ["welder", "may"]
    assert lexical_weight_for(encoder) == DEFAULT_LEXICAL_WEIGHT
    own = copy.copy(encoder)
    own.lexical_weight = 1.0  # as a tuned adapter's fusion.json would set it
    assert lexical_weight_for(own) == 1.0
    by_encoder = HybridMatcher(own).fit(CORPUS)
    assert by_encoder.lexical_weight_ == 1.0
    lex = LexicalMatcher().fit(CORPUS)
    np.testing.assert_array_equal(np.argsort(-by_encoder.score(queries), axis=1, kind="stable"),
                                  np.argsort(-lex.score(queries), axis=1, kind="stable"))
    assert HybridMatcher(own, lexical_weight=0.0).fit(CORPUS).lexical_weight_ == 0.0
    own.lexical_weight = 2.0
    with pytest.raises(ValueError, match="lexical_weight"):
        lexical_weight_for(own)


def test_adapter_fusion_file_is_read_and_checked(tmp_path):
    from matcher.encoder import adapter_lexical_weight

    assert adapter_lexical_weight(tmp_path) is None
    (tmp_path / "fusion.json").write_text('{"lexical_weight": 0.05, "chosen_on": "fusion-dev"}', encoding="utf-8")
    assert adapter_lexical_weight(tmp_path) == 0.05
    for bad in ('{"weight": 0.1}', '{"lexical_weight": 1.5}', "not json", '{"lexical_weight": "x"}'):
        (tmp_path / "fusion.json").write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError, match="fusion.json"):
            adapter_lexical_weight(tmp_path)


def test_adapter_fusion_file_may_carry_weights_per_query_language(tmp_path):
    from matcher.encoder import adapter_fusion, adapter_lexical_weight

    assert adapter_fusion(tmp_path) == (None, {})
    (tmp_path / "fusion.json").write_text('{"lexical_weight": 0.075}', encoding="utf-8")
    assert adapter_fusion(tmp_path) == (0.075, {})  # the file of before: no weights per language
    (tmp_path / "fusion.json").write_text(
        '{"lexical_weight": 0.075, "lexical_weight_by_language": {"de": 0.025, "vi": 0.1}}', encoding="utf-8")
    assert adapter_fusion(tmp_path) == (0.075, {"de": 0.025, "vi": 0.1})
    assert adapter_lexical_weight(tmp_path) == 0.075
    for bad, says in (('{"lexical_weight": 0.1, "lexical_weight_by_language": [0.1]}', "must be an object"),
                      ('{"lexical_weight": 0.1, "lexical_weight_by_language": {"xx": 0.1}}', "Got 'xx'"),
                      ('{"lexical_weight": 0.1, "lexical_weight_by_language": {"de": 1.5}}', "'de' must be"),
                      ('{"lexical_weight": 0.1, "lexical_weight_by_language": {"de": "x"}}', "'de' must be")):
        (tmp_path / "fusion.json").write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError, match=f"fusion.json: .*{says}"):
            adapter_fusion(tmp_path)


def test_weight_is_picked_by_the_query_language(encoder):
    import copy

    from matcher.similarity import lexical_weight_for, lexical_weights_for

    own = copy.copy(encoder)
    own.lexical_weight = 0.2
    assert lexical_weights_for(own, ["Köchin", "welder"]) == 0.2  # no map: one number, as before
    own.lexical_weight_by_language = {"de": 0.0, "vi": 1.0}
    assert lexical_weight_for(own, "Schweißer") == 0.0
    assert lexical_weight_for(own, "cong nhan may") == 1.0
    assert lexical_weight_for(own, "welder") == 0.2  # no English entry: the general weight
    assert lexical_weight_for(own, "溶接工") == 0.2  # language not known: the general weight
    assert lexical_weight_for(own) == 0.2
    np.testing.assert_array_equal(lexical_weights_for(own, ["Köchin", "thợ may", "nurse"]),
                                  np.array([0.0, 1.0, 0.2], dtype=np.float32))
    own.lexical_weight_by_language = {"de": 3.0}
    with pytest.raises(ValueError, match="lexical_weight"):
        lexical_weight_for(own, "Köchin")


def test_fuse_takes_one_weight_per_query():
    rng = np.random.default_rng(1)
    d, lx = rng.random((3, 6)), rng.random((3, 6))
    per_row = fuse(d, lx, np.array([0.0, 0.5, 1.0]))
    for i, w in enumerate((0.0, 0.5, 1.0)):
        np.testing.assert_allclose(per_row[i], fuse(d[i], lx[i], w), rtol=1e-6)
    np.testing.assert_allclose(fuse(d, lx, np.array([0.3] * 3)), fuse(d, lx, 0.3), rtol=1e-6)
    with pytest.raises(ValueError, match="one weight or one per query \\(3\\). Got 2"):
        fuse(d, lx, np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="'lexical_weight' parameter must be a float in \\[0, 1\\]"):
        fuse(d, lx, np.array([0.1, 2.0, 0.2]))


def test_hybrid_fuses_each_query_with_the_weight_of_its_language(encoder):
    """A German query is fused with the German weight, the others with the general one; the same
    scores as fusing each query alone with its weight (what the web engine does, the one rule)."""
    import copy

    own = copy.copy(encoder)
    own.lexical_weight = 0.0
    own.lexical_weight_by_language = {"de": 1.0}
    queries = ["Schweißer und Schlosser", "welder", "tho han"]
    hm = HybridMatcher(own).fit(CORPUS)
    assert hm.lexical_weight_by_language_ == {"de": 1.0}
    scores = hm.score(queries)
    dense_only = HybridMatcher(own, lexical_weight=0.0).fit(CORPUS).score(queries)
    lexical_only = HybridMatcher(own, lexical_weight=1.0).fit(CORPUS).score(queries)
    np.testing.assert_allclose(scores[0], lexical_only[0], rtol=1e-6)
    np.testing.assert_allclose(scores[1:], dense_only[1:], rtol=1e-6)
    # a weight given to the matcher wins over the per-language ones
    assert HybridMatcher(own, lexical_weight=0.0).fit(CORPUS).query_weights(queries) == 0.0
