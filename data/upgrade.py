"""Data fixes for databases created before a rule existed; each is idempotent and reports what
it changed. ``matcher init`` runs them after creating the schema (and a migration may call them).

- :func:`migrate_ethnicities`: free-text ethnicity values ("Tay", "H'Mong", "Nung") become the
  official names of ``models.ethnicities``; values that name none of the 54 groups are left as
  they are and listed, for a counsellor to correct.
- :func:`refresh_search_text`: fills ``workers.search_text`` (the worker search) where it is
  missing or stale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Worker
from models.entities import utcnow, worker_search_text
from models.ethnicities import official_ethnicity


@dataclass
class EthnicityMigration:
    changed: Counter = field(default_factory=Counter)  # (old, new) -> workers
    unknown: Counter = field(default_factory=Counter)  # value -> workers, left unchanged

    @property
    def workers_changed(self) -> int:
        return sum(self.changed.values())

    def lines(self) -> list[str]:
        out = [f"ethnicity {old!r} -> {new!r}: {n} worker(s)" for (old, new), n in sorted(self.changed.items())]
        out += [f"ethnicity {v!r} is none of the 54 groups, left unchanged: {n} worker(s)"
                for v, n in sorted(self.unknown.items())]
        return out


def migrate_ethnicities(session: Session) -> EthnicityMigration:
    """Rewrite every stored ethnicity to its official name (one UPDATE per distinct value)."""
    report = EthnicityMigration()
    counts = Counter(v for (v,) in session.execute(select(Worker.ethnicity).where(Worker.ethnicity.is_not(None))))
    for value, n in counts.items():
        if not value.strip():
            new = None
        else:
            new = official_ethnicity(value)
            if new is None:
                report.unknown[value] += n
                continue
        if new != value:
            session.execute(update(Worker).where(Worker.ethnicity == value).values(ethnicity=new, updated_at=utcnow())
                            .execution_options(synchronize_session=False))
            report.changed[(value, new)] += n
    return report


def refresh_search_text(session: Session) -> int:
    """Recompute ``search_text`` of every worker whose stored value differs; returns how many."""
    rows = session.execute(select(Worker.worker_id, Worker.full_name, Worker.commune, Worker.phone,
                                  Worker.national_id, Worker.skills, Worker.search_text)).all()
    changed = 0
    for wid, name, commune, phone, nid, skills, stored in rows:
        text = worker_search_text(wid, name, commune, phone, nid, skills)
        if text != stored:
            session.execute(update(Worker).where(Worker.worker_id == wid).values(search_text=text)
                            .execution_options(synchronize_session=False))
            changed += 1
    return changed
