"""Rank job orders for a worker and workers for a job order, explaining every rank.

The engine holds the current recruiters, orders and workers (plain frozen snapshots,
``models.snapshots``: what the caller hands over is converted, so the engine never holds an ORM
object and never opens the database), their embeddings in two faiss indexes and a character
n-gram matrix for the lexical signal. A query goes:

1. legal gates on orders (``matcher.rules.order_gates``): an illegal or not-open order is
   never ranked for anyone; illegal ones go to the ``blocked`` list with their reasons;
2. candidate retrieval: every order/worker for small collections, otherwise the union of the
   dense (faiss) and lexical top candidates;
3. eligibility gates for the pair (age, gender, education, language, consent): a hard fail goes
   to ``ineligible`` with its reasons, a trainable gap stays in the ranking with the gap shown;
4. named features -> score with per-feature contributions (``matcher.scoring``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import os
from collections import ChainMap
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse

from matcher import languages, rules, scoring
from matcher.index import IndexVersionError, VectorIndex
from matcher.explain import Explanation, explanations
from matcher.orderbook import Blocked, OrderBook, reason_dict  # noqa: F401 - part of this module's API
from matcher.outcomes import Outcomes
from matcher.similarity import LexicalRows, lexical_weights_for
from matcher.tfidf import CharTfidf, DumpError, corpus_key, dump as dump_lexical, load as load_lexical, load_file as load_lexical_file, mapped_file
from matcher.text import fold, prepare
from matcher.vocabulary import expand
from matcher.vocabulary import order_trade_groups, related_groups, trade_groups
from models import is_active_worker
from models.snapshots import OrderSnapshot, RecruiterSnapshot, WorkerSnapshot, order_snapshot, worker_snapshot
from models.languages import CertificateError, parse_certificate, parse_requirement

log = logging.getLogger(__name__)

# Fusion of the dense and lexical signals (z-scores against background pairs). The lexical
# share is the one chosen for the encoder on development tasks (O*NET dev split, ESCO labels;
# matcher.similarity.lexical_weight_for: per query language when the adapter's fusion.json has
# weights per language; the language of each row's text, ``a_texts`` below), so the engine and
# the benchmarks' "engine" system use the same mix.


class NotFittedError(ValueError):
    """The engine was used before ``fit``."""


@dataclass
class Match:
    item_id: str
    score: float
    features: dict[str, float]
    contributions: dict[str, float]
    gaps: list = field(default_factory=list)  # rules.Reason with severity "gap"
    warnings: list = field(default_factory=list)  # rules.Reason with severity "warn"
    reasons: list[Explanation] = field(default_factory=list)
    _ctx: tuple | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """The match as JSON (the API and ``matcher match --json`` both write this)."""
        return {
            "item_id": self.item_id,
            "score": round(float(self.score), 6),
            "features": {k: round(float(v), 6) for k, v in self.features.items()},
            "contributions": {k: round(float(v), 6) for k, v in self.contributions.items()},
            "gaps": [reason_dict(r) for r in self.gaps],
            "warnings": [reason_dict(r) for r in self.warnings],
            "reasons": [{"feature": e.feature, "vi": e.vi, "en": e.en} for e in self.reasons],
        }


@dataclass
class Ranking:
    query_id: str
    direction: str  # "w2j" or "j2w"
    matches: list[Match]
    blocked: list[Blocked] = field(default_factory=list)
    ineligible: list[Blocked] = field(default_factory=list)
    #: the orders (w2j) or workers (j2w) of every id listed, as the engine ranked them: a page
    #: shows them without reading them again (not part of the JSON; read-only)
    items: Mapping = field(default_factory=dict, repr=False, compare=False)

    def ids(self) -> list[str]:
        """Every id listed: the matches, then the blocked, then the ineligible."""
        return [m.item_id for m in self.matches] + [b.item_id for b in self.blocked] + [b.item_id for b in self.ineligible]

    def to_dict(self) -> dict:
        return {
            "query_id": self.query_id,
            "direction": self.direction,
            "matches": [m.to_dict() for m in self.matches],
            "blocked": [b.to_dict() for b in self.blocked],
            "ineligible": [b.to_dict() for b in self.ineligible],
        }


#: the lexical signal's character n-gram lengths
LEXICAL_NGRAMS = (2, 4)


def _sector_text(worker: WorkerSnapshot) -> str:
    """The worker's wished sectors as one text ("" when none)."""
    return prepare("; ".join(worker.preferred_sectors)) if worker.preferred_sectors else ""


def _experience_texts(worker: WorkerSnapshot) -> list[str]:
    """The occupations of the worker's experience, one text each."""
    return [prepare(e["occupation"]) for e in worker.experience or [] if e.get("occupation")]


def order_text(order: OrderSnapshot) -> str:
    # short or abbreviated entries get their concepts' vi/en names (matcher.vocabulary)
    parts = [expand(order.title or "")]
    if order.required_skills:
        parts.append("; ".join(expand(s) for s in order.required_skills))
    if order.description:
        parts.append(order.description[:300])
    return prepare(". ".join(p for p in parts if p))


def worker_text(worker: WorkerSnapshot) -> str:
    parts = [expand(s) for s in worker.skills or []]
    parts += [expand(e.get("occupation", "")) for e in worker.experience or [] if e.get("occupation")]
    return prepare("; ".join(p for p in parts if p)) or "-"


_ORDER_FIELDS = tuple(f.name for f in dataclass_fields(OrderSnapshot) if f.name != "recruiter")


def _same_fields(a: OrderSnapshot, b: OrderSnapshot) -> bool:
    """Whether two snapshots of an order hold the same values (its enterprise aside: the worker
    gates do not read it)."""
    return a is b or all(getattr(a, f) == getattr(b, f) for f in _ORDER_FIELDS)


def _months_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 30.44


class Engine:
    """Two-way ranker and source of match scores for the allocator.

    Parameters
    ----------
    encoder: a ``matcher.encoder.Encoder``.
    weights: ``scoring.Weights``; the packaged default when None.
    exact_threshold: passed to the faiss indexes (exact below, approximate above).
    full_scan_below: collections smaller than this are scored whole; larger ones via candidates.
    candidates: how many dense and how many lexical candidates to take for large collections.
    """

    def __init__(
        self,
        encoder,
        weights: scoring.Weights | None = None,
        exact_threshold: int = 20000,
        full_scan_below: int = 3000,
        candidates: int = 300,
        vector_cache: dict[str, np.ndarray] | None = None,
        saved_indexes: dict[str, bytes | os.PathLike] | None = None,
    ):
        self.encoder = encoder
        #: faiss indexes and lexical model saved by an earlier fit (``index_blobs``), as bytes or
        #: as the files they were saved to, used by the next fit for the ids, vectors and texts
        #: they hold exactly (a restart then trains and fills nothing). Files are memory-mapped:
        #: processes started from the same files share one copy in the OS page cache, and each
        #: takes a private copy of a part only before it changes it (copy on write)
        self.saved_indexes = saved_indexes
        self.weights = weights
        self.exact_threshold = exact_threshold
        self.full_scan_below = full_scan_below
        self.candidates = candidates
        self.vector_cache = vector_cache

    # ---- fitting and updates ------------------------------------------------------------

    def fit(
        self,
        recruiters: Iterable[RecruiterSnapshot],
        orders: Iterable[OrderSnapshot],
        workers: Iterable[WorkerSnapshot],
        today: dt.date | None = None,
        rates: dict[str, float] | None = None,
    ) -> "Engine":
        self.weights_ = self.weights or scoring.load_weights()
        self.today_ = today or dt.date.today()
        self.book_ = OrderBook(recruiters, orders, rates)
        self.workers_ = {w.worker_id: w for w in map(worker_snapshot, workers)}
        self._vectors: dict[str, np.ndarray] = {
            t: v for t, v in (self.vector_cache or {}).items() if v.shape == (self.encoder.dim,)
        }
        self._certs: dict[str, list] = {}
        self._trades: dict[str, tuple[OrderSnapshot, frozenset[str]]] = {}
        #: names of the saved indexes this fit used instead of building them
        self.reused_indexes_: set[str] = set()
        #: those of them read in place from a memory-mapped file (the others were read as bytes)
        self.mapped_indexes_: set[str] = set()
        #: the number of changes applied since the fit, and which worker/order each one was
        self.version_ = 0
        self._journal: list[tuple[str, str]] = []
        self._rebuild()
        self.saved_indexes = None  # later changes update the built indexes
        # every order's legal gates on the fit's day and the open orders' trade groups, once per
        # build rather than during the first questions (changes re-read only the orders they touch)
        self.book_.blocked(self.today_)
        for oid in self.book_.rankable(self.today_):  # and the trade groups of those that rank
            self._order_trades(self.orders_[oid])
        return self

    # the order book's state, under the names the engine has always had
    recruiters_ = property(lambda self: self.book_.recruiters_)
    orders_ = property(lambda self: self.book_.orders_)
    rates_ = property(lambda self: self.book_.rates_)
    outcomes_ = property(lambda self: self.book_.outcomes_)

    def set_weights(self, weights: scoring.Weights) -> "Engine":
        """Score with ``weights`` from the next ranking on (no cache holds a score)."""
        self.weights = self.weights_ = weights
        return self

    def set_outcomes(self, outcomes: Outcomes) -> "Engine":
        """Adopt the recorded outcomes (closed pairs, departed workers) every ranking obeys."""
        self._check_fitted()
        self.book_.set_outcomes(outcomes)
        return self

    def set_rates(self, rates: dict[str, float]) -> "Engine":
        """New exchange rates: the fee caps are read again at the next question."""
        self._check_fitted()
        self.book_.set_rates(rates)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "book_"):
            raise NotFittedError("This Engine is not fitted yet: call fit(recruiters, orders, workers) first.")

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            vecs = self.encoder.encode(missing, batch_size=64, show_progress=len(missing) > 500)
            for t, v in zip(missing, vecs):
                self._vectors[t] = np.asarray(v, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def _rebuild(self) -> None:
        """Compute texts, vectors, indexes, lexical matrices and background statistics (the fit)."""
        self._order_ids = self.book_.order_ids_
        self._worker_ids = sorted(self.workers_)
        self._order_texts = {i: order_text(self.orders_[i]) for i in self._order_ids}
        self._worker_texts = {i: worker_text(self.workers_[i]) for i in self._worker_ids}
        self._sector_texts = {i: t for i in self._worker_ids if (t := _sector_text(self.workers_[i]))}
        exp_texts = sorted({t for w in self.workers_.values() for t in _experience_texts(w)})
        all_texts = (
            [self._order_texts[i] for i in self._order_ids]
            + [self._worker_texts[i] for i in self._worker_ids]
            + list(self._sector_texts.values())
            + exp_texts
        )
        self._encode(all_texts)
        corpus = [fold(t) for t in all_texts] or ["-"]
        n_o, n_w = len(self._order_ids), len(self._worker_ids)
        # the vocabulary is the fit's: later texts are read with it (a change costs one row); a
        # model saved by an earlier fit on exactly these texts is used as it is
        self._lex_key = corpus_key(corpus, n_o, n_w)
        saved = self._saved_lexical(n_o, n_w)
        inverted: list = [None, None]
        if saved is None:
            self._tfidf = CharTfidf(LEXICAL_NGRAMS)
            lex = self._tfidf.fit_transform(corpus)  # the orders' rows first, then the workers'
            order_lex, worker_lex = lex[:n_o], lex[n_o:n_o + n_w]
        else:
            self._tfidf, (order_lex, worker_lex, *rest) = saved
            inverted = (rest + [None, None])[:2]
        self._lex_cache: dict[str, object] = {}
        #: every experience and sector text's row number, dense and lexical rows (``_aux_rows``)
        self._aux: tuple[dict[str, int], np.ndarray, object, list[str]] | None = None
        #: per worker id: (snapshot, its experience texts), the snapshot telling a stale entry
        self._exp_of: dict[str, tuple[WorkerSnapshot, list[str]]] = {}
        #: per order id: the worker gates of rank_workers (see _gates_for)
        self._gate_cache: dict[str, tuple[OrderSnapshot, dt.date, int, dict]] = {}
        self._order_index = self._build_index(self._order_ids, self._order_texts, saved="orders")
        self._worker_index = self._build_index(self._worker_ids, self._worker_texts, saved="workers")
        self._order_lex = LexicalRows(order_lex, self._order_ids, inverted=inverted[0]).warm()
        self._worker_lex = LexicalRows(worker_lex, self._worker_ids, inverted=inverted[1]).warm()
        self._background()

    def _build_index(self, ids: list[str], texts: dict[str, str], saved: str | None = None) -> VectorIndex | None:
        if not ids:
            return None
        vecs = self._encode([texts[i] for i in ids])
        if saved is not None:
            reused = self._saved_index(saved, ids, vecs)
            if reused is not None:
                return reused
        index = VectorIndex(exact_threshold=self.exact_threshold)
        index.fit(ids, vecs)
        index.encoder_name = getattr(self.encoder, "name", "")
        return index

    def _saved_index(self, name: str, ids: list[str], vecs: np.ndarray) -> VectorIndex | None:
        """The saved index ``name`` when it holds exactly ``ids`` and ``vecs`` with the parameters
        a fresh one would get, else ``None`` (anything unreadable is ignored: it is rebuilt)."""
        blob = (self.saved_indexes or {}).get(name)
        if blob is None:
            return None
        try:
            kw = {"dim": self.encoder.dim, "encoder_name": getattr(self.encoder, "name", "")}
            if isinstance(blob, (str, os.PathLike)):
                index = VectorIndex.open(blob, **kw)
            else:
                index = VectorIndex.from_bytes(blob, **kw)
        except IndexVersionError as exc:
            log.info("saved %s index not used: %s", name, exc)
            return None
        fresh = VectorIndex(exact_threshold=self.exact_threshold, encoder_name=index.encoder_name).get_params()
        if index.get_params() != fresh:
            return None
        if not index.holds(ids, vecs):
            return None
        self.reused_indexes_.add(name)
        if index.mapped_:
            self.mapped_indexes_.add(name)
        return index

    def _saved_lexical(self, n_orders: int, n_workers: int):
        """The saved lexical model and the orders' and workers' rows, when an earlier fit saved
        them for exactly this fit's texts (``index_blobs()["lexical"]``), else ``None``. The
        matrices are the orders' and the workers' rows, then (when saved: files of format 2) their
        transposes, the inverted indexes ``LexicalRows`` reads."""
        blob = (self.saved_indexes or {}).get("lexical")
        if blob is None:
            return None
        try:
            if isinstance(blob, (str, os.PathLike)):
                model, matrices = load_lexical_file(blob, self._lex_key, LEXICAL_NGRAMS)
            else:
                model, matrices = load_lexical(blob, self._lex_key, LEXICAL_NGRAMS)
        except DumpError as exc:
            log.info("saved lexical model not used: %s", exc)
            return None
        shapes = [m.shape for m in matrices]
        rows = [(n_orders, len(model.idf_)), (n_workers, len(model.idf_))]
        if shapes not in (rows, rows + [r[::-1] for r in rows]) or (
                len(matrices) == 4 and (matrices[2].nnz, matrices[3].nnz) != (matrices[0].nnz, matrices[1].nnz)):
            log.info("saved lexical model not used: its rows do not match the orders and workers")
            return None
        self.reused_indexes_.add("lexical")
        if all(mapped_file(a) for m in matrices for a in (m.data, m.indices, m.indptr)):
            self.mapped_indexes_.add("lexical")
        return model, matrices

    def _lex(self, texts: Sequence[str]):
        return self._tfidf.transform([fold(t) for t in texts])

    def _background(self) -> None:
        """Mean and spread of dense and lexical similarity over random worker x order pairs
        (taken at the fit and kept: a change moves no other pair's score)."""
        rng = np.random.default_rng(0)
        if not self._order_ids or not self._worker_ids:
            self._bg = (0.8, 0.05, 0.1, 0.05)
            return
        n = 3000
        oi = [self._order_ids[i] for i in rng.integers(0, len(self._order_ids), n)]
        wi = [self._worker_ids[i] for i in rng.integers(0, len(self._worker_ids), n)]
        ov = self._encode([self._order_texts[i] for i in oi])
        wv = self._encode([self._worker_texts[i] for i in wi])
        dense = np.einsum("ij,ij->i", ov, wv)
        lex = np.asarray(self._order_lex.rows(oi).multiply(self._worker_lex.rows(wi)).sum(axis=1)).ravel()
        self._bg = (float(dense.mean()), float(dense.std()) or 0.05, float(lex.mean()), float(lex.std()) or 0.05)

    # ---- incremental changes ------------------------------------------------------------------
    # One change encodes only the texts that are new, replaces one row of the faiss index and of
    # the lexical matrix, and forgets only the gate results it can affect (``OrderBook``).

    def _note(self, kind: str, ids: Iterable[str]) -> None:
        for i in ids:
            self._journal.append((kind, i))
        self.version_ = len(self._journal)

    def changes_since(self, version: int) -> tuple[set[str], set[str]]:
        """The workers and the orders changed (or removed) after ``version`` (a past ``version_``):
        what a consumer of the engine's results recomputes to catch up."""
        workers, orders = set(), set()
        for kind, i in self._journal[version:]:
            (workers if kind == "worker" else orders).add(i)
        return workers, orders

    def _put(self, index_attr: str, lex: LexicalRows, texts: dict[str, str], changed: dict[str, str]) -> None:
        """Store the new texts of ``changed`` (id -> text) in the index and the lexical rows."""
        fresh = {i: t for i, t in changed.items() if texts.get(i) != t or i not in lex}
        if not fresh:
            return
        ids = list(fresh)
        vecs = self._encode([fresh[i] for i in ids])
        index = getattr(self, index_attr)
        if index is None:
            index = VectorIndex(exact_threshold=self.exact_threshold, encoder_name=getattr(self.encoder, "name", ""))
            setattr(self, index_attr, index.fit(ids, vecs))
        else:
            index.upsert(ids, vecs)
        rows = self._lex([fresh[i] for i in ids])
        for n, i in enumerate(ids):
            texts[i] = fresh[i]
            lex.put(i, rows[n])

    def _take_out(self, index_attr: str, lex: LexicalRows, texts: dict[str, str], ids: list[str]) -> None:
        index = getattr(self, index_attr)
        if index is not None:
            index.remove(ids)
            if len(index) == 0:
                setattr(self, index_attr, None)
        for i in ids:
            texts.pop(i, None)
            lex.drop(i)

    def upsert_orders(self, orders: Sequence[OrderSnapshot], recruiter: RecruiterSnapshot | None = None) -> None:
        """Orders were posted, changed or closed: their vectors, index rows and gates are renewed."""
        self._check_fitted()
        for order in orders:
            self.book_.upsert(order, recruiter)
        orders = [self.orders_[o.order_id] for o in orders]
        self._put("_order_index", self._order_lex, self._order_texts, {o.order_id: order_text(o) for o in orders})
        self._note("order", [o.order_id for o in orders])

    def upsert_order(self, order: OrderSnapshot, recruiter: RecruiterSnapshot | None = None) -> None:
        self.upsert_orders([order], recruiter)

    def remove_order(self, order_id: str) -> None:
        self._check_fitted()
        self.book_.remove(order_id)
        self._trades.pop(order_id, None)
        self._take_out("_order_index", self._order_lex, self._order_texts, [order_id])
        self._note("order", [order_id])

    def set_recruiter(self, recruiter: RecruiterSnapshot) -> None:
        """A licence status changed: the gates of the orders it can affect are read again."""
        self._check_fitted()
        self.book_.set_recruiter(recruiter)
        self._note("order", [o.order_id for o in self.orders_.values() if o.recruiter_id == recruiter.recruiter_id])

    def upsert_workers(self, workers: Sequence[WorkerSnapshot]) -> None:
        """Profiles were added or edited: their texts are encoded and their rows replaced."""
        self._check_fitted()
        workers = [worker_snapshot(w) for w in workers]
        for w in workers:
            wid = w.worker_id
            if wid not in self.workers_:
                bisect.insort(self._worker_ids, wid)
            self.workers_[wid] = w
            self._certs.pop(wid, None)
            sector = _sector_text(w)
            if sector:
                self._sector_texts[wid] = sector
            else:
                self._sector_texts.pop(wid, None)
        self._encode([t for w in workers for t in [*_experience_texts(w), _sector_text(w)] if t])
        self._put("_worker_index", self._worker_lex, self._worker_texts, {w.worker_id: worker_text(w) for w in workers})
        self._note("worker", [w.worker_id for w in workers])

    def upsert_worker(self, worker: WorkerSnapshot) -> None:
        self.upsert_workers([worker])

    def remove_worker(self, worker_id: str) -> None:
        self._check_fitted()
        if self.workers_.pop(worker_id, None) is not None:
            del self._worker_ids[bisect.bisect_left(self._worker_ids, worker_id)]
        self._certs.pop(worker_id, None)
        self._sector_texts.pop(worker_id, None)
        self._take_out("_worker_index", self._worker_lex, self._worker_texts, [worker_id])
        self._note("worker", [worker_id])

    # ---- persistence of the derived state ----------------------------------------------------

    @property
    def vectors_(self) -> dict[str, np.ndarray]:
        """Text -> embedding of every text encoded so far (saved by the caller to skip re-encoding)."""
        self._check_fitted()
        return self._vectors

    @property
    def index_names_(self) -> set[str]:
        """The names of the saved parts :meth:`index_blobs` returns right after a fit: the faiss
        indexes not empty, and ``"lexical"``."""
        self._check_fitted()
        named = {name for name, idx in (("orders", self._order_index), ("workers", self._worker_index)) if idx is not None}
        return named | {"lexical"}

    def index_blobs(self) -> dict[str, bytes]:
        """The two faiss indexes and, while no row changed since the fit, the lexical model with
        its rows (``"lexical"``), as bytes: the caller stores them, the database stays the truth."""
        self._check_fitted()
        out = {
            name: idx.to_bytes()
            for name, idx in (("orders", self._order_index), ("workers", self._worker_index))
            if idx is not None
        }
        order_m, worker_m = self._order_lex.fitted_matrix(), self._worker_lex.fitted_matrix()
        if order_m is not None and worker_m is not None:
            # with the inverted indexes, so that a process started from the file maps them too
            inverted = [self._order_lex.warm().inverted(), self._worker_lex.warm().inverted()]
            out["lexical"] = dump_lexical(self._tfidf, self._lex_key, [order_m, worker_m, *inverted])
        return out

    # ---- gates (the order book's) ----------------------------------------------------------

    def order_reasons(self, order_id: str, today: dt.date | None = None) -> list:
        """Every gate reason of an order on ``today`` (empty: legal and open)."""
        self._check_fitted()
        return self.book_.order_reasons(order_id, today or self.today_)

    def recruiter_signs(self, recruiter_id: str) -> list:
        """The warnings about one enterprise, as its orders show them."""
        self._check_fitted()
        return self.book_.recruiter_signs(recruiter_id)

    def rankable_orders(self, today: dt.date | None = None) -> list[str]:
        """Ids of the legal, open orders on ``today`` (cached per day until the next change)."""
        self._check_fitted()
        return self.book_.rankable(today or self.today_)

    def open_orders(self, today: dt.date | None = None) -> list[OrderSnapshot]:
        """The legal, open orders with places left (``OrderBook.open_orders``)."""
        self._check_fitted()
        return self.book_.open_orders(today or self.today_)

    def is_rankable(self, order_id: str, today: dt.date | None = None) -> bool:
        return self.book_.is_rankable(order_id, today or self.today_)

    def order_state(self, order_id: str, today: dt.date | None = None) -> tuple[str, list]:
        """``("open" | "blocked" | "not_open", reasons)``: ``OrderBook.order_state``."""
        return self.book_.order_state(order_id, today or self.today_)

    def blocked_orders(self, today: dt.date | None = None) -> list[Blocked]:
        """Illegal orders with their reasons: what the counsellor reviews to catch brokers."""
        self._check_fitted()
        return self.book_.blocked(today or self.today_)

    def _order_trades(self, order: OrderSnapshot) -> frozenset[str]:
        """The vocabulary's trade groups of an order's title and skills, kept per order (a changed
        order is a new snapshot, so its entry is found again)."""
        held = self._trades.get(order.order_id)
        if held is None or held[0] is not order:
            held = (order, order_trade_groups([order.title, *(order.required_skills or [])]))
            self._trades[order.order_id] = held
        return held[1]

    def certificates(self, worker: WorkerSnapshot) -> list:
        wid = worker.worker_id
        if wid not in self._certs:
            certs = []
            for c in worker.certificates or []:
                try:
                    certs.append(parse_certificate(c.raw))
                except CertificateError:
                    log.warning("worker %s: unreadable certificate %r ignored", wid, c.raw)
            self._certs[wid] = certs
        return self._certs[wid]

    # ---- similarity --------------------------------------------------------------------------

    def _z(self, dense: np.ndarray, lex: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Fused z-scores; ``texts`` are the texts of the rows (one text for a 1-d row of one
        query against many items, or one per item when each item is a query)."""
        dm, ds, lm, ls = self._bg
        w = lexical_weights_for(self.encoder, texts)
        if np.ndim(w):  # one weight per text: per row of a matrix, per item of a 1-d row of texts
            w = w[:, None] if np.ndim(dense) == 2 else (w[0] if len(w) == 1 else w)
        return (1 - w) * (dense - dm) / ds + w * (lex - lm) / ls

    def _lex_rows(self, texts: Sequence[str]):
        """Lexical (char n-gram TF-IDF) rows of ``texts``, cached per text."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._lex_cache]
        if missing:
            m = self._lex(missing)
            for i, t in enumerate(missing):
                self._lex_cache[t] = m[i]
        return sparse.vstack([self._lex_cache[t] for t in texts], format="csr")

    def _z_matrix(self, a_texts: Sequence[str], b_dense: np.ndarray, b_lex) -> np.ndarray:
        """Fused z-scores (len(a_texts), n) of texts against n items given as dense and lexical rows."""
        dense = self._encode(a_texts) @ b_dense.T
        lex = (self._lex_rows(a_texts) @ b_lex.T).toarray()
        return self._z(dense, lex, a_texts)

    def _order_rows(self, order_ids: Sequence[str]):
        dense = self._encode([self._order_texts[i] for i in order_ids])
        return dense, self._order_lex.rows(order_ids)

    def _worker_side(self, worker: WorkerSnapshot, order_ids: Sequence[str]) -> dict:
        """Similarities of a worker's profile, experience and wished sectors to each order."""
        exp = _experience_texts(worker)
        sector = _sector_text(worker)
        texts = [worker_text(worker)] + exp + ([sector] if sector else [])
        if not order_ids:
            return {"occ": np.zeros(0), "exp": np.zeros((len(exp), 0)), "sector": None}
        z = self._z_matrix(texts, *self._order_rows(order_ids))
        return {"occ": z[0], "exp": z[1 : 1 + len(exp)], "sector": z[-1] if sector else None}

    def _worker_exp_texts(self, worker: WorkerSnapshot) -> list[str]:
        """``_experience_texts(worker)``, kept per worker until its snapshot is replaced."""
        held = self._exp_of.get(worker.worker_id)
        if held is None or held[0] is not worker:
            held = (worker, _experience_texts(worker))
            self._exp_of[worker.worker_id] = held
        return held[1]

    def _aux_rows(self, needed: set[str]):
        """Row numbers, dense and lexical rows of every experience and sector text the engine
        knows (``needed`` among them), and the texts in row order: built once, and again only
        when a text is new."""
        if self._aux is None or not needed <= self._aux[0].keys():
            texts = sorted(needed | {t for w in self.workers_.values() for t in self._worker_exp_texts(w)}
                           | set(self._sector_texts.values()))
            self._aux = ({t: n for n, t in enumerate(texts)}, self._encode(texts), self._lex_rows(texts), texts)
        return self._aux

    def _order_side(self, order: OrderSnapshot, worker_ids: Sequence[str]) -> dict[str, dict]:
        """For one order: each worker's profile, experience and sector similarities to it."""
        if not worker_ids:
            return {}
        otext = self._order_texts[order.order_id]
        o_dense = self._encode([otext])
        o_lex = self._lex_rows([otext])
        o_lex_col = o_lex.toarray().ravel()  # CSR times a dense vector: the same sums, in the same order
        w_dense = self._encode([self._worker_texts[w] for w in worker_ids])
        w_lex = self._worker_lex.rows(worker_ids)
        occ = self._z(w_dense @ o_dense[0], w_lex @ o_lex_col, [otext])
        workers = [self.workers_[w] for w in worker_ids]
        exp_of = [self._worker_exp_texts(w) for w in workers]
        sector_of = [self._sector_texts.get(w) for w in worker_ids]
        needed = {t for texts in exp_of for t in texts} | {t for t in sector_of if t}
        row_of, a_dense, a_lex, aux_texts = self._aux_rows(needed) if needed else ({}, None, None, [])
        # plain floats, the values of the arrays (``_features`` reads them one by one)
        aux_z = self._z(a_dense @ o_dense[0], a_lex @ o_lex_col, aux_texts).tolist() if needed else []
        return {
            w: {"occ": z, "exp": [aux_z[row_of[t]] for t in exp],
                "sector": aux_z[row_of[sector]] if sector else None}
            for w, z, exp, sector in zip(worker_ids, occ.tolist(), exp_of, sector_of)
        }

    # ---- features for one pair ---------------------------------------------------------------

    def _features(self, worker: WorkerSnapshot, order: OrderSnapshot, sims: dict, day: dt.date,
                  reasons: list | None = None):
        """Features, gap/warn/fail reasons and explanations for one worker x order pair
        (``reasons``: the pair's ``rules.worker_gates``, when the caller has them already)."""
        if reasons is None:
            reasons = rules.worker_gates(worker, order, day, self.certificates(worker))
        fails = [r for r in reasons if r.severity in ("fail", "block")]
        gaps = [r for r in reasons if r.severity == "gap"]
        warns = [r for r in reasons if r.severity == "warn"] + [
            r for r in self.order_reasons(order.order_id, day) if r.severity == "warn"
        ]
        f: dict[str, float] = {}
        f["occupation_similarity"] = scoring.calibrate(sims["occ"], 0.0, 1.0)

        # Experience: years in occupations related to this order (vocabulary, else encoder).
        theirs = self._order_trades(order)
        exp_entries = [e for e in worker.experience or [] if e.get("occupation")]
        relevant, best_occ = scoring.related_experience([
            (e["occupation"], float(e.get("years") or 0), related_groups(trade_groups(e["occupation"]), theirs), float(ez))
            for e, ez in zip(exp_entries, sims["exp"])
        ])
        f["experience_fit"] = scoring.experience_fit(relevant, order.min_experience_years)

        # Language.
        req = None
        if order.language_requirement:
            try:
                req = parse_requirement(order.language_requirement)
            except CertificateError:
                req = None
        la = languages.assess(self.certificates(worker), req, day, order.programme)
        f["language_fit"] = scoring.LANGUAGE_FEATURE.get(la.status, 0.0)

        f["country_preference"] = scoring.country_preference(order.country, worker.preferred_countries or [])
        f["sector_preference"] = (
            scoring.calibrate(float(sims["sector"]), 0.0, 1.0) if sims["sector"] is not None else 0.5
        )
        wage_vnd = None
        if order.monthly_wage and order.wage_currency:
            rate = self.rates_.get(order.wage_currency.upper())
            wage_vnd = order.monthly_wage * rate if rate else None
        f["wage_fit"] = scoring.wage_fit(wage_vnd, worker.min_wage_vnd)
        cost = float(order.service_fee_vnd or 0) + float(order.deposit_vnd or 0)
        f["fee_fit"] = scoring.fee_fit(cost, worker.max_fee_vnd)
        late = 0.0
        if worker.available_from and order.departure_date and worker.available_from > order.departure_date:
            late = _months_between(order.departure_date, worker.available_from)
        f["date_fit"] = scoring.date_fit(late)

        ctx = {"best_occ": best_occ, "relevant": relevant, "la": la, "wage_vnd": wage_vnd, "cost": cost, "late": late}
        return f, fails, gaps, warns, ctx

    def _score_pair(self, worker: WorkerSnapshot, order: OrderSnapshot, sims: dict, day: dt.date,
                    reasons: list | None = None):
        if reasons is None:
            reasons = rules.worker_gates(worker, order, day, self.certificates(worker))
        fails = [r for r in reasons if r.severity in ("fail", "block")]
        if fails:  # a refused pair needs its reasons only, not its features
            return None, fails
        f, fails, gaps, warns, ctx = self._features(worker, order, sims, day, reasons)
        s = scoring.combine(f, self.weights_)
        m = Match("", s.score, s.features, s.contributions, gaps, warns, [])
        m._ctx = (worker, order, ctx)  # explanations are written only for the results shown
        return m, []

    def _explain(self, matches: list[Match]) -> list[Match]:
        order_of = {name: i for i, name in enumerate(scoring.FEATURES)}
        for m in matches:
            worker, order, ctx = m._ctx
            expl = explanations(worker, order, m.features, ctx)
            expl.sort(key=lambda e: (-m.contributions.get(e.feature, 0.0), order_of.get(e.feature, 99)))
            m.reasons = expl
        return matches

    def explain_pair(self, worker: WorkerSnapshot, order: OrderSnapshot,
                     today: dt.date | None = None) -> Match | Blocked:
        """The full scoring of one pair: a Match, or a Blocked with the reasons it cannot be."""
        self._check_fitted()
        day = today or self.today_
        worker, order = worker_snapshot(worker), order_snapshot(order)
        if order.order_id not in self.orders_:
            self.upsert_order(order)
        blocks = [r for r in self.order_reasons(order.order_id, day) if r.severity == "block"]
        if blocks:
            return Blocked(order.order_id, blocks)
        closed = self.outcomes_.closed_reason(worker.worker_id, order.order_id)
        if closed is not None:
            return Blocked(order.order_id, [closed])
        side = self._worker_side(worker, [order.order_id])
        sims = {"occ": float(side["occ"][0]), "exp": side["exp"][:, 0],
                "sector": None if side["sector"] is None else float(side["sector"][0])}
        m, fails = self._score_pair(worker, order, sims, day)
        if m is None:
            return Blocked(order.order_id, fails)
        m.item_id = order.order_id
        return self._explain([m])[0]

    # ---- public ranking ---------------------------------------------------------------------

    def rank_orders(
        self,
        worker: WorkerSnapshot,
        top_k: int = 10,
        country: str | None = None,
        programme: str | None = None,
        today: dt.date | None = None,
        pool: int | None = None,
    ) -> Ranking:
        """Legal, open orders for ``worker``, best first, with blocked and ineligible lists."""
        self._check_fitted()
        if top_k < 1:
            raise ValueError(f"The 'top_k' parameter must be an int in [1, inf). Got {top_k!r} instead.")
        day = today or self.today_
        worker = worker_snapshot(worker)
        blocked = self.blocked_orders(day)
        rankable = self.rankable_orders(day)
        if country:
            rankable = [o for o in rankable if self.orders_[o].country.upper() == country.upper()]
        if programme:
            rankable = [o for o in rankable if (self.orders_[o].programme or "") == programme]
        ineligible = []
        wid = worker.worker_id
        mine = self.outcomes_.closed_orders_of(wid)  # the worker's few closed pairs, not every order
        rankable_set = set(rankable) if mine else ()
        closed = {oid: r for oid in mine if oid in rankable_set and (r := self.outcomes_.closed_reason(wid, oid))}
        if closed:
            ineligible = [Blocked(oid, [r]) for oid, r in sorted(closed.items())]
            rankable = [o for o in rankable if o not in closed]
        wtext = worker_text(worker)
        cand = self._candidates_orders(wtext, rankable, pool)
        side = self._worker_side(worker, cand)
        matches = []
        for j, oid in enumerate(cand):
            sims = {"occ": float(side["occ"][j]), "exp": side["exp"][:, j],
                    "sector": None if side["sector"] is None else float(side["sector"][j])}
            m, fails = self._score_pair(worker, self.orders_[oid], sims, day)
            if m is None:
                ineligible.append(Blocked(oid, fails))
                continue
            m.item_id = oid
            matches.append(m)
        matches.sort(key=lambda m: (-m.score, m.item_id))
        ranking = Ranking(worker.worker_id, "w2j", self._explain(matches[:top_k]), blocked, ineligible)
        # the blocked orders' snapshots are one shared read-only map per data version (thousands
        # at 100,000 orders), the others are copied
        listed = {i: self.orders_[i] for i in [m.item_id for m in ranking.matches] + [b.item_id for b in ineligible]}
        ranking.items = ChainMap(listed, self.book_.blocked_snapshots(day))
        return ranking

    def _candidates_orders(self, wtext: str, rankable: list[str], pool: int | None) -> list[str]:
        limit = pool or self.full_scan_below
        if len(rankable) <= limit:
            return rankable
        k = pool or self.candidates
        allowed = set(rankable)
        q = self._encode([wtext])
        dense = [i for i, _ in self._order_index.search(q, k, allowed=allowed)[0]]
        lex = self._order_lex.scores(rankable, self._lex_rows([wtext]))
        top = np.argsort(-lex)[:k]
        return sorted(set(dense) | {rankable[i] for i in top})

    def rank_workers(
        self,
        order: OrderSnapshot,
        top_k: int = 10,
        consent_only: bool = False,
        today: dt.date | None = None,
        pool: int | None = None,
    ) -> Ranking:
        """Eligible workers for ``order`` (an illegal order gets no candidates, only its reasons)."""
        self._check_fitted()
        if top_k < 1:
            raise ValueError(f"The 'top_k' parameter must be an int in [1, inf). Got {top_k!r} instead.")
        day = today or self.today_
        order = order_snapshot(order)
        if order.order_id not in self.orders_:
            self.upsert_order(order)
        reasons = [r for r in self.order_reasons(order.order_id, day) if r.severity == "block"]
        if reasons:
            return Ranking(order.order_id, "j2w", [], [Blocked(order.order_id, reasons)], [],
                           items={order.order_id: order})
        pool_ids = [w for w in self._worker_ids if self._in_worker_pool(w, consent_only)]
        ineligible = []
        theirs = self.outcomes_.closed_workers_of(order.order_id)
        pool_set = set(pool_ids) if theirs else ()
        closed = {w: r for w in theirs if w in pool_set and (r := self.outcomes_.closed_reason(w, order.order_id))}
        if closed:
            ineligible = [Blocked(w, [r]) for w, r in sorted(closed.items())]
            pool_ids = [w for w in pool_ids if w not in closed]
        otext = self._order_texts[order.order_id]
        limit = pool or self.full_scan_below
        if len(pool_ids) > limit:
            k = pool or self.candidates
            allowed = set(pool_ids)
            dense = [i for i, _ in self._worker_index.search(self._encode([otext]), k, allowed=allowed)[0]]
            lex = self._worker_lex.scores(pool_ids, self._lex_rows([otext]))
            pool_ids = sorted(set(dense) | {pool_ids[i] for i in np.argsort(-lex)[:k]})
        gates = self._gates_for(order, day)
        passing = []
        for wid in pool_ids:
            fails = [r for r in gates(self.workers_[wid]) if r.severity in ("fail", "block")]
            if fails:
                ineligible.append(Blocked(wid, fails))
            else:
                passing.append(wid)
        # similarities only for the workers the gates let through (a refused pair has no score)
        sims_of = self._order_side(order, passing)
        matches = []
        for wid in passing:
            worker = self.workers_[wid]
            m, fails = self._score_pair(worker, order, sims_of[wid], day, list(gates(worker)))
            if m is None:
                ineligible.append(Blocked(wid, fails))
                continue
            m.item_id = wid
            matches.append(m)
        matches.sort(key=lambda m: (-m.score, m.item_id))
        ranking = Ranking(order.order_id, "j2w", self._explain(matches[:top_k]), [], ineligible)
        ranking.items = {i: self.workers_[i] for i in ranking.ids() if i in self.workers_}
        return ranking

    #: how many orders' worker gates ``rank_workers`` keeps (a few hundred kB each at 2,000
    #: workers: a refused worker's reasons, and one shared empty tuple for the others)
    GATE_CACHE_ORDERS = 32

    def _gates_for(self, order: OrderSnapshot, day: dt.date):
        """``worker -> rules.worker_gates(worker, order, day, ...)`` for ``rank_workers``, each pair
        evaluated once per order per data version: the results are kept per order (the last
        ``GATE_CACHE_ORDERS`` orders asked about) while the order's fields and the day are the
        same; the workers changed since (``changes_since``: a changed profile is a new snapshot,
        its certificates read again) are evaluated again."""
        held = self._gate_cache.pop(order.order_id, None)
        if held is None or held[1] != day or not _same_fields(held[0], order):
            by_worker: dict[str, tuple] = {}
        else:
            by_worker = held[3]
            if held[2] != self.version_:
                for wid in self.changes_since(held[2])[0]:
                    by_worker.pop(wid, None)
        self._gate_cache[order.order_id] = (order, day, self.version_, by_worker)  # the most recent last
        while len(self._gate_cache) > self.GATE_CACHE_ORDERS:
            self._gate_cache.pop(next(iter(self._gate_cache)))

        def gates(worker: WorkerSnapshot) -> tuple:
            kept = by_worker.get(worker.worker_id)
            if kept is None:
                kept = tuple(rules.worker_gates(worker, order, day, self.certificates(worker))) or ()
                by_worker[worker.worker_id] = kept
            return kept

        return gates

    def _in_worker_pool(self, worker_id: str, consent_only: bool) -> bool:
        """Whether ``rank_workers`` considers the worker at all: an active profile, not departed,
        and (for a recruiter's view) consenting to share."""
        w = self.workers_.get(worker_id)
        return (w is not None and is_active_worker(w) and not self.outcomes_.has_departed(worker_id)
                and (not consent_only or bool(w.consent_share)))

    def is_candidate(self, worker_id: str, order_id: str, consent_only: bool = False,
                     today: dt.date | None = None) -> bool:
        """Whether ``rank_workers(order, consent_only=...)`` counts the worker among the order's
        matches, the ``top_k`` cut aside: the order is legal and open, the worker is in the pool,
        the pair was not closed by an outcome and passes every eligibility gate. The one
        candidate rule, also used to decide which single profile a recruiter may read."""
        self._check_fitted()
        day = today or self.today_
        if order_id not in self.orders_ or not self.is_rankable(order_id, day):
            return False
        if not self._in_worker_pool(worker_id, consent_only):
            return False
        if self.outcomes_.closed_reason(worker_id, order_id) is not None:
            return False
        order = self.orders_[order_id]
        m, _ = self._score_pair(self.workers_[worker_id], order, self._order_side(order, [worker_id])[worker_id], day)
        return m is not None

    def pair_scores(
        self,
        worker_ids: Sequence[str] | None = None,
        order_ids: Sequence[str] | None = None,
        per_worker: int = 40,
        today: dt.date | None = None,
    ) -> dict[tuple[str, str], float]:
        """Scores of eligible pairs for the allocator: each worker's best ``per_worker`` orders."""
        self._check_fitted()
        day = today or self.today_
        wanted = set(order_ids) if order_ids is not None else None
        out: dict[tuple[str, str], float] = {}
        for wid in worker_ids if worker_ids is not None else self._worker_ids:
            if self.outcomes_.has_departed(wid):
                continue
            worker = self.workers_[wid]
            ranking = self.rank_orders(worker, top_k=per_worker, today=day, pool=max(per_worker * 2, 60))
            for m in ranking.matches:
                if wanted is None or m.item_id in wanted:
                    out[(wid, m.item_id)] = m.score
        return out

    def places_left(self, today: dt.date | None = None) -> dict[str, int]:
        return self.book_.places_left(today or self.today_)
