"""Training records that back Plan 1244's targets: classes (language or trade skill, the level they
aim at, basic or advanced tier, dates, provider), each worker's enrolment and result.

A counsellor opens a class by hand or straight from a training need (its workers enrolled at
once), enrols more workers by id, and records the results in one form. A completed class raises
the worker's profile (``language_training`` to the class's tier, and a certificate written in
the result, such as "JLPT N4 (2026-11)", joins the worker's certificates and so every ranking).
The dashboard's and the period report's 100% / 15% indicators are computed from these records by
``web.services.stats.training_standing``. Every change is audited.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from data.formats import Column
from models.reference import LANGUAGE_NAMES
from models import Enrolment, LanguageCertificate, TrainingCourse, Worker, is_active_worker
from models.enums import COURSE_KINDS, COURSE_TIERS, ENROLMENT_STATUSES, LANGUAGE_TRAINING
from models.languages import CertificateError, parse_certificate
from web.views.audit import record
from web.views.auth import current_user, role_required
from web.views.db import get_session, today
from web.views.engine import get_engine
from web.services.errors import Conflict, NotFound
from web.services.forms import Field, Form
from web.views.i18n import t
from web.views.params import page_arg

bp = Blueprint("training", __name__, url_prefix="/training")
STAFF = ("counsellor", "admin")
PAGE = 50
MAX_IDS = 500  # worker ids one enrolment form may carry


class CourseForm(Form):
    fields = (
        Field(Column("name", required=True, max_length=200), "Tên lớp", "Course name"),
        Field(Column("kind", "enum", required=True, allowed=COURSE_KINDS, default="language"), "Loại lớp", "Kind", "select"),
        Field(Column("language", "enum", allowed=tuple(LANGUAGE_NAMES)), "Ngôn ngữ", "Language", "select",
              "Bắt buộc với lớp ngoại ngữ.", "Required for a language course."),
        Field(Column("target_level", max_length=60), "Trình độ mục tiêu", "Target level", "text",
              "Ví dụ JLPT N4, TOPIK 2, A2.", "For example JLPT N4, TOPIK 2, A2."),
        Field(Column("tier", "enum", required=True, allowed=COURSE_TIERS, default="basic"), "Bậc đào tạo", "Tier", "select",
              "Nâng cao: được tính vào chỉ tiêu 15%.", "Advanced: counts towards the 15% target."),
        Field(Column("provider", max_length=200), "Cơ sở đào tạo", "Provider"),
        Field(Column("start_date", "date", required=True), "Ngày khai giảng", "Start date", "date"),
        Field(Column("end_date", "date", required=True), "Ngày kết thúc", "End date", "date"),
        Field(Column("capacity", "int", minimum=1), "Sĩ số tối đa", "Capacity", "number"),
    )

    def check(self) -> None:
        v = self.values
        if v.get("kind") == "language" and not v.get("language") and "language" not in self.errors:
            self.error("language", "Lớp ngoại ngữ cần chọn ngôn ngữ.", "A language course needs its language.")
        start, end = v.get("start_date"), v.get("end_date")
        if start and end and end < start:
            self.error("end_date", "Ngày kết thúc phải sau ngày khai giảng.", "The end date must be after the start date.")


def _course(cid: int) -> TrainingCourse:
    c = get_session().get(TrainingCourse, cid)
    if c is None:
        raise NotFound("Không tìm thấy lớp học.", "No such course.")
    return c


def _ids(text: str) -> list[str]:
    """Worker ids typed or pasted: separated by commas, semicolons, spaces or new lines."""
    out: list[str] = []
    for token in re.split(r"[\s,;]+", text or ""):
        if token and token not in out:
            out.append(token[:40])
    return out


def enrol(s: Session, course: TrainingCourse, worker_ids: list[str], by: str | None) -> tuple[list[str], list[str]]:
    """Enrol the given workers (ids already checked to exist); returns (enrolled now, already in).
    Refuses with 409 past the course's capacity, enrolling nobody."""
    present = {e.worker_id for e in course.enrolments}
    new = [w for w in worker_ids if w not in present]
    active = sum(1 for e in course.enrolments if e.status != "dropped")
    if course.capacity and active + len(new) > course.capacity:
        raise Conflict(
            f"Lớp chỉ còn {max(0, course.capacity - active)} chỗ; không thể ghi danh {len(new)} người.",
            f"The course has {max(0, course.capacity - active)} places left; {len(new)} workers cannot be enrolled.")
    day = today()
    for wid in new:
        course.enrolments.append(Enrolment(worker_id=wid, status="enrolled", enrolled_on=day, by=by))
    s.flush()
    if new:
        record("enrol", "training_course", course.id, workers=new, count=len(new))
    return new, sorted(present & set(worker_ids))


def _raise_profile(s: Session, e: Enrolment, course: TrainingCourse) -> bool:
    """A completed course raises the worker's declared training to its tier and adds the
    certificate written in the result when it reads as one. Returns whether the worker changed."""
    w = s.get(Worker, e.worker_id)
    if w is None:
        return False
    changed = False
    if course.kind == "language":
        rank = LANGUAGE_TRAINING.index
        if rank(course.tier) > rank(w.language_training or "none"):
            w.language_training = course.tier
            changed = True
    if e.certificate:
        try:
            c = parse_certificate(e.certificate)
        except CertificateError:
            return changed
        if all(x.raw != c.raw for x in w.certificates):
            w.certificates.append(LanguageCertificate.from_certificate(c, len(w.certificates)))
            changed = True
    return changed


# ----------------------------------------------------------------------------- views


@bp.route("/")
@role_required(*STAFF)
def courses():
    s = get_session()
    total = s.scalar(select(func.count()).select_from(TrainingCourse)) or 0
    pages = max(1, -(-total // PAGE))
    page = min(page_arg(), pages)
    rows = s.scalars(select(TrainingCourse).order_by(TrainingCourse.start_date.desc(), TrainingCourse.id.desc())
                     .offset((page - 1) * PAGE).limit(PAGE)).all()
    counts = {cid: (n, done) for cid, n, done in s.execute(
        select(Enrolment.course_id, func.count(), func.sum(case((Enrolment.status == "completed", 1), else_=0)))
        .where(Enrolment.course_id.in_([c.id for c in rows])).group_by(Enrolment.course_id))}
    return render_template("training/courses.html", courses=rows, counts=counts, total=total, page=page, pages=pages,
                           page_args=lambda p: urlencode({"page": p}), form=CourseForm())


@bp.route("/new", methods=["POST"])
@role_required(*STAFF)
def new_course():
    s = get_session()
    form = CourseForm(request.form)
    if not form.validate():
        return render_template("training/course_new.html", form=form), 422
    c = TrainingCourse(**form.values, created_by=current_user().username)
    s.add(c)
    s.flush()
    record("create", "training_course", c.id, name=c.name, kind=c.kind, language=c.language, tier=c.tier)
    s.commit()
    flash(t("Đã mở lớp.", "Course created."))
    return redirect(url_for("training.course", cid=c.id))


@bp.route("/<int:cid>")
@role_required(*STAFF)
def course(cid: int):
    c = _course(cid)
    s = get_session()
    workers = {w.worker_id: w for w in s.scalars(select(Worker).where(Worker.worker_id.in_([e.worker_id for e in c.enrolments])))}
    record("view", "training_course", c.id, workers=len(workers))
    s.commit()
    return render_template("training/course.html", c=c, workers=workers, statuses=ENROLMENT_STATUSES,
                           ids_text="", errors={})


@bp.route("/<int:cid>/enrol", methods=["POST"])
@role_required(*STAFF)
def enrol_workers(cid: int):
    c = _course(cid)
    s = get_session()
    text = (request.form.get("worker_ids") or "")[:20000]
    ids = _ids(text)
    errors: dict[str, tuple[str, str]] = {}
    known = {w.worker_id: w for w in s.scalars(select(Worker).where(Worker.worker_id.in_(ids[:MAX_IDS])))} if ids else {}
    unknown = [i for i in ids if i not in known]
    inactive = [i for i in ids if i in known and not is_active_worker(known[i])]
    if not ids:
        errors["worker_ids"] = ("Hãy nhập ít nhất một mã người lao động.", "Enter at least one worker id.")
    elif len(ids) > MAX_IDS:
        errors["worker_ids"] = (f"Tối đa {MAX_IDS} mã mỗi lần.", f"At most {MAX_IDS} ids at a time.")
    elif unknown or inactive:
        errors["worker_ids"] = (
            "Không ghi danh ai: " + "; ".join(filter(None, [
                f"không có mã {', '.join(unknown[:20])}" if unknown else "",
                f"hồ sơ không còn hoạt động {', '.join(inactive[:20])}" if inactive else ""])),
            "Nobody enrolled: " + "; ".join(filter(None, [
                f"unknown ids {', '.join(unknown[:20])}" if unknown else "",
                f"inactive profiles {', '.join(inactive[:20])}" if inactive else ""])))
    if errors:
        workers = {w.worker_id: w for w in s.scalars(select(Worker).where(Worker.worker_id.in_([e.worker_id for e in c.enrolments])))}
        return render_template("training/course.html", c=c, workers=workers, statuses=ENROLMENT_STATUSES,
                               ids_text=text, errors=errors), 422
    new, already = enrol(s, c, ids, current_user().username)
    s.commit()
    flash(t(f"Đã ghi danh {len(new)} người" + (f"; {len(already)} người đã có trong lớp" if already else "") + ".",
            f"{len(new)} workers enrolled" + (f"; {len(already)} were already in the course" if already else "") + "."))
    return redirect(url_for("training.course", cid=cid))


def _parse_result(form, e: Enrolment) -> tuple[dict, tuple[str, str] | None]:
    """The result fields of one enrolment row, or why they are refused."""
    from models.formatting import parse_date

    status = form.get(f"status-{e.id}", e.status)
    if status not in ENROLMENT_STATUSES:
        return {}, ("Trạng thái không hợp lệ.", "Unknown status.")
    raw_day = (form.get(f"completed_on-{e.id}") or "").strip()
    try:
        day = parse_date(raw_day) if raw_day else None
    except ValueError:
        return {}, ("Ngày không hợp lệ (NN/TT/NNNN).", "Not a date (dd/mm/yyyy).")
    if day and day > today():
        return {}, ("Ngày hoàn thành không được ở tương lai.", "The completion date cannot be in the future.")
    level = (form.get(f"level_reached-{e.id}") or "").strip()[:60] or None
    cert = (form.get(f"certificate-{e.id}") or "").strip()[:200] or None
    if cert:
        try:
            parse_certificate(cert)
        except CertificateError:
            return {}, ("Không đọc được chứng chỉ; ví dụ «JLPT N4 (11/2026)», «TOPIK 2», «Goethe A2».",
                        "The certificate cannot be read; for example 'JLPT N4 (2026-11)', 'TOPIK 2', 'Goethe A2'.")
    if status in ("completed", "failed") and day is None:
        day = today()
    return {"status": status, "completed_on": day if status in ("completed", "failed") else None,
            "level_reached": level, "certificate": cert}, None


@bp.route("/<int:cid>/results", methods=["POST"])
@role_required(*STAFF)
def results(cid: int):
    """Record every row's result in one form; a row with a bad value refuses the whole form,
    keeping what was typed, and changes nothing."""
    c = _course(cid)
    s = get_session()
    parsed, errors = {}, {}
    for e in c.enrolments:
        values, problem = _parse_result(request.form, e)
        if problem:
            errors[e.id] = problem
        else:
            parsed[e.id] = values
    if errors:
        workers = {w.worker_id: w for w in s.scalars(select(Worker).where(Worker.worker_id.in_([e.worker_id for e in c.enrolments])))}
        return render_template("training/course.html", c=c, workers=workers, statuses=ENROLMENT_STATUSES,
                               ids_text="", errors={}, row_errors=errors, typed=request.form), 422
    changed_workers = []
    changed = 0
    for e in c.enrolments:
        values = parsed[e.id]
        if all(getattr(e, k) == v for k, v in values.items()):
            continue
        old = e.status
        for k, v in values.items():
            setattr(e, k, v)
        e.by = current_user().username
        changed += 1
        record("training_result", "enrolment", e.id, worker_id=e.worker_id, course_id=c.id, from_status=old,
               to_status=e.status, level_reached=e.level_reached, certificate=e.certificate)
        if e.status == "completed" and _raise_profile(s, e, c):
            changed_workers.append(e.worker_id)
    s.commit()
    engine = get_engine()
    for wid in changed_workers:
        w = s.get(Worker, wid)
        if w is not None:
            engine.worker_changed(s, w)
    flash(t(f"Đã ghi kết quả cho {changed} người.", f"Results recorded for {changed} workers."))
    return redirect(url_for("training.course", cid=cid))


@bp.route("/from-need/<key>", methods=["POST"])
@role_required(*STAFF)
def from_need(key: str):
    """Open a class for a training need and enrol the workers it lists (up to the capacity
    typed, else all of them)."""
    from web.views.intel import needs_now

    n = needs_now().need(key)
    if n is None:
        raise NotFound(f"Không có nhu cầu đào tạo “{key}”.", f"No training need “{key}”.")
    step = n.step
    data = request.form.to_dict()
    data.setdefault("name", step.vi)
    data["kind"] = "language" if step.kind in ("language", "eps_topik") else "skill"
    if step.language:
        data["language"] = step.language
    form = CourseForm(data)
    if not form.validate():
        return render_template("training/course_new.html", form=form, need=n), 422
    s = get_session()
    c = TrainingCourse(**form.values, need_key=key, created_by=current_user().username)
    if not c.target_level:
        c.target_level = step.en if step.kind != "trade" else None
    s.add(c)
    s.flush()
    record("create", "training_course", c.id, name=c.name, need=key)
    ids = n.worker_ids[: c.capacity] if c.capacity else list(n.worker_ids)
    known = set(s.scalars(select(Worker.worker_id).where(Worker.worker_id.in_(ids)))) if ids else set()
    new, _ = enrol(s, c, [w for w in ids if w in known], current_user().username)
    s.commit()
    flash(t(f"Đã mở lớp và ghi danh {len(new)} người từ nhu cầu đào tạo.",
            f"Course opened with {len(new)} workers enrolled from the training need."))
    return redirect(url_for("training.course", cid=c.id))
