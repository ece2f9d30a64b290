"""Pending spreadsheet uploads: the file an import preview keeps until it is stored or cancelled.

Such a file holds personal data (names, CCCĐ, phones), so it does not linger (issue 14, item 10):
it lives in ``INSTANCE/uploads`` (mode 700) as ``TOKEN.EXT`` (mode 600); it is deleted when the
import is stored or cancelled, when it is older than ``PREVIEW_LIFETIME`` (checked on every upload
and when the app starts), and when a worker it mentions is erased (:func:`remove_mentioning`).
No Flask here: the pages and the ``matcher`` command share these functions.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import os
import time
import unicodedata
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

PREVIEW_LIFETIME = dt.timedelta(hours=1)
DIR_MODE = 0o700
FILE_MODE = 0o600


def upload_dir(instance_path: str | os.PathLike) -> Path:
    """The uploads folder, created if needed, readable by the service's user only."""
    return private_dir(instance_path, "uploads")


def private_dir(instance_path: str | os.PathLike, name: str) -> Path:
    """A folder of the instance holding personal data (uploads, document scans): created if
    needed with mode 700, and put back to 700 if someone widened it."""
    d = Path(instance_path) / name
    d.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if (d.stat().st_mode & 0o777) != DIR_MODE:
        d.chmod(DIR_MODE)
    return d


def upload_path(instance_path: str | os.PathLike, token: str, ext: str) -> Path:
    return upload_dir(instance_path) / f"{token}{ext}"


def save_upload(instance_path: str | os.PathLike, token: str, ext: str, data: bytes) -> Path:
    """Write a new pending upload with mode 600 (never readable by others, even for a moment)."""
    path = upload_path(instance_path, token, ext)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def discard(instance_path: str | os.PathLike, token: str, ext: str) -> bool:
    """Delete one pending upload; whether there was one."""
    path = upload_path(instance_path, token, ext)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def remove_stale(instance_path: str | os.PathLike, max_age: dt.timedelta = PREVIEW_LIFETIME,
                 now: float | None = None) -> list[str]:
    """Delete the pending uploads last written more than ``max_age`` ago; their names."""
    d = upload_dir(instance_path)
    cutoff = (now if now is not None else time.time()) - max_age.total_seconds()
    removed = []
    for path in d.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:  # removed meanwhile by another process
            continue
    if removed:
        log.info("removed %d stale upload preview(s)", len(removed))
    return removed


def _fold(text: str) -> str:
    """NFC, case-folded, every run of white space one space."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _text_of(path: Path) -> str:
    """The file's text as a search haystack: CSV as text, a workbook as the text of its XML parts
    (shared and inline strings, numbers), entities decoded."""
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts = [archive.read(i).decode("utf-8", "replace") for i in archive.infolist()
                         if i.filename.endswith(".xml")]
        except (zipfile.BadZipFile, OSError, RuntimeError):
            parts = [data.decode("utf-8", "replace")]
        return _fold(html.unescape("\n".join(parts)))
    return _fold(data.decode("utf-8-sig", "replace"))


def remove_mentioning(instance_path: str | os.PathLike, full_name: str | None, national_id: str | None) -> int:
    """Delete every pending upload, and every file of a background job (a report workbook, a
    large import's input: ``INSTANCE/jobs``), that contains the worker's name or CCCĐ (also as a
    number cell, which drops its leading zeros); how many. Used when a worker is erased."""
    needles = []
    if full_name and full_name.strip():
        needles.append(_fold(full_name))
    if national_id and national_id.strip():
        nid = national_id.strip()
        needles.append(nid.lstrip("0") if len(nid.lstrip("0")) >= 9 else nid)
    if not needles:
        return 0
    count = 0
    files = [*upload_dir(instance_path).iterdir(), *private_dir(instance_path, "jobs").iterdir()]
    for path in files:
        try:
            if path.is_file() and any(n in _text_of(path) for n in needles):
                path.unlink()
                count += 1
        except FileNotFoundError:
            continue
    return count
