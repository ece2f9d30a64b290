"""Character n-gram TF-IDF for the lexical signal, without scikit-learn in the serving path.

scikit-learn's ``TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)`` was the only reason a
web process imported scikit-learn (about 100 MB resident on top of SciPy). This module computes
the same matrix with NumPy and ``scipy.sparse``, by the same definitions, so the lexical scores
are unchanged (``tests/test_tfidf.py`` compares both on real texts):

* n-grams of each word padded with one space on each side, for n in ``ngram_range``; a word
  no longer than n gives one n-gram, itself padded, and no more (runs of whitespace count as one space);
* term frequency ``1 + ln(count)`` (sublinear);
* smoothed inverse document frequency ``ln((1 + n_docs) / (1 + df)) + 1``;
* each row scaled to unit Euclidean length; n-grams unseen at fit time are ignored;
* the vocabulary in sorted order (the columns are the sorted n-grams).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import struct
from typing import Sequence

import numpy as np
import scipy.sparse as sp

_WHITESPACE = re.compile(r"\s\s+")
#: at most this many words' columns are remembered (then the memory starts again)
_WORD_CACHE = 500_000


class EmptyVocabularyError(ValueError):
    """A fit on texts that hold no n-gram at all."""


class CharTfidf:
    """``fit`` on a corpus, then ``transform`` any texts into L2-normalised sparse rows."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 4), lowercase: bool = True, dtype=np.float64):
        lo, hi = ngram_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise ValueError(f"The 'ngram_range' parameter must be (min_n, max_n) with 1 <= min_n <= max_n. "
                             f"Got {ngram_range!r} instead.")
        self.ngram_range = (lo, hi)
        self.lowercase = lowercase
        self.dtype = dtype
        self._word_cols: dict[str, np.ndarray] = {}  # word -> its n-grams' columns (see _cols)

    def words(self, text: str) -> list[str]:
        """The words of one text, as the n-grams are taken from them."""
        if self.lowercase:
            text = text.lower()
        return _WHITESPACE.sub(" ", text).split()

    def fit(self, corpus: Sequence[str]) -> "CharTfidf":
        self._fit(corpus)
        return self

    def _fit(self, corpus: Sequence[str]) -> sp.csr_matrix:
        docs = [self.words(t) for t in corpus]
        terms = sorted({g for w in {w for doc in docs for w in doc} for g in _word_grams(w, *self.ngram_range)})
        if not terms:
            raise EmptyVocabularyError("empty vocabulary; the texts hold no character n-grams")
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        self._word_cols = {}
        counts = self._counts(docs)
        df = np.bincount(counts.indices, minlength=len(terms)).astype(np.float64)
        self.idf_ = np.log((1.0 + len(corpus)) / (1.0 + df)) + 1.0
        return counts

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._weigh(self._counts([self.words(t) for t in texts]))

    def fit_transform(self, corpus: Sequence[str]) -> sp.csr_matrix:
        return self._weigh(self._fit(corpus))

    def _cols(self, word: str) -> np.ndarray:
        """The columns of one word's n-grams, repeated as they occur (unseen n-grams dropped);
        remembered per word while the vocabulary stands (words repeat across texts)."""
        cols = self._word_cols.get(word)
        if cols is None:
            vocab = self.vocabulary_
            cols = np.array([vocab[g] for g in _word_grams(word, *self.ngram_range) if g in vocab], dtype=np.int64)
            if len(self._word_cols) >= _WORD_CACHE:
                self._word_cols.clear()
            self._word_cols[word] = cols
        return cols

    def _counts(self, docs: list[list[str]]) -> sp.csr_matrix:
        """Documents (as words) x vocabulary counts, sorted indices."""
        parts = [self._cols(w) for doc in docs for w in doc]
        sizes = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
        doc_of_word = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        per_doc = np.bincount(doc_of_word, weights=sizes, minlength=len(docs)).astype(np.int64)
        cols = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        rows = np.repeat(np.arange(len(docs)), per_doc)
        m = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(docs), len(self.vocabulary_)))
        m.sum_duplicates()  # one entry per (document, n-gram): its count
        return m

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        m = counts.astype(np.float64)
        m.data = (1.0 + np.log(m.data)) * self.idf_[m.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        out = sp.csr_matrix(sp.diags(scale) @ m, dtype=self.dtype)
        out.sort_indices()
        return out


#: the layout of :func:`dump`'s bytes; format 1 (an ``np.savez`` archive) is still read, any
#: other is refused by :func:`load`
DUMP_FORMAT = 2
_MAGIC = b"CBLEXIC2"
_ALIGN = 64
# magic (8) | format u32 | header length u32 | blake2b digest of the rest of the file (32);
# then the JSON header (each array's dtype, shape and offset), then the arrays, each starting at
# a multiple of 64 bytes, uncompressed: a mapped file serves them as they are
_PREFIX = struct.Struct("<8sII32s")


class DumpError(ValueError):
    """Saved lexical state that cannot be used (other layout, other corpus, damaged)."""


def corpus_key(corpus: Sequence[str], *parts: object) -> str:
    """A digest of the texts a model is fitted on (and of ``parts``, such as row counts)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(f"{p}\x1e".encode())
    for t in corpus:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def dump(model: CharTfidf, key: str, matrices: Sequence[sp.csr_matrix]) -> bytes:
    """A fitted model and matrices of its rows as bytes (NumPy arrays only, no pickle), laid out
    so that :func:`load_file` can map them (format 2)."""
    arrays: dict[str, np.ndarray] = {
        "terms": np.array(sorted(model.vocabulary_, key=model.vocabulary_.__getitem__), dtype=str),
        "idf": np.asarray(model.idf_, dtype=np.float64),
    }
    shapes = []
    for n, m in enumerate(matrices):
        m = sp.csr_matrix(m)
        arrays.update({f"m{n}_data": m.data, f"m{n}_indices": m.indices, f"m{n}_indptr": m.indptr})
        shapes.append([int(x) for x in m.shape])
    layout, offset = {}, 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        arrays[name] = a
        layout[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset}
        offset += -(-a.nbytes // _ALIGN) * _ALIGN
    header = {"ngram_range": list(model.ngram_range), "lowercase": bool(model.lowercase), "key": key,
              "dtype": np.dtype(model.dtype).str, "shapes": shapes, "arrays": layout}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-(_PREFIX.size + len(head)) % _ALIGN)  # the arrays start aligned in the file
    body = bytearray(head)
    base = len(body)
    body.extend(bytes(offset))
    for name, a in arrays.items():
        start = base + layout[name]["offset"]
        body[start:start + a.nbytes] = a.view(np.uint8).reshape(-1).data
    digest = hashlib.blake2b(body, digest_size=32).digest()
    return _PREFIX.pack(_MAGIC, DUMP_FORMAT, len(head), digest) + bytes(body)


def load(blob, key: str, ngram_range: tuple[int, int], lowercase: bool = True
         ) -> tuple[CharTfidf, list[sp.csr_matrix]]:
    """The model and matrices :func:`dump` wrote (any buffer: ``bytes``, a mapped file; the
    matrices' arrays are views of it, not copies), when they were fitted on the corpus ``key``
    names with these parameters; raises :class:`DumpError` otherwise (the caller fits again)."""
    view = memoryview(blob)
    if bytes(view[:8]) != _MAGIC:
        return _load_format1(bytes(view), key, ngram_range, lowercase)
    try:
        if len(view) < _PREFIX.size:
            raise DumpError("saved lexical model is truncated")
        _, fmt, head_len, digest = _PREFIX.unpack_from(view, 0)
        if fmt != DUMP_FORMAT:
            raise DumpError(f"saved lexical model has format {fmt}, this code reads {DUMP_FORMAT}")
        body = view[_PREFIX.size:]
        if hashlib.blake2b(body, digest_size=32).digest() != digest:
            raise DumpError("saved lexical model is truncated or corrupt (checksum mismatch)")
        header = json.loads(bytes(body[:head_len]).decode())
        if tuple(header["ngram_range"]) != tuple(ngram_range) or bool(header["lowercase"]) != lowercase:
            raise DumpError("saved lexical model has other parameters")
        if header["key"] != key:
            raise DumpError("saved lexical model was fitted on other texts")
        data = np.frombuffer(blob, dtype=np.uint8) if not isinstance(blob, np.ndarray) else blob.reshape(-1)
        start = _PREFIX.size + head_len

        def array(name: str) -> np.ndarray:
            spec = header["arrays"][name]
            dtype, shape = np.dtype(spec["dtype"]), tuple(spec["shape"])
            begin = start + int(spec["offset"])
            count = int(np.prod(shape, dtype=np.int64))
            return data[begin:begin + count * dtype.itemsize].view(dtype).reshape(shape)

        model = CharTfidf(tuple(ngram_range), lowercase=lowercase, dtype=np.dtype(header["dtype"]).type)
        terms = array("terms")
        model.vocabulary_ = {str(t): i for i, t in enumerate(terms.tolist())}
        model.idf_ = np.array(array("idf"), dtype=np.float64)
        if len(model.idf_) != len(terms):
            raise DumpError("saved lexical model is inconsistent (idf and vocabulary differ)")
        matrices = [_csr(array(f"m{n}_data"), array(f"m{n}_indices"), array(f"m{n}_indptr"), tuple(shape), len(terms))
                    for n, shape in enumerate(header["shapes"])]
    except DumpError:
        raise
    except Exception as exc:  # a damaged file of any kind: fit again
        raise DumpError(f"saved lexical model unreadable ({exc})") from None
    return model, matrices


def load_file(path, key: str, ngram_range: tuple[int, int], lowercase: bool = True, mmap: bool = True
              ) -> tuple[CharTfidf, list[sp.csr_matrix]]:
    """:func:`load` of the file ``path``; with ``mmap`` its arrays stay in the mapped file (the OS
    page cache: one copy for every process that maps it; the file is mapped read-only, so a
    change of a row is never written through). Raises :class:`DumpError` as :func:`load`."""
    try:
        blob = np.memmap(path, dtype=np.uint8, mode="r") if mmap else np.fromfile(path, dtype=np.uint8)
    except (OSError, ValueError) as exc:  # missing, unreadable or empty
        raise DumpError(f"saved lexical model unreadable ({exc})") from None
    return load(blob, key, ngram_range, lowercase)


def mapped_file(array: np.ndarray) -> str | None:
    """The file ``array``'s memory is mapped from (a view of :func:`load_file`'s map), else
    ``None`` (a private array)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return str(array.filename)
        array = getattr(array, "base", None)
    return None


def _csr(data, indices, indptr, shape: tuple[int, int], n_terms: int) -> sp.csr_matrix:
    """A CSR matrix over the arrays as they are (scipy keeps them when their dtypes fit: the
    index dtype is the one scipy chose at the fit), checked in full."""
    if len(shape) != 2 or n_terms not in shape:  # rows of texts, or their transpose
        raise DumpError("saved lexical matrix does not fit the vocabulary")
    m = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    m.check_format(full_check=True)
    return m


def _load_format1(blob: bytes, key: str, ngram_range: tuple[int, int], lowercase: bool
                  ) -> tuple[CharTfidf, list[sp.csr_matrix]]:
    """The ``np.savez`` archive older versions wrote (format 1), read into memory."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            meta = [int(x) for x in z["meta"]]
            if meta[0] != 1:
                raise DumpError(f"saved lexical model has format {meta[0]}, this code reads {DUMP_FORMAT}")
            if tuple(meta[1:3]) != tuple(ngram_range) or bool(meta[3]) != lowercase:
                raise DumpError("saved lexical model has other parameters")
            if str(z["key"]) != key:
                raise DumpError("saved lexical model was fitted on other texts")
            model = CharTfidf(tuple(ngram_range), lowercase=lowercase, dtype=np.dtype(str(z["dtype"])).type)
            terms = z["terms"]
            model.vocabulary_ = {str(t): i for i, t in enumerate(terms.tolist())}
            model.idf_ = np.asarray(z["idf"], dtype=np.float64)
            if len(model.idf_) != len(terms):
                raise DumpError("saved lexical model is inconsistent (idf and vocabulary differ)")
            matrices = [_csr(z[f"m{n}_data"], z[f"m{n}_indices"], z[f"m{n}_indptr"],
                             tuple(int(x) for x in z[f"m{n}_shape"]), len(terms)) for n in range(meta[4])]
    except DumpError:
        raise
    except Exception as exc:  # a damaged file of any kind: fit again
        raise DumpError(f"saved lexical model unreadable ({exc})") from None
    return model, matrices


@functools.lru_cache(maxsize=200_000)
def _word_grams(word: str, lo: int, hi: int) -> tuple[str, ...]:
    """The n-grams of one word padded with a space on each side (words repeat: cached)."""
    w = f" {word} "
    size = len(w)
    out: list[str] = []
    for n in range(lo, hi + 1):
        if n >= size:
            out.append(w)  # as long as n or shorter: the padded word itself, once for all n
            break
        out.extend([w[i:i + n] for i in range(size - n + 1)])
    return tuple(out)
