"""Write to the audit log from a request: who did what to which record.

Thin wrapper over ``data.repo.audit`` that fills in the signed-in user; the caller commits
(together with the change it records, so a change is never stored without its audit line).
"""

from __future__ import annotations

from typing import Any

from flask import g

from models import labels
from web.views.db import get_session


def via() -> str | None:
    """How the signed-in user came: "api_token" for the API's tokens, None for a session."""
    return "api_token" if g.get("via_token") else None


def record(action: str, entity: str, entity_id: str | int | None, by: str | None = None, **detail: Any) -> None:
    from data.repo import audit

    user = g.get("user")
    username = by or (user.username if user is not None else None)
    if via():
        detail.setdefault("via", via())
    audit(get_session(), username, action, entity, None if entity_id is None else str(entity_id), **detail)


# Lists longer than this are audited by count and digest only (the digest of the sorted ids
# identifies the exact set for an inquiry, without filling the log).
BULK_IDS_SHOWN = 100


def record_bulk_read(page: str, entity: str, ids: list[str], **detail: Any) -> None:
    """Audit a read of many people's data at once (Decree 13/2023: who read which profiles, when):
    a worker list, a ranked list of workers, an allocation run, a bulk API read. Commits, since a
    read changes nothing else."""
    import hashlib

    unique = sorted(set(ids))
    digest = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16]
    shown = unique if len(unique) <= BULK_IDS_SHOWN else None
    record("view_list", entity, None, page=page, count=len(unique), digest=digest, ids=shown, **detail)
    get_session().commit()


# How the audit page names the keys of an event's detail (Vietnamese, English); other keys
# are shown as they are stored.
DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "page": ("trang", "page"),
    "workers": ("người lao động", "workers"),
    "ids": ("mã", "ids"),
    "count": ("số lượng", "count"),
    "digest": ("dấu vân tay danh sách", "list digest"),
    "worker_id": ("người lao động", "worker"),
    "order_id": ("đơn hàng", "order"),
    "recruiter_id": ("doanh nghiệp", "enterprise"),
    "name": ("tên", "name"),
    "role": ("vai trò", "role"),
    "status": ("trạng thái", "status"),
    "from_stage": ("từ giai đoạn", "from stage"),
    "to_stage": ("sang giai đoạn", "to stage"),
    "fields": ("các ô đã sửa", "fields changed"),
    "file": ("tệp", "file"),
    "total_rows": ("số dòng", "rows"),
    "created": ("tạo mới", "created"),
    "updated": ("cập nhật", "updated"),
    "unchanged": ("không đổi", "unchanged"),
    "errors": ("lỗi", "errors"),
    "error_messages": ("thông báo lỗi", "error messages"),
    "partial": ("nhập một phần", "partial"),
    "skipped": ("bỏ qua", "skipped"),
    "reason": ("lý do", "reason"),
    "username_tried": ("tên đăng nhập đã thử", "username tried"),
    "minutes": ("số phút", "minutes"),
    "verified_on": ("ngày xác minh", "verified on"),
    "effective_date": ("ngày hiệu lực", "effective date"),
    "licence_no": ("số giấy phép", "licence number"),
    "consent_date": ("ngày đồng ý", "consent date"),
    "scope": ("phạm vi", "scope"),
    "merged": ("hồ sơ đã gộp", "merged profile"),
    "kept": ("hồ sơ giữ lại", "profile kept"),
    "via": ("qua", "via"),
    "kind": ("loại", "kind"),
    "note_id": ("ghi chú số", "note no."),
    "course_id": ("lớp", "course"),
    "from_status": ("từ trạng thái", "from status"),
    "to_status": ("sang trạng thái", "to status"),
    "level_reached": ("bậc đạt được", "level reached"),
    "certificate": ("chứng chỉ", "certificate"),
    "rows": ("số dòng", "rows"),
    "verified": ("đã xác minh", "verified"),
    "language": ("ngôn ngữ", "language"),
    "tier": ("cấp độ", "tier"),
    "need": ("nhu cầu", "need"),
}
# Values of the detail that are codes of a vocabulary (models.labels), by key: the first of the
# vocabularies that holds the value names it.
_DETAIL_VOCABULARY: dict[str, tuple[str, ...]] = {
    "role": ("role",), "status": ("licence_status",), "from_stage": ("stage",), "to_stage": ("stage",),
    "kind": ("note_kind", "course_kind"), "from_status": ("enrolment_status",), "to_status": ("enrolment_status",),
}
LIST_SHOWN = 5  # items of a list shown on the page; the rest are counted


def detail_items(detail: dict[str, Any] | None, lang: str = "vi") -> list[tuple[str, str, str]]:
    """An event's detail for the audit page: (key as stored, key named in ``lang``, value as
    text), lists shortened to their first items and a count, codes named ("to_stage":
    "selected" -> "Trúng tuyển"), booleans as có/không."""
    out = []
    for k, v in (detail or {}).items():
        name = DETAIL_LABELS.get(k, (k, k))[1 if lang == "en" else 0]
        vocab = next((labels.VOCABULARIES[n] for n in _DETAIL_VOCABULARY.get(k, ())
                      if isinstance(v, str) and v in labels.VOCABULARIES[n]), None)
        if isinstance(v, bool):
            text = ("yes" if v else "no") if lang == "en" else ("có" if v else "không")
        elif isinstance(v, (list, tuple)):
            shown = ", ".join(map(str, v[:LIST_SHOWN]))
            more = len(v) - LIST_SHOWN
            text = shown + (f" … (+{more})" if more > 0 else "") if v else "—"
        elif vocab is not None:
            text = vocab.label(v, lang)
        else:
            text = "—" if v is None else str(v)
        out.append((k, name, text))
    return out
