"""A worker's identity and travel documents (passport, health check, police record...): the
stored scans and their rows. The scans live in the instance's private folder, never under static/."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import WorkerDocument
from web.services.uploads import FILE_MODE, private_dir

# content signature -> (extension, MIME type)
SIGNATURES = ((b"%PDF-", ".pdf", "application/pdf"), (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
              (b"\x89PNG\r\n\x1a\n", ".png", "image/png"))


def document_dir(instance_path: str | os.PathLike) -> Path:
    return private_dir(instance_path, "documents")


def sniff(data: bytes) -> tuple[str, str] | None:
    """(extension, MIME type) of a PDF, JPEG or PNG by its first bytes; ``None`` otherwise."""
    for magic, ext, mime in SIGNATURES:
        if data.startswith(magic):
            return ext, mime
    return None


def store(s: Session, instance_path: str | os.PathLike, wid: str, values: dict, data: bytes | None,
          by: str) -> WorkerDocument:
    """Add a document row for worker ``wid``, writing the scan (if any) under a random name."""
    doc = WorkerDocument(worker_id=wid, kind=values["kind"], number=values["number"], issued_on=values["issued_on"],
                         expires_on=values["expires_on"], note=values["note"], uploaded_by=by)
    if data is not None:
        ext, mime = sniff(data)
        doc.stored_name = f"{secrets.token_hex(16)}{ext}"
        path = document_dir(instance_path) / doc.stored_name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        doc.file_name, doc.content_type, doc.size = values.get("file_name"), mime, len(data)
        doc.sha256 = hashlib.sha256(data).hexdigest()
    s.add(doc)
    s.flush()
    return doc


def erase_files(s: Session, instance_path: str | os.PathLike, wid: str) -> int:
    """Delete the worker's document rows and their stored scans; how many documents."""
    docs = s.scalars(select(WorkerDocument).where(WorkerDocument.worker_id == wid)).all()
    for d in docs:
        if d.stored_name:
            (document_dir(instance_path) / d.stored_name).unlink(missing_ok=True)
        s.delete(d)
    s.flush()
    return len(docs)
