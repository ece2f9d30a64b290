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


# ---- memory-mapped files: workers started from the same index/ share one copy (issue 16) ----

def _save(engine, folder):
    from data.vectorfile import save_vectors

    save_vectors(folder, "hashing", engine.vectors_, engine.index_blobs())


def _mapped_paths():
    with open("/proc/self/maps") as f:
        return {line.split(maxsplit=5)[-1].strip() for line in f if "/" in line}


def _from_files(data, folder, orders=None):
    from data.vectorfile import index_files

    return _fit(data, orders=orders, vector_cache=_fit(data, orders=orders).vectors_, saved_indexes=index_files(folder))


def test_a_start_from_the_files_maps_them_and_ranks_as_a_fresh_fit(data, tmp_path):
    import numpy as np

    from matcher.tfidf import mapped_file

    first = _fit(data)
    _save(first, tmp_path)
    mapped = _from_files(data, tmp_path)
    assert mapped.reused_indexes_ == mapped.mapped_indexes_ == {"orders", "workers", "lexical"}
    assert _scores(mapped, data) == _scores(first, data)
    # no private copy: the faiss codes and the lexical arrays are views of the mapped files
    assert mapped._order_index.mapped_ and mapped._worker_index.mapped_
    paths = _mapped_paths()
    assert {str(tmp_path / "orders.faiss"), str(tmp_path / "workers.faiss"), str(tmp_path / "lexical.bin")} <= paths
    ranges = _ranges_of(tmp_path / "lexical.bin")
    for rows in (mapped._order_lex, mapped._worker_lex):
        for m in (rows._base, rows._inverted):  # the rows and the inverted index warm() would build
            for a in (m.data, m.indices, m.indptr):
                assert mapped_file(a) == str(tmp_path / "lexical.bin") and not a.flags.writeable
                base = a
                while not isinstance(base, np.memmap):
                    base = base.base
                assert np.shares_memory(a, base)  # a view of the map, not a copy
                address = a.__array_interface__["data"][0]
                assert any(lo <= address and address + a.nbytes <= hi for lo, hi in ranges)


def _ranges_of(path):
    """The address ranges of this process mapped from ``path``."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip().endswith(str(path)):
                lo, hi = line.split()[0].split("-")
                out.append((int(lo, 16), int(hi, 16)))
    return out


def test_a_change_copies_on_write_and_leaves_the_files_and_a_second_engine_alone(data, tmp_path):
    import hashlib

    first = _fit(data)
    _save(first, tmp_path)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    a, b = _from_files(data, tmp_path), _from_files(data, tmp_path)
    before = _scores(b, data)
    changed = dict(vars(data.orders[5]))
    fresh = _fit(data)
    for engine in (a, fresh):
        order = type(data.orders[5])(**{k: v for k, v in changed.items() if not k.startswith("_")})
        order.title, order.required_skills = "Công nhân đóng gói thực phẩm", ["đóng gói", "vận hành máy"]
        engine.upsert_order(order)
        engine.remove_worker(sorted(engine.workers_)[7])
    assert not a._order_index.mapped_ and not a._worker_index.mapped_  # private copies now
    assert _scores(a, data) == _scores(fresh, data) != before
    assert _scores(b, data) == before  # the second engine, mapped on the same files, unchanged
    assert b._order_index.mapped_
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()} == digest


@pytest.mark.parametrize("spoil", ["orders_truncated", "orders_flipped", "lexical_truncated", "lexical_flipped",
                                   "lexical_empty", "foreign"])
def test_spoilt_or_foreign_files_are_rebuilt(data, tmp_path, spoil):
    first = _fit(data)
    _save(first, tmp_path)
    name = "orders.faiss" if spoil.startswith("orders") else "lexical.bin"
    path = tmp_path / name
    blob = bytearray(path.read_bytes())
    if spoil.endswith("truncated"):
        path.write_bytes(bytes(blob[: len(blob) // 2]))
    elif spoil.endswith("flipped"):
        blob[len(blob) // 3] ^= 0x01
        path.write_bytes(bytes(blob))
    elif spoil == "lexical_empty":
        path.write_bytes(b"")
    else:  # another instance's files: other orders (with their own ids, vectors and texts)
        other = _fit(data, orders=data.orders[:30])
        _save(other, tmp_path)
    again = _from_files(data, tmp_path)
    lost = {"orders", "lexical"} if spoil == "foreign" else {name.split(".")[0]}
    assert again.reused_indexes_ == {"orders", "workers", "lexical"} - lost
    assert _scores(again, data) == _scores(first, data)


def _format1_index(index) -> bytes:
    """The bytes older versions wrote (format 1: prefix, header, vectors, labels, faiss index)."""
    import hashlib
    import json

    import faiss

    from matcher.index import _PREFIX

    faiss_blob = faiss.serialize_index(index._index).tobytes()
    header = {"encoder_name": index.encoder_name, "dim": index._dim, "kind": index._kind, "n": len(index._ids),
              "nlist_": index.nlist_, "params": index.get_params(), "next_label": index._next_label,
              "dead": sorted(index._dead), "ntotal": int(index._index.ntotal), "ids": index._ids,
              "faiss_bytes": len(faiss_blob)}
    head = json.dumps(header, separators=(",", ":")).encode()
    body = head + index._vectors_at().astype("<f4").tobytes() + index._labels.astype("<i8").tobytes() + faiss_blob
    return _PREFIX.pack(b"CBVECIDX", 1, len(head), hashlib.blake2b(body, digest_size=32).digest()) + body


def _format1_lexical(engine) -> bytes:
    """The np.savez archive older versions wrote (lexical format 1)."""
    import io

    import numpy as np

    model = engine._tfidf
    arrays = {"meta": np.array([1, *model.ngram_range, int(model.lowercase), 2], dtype=np.int64),
              "key": np.array(engine._lex_key), "dtype": np.array(np.dtype(model.dtype).str),
              "terms": np.array(sorted(model.vocabulary_, key=model.vocabulary_.__getitem__), dtype=str),
              "idf": model.idf_}
    for n, m in enumerate([engine._order_lex.fitted_matrix(), engine._worker_lex.fitted_matrix()]):
        arrays.update({f"m{n}_data": m.data, f"m{n}_indices": m.indices, f"m{n}_indptr": m.indptr,
                       f"m{n}_shape": np.array(m.shape, dtype=np.int64)})
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def test_files_of_the_older_format_are_read_then_saved_again_to_be_mapped(store, tmp_path, data):
    with store.session() as s:
        save(s, _generate())
    settings = {"encoder": "hashing", "instance_path": str(tmp_path), "exact_index_threshold": 20000}
    with store.session() as s:
        first = build_engine(s, settings, TODAY)
    folder = index_dir(tmp_path)
    (folder / "lexical.bin").unlink()  # the files of the last version
    (folder / "lexical.npz").write_bytes(_format1_lexical(first))
    for name, index in (("orders", first._order_index), ("workers", first._worker_index)):
        (folder / f"{name}.faiss").write_bytes(_format1_index(index))
    with store.session() as s:
        second = build_engine(s, settings, TODAY)
    assert second.reused_indexes_ == {"orders", "workers", "lexical"} and second.mapped_indexes_ == set()
    assert _scores(second, data) == _scores(first, data)
    assert not (folder / "lexical.npz").exists() and (folder / "lexical.bin").exists()  # saved anew
    with store.session() as s:
        third = build_engine(s, settings, TODAY)
    assert third.reused_indexes_ == third.mapped_indexes_ == {"orders", "workers", "lexical"}
    assert _scores(third, data) == _scores(first, data)
