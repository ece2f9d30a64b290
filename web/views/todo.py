"""«Việc cần làm», a counsellor's to-do list (issue 17), gathered from the records the centre
already keeps, newest-due first:

- call-backs: follow-up dates on the counsellor's own timeline notes, overdue or due within a week;
- expiries: EPS-TOPIK passes of active workers that expire within 60 days (a pass is valid two
  years: after that the worker cannot be placed under EPS) and documents (passport, health check...)
  expiring within 60 days;
- stuck applications: an application still in one stage longer than that stage's limit
  (:data:`STUCK_DAYS`);
- orders closing: legal open orders whose application deadline is within 14 days with places left;
- classes to close: training classes that have ended with results not recorded.

Each item links to the page where it is dealt with. Nothing is stored: the list is what the
records say today, so it empties itself as the work gets done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import (Application, Enrolment, JobOrder, LanguageCertificate, StageEvent, TrainingCourse, Worker,
                    WorkerDocument, WorkerNote)
from models import formatting
from models.languages import CertificateError, expiry_date, parse_certificate, shown_certificate
from web.views.auth import current_user, role_required
from web.views.db import get_session, today
from web.views.engine import get_engine
from web.services.names import LABELS

bp = Blueprint("todo", __name__, url_prefix="/counsellor")
STAFF = ("counsellor", "admin")

CALL_BACK_AHEAD = 7  # days
EXPIRY_AHEAD = 60  # days
DEADLINE_AHEAD = 14  # days
# Longest normal stay in each open stage (days) before an application counts as stuck.
STUCK_DAYS = {"suggested": 14, "shortlisted": 14, "sent": 21, "interviewed": 30, "selected": 150}
LIMIT = 200  # items per section


def _vi(day: dt.date) -> str:
    return formatting.format_date(day)


def _en(day: dt.date) -> str:
    return formatting.format_date(day, "en")


@dataclass(frozen=True)
class Item:
    kind: str  # call_back, expiry, stuck, deadline, class_results
    due: dt.date
    vi: str
    en: str
    endpoint: str
    args: dict


def call_backs(s: Session, user: str, day: dt.date) -> list[Item]:
    rows = s.execute(
        select(WorkerNote, Worker.full_name).join(Worker, Worker.worker_id == WorkerNote.worker_id)
        .where(WorkerNote.by == user, WorkerNote.follow_up.is_not(None),
               WorkerNote.follow_up <= day + dt.timedelta(days=CALL_BACK_AHEAD), Worker.active.is_not(False))
        .order_by(WorkerNote.follow_up).limit(LIMIT)).all()
    return [Item("call_back", n.follow_up, f"Hẹn liên hệ lại {name}: {n.body[:120]}",
                 f"Call back {name}: {n.body[:120]}", "counsellor.worker", {"wid": n.worker_id})
            for n, name in rows]


def expiries(s: Session, day: dt.date) -> list[Item]:
    rows = s.execute(
        select(LanguageCertificate, Worker.full_name).join(Worker, Worker.worker_id == LanguageCertificate.worker_id)
        .where(LanguageCertificate.exam == "eps_topik", Worker.active.is_not(False), Worker.merged_into.is_(None))
    ).all()
    out = []
    for c, name in rows:
        try:
            ends = expiry_date(parse_certificate(c.raw))
        except CertificateError:
            continue
        if ends is not None and day <= ends <= day + dt.timedelta(days=EXPIRY_AHEAD):
            out.append(Item("expiry", ends, f"Chứng chỉ {shown_certificate(c.raw)} của {name} hết hiệu lực ngày {_vi(ends)}",
                            f"{name}'s {shown_certificate(c.raw, 'en')} expires on {_en(ends)}", "counsellor.worker", {"wid": c.worker_id}))
    docs = s.execute(
        select(WorkerDocument, Worker.full_name).join(Worker, Worker.worker_id == WorkerDocument.worker_id)
        .where(WorkerDocument.expires_on >= day, WorkerDocument.expires_on <= day + dt.timedelta(days=EXPIRY_AHEAD),
               Worker.active.is_not(False), Worker.merged_into.is_(None))).all()
    for d, name in docs:
        vi_kind, en_kind = LABELS.get(d.kind, (d.kind, d.kind))
        out.append(Item("expiry", d.expires_on, f"{vi_kind} {d.number or ''} của {name} hết hạn ngày "
                        f"{_vi(d.expires_on)}".replace("  ", " "),
                        f"{name}'s {en_kind.lower()} {d.number or ''} expires on {_en(d.expires_on)}".replace("  ", " "),
                        "counsellor.worker", {"wid": d.worker_id}))
    return sorted(out, key=lambda i: i.due)[:LIMIT]


def stuck(s: Session, day: dt.date) -> list[Item]:
    last = (select(StageEvent.application_id, func.max(StageEvent.at).label("at"))
            .group_by(StageEvent.application_id).subquery())
    rows = s.execute(
        select(Application, last.c.at).join(last, last.c.application_id == Application.id)
        .where(Application.stage.in_(tuple(STUCK_DAYS)))
        .options(selectinload(Application.worker), selectinload(Application.order))
    ).all()
    out = []
    for app, at in rows:
        since = at.date()
        limit = STUCK_DAYS[app.stage]
        if (day - since).days > limit:
            due = since + dt.timedelta(days=limit)
            vi_stage, en_stage = LABELS.get(app.stage, (app.stage, app.stage))
            out.append(Item("stuck", due, f"{app.worker.full_name} ở giai đoạn «{vi_stage}» của {app.order_id} từ "
                            f"{_vi(since)} ({(day - since).days} ngày, quá {limit} ngày)",
                            f"{app.worker.full_name} has been '{en_stage}' on {app.order_id} since {_en(since)} "
                            f"({(day - since).days} days, over {limit})", "board.order_board", {"oid": app.order_id}))
    return sorted(out, key=lambda i: i.due)[:LIMIT]


def closing_orders(s: Session, day: dt.date) -> list[Item]:
    orders = s.scalars(select(JobOrder).where(
        JobOrder.status == "open", JobOrder.deadline.is_not(None), JobOrder.deadline >= day,
        JobOrder.deadline <= day + dt.timedelta(days=DEADLINE_AHEAD))).all()
    states = get_engine().order_states(s, list(orders))
    out = [Item("deadline", o.deadline, f"Đơn hàng {o.order_id} ({o.title}) hết hạn nhận hồ sơ ngày "
                f"{_vi(o.deadline)}, còn {o.places_left} chỗ",
                f"Order {o.order_id} ({o.title}) closes on {_en(o.deadline)} with {o.places_left} places left",
                "counsellor.order", {"oid": o.order_id})
           for o in orders if o.places_left > 0 and states.get(o.order_id, ("", []))[0] == "open"]
    return sorted(out, key=lambda i: i.due)[:LIMIT]


def classes_to_close(s: Session, day: dt.date) -> list[Item]:
    rows = s.execute(
        select(TrainingCourse, func.count(Enrolment.id)).join(Enrolment, Enrolment.course_id == TrainingCourse.id)
        .where(TrainingCourse.end_date < day, Enrolment.status == "enrolled").group_by(TrainingCourse.id)
        .order_by(TrainingCourse.end_date).limit(LIMIT)).all()
    return [Item("class_results", c.end_date, f"Lớp «{c.name}» đã kết thúc ngày {_vi(c.end_date)}: "
                 f"{n} học viên chưa có kết quả", f"Course '{c.name}' ended on {_en(c.end_date)}: {n} results "
                 "not recorded", "training.course", {"cid": c.id}) for c, n in rows]


SECTIONS = (
    ("call_back", "Hẹn liên hệ lại", "Call-backs"),
    ("expiry", "Giấy tờ, chứng chỉ sắp hết hạn (60 ngày)", "Documents and certificates expiring within 60 days"),
    ("stuck", "Hồ sơ dừng lâu ở một giai đoạn", "Applications stuck in one stage"),
    ("deadline", "Đơn hàng sắp hết hạn còn chỗ trống", "Orders closing soon with places left"),
    ("class_results", "Lớp đã kết thúc chưa ghi kết quả", "Ended courses without results"),
)


def todo(s: Session, user: str, day: dt.date) -> dict[str, list[Item]]:
    return {
        "call_back": call_backs(s, user, day),
        "expiry": expiries(s, day),
        "stuck": stuck(s, day),
        "deadline": closing_orders(s, day),
        "class_results": classes_to_close(s, day),
    }


@bp.route("/todo")
@role_required(*STAFF)
def todo_list():
    day = today()
    items = todo(get_session(), current_user().username, day)
    return render_template("counsellor/todo.html", items=items, sections=SECTIONS, day=day,
                           total=sum(len(v) for v in items.values()))
