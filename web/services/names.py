"""Every code's name, Vietnamese then English, as one flat table: for the pages (through
``web.views.i18n.label``) and for the workbooks and reports the services write."""

from __future__ import annotations

from models import labels
from models.ethnicities import ETHNICITIES
from models.reference import LANGUAGE_NAMES

# Names of the closed vocabularies' codes (models.labels), Vietnamese then English: one flat
# table for ``label(code)`` where a code says which vocabulary it is from (earlier vocabularies
# win a shared code: "none" is the education level's name).
LABELS: dict[str, tuple[str, str]] = {}
for _vocab in (labels.ROLES, labels.LICENCE_STATUSES, labels.ORDER_STATUSES, labels.STAGES, labels.GENDERS,
               labels.EDUCATION, labels.HOUSEHOLDS, labels.LANGUAGE_TRAINING, labels.PROGRAMMES,
               labels.ROUTES, labels.RECRUITER_KINDS, labels.DOCUMENT_KINDS, labels.RETURN_KINDS,
               labels.EARLY_RETURN_REASONS,
               labels.COURSE_KINDS, labels.ENROLMENT_STATUSES):
    for _code, _pair in _vocab.names.items():
        LABELS.setdefault(_code, _pair)

# code -> (Vietnamese, English) for every country (models.labels.COUNTRIES), for callers that
# want the table itself; pages call country(code)
COUNTRIES = labels.COUNTRIES.names

# language codes (course languages): the names matcher.insights gives them
LABELS.update({code: names for code, names in LANGUAGE_NAMES.items() if code not in LABELS})

# the 54 ethnic groups: the official Vietnamese name is the value, English its label in English
LABELS.update({e.vi: (e.vi, e.en) for e in ETHNICITIES if e.vi not in LABELS})
