"""Vanetik & Kogan (2023): rank 5 software-developer vacancies for each of CVs 1-30.

Ground truth: two annotators' arrays in ``annotations-for-the-first-30-vacancies.txt``. The file
says vacancies are "ranked from the best (place 1 in the annotation array) to the worst", so we
read an array as vacancy numbers in order of preference: ``[2,1,4,3,5]`` = vacancy 2 best.
Vacancy numbers are the rows of ``5_vacancies.csv`` in file order (1-5). Some arrays repeat a
number (e.g. ``[1,5,2,1,4]``): the first occurrence counts and a missing vacancy is tied last.

Per CV, gains for nDCG@5 are ``5 - place`` (best = 4, worst and missing = 0); Kendall tau-b is
computed between the system's scores and ``-place``. Subsets ``annotator1`` (30 CVs) and
``annotator2`` (20 CVs). The ceiling is the agreement of the two annotators on their 20 common
CVs (system ``inter-annotator``): tau between their places, and nDCG@5 of one annotator's order
judged by the other's gains (mean of both directions).
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import numpy as np

from evaluation import metrics as M
from evaluation.benchmarks.common import make_system, resolve

NAME = "vanetik"
FOLDER = "vanetik-vacancy-cv-ranking"
ANNOTATIONS = "annotations-for-the-first-30-vacancies.txt"


def reference_rows() -> list[dict]:
    return []


def parse_annotations(text: str) -> dict[str, list[list[int]]]:
    """``{"annotator1": [[...], ...], "annotator2": [...]}`` from the annotation file text."""
    out = {}
    for n in (1, 2):
        m = re.search(rf"ANNOTATOR_{n}_RANKINGS\s*=\s*(\[.*?\]\])", text, flags=re.S)
        if not m:
            raise ValueError(f"{ANNOTATIONS}: ANNOTATOR_{n}_RANKINGS not found")
        body = re.sub(r"#[^\n]*", "", m.group(1))
        out[f"annotator{n}"] = ast.literal_eval(body)
    return out


def places(array: list[int], n: int = 5) -> np.ndarray:
    """Place (1 = best) of vacancies 1..n; missing vacancies get n + 1 (tied last)."""
    p = np.full(n, n + 1, dtype=float)
    for place, vac in enumerate(array, start=1):
        if 1 <= vac <= n and p[vac - 1] == n + 1:
            p[vac - 1] = place
    return p


def gains_of(pl: np.ndarray) -> dict[int, float]:
    n = len(pl)
    return {i: float(max(0.0, n - pl[i])) for i in range(n)}


def load(data: Path):
    root = resolve(data, FOLDER, ANNOTATIONS)
    csv.field_size_limit(1 << 30)
    with open(root / "5_vacancies.csv", encoding="utf-8", newline="") as f:
        vac = list(csv.DictReader(f))
    vacancies = [f"{r['job_title']}. {r['job_description']}" for r in vac]
    ann = parse_annotations((root / ANNOTATIONS).read_text(encoding="utf-8"))
    cvs = {i: (root / "cv_text" / f"{i}.txt").read_text(encoding="utf-8") for i in range(1, 31)}
    return vacancies, cvs, ann


def _score_rows(system: str, scores: np.ndarray, arrays: list[list[int]], subset: str) -> dict:
    nd, tau = [], []
    for i, arr in enumerate(arrays):
        pl = places(arr)
        ranked = list(np.argsort(-scores[i], kind="stable"))
        nd.append(M.ndcg_at_k(ranked, gains_of(pl), 5))
        tau.append(M.kendall_tau(scores[i], -pl))
    return {"system": system, "subset": subset, "n": len(arrays),
            "ndcg@5": round(M.mean(nd), 4), "kendall_tau": round(M.mean(tau), 4)}


def agreement_rows(ann: dict[str, list[list[int]]]) -> list[dict]:
    a1, a2 = ann["annotator1"], ann["annotator2"]
    n = min(len(a1), len(a2))
    taus, nds = [], []
    for x, y in zip(a1[:n], a2[:n]):
        px, py = places(x), places(y)
        taus.append(M.kendall_tau(-px, -py))
        rx = list(np.argsort(px, kind="stable"))
        ry = list(np.argsort(py, kind="stable"))
        nds.append((M.ndcg_at_k(ry, gains_of(px), 5) + M.ndcg_at_k(rx, gains_of(py), 5)) / 2)
    return [{"system": "inter-annotator", "subset": "annotator1 vs annotator2", "n": n,
             "ndcg@5": round(M.mean(nds), 4), "kendall_tau": round(M.mean(taus), 4)}]


def run(data: Path, encoder, systems, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    vacancies, cvs, ann = load(data)
    ids = sorted(cvs)[: limit or None]
    texts = [cvs[i] for i in ids]
    rows = []
    for system in systems:
        scores = make_system(system, encoder).fit(vacancies).score(texts)
        for name, arrays in ann.items():
            k = min(len(arrays), len(ids))
            rows.append(_score_rows(system, scores[:k], arrays[:k], name))
    return rows + agreement_rows(ann)
