"""Closed vocabularies of the domain (FORMAT.md and DOMAIN.md).

Each tuple is the set of values a column may hold; importers validate against them and the
web forms build their choices from them.
"""

LICENCE_STATUSES = ("active", "suspended", "revoked")
RECRUITER_KINDS = ("enterprise", "local_government", "public_agency")
PROGRAMMES = ("titp", "ssw", "esd", "eps", "seasonal", "nursing", "general")
# Routes with a special fee cap (FORMAT.md job_orders.csv ``route``; DOMAIN.md fee table).
ROUTES = ("returned_trainee", "titp_stage3", "high_skill")
GENDERS_REQUIRED = ("any", "male", "female")
GENDERS = ("male", "female", "other")
EDUCATION_LEVELS = (
    "none",
    "primary",
    "lower_secondary",
    "upper_secondary",
    "vocational",
    "college",
    "university",
)
ORDER_STATUSES = ("open", "draft", "closed")
HOUSEHOLDS = ("poor", "near_poor")
LANGUAGE_TRAINING = ("none", "basic", "advanced")
ROLES = ("admin", "counsellor", "recruiter")
# kinds of a note on a worker's timeline (models.WorkerNote): a free note or a contact
NOTE_KINDS = ("note", "call", "visit", "zalo", "other")
# training records (models.TrainingCourse, models.Enrolment): a language or a skills course; its
# tier is what Plan 1244's targets count (basic: every departing worker; advanced: 15%)
COURSE_KINDS = ("language", "skill")
# documents kept with a worker's file (models.WorkerDocument)
DOCUMENT_KINDS = ("passport", "language_certificate", "health_check", "criminal_record", "contract", "other")
# after departure (models.AfterDeparture): how a worker came back, and why when early
RETURN_KINDS = ("at_term", "early")
EARLY_RETURN_REASONS = ("ill_treatment", "unpaid_wages", "health", "family", "absconded", "other")
COURSE_TIERS = ("basic", "advanced")
ENROLMENT_STATUSES = ("enrolled", "completed", "failed", "dropped")

# The application pipeline, in order; the last three are terminal.
STAGES = (
    "suggested",
    "shortlisted",
    "sent",  # sent to the recruiter: contact details become visible to it
    "interviewed",
    "selected",
    "departed",
    "rejected",
    "withdrawn",
)
TERMINAL_STAGES = ("departed", "rejected", "withdrawn")

# Allowed moves between stages; "rejected" and "withdrawn" may end any open stage.
STAGE_MOVES = {
    "suggested": ("shortlisted", "rejected", "withdrawn"),
    "shortlisted": ("sent", "suggested", "rejected", "withdrawn"),
    "sent": ("interviewed", "rejected", "withdrawn"),
    "interviewed": ("selected", "rejected", "withdrawn"),
    "selected": ("departed", "rejected", "withdrawn"),
    "departed": (),
    "rejected": (),
    "withdrawn": (),
}


def education_rank(level: str | None) -> int:
    """Position of an education level on the ordered scale; unknown or empty counts as 0."""
    try:
        return EDUCATION_LEVELS.index(level or "none")
    except ValueError:
        return 0
