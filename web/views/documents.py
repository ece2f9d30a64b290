"""Documents with expiry (issue 17): passport, language certificate, health check,
criminal-record extract, contract, each with its number, dates and an optional scan.

Scans are personal data kept with the centre (Decree 13/2023/ND-CP): a PDF, JPEG or PNG
(checked by content, not by the name the browser gives) of at most ``MAX_BYTES``, written under
``INSTANCE/documents`` (folder 700, file 600) with a random name; served only to staff, as a
download, audited at upload, view and removal, and erased with the worker (``erase_files``).
Documents expiring within 60 days appear in the to-do list (``web.views.todo``).
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, request, send_file, url_for

from models import WorkerDocument
from models.enums import DOCUMENT_KINDS
from web.views.audit import record
from web.views.auth import current_user, role_required
from web.views.db import get_session, today
from web.services.errors import NotFound
from web.views.i18n import t
from web.views.params import form_dates
from web.services.documents import document_dir, sniff, store

bp = Blueprint("documents", __name__, url_prefix="/counsellor")
STAFF = ("counsellor", "admin")
MAX_BYTES = 5 * 1024 * 1024


def parse_document(form, files) -> tuple[dict, bytes | None, dict[str, tuple[str, str]]]:
    """The document's fields, the scan's bytes (or None) and the errors by field."""
    errors: dict[str, tuple[str, str]] = {}
    values: dict = {}
    kind = form.get("kind") or ""
    if kind not in DOCUMENT_KINDS:
        errors["kind"] = ("Hãy chọn loại giấy tờ.", "Choose the kind of document.")
    values["kind"] = kind
    values["number"] = (form.get("number") or "").strip()[:60] or None
    form_dates(form, ("issued_on", "expires_on"), values, errors)
    if values.get("issued_on") and values["issued_on"] > today():
        errors["issued_on"] = ("Ngày cấp không được ở tương lai.", "The issue date cannot be in the future.")
    if values.get("issued_on") and values.get("expires_on") and values["expires_on"] <= values["issued_on"]:
        errors["expires_on"] = ("Ngày hết hạn phải sau ngày cấp.", "The expiry must be after the issue date.")
    values["note"] = (form.get("note") or "").strip()[:500] or None
    upload = files.get("file")
    data = None
    if upload is not None and upload.filename:
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            errors["file"] = (f"Tệp quá lớn (tối đa {MAX_BYTES // (1024 * 1024)} MB).",
                              f"The file is too large (at most {MAX_BYTES // (1024 * 1024)} MB).")
        elif not data:
            errors["file"] = ("Tệp rỗng.", "The file is empty.")
        elif sniff(data) is None:
            errors["file"] = ("Chỉ nhận bản chụp PDF, JPEG hoặc PNG.", "Only a PDF, JPEG or PNG scan is accepted.")
        values["file_name"] = Path(upload.filename).name[:200]
    if data is None and not values["number"] and not values.get("expires_on") and "kind" not in errors:
        errors["file"] = ("Hãy tải lên bản chụp hoặc nhập số và ngày hết hạn.", "Upload a scan or enter the number and expiry.")
    return values, data, errors


def _doc(doc_id: int) -> WorkerDocument:
    d = get_session().get(WorkerDocument, doc_id)
    if d is None:
        raise NotFound("Không tìm thấy giấy tờ.", "No such document.")
    return d


@bp.route("/workers/<wid>/documents", methods=["POST"])
@role_required(*STAFF)
def add(wid: str):
    from web.views.counsellor import _worker_page, load_worker

    w = load_worker(wid)
    values, data, errors = parse_document(request.form, request.files)
    if errors:
        return _worker_page(wid, document={"values": request.form, "errors": errors}, status=422)
    s = get_session()
    doc = store(s, current_app.instance_path, w.worker_id, values, data, current_user().username)
    record("document_upload", "worker", wid, document=doc.id, kind=doc.kind, size=doc.size, sha256=doc.sha256)
    s.commit()
    flash(t("Đã lưu giấy tờ.", "Document saved."))
    return redirect(url_for("counsellor.worker", wid=wid) + "#documents")


@bp.route("/documents/<int:doc_id>")
@role_required(*STAFF)
def download(doc_id: int):
    d = _doc(doc_id)
    if not d.stored_name:
        raise NotFound("Giấy tờ này không có bản chụp.", "This document has no scan.")
    path = document_dir(current_app.instance_path) / d.stored_name
    if not path.is_file():
        raise NotFound("Không tìm thấy bản chụp.", "The scan is missing.")
    record("document_view", "worker", d.worker_id, document=d.id, kind=d.kind)
    get_session().commit()
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=d.content_type, as_attachment=True,  # <= 5 MB
                         download_name=d.file_name or f"{d.kind}-{d.id}{Path(d.stored_name).suffix}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/documents/<int:doc_id>/delete", methods=["POST"])
@role_required(*STAFF)
def remove(doc_id: int):
    s = get_session()
    d = _doc(doc_id)
    wid = d.worker_id
    if d.stored_name:
        (document_dir(current_app.instance_path) / d.stored_name).unlink(missing_ok=True)
    record("document_delete", "worker", wid, document=d.id, kind=d.kind)
    s.delete(d)
    s.commit()
    flash(t("Đã xóa giấy tờ.", "Document removed."))
    return redirect(url_for("counsellor.worker", wid=wid) + "#documents")
