"""The domain: mapped classes, closed vocabularies and reference tables (the leaf package)."""

from models.entities import (
    Application,
    AuditEvent,
    Base,
    ConsentEvent,
    ExchangeRate,
    JobOrder,
    LanguageCertificate,
    LicenceStatusChange,
    Recruiter,
    Enrolment,
    StageEvent,
    TrainingCourse,
    User,
    Worker,
    WorkerNote,
    is_active_worker,
)

__all__ = [
    "Application",
    "AuditEvent",
    "Base",
    "ConsentEvent",
    "ExchangeRate",
    "JobOrder",
    "LanguageCertificate",
    "LicenceStatusChange",
    "Recruiter",
    "Enrolment",
    "StageEvent",
    "TrainingCourse",
    "User",
    "Worker",
    "WorkerNote",
    "is_active_worker",
]
