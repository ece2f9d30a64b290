"""models.labels: every code a person reads has a Vietnamese and an English name, in one table
per vocabulary, and typed names read back as the codes (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models import enums, labels

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "vocab, codes",
    [
        (labels.ROLES, enums.ROLES),
        (labels.LICENCE_STATUSES, enums.LICENCE_STATUSES),
        (labels.ORDER_STATUSES, enums.ORDER_STATUSES),
        (labels.STAGES, enums.STAGES),
        (labels.GENDERS, (*enums.GENDERS, *enums.GENDERS_REQUIRED)),
        (labels.EDUCATION, enums.EDUCATION_LEVELS),
        (labels.HOUSEHOLDS, enums.HOUSEHOLDS),
        (labels.LANGUAGE_TRAINING, enums.LANGUAGE_TRAINING),
        (labels.PROGRAMMES, enums.PROGRAMMES),
        (labels.ROUTES, enums.ROUTES),
        (labels.RECRUITER_KINDS, enums.RECRUITER_KINDS),
        (labels.NOTE_KINDS, enums.NOTE_KINDS),
    ],
)
def test_every_code_has_two_names(vocab, codes):
    for code in codes:
        vi, en = vocab.pair(code)
        assert vi and en and vi != code, (vocab.name, code)
        assert vocab.read(code) == code  # the code itself is always accepted


def test_every_audited_action_has_a_name():
    """Scan the code for the actions it writes to the audit log: each one is named."""
    pattern = re.compile(r'(?:(?:\brecord|\baudit)\(\s*(?:[\w.()]+\s*,\s*){0,2}|\b_audit\(\s*(?:[\w.()]+\s*,\s*){3})f?"([a-z_{}]+)"')
    found: set[str] = set()
    for package in ("web", "data"):
        for path in (ROOT / package).rglob("*.py"):
            for action in pattern.findall(path.read_text(encoding="utf-8")):
                if "{" not in action:
                    found.add(action)
    found |= {"import", "consent_grant", "consent_revoke", "deactivate"}  # built from parts
    assert {"login", "view", "view_candidates", "stage", "erase"} <= found
    missing = sorted(a for a in found if a not in labels.AUDIT_ACTIONS)
    assert missing == [], "give these audit actions a Vietnamese and an English name in models.labels.AUDIT_ACTIONS"


def test_country_names_come_from_cldr_with_the_centres_spelling():
    assert labels.COUNTRIES.pair("JP") == ("Nhật Bản", "Japan")
    assert labels.COUNTRIES.pair("KR") == ("Hàn Quốc", "Korea")
    assert labels.COUNTRIES.pair("TW") == ("Đài Loan", "Taiwan")
    assert labels.COUNTRIES.pair("DE") == ("Đức", "Germany")
    assert labels.COUNTRIES.label("RO") == "Romania" and labels.COUNTRIES.label("PL") == "Ba Lan"
    assert labels.COUNTRIES.label("XX") == "XX"  # an unknown code is shown as it is


def test_names_inside_sentences():
    assert labels.EDUCATION.phrase("vocational") == "trung cấp nghề"
    assert labels.EDUCATION.phrase("upper_secondary") == "THPT"  # an abbreviation keeps its capitals
    assert labels.GENDERS.phrase("female") == "nữ" and labels.GENDERS.phrase("female", "en") == "female"
    assert labels.COUNTRIES.phrase("JP") == "Nhật Bản"  # a proper name keeps its capitals


def test_every_allocation_method_has_a_name():
    source = (ROOT / "matcher" / "allocate.py").read_text(encoding="utf-8")
    methods = set(re.findall(r'method = "([^"]+)"', source))
    assert len(methods) == 3 and methods <= set(labels.ALLOCATION_METHODS.names)


def test_every_audited_record_type_has_a_name():
    pattern = re.compile(r'(?:(?:\brecord|\baudit)\(\s*(?:[\w.()]+\s*,\s*){0,2}|\b_audit\(\s*(?:[\w.()]+\s*,\s*){3})f?"[a-z_{}]+"\s*(?:if [^,]+)?,\s*"([a-z_]+)"')
    found: set[str] = set()
    for package in ("web", "data"):
        for path in (ROOT / package).rglob("*.py"):
            found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert {"worker", "order", "user", "application"} <= found
    missing = sorted(e for e in found if e not in labels.AUDIT_ENTITIES)
    assert missing == [], "give these record types a name in models.labels.AUDIT_ENTITIES"
