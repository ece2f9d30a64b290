"""Choose the engine's fusion on development data that no reported test query comes from.

English development tasks (query language ``en``):

* ``onet-dev``: O*NET alternate titles of the *dev* half of the occupation split (outside the
  3,000-title reported sample) -> the 1,110 occupation titles (see ``onet.Onet.dev_queries``);
* ``esco-alt-dev``: ESCO v1.1.1 alternative labels -> occupation preferred labels.

German development tasks (query language ``de``), when ``melo-deu`` is under the data root:

* ``de-alt-dev``: German ESCO alternative labels of the held-out dev-split concepts
  (:func:`evaluation.training_data.esco_dev_concept`, 10 % of concepts by a hash of the URI)
  -> the German preferred labels of every concept;
* ``de-en-dev``: the same German queries -> the English preferred labels of every concept.

  Both are built from the ESCO labels that MELO ships as its *corpus* (``corpus_elements.tsv``
  and ``concept_mapping.tsv``, the ``_000`` element of a concept being its preferred label),
  never from MELO's queries or annotations: a label equal to any MELO query after folding is
  left out. The MELO test ranks all labels of every concept for the national titles; these
  tasks rank preferred labels for other ESCO labels.

Dense and lexical signals are computed once per task; every fusion setting of the grid is
scored from them. Rows: ``system = "engine[<fusion>,<normalisation>,w=<lexical weight>]"``,
subsets per task, ``mean`` (the English tasks, as before the German ones existed) and
``mean-<lang>`` per query language. The setting with the best mean MRR is printed (it is what
``matcher.similarity`` uses as its default), then the best weight per query language for the
default normalisation, saved as rows ``system="best-lexical-weight"``, ``subset=<lang>``:
those are the ``lexical_weight_by_language`` of an adapter's ``fusion.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from evaluation import metrics as M
from evaluation.benchmarks.common import compute_metric, read_tsv, sample
from evaluation.benchmarks.esco import Esco
from evaluation.benchmarks.onet import Onet
from matcher.similarity import DEFAULT_FUSION, DEFAULT_NORMALISATION, HybridMatcher, fuse

log = logging.getLogger(__name__)

NAME = "fusion-dev"
METRICS = ("mrr", "acc@1")
WEIGHTS = tuple(sorted({round(w, 2) for w in np.linspace(0.0, 1.0, 11)} | {0.025, 0.05, 0.075, 0.15}))


def grid() -> list[tuple[str, str, float]]:
    out = [("weighted", norm, w) for norm in ("zscore", "minmax") for w in WEIGHTS]
    out += [("rrf", "zscore", w) for w in (0.3, 0.5, 0.7)]
    return out


def reference_rows() -> list[dict]:
    return []


def german_dev_tasks(data: Path, n: int = 2000, seed: int = 3) -> dict[str, tuple[list[str], list[str], list[dict]]]:
    """The ``de-alt-dev`` and ``de-en-dev`` tasks (module docstring) as ``{task: (corpus,
    queries, gains)}``; ``{}`` when no ``melo-deu`` folder is under ``data``."""
    from evaluation.training_data import _key, _melo_corpus_labels, esco_dev_concept

    root = Path(data)
    root = root if (root / "deu_q_de_c_de").is_dir() else root / "melo-deu"
    if not (root / "deu_q_de_c_de").is_dir() or not (root / "deu_q_de_c_en").is_dir():
        return {}
    held = set()
    for sub in ("deu_q_de_c_de", "deu_q_de_c_en"):
        held |= {_key(r[1]) for r in read_tsv(root / sub / "queries.tsv", header=False) if len(r) >= 2}
    german = _melo_corpus_labels(root / "deu_q_de_c_de")
    english = _melo_corpus_labels(root / "deu_q_de_c_en")
    uris = sorted(set(german) & set(english))
    queries: list[tuple[str, str]] = []
    for uri in uris:
        if not esco_dev_concept(uri):
            continue
        pref = _key(german[uri][0])
        seen = {pref}
        for label in german[uri][1:]:
            k = _key(label)
            if k not in seen and k not in held:
                seen.add(k)
                queries.append((label, uri))
    queries = sample(queries, n, seed)
    tasks = {}
    for task, labels in (("de-alt-dev", german), ("de-en-dev", english)):
        corpus = [labels[u][0] for u in uris]
        pos = {u: i for i, u in enumerate(uris)}
        tasks[task] = (corpus, [q for q, _ in queries], [{pos[u]: 1.0} for _, u in queries])
    return tasks


#: query language of each development task
TASK_LANGUAGE = {"onet-dev": "en", "esco-alt-dev": "en", "de-alt-dev": "de", "de-en-dev": "de"}


def best_weights(rows: list[dict], normalisation: str = DEFAULT_NORMALISATION) -> dict[str, tuple[float, float]]:
    """Per query language: (the weight of the best mean MRR over its tasks, that MRR), among the
    weighted fusions with ``normalisation``; ties go to the smaller weight."""
    per: dict[str, dict[float, list[float]]] = {}
    prefix = f"engine[{DEFAULT_FUSION},{normalisation},w="
    for r in rows:
        lang = TASK_LANGUAGE.get(r["subset"])
        if lang and r["system"].startswith(prefix):
            w = float(r["system"][len(prefix):-1])
            per.setdefault(lang, {}).setdefault(w, []).append(r["mrr"])
    out = {}
    for lang, by_w in per.items():
        w = min(by_w, key=lambda x: (-round(float(np.mean(by_w[x])), 4), x))
        out[lang] = (w, round(float(np.mean(by_w[w])), 4))
    return out


def _signals(encoder, corpus, queries):
    hm = HybridMatcher(encoder).fit(corpus)
    d = np.empty((len(queries), len(corpus)), dtype=np.float32)
    lx = np.empty_like(d)
    for rows, bd, bl in hm.signal_blocks(queries):
        d[rows], lx[rows] = bd, bl
    return d, lx


def run(data: Path, encoder, systems=None, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    n = limit or 2000
    on = Onet(data)
    oq = on.dev_queries(n)
    tasks = {"onet-dev": (on.corpus(False), oq, on.gains(oq))}
    esco = Esco(data)
    eq, eg = esco.alt_label_dev(n)
    tasks["esco-alt-dev"] = (esco.occ_labels, eq, eg)
    tasks.update(german_dev_tasks(data, n))
    rows = []
    per_setting: dict[str, list[float]] = {}
    per_language: dict[tuple[str, str], list[float]] = {}
    for task, (corpus, queries, gains) in tasks.items():
        d, lx = _signals(encoder, corpus, queries)
        for fusion, norm, w in grid():
            name = f"engine[{fusion},{norm},w={w:g}]" if fusion == "weighted" else f"engine[rrf,w={w:g}]"
            fused = fuse(d, lx, w, method=fusion, normalisation=norm)
            vals = {m: [] for m in METRICS}
            for i in range(len(queries)):
                ranked = np.argsort(-fused[i], kind="stable")
                for m in METRICS:
                    vals[m].append(compute_metric(m, ranked, gains[i]))
            row = {"system": name, "subset": task, "n": len(queries), **{m: round(M.mean(v), 4) for m, v in vals.items()}}
            rows.append(row)
            if TASK_LANGUAGE[task] == "en":
                per_setting.setdefault(name, []).append(row["mrr"])
            per_language.setdefault((name, TASK_LANGUAGE[task]), []).append(row["mrr"])
    for name, mrrs in per_setting.items():
        rows.append({"system": name, "subset": "mean", "mrr": round(float(np.mean(mrrs)), 4)})
    for (name, lang), mrrs in per_language.items():
        rows.append({"system": name, "subset": f"mean-{lang}", "mrr": round(float(np.mean(mrrs)), 4)})
    best = max(per_setting, key=lambda k: np.mean(per_setting[k]))
    log.info("best fusion on dev: %s (mean MRR %.4f)", best, np.mean(per_setting[best]))
    print(f"best fusion on the English development tasks: {best} (mean MRR {np.mean(per_setting[best]):.4f})")
    for lang, (w, mrr) in sorted(best_weights(rows).items()):
        tasks_of = ", ".join(t for t in tasks if TASK_LANGUAGE[t] == lang)
        print(f"best lexical weight for {lang} queries ({DEFAULT_NORMALISATION}; {tasks_of}): {w:g} (mean MRR {mrr:.4f})")
        rows.append({"system": "best-lexical-weight", "subset": lang, "lexical_weight": w, "mrr": mrr})
    return rows
