"""TalentCLEF 2025 task A, validation split: rank corpus job titles for a job title.

Subsets
-------
* ``en``, ``de``, ``es``: monolingual, whole corpus ranked, as distributed ("as-is").
* ``en-noself``, ``de-noself``, ``es-noself``: the same after removing every corpus entry
  identical to the query (case-insensitive, surrounding spaces ignored). The rule looks at the
  texts only, never at the labels (BASELINES.md: every de/es query and 32 en queries also sit
  word for word in their corpus, mostly unjudged). A removed entry that was judged relevant
  leaves the relevant set too; queries left with nothing relevant are skipped (``n``).
* ``en>en+de+es``: English queries against the pooled en+de+es validation corpora, English
  qrels. The validation data has no cross-lingual judgements (each language has its own
  query set, corpus ids and qrels, with no shared concept ids), so a true en->de or en->es
  score cannot be computed; the pooled setting measures whether German and Spanish titles
  (unjudged, counted as not relevant) crowd out the English answers. Translations of a
  relevant title ranked high are penalised here, so read it as a language-robustness check,
  not as cross-lingual retrieval quality.

Metrics: MAP (official), MRR, P@5, Acc@1.
"""

from __future__ import annotations

import logging
from pathlib import Path

from evaluation.benchmarks.common import Variant, read_qrels, read_tsv, resolve, run_systems, sample

log = logging.getLogger(__name__)

NAME = "talentclef"
FOLDER = "talentclef2025-taskA"
LANGS = {"en": "english", "de": "german", "es": "spanish"}
METRICS = ("map", "mrr", "p@5", "acc@1")

# BASELINES.md (measured on this kind of machine, 2026-11-26), validation, as-is.
_BASE = {
    "char": {"en": (.357, .743, .596), "de": (.260, .490, .505), "es": (.309, .550, .625)},
    "word": {"en": (.285, .711, .533), "de": (.063, .462, .272), "es": (.164, .471, .484)},
    "mE5-s": {"en": (.442, .761, .610), "de": (.287, .506, .509), "es": (.344, .548, .614)},
    "MiniLM": {"en": (.497, .764, .676), "de": (.209, .484, .459)},
}
_BASE_NOSELF_MRR = {
    "char": {"en": .855, "de": .585, "es": .973},
    "word": {"en": .821, "de": .443, "es": .786},
    "mE5-s": {"en": .879, "de": .619, "es": .959},
    "MiniLM": {"en": .876, "de": .590},
}


def reference_rows() -> list[dict]:
    rows = []
    for system, per_lang in _BASE.items():
        for lang, (m, r, p) in per_lang.items():
            rows.append({"system": f"baselines.md:{system}", "subset": lang, "map": m, "mrr": r, "p@5": p})
    for system, per_lang in _BASE_NOSELF_MRR.items():
        for lang, r in per_lang.items():
            rows.append({"system": f"baselines.md:{system}", "subset": f"{lang}-noself", "mrr": r})
    # benchmarks README: fifth of twenty teams, TEST set, mean of en/es/de - not comparable
    rows.append({"system": "published:TalentCLEF-rank5", "subset": "test-mean (not comparable)", "map": 0.492})
    return rows


def load_language(root: Path, lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict]:
    """(queries [(qid, text)], corpus [(cid, text)], qrels {qid: {cid: grade}}) of one language."""
    d = root / "validation" / LANGS[lang]
    queries = [(r[0], r[1]) for r in read_tsv(d / "queries") if len(r) >= 2]
    corpus = [(r[0], r[1]) for r in read_tsv(d / "corpus_elements") if len(r) >= 2]
    return queries, corpus, read_qrels(d / "qrels.tsv")


def _key(s: str) -> str:
    return " ".join(s.casefold().split())


def run(data: Path, encoder, systems, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    root = resolve(data, FOLDER, "validation")
    rows: list[dict] = []
    pooled_corpus: list[tuple[str, str, str]] = []  # (lang, cid, text)
    loaded = {lang: load_language(root, lang) for lang in LANGS}
    for lang, (_, corpus, _) in loaded.items():
        pooled_corpus += [(lang, cid, text) for cid, text in corpus]

    for lang, (queries, corpus, qrels) in loaded.items():
        queries = sample([q for q in queries if q[0] in qrels], limit)
        pos = {cid: i for i, (cid, _) in enumerate(corpus)}
        texts = [t for _, t in corpus]
        by_key: dict[str, set[int]] = {}
        for i, t in enumerate(texts):
            by_key.setdefault(_key(t), set()).add(i)
        gains = [{pos[c]: g for c, g in qrels[qid].items() if c in pos} for qid, _ in queries]
        exclude = [by_key.get(_key(q), set()) for _, q in queries]

        def variants(lang=lang, gains=gains, exclude=exclude):
            return [Variant(lang, gains, METRICS), Variant(f"{lang}-noself", gains, METRICS, exclude=exclude)]

        rows += run_systems(systems, encoder, texts, [q for _, q in queries], variants, label=f"talentclef {lang}",
                            progress=progress)

    # pooled corpus, English queries
    queries, _, qrels = loaded["en"]
    queries = sample([q for q in queries if q[0] in qrels], limit)
    pos = {cid: i for i, (lang, cid, _) in enumerate(pooled_corpus) if lang == "en"}
    gains = [{pos[c]: g for c, g in qrels[qid].items() if c in pos} for qid, _ in queries]
    rows += run_systems(systems, encoder, [t for *_, t in pooled_corpus], [q for _, q in queries],
                        lambda: [Variant("en>en+de+es", gains, METRICS)], label="talentclef pooled",
                        progress=progress)
    return rows
