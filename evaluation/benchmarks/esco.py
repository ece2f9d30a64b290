"""ESCO v1.1.1 (English): skills for an occupation, and occupations for a skill set.

* ``occupation->skills``: query = an occupation's preferred label; corpus = the preferred labels
  of all 13,896 skills; gains essential = 2, optional = 1 (occupationSkillRelations.csv).
  Metrics nDCG@10 (graded), MAP (essential and optional both relevant), Recall@10.
* ``skills->occupation``: query = the occupation's essential skills (preferred labels, sorted,
  at most ``MAX_SKILLS``, joined with "; "); corpus = the preferred labels of all occupations;
  relevant = that occupation. Metrics MRR, Acc@1, nDCG@10, MAP.

No published figures exist for these two tasks on this data.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from evaluation.benchmarks.common import Variant, resolve, run_systems, sample

NAME = "esco-skills"
FOLDER = "esco-v1.1.1"
CLASSIFICATION = "esco_v1.1.1_classification_en_csv.zip"
RELATIONS = "esco_v1.1.1_relations_csv.zip"
MAX_SKILLS = 12


def reference_rows() -> list[dict]:
    return []


def _read_zip_csv(zpath: Path, member: str) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(zpath) as z, z.open(member) as f:
        return list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8-sig", newline="")))


class Esco:
    """Occupations, skills and their essential/optional relations."""

    def __init__(self, data: Path):
        root = resolve(data, FOLDER, CLASSIFICATION)
        occ = _read_zip_csv(root / CLASSIFICATION, "occupations_en.csv")
        skills = _read_zip_csv(root / CLASSIFICATION, "skills_en.csv")
        rel = _read_zip_csv(root / RELATIONS, "occupationSkillRelations.csv")
        self.occ_uris = [r["conceptUri"] for r in occ]
        self.occ_labels = [r["preferredLabel"] for r in occ]
        self.occ_alt = [[a.strip() for a in r.get("altLabels", "").split("\n") if a.strip()] for r in occ]
        self.skill_uris = [r["conceptUri"] for r in skills]
        self.skill_labels = [r["preferredLabel"] for r in skills]
        skill_pos = {u: i for i, u in enumerate(self.skill_uris)}
        grade = {"essential": 2.0, "optional": 1.0}
        self.skills_of: dict[str, dict[int, float]] = {}
        for r in rel:
            s = skill_pos.get(r["skillUri"])
            g = grade.get(r["relationType"])
            if s is None or g is None:
                continue
            d = self.skills_of.setdefault(r["occupationUri"], {})
            d[s] = max(d.get(s, 0.0), g)

    def occupation_queries(self) -> list[int]:
        """Occupation positions having at least one related skill."""
        return [i for i, u in enumerate(self.occ_uris) if self.skills_of.get(u)]

    def skill_set_text(self, occ_index: int) -> str:
        ess = sorted(self.skill_labels[s] for s, g in self.skills_of[self.occ_uris[occ_index]].items() if g >= 2)
        return "; ".join(ess[:MAX_SKILLS])

    def alt_label_dev(self, n: int = 2000, seed: int = 2) -> tuple[list[str], list[dict[int, float]]]:
        """Alternative labels -> occupation (preferred label corpus): a development task."""
        pref = {s.casefold() for s in self.occ_labels}
        owners: dict[str, set[int]] = {}
        for i, alts in enumerate(self.occ_alt):
            for a in alts:
                if a.casefold() not in pref:
                    owners.setdefault(a, set()).add(i)
        labels = sample(sorted(owners), n, seed=seed)
        return labels, [{i: 1.0 for i in owners[a]} for a in labels]


def run(data: Path, encoder, systems, limit: int | None = None, progress: bool = True, **_) -> list[dict]:
    esco = Esco(data)
    occ = sample(esco.occupation_queries(), limit)
    rows: list[dict] = []
    q1 = [esco.occ_labels[i] for i in occ]
    g1 = [esco.skills_of[esco.occ_uris[i]] for i in occ]
    rows += run_systems(systems, encoder, esco.skill_labels, q1,
                        lambda: [Variant("occupation->skills", g1, ("ndcg@10", "map", "recall@10"))],
                        label="esco occ->skills", progress=progress)
    occ2 = [i for i in occ if esco.skill_set_text(i)]
    q2 = [esco.skill_set_text(i) for i in occ2]
    g2 = [{i: 1.0} for i in occ2]
    rows += run_systems(systems, encoder, esco.occ_labels, q2,
                        lambda: [Variant("skills->occupation", g2, ("mrr", "acc@1", "ndcg@10", "map"))],
                        label="esco skills->occ", progress=progress)
    return rows
