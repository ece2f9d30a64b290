"""Saved faiss indexes are reused at the next fit when they hold exactly the current ids and
vectors, and the saved lexical model when it was fitted on exactly the current texts (a restart
with unchanged data builds no index and fits no TF-IDF), and rebuilt otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from data.store import Store
from data.synthetic import generate, save
from data.vectorfile import index_dir, load_index_blobs
from matcher.encoder import HashingEncoder
from matcher.ranker import Engine
from web.services.building import build_engine

TODAY = dt.date(2026, 11, 26)


def _generate():
    return generate(seed=7, workers=60, orders=45, recruiters=12, today=TODAY)


@pytest.fixture(scope="module")
def data():
    return _generate()


def _fit(data, orders=None, **kw):
    return Engine(HashingEncoder(), **kw).fit(data.recruiters, orders or data.orders, data.workers, today=TODAY)


def _ranking(engine, data):
    worker = engine.workers_[sorted(engine.workers_)[3]]
    return engine.rank_orders(worker, top_k=10, today=TODAY).to_dict()


def test_unchanged_data_reuses_both_indexes_and_ranks_the_same(data):
    first = _fit(data)
    again = _fit(data, vector_cache=first.vectors_, saved_indexes=first.index_blobs())
    assert again.reused_indexes_ == {"orders", "workers", "lexical"} == again.index_names_
    assert first.reused_indexes_ == set()
    assert _ranking(again, data) == _ranking(first, data)
    assert again.saved_indexes is None  # later incremental rebuilds build afresh


def test_a_changed_order_rebuilds_only_the_order_index(data):
    first = _fit(data)
    other = _generate()  # the same data, then one order changed
    orders = other.orders
    orders[0].title = "Thợ hàn điện TIG tại Osaka"
    changed = _fit(other, orders=orders, vector_cache=first.vectors_, saved_indexes=first.index_blobs())
    assert changed.reused_indexes_ == {"workers"}  # the lexical model's texts changed too
    fresh = _fit(other, orders=orders)
    assert _ranking(changed, other) == _ranking(fresh, other)


@pytest.mark.parametrize("spoil", ["corrupt", "truncated", "other_threshold"])
def test_a_spoilt_or_different_saved_index_is_rebuilt(data, spoil):
    first = _fit(data)
    blobs = first.index_blobs()
    kw = {}
    if spoil == "corrupt":
        blob = bytearray(blobs["orders"])
        blob[len(blob) // 2] ^= 0xFF
        blobs["orders"] = bytes(blob)
    elif spoil == "truncated":
        blobs["orders"] = blobs["orders"][:100]
    else:
        kw["exact_threshold"] = 10  # a fresh index would be IVF here, not the saved flat one
    again = _fit(data, vector_cache=first.vectors_, saved_indexes=blobs, **kw)
    assert "orders" not in again.reused_indexes_
    assert _ranking(again, data)["matches"]


def test_a_restart_reuses_the_indexes_it_saved(store, db_url, tmp_path, data):
    with store.session() as s:
        save(s, _generate())
    settings = {"encoder": "hashing", "instance_path": str(tmp_path), "exact_index_threshold": 20000}
    with store.session() as s:
        first = build_engine(s, settings, TODAY)
    assert first.reused_indexes_ == set()
    assert set(load_index_blobs(index_dir(tmp_path))) == {"orders", "workers", "lexical"}
    with store.session() as s:
        second = build_engine(s, settings, TODAY)
    assert second.reused_indexes_ == {"orders", "workers", "lexical"}
    with store.session() as s:  # an order changes in the database: that index is rebuilt and saved
        order = s.get(type(data.orders[0]), data.orders[0].order_id)
        order.title = "Kỹ sư cơ khí tại Nagoya"
    with store.session() as s:
        third = build_engine(s, settings, TODAY)
    assert third.reused_indexes_ == {"workers"}
    with store.session() as s:
        fourth = build_engine(s, settings, TODAY)
    assert fourth.reused_indexes_ == {"orders", "workers", "lexical"}


def _scores(engine, data):
    """Every score and explanation of a few rankings both ways (the lexical signal feeds them)."""
    workers = [engine.workers_[w] for w in sorted(engine.workers_)[:8]]
    orders = [engine.orders_[o] for o in engine.rankable_orders(TODAY)[:6]]
    return ([engine.rank_orders(w, top_k=20, today=TODAY).to_dict() for w in workers]
            + [engine.rank_workers(o, top_k=20, today=TODAY).to_dict() for o in orders])


def test_a_reused_lexical_model_scores_exactly_as_a_fresh_fit_and_after_changes_too(data):
    first = _fit(data)
    blobs = first.index_blobs()
    again = _fit(data, vector_cache=first.vectors_, saved_indexes=blobs)
    assert "lexical" in again.reused_indexes_
    assert _scores(again, data) == _scores(first, data)
    # a change after the start: the reused model reads the new text as the fitted one does
    changed = dict(vars(data.orders[5]))
    for engine in (first, again):
        order = type(data.orders[5])(**{k: v for k, v in changed.items() if not k.startswith("_")})
        order.title, order.required_skills = "Công nhân đóng gói thực phẩm", ["đóng gói", "vận hành máy"]
        engine.upsert_order(order)
    assert _scores(again, data) == _scores(first, data)
    assert "lexical" not in first.index_blobs()  # rows changed since the fit: nothing stale is saved


@pytest.mark.parametrize("spoil", ["truncated", "garbage", "other_texts", "wrong_rows"])
def test_a_spoilt_or_foreign_lexical_model_is_fitted_again(data, spoil):
    from matcher.tfidf import CharTfidf, corpus_key, dump

    first = _fit(data)
    blobs = first.index_blobs()
    if spoil == "truncated":
        blobs["lexical"] = blobs["lexical"][: len(blobs["lexical"]) // 2]
    elif spoil == "garbage":
        blobs["lexical"] = b"PK\x03\x04" + b"\x00" * 64
    elif spoil == "other_texts":
        model = CharTfidf((2, 4))
        m = model.fit_transform(["tho han", "cong nhan may"])
        blobs["lexical"] = dump(model, corpus_key(["tho han", "cong nhan may"], 1, 1), [m[:1], m[1:]])
    else:  # the right key, but matrices that do not hold the engine's rows
        model = CharTfidf((2, 4))
        m = model.fit_transform(["tho han", "cong nhan may"])
        blobs["lexical"] = dump(model, first._lex_key, [m[:1], m[1:]])
    again = _fit(data, vector_cache=first.vectors_, saved_indexes=blobs)
    assert "lexical" not in again.reused_indexes_
    assert again.reused_indexes_ == {"orders", "workers"}
    assert _scores(again, data) == _scores(first, data)
