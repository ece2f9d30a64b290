"""Labour-market intelligence pages: training needs (with the list of workers behind each need
one click away), market trends, the departures forecast, and the period report (printable page
and .xlsx). Counsellors and administrators only. Charts are server-side SVG (``web.services.charts``),
each followed by the table of its numbers.
"""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template

from web.services import reports, stats
from web.views.audit import record
from web.views.auth import role_required
from web.services.charts import bar_chart, month_rows
from web.views.counsellor import PAGE
from web.views.params import page_of
from web.views.dashboard import period_from_request
from web.views.db import get_session, today
from web.services.errors import NotFound, Unprocessable
from models import formatting
from web.views.i18n import country, current_lang, label, t

bp = Blueprint("intel", __name__, url_prefix="/intel")
STAFF = ("counsellor", "admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_LOCK = threading.Lock()


def _cached(kind: str, day: dt.date, build):
    """``build()`` once per app, data fingerprint (``web.views.engine.fingerprint``) and day."""
    from web.views.engine import fingerprint

    s = get_session()
    key = (kind, fingerprint(s), day)
    cache = current_app.extensions.setdefault("matcher.intel", {})
    with _LOCK:
        if key not in cache:
            for old in [k for k in cache if k[0] == kind]:
                del cache[old]
            cache[key] = build()
        return cache[key]


def needs_now():
    """Today's training needs from the engine's workers and open orders, brought up to date change
    by change (``EngineHolder.training_needs``): an edit re-reads only the pairs it touched."""
    from web.views.engine import get_engine

    return get_engine().training_needs(get_session())


# ----------------------------------------------------------------------------- training needs


@bp.route("/needs")
@role_required(*STAFF)
def needs():
    result = needs_now()
    chart = bar_chart([(t(n.step.vi, n.step.en), n.fillable) for n in result.needs[:12]],
                      t("Chỗ có thể lấp nếu mở lớp", "Places a course could fill"))
    return render_template("intel/needs.html", needs=result, chart=chart, supports=reports.insights.SUPPORTS)


@bp.route("/needs/<key>")
@role_required(*STAFF)
def need(key: str):
    result = needs_now()
    n = result.need(key)
    if n is None:
        raise NotFound(f"Không có nhu cầu đào tạo “{key}”.", f"No training need “{key}”.")
    s = get_session()
    page, pages = page_of(len(n.worker_ids), PAGE)
    shown = n.worker_ids[(page - 1) * PAGE : page * PAGE]
    workers = {w.worker_id: w for w in reports.load_workers(s, shown)}
    record("view", "training_need", key, workers=len(workers), page=page)
    s.commit()
    rows = [(workers[wid], n.pairs[wid], reports.insights.support_for(workers[wid])) for wid in shown if wid in workers]
    yes_no = {"yes": t("Có", "Yes"), "no": t("Không", "No"), "unknown": t("Chưa rõ", "Unknown")}
    charts = {
        "commune": bar_chart(n.by_commune.most_common(12), t("Theo xã/phường", "By commune")),
        "ethnicity": bar_chart(n.by_ethnicity.most_common(), t("Theo dân tộc", "By ethnic group")),
        "disadvantaged": bar_chart([(yes_no.get(k, k), v) for k, v in n.by_disadvantaged.most_common()],
                                   t("Xã đặc biệt khó khăn", "Especially disadvantaged commune")),
    }
    return render_template("intel/need.html", need=n, rows=rows, charts=charts, yes_no=yes_no,
                           supports=reports.insights.SUPPORTS, day=result.day,
                           course_end=result.day + dt.timedelta(days=30 * (n.training_months or 3)),
                           page=page, pages=pages, page_args=lambda p: urlencode({"page": p}))


@bp.route("/needs.xlsx")
@role_required(*STAFF)
def needs_xlsx():
    from web.views.engine import get_engine

    result = needs_now()
    s = get_session()
    ids = {wid for n in result.needs for wid in n.pairs}
    workers = get_engine().workers(s, ids)  # the profiles the needs were computed from
    record("export", "training_needs", None, workers=len(workers))
    s.commit()
    data = reports.workbook_bytes(reports.needs_workbook(result, workers))
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="training-needs-{result.day.isoformat()}.xlsx"'})


# ----------------------------------------------------------------------------- trends


@bp.route("/trends")
@role_required(*STAFF)
def trends():
    day = today()
    period, errors = period_from_request(stats.Period(dt.date(day.year - 2, 1, 1), day))
    data = reports.market_trends(get_session(), period.start, period.end)
    totals: dict[str, dict[str, int]] = {}
    for dim in ("by_country", "by_programme"):
        acc: dict[str, int] = {}
        for row in data[dim]:
            acc[row["group"]] = acc.get(row["group"], 0) + row["places"]
        totals[dim] = dict(sorted(acc.items(), key=lambda kv: -kv[1]))
    months: dict[str, int] = {}
    for row in data["by_country"]:
        months[row["month"]] = months.get(row["month"], 0) + row["places"]
    reason_totals: dict[str, int] = {}
    for _, code, n in data["blocked"]["by_month_reason"]:
        reason_totals[code] = reason_totals.get(code, 0) + n
    charts = {
        "months": bar_chart(month_rows(months, period.start, period.end), t("Số chỗ theo tháng đăng", "Places by month posted")),
        "country": bar_chart([(country(k), v) for k, v in totals["by_country"].items()],
                             t("Số chỗ theo nước", "Places by country")),
        "programme": bar_chart([(label(k), v) for k, v in totals["by_programme"].items()],
                               t("Số chỗ theo chương trình", "Places by programme")),
        "blocked": bar_chart([(t(*stats.REASON_LABELS.get(k, (k, k))), v) for k, v in
                              sorted(reason_totals.items(), key=lambda kv: -kv[1])],
                             t("Đơn hàng vi phạm theo lý do", "Orders breaking the law by reason")),
        "enterprise": bar_chart(data["blocked"]["by_enterprise"][:12],
                                t("Đơn hàng vi phạm theo doanh nghiệp", "Orders breaking the law by enterprise")),
    }
    return render_template("intel/trends.html", period=period, errors=errors, data=data, totals=totals,
                           months=month_rows(months, period.start, period.end), reason_totals=reason_totals, charts=charts,
                           reason_labels=stats.REASON_LABELS), (422 if errors else 200)


# ----------------------------------------------------------------------------- forecast


@bp.route("/forecast")
@role_required(*STAFF)
def forecast():
    day = today()
    f = _cached("forecast", day, lambda: reports.forecast(get_session(), day))
    lo_pct, hi_pct = round((1 - f.level) / 2 * 100), round((1 + f.level) / 2 * 100)
    chart = bar_chart(
        [(t("Đã xuất cảnh", "Departed so far"), f.departed),
         (t("Dự báo (trung bình)", "Forecast (mean)"), round(f.mean, 1)),
         (t(f"Cận dưới (phân vị {lo_pct})", f"Low ({lo_pct}th percentile)"), f.low),
         (t(f"Cận trên (phân vị {hi_pct})", f"High ({hi_pct}th percentile)"), f.high)],
        t("Số người xuất cảnh năm %d so với chỉ tiêu" % f.year, "Departures in %d against the target" % f.year),
        target=f.target,
    )
    s = get_session()
    ending = stats.contracts_ending(s, day)
    ending_chart = bar_chart([(formatting.format_month(m, current_lang()), n) for m, n in ending],
                             t("Hợp đồng kết thúc theo tháng (12 tháng tới)", "Contracts ending by month (next 12 months)"))
    return render_template("intel/forecast.html", f=f, chart=chart, lo_pct=lo_pct, hi_pct=hi_pct,
                           ending=ending, ending_chart=ending_chart, abroad=stats.abroad_count(s))


# ----------------------------------------------------------------------------- period report


@bp.route("/report")
@role_required(*STAFF)
def report():
    period, errors = period_from_request(stats.Period.year_to_date(today()))
    r = reports.period_report(get_session(), period)
    return render_template("intel/report.html", r=r, errors=errors, targets=reports.target_rows(r),
                           dimensions=reports.DIMENSIONS), (422 if errors else 200)


@bp.route("/report.xlsx")
@role_required(*STAFF)
def report_xlsx():
    period, errors = period_from_request(stats.Period.year_to_date(today()))
    if errors:
        raise Unprocessable("Kỳ báo cáo không hợp lệ.", "The report period is not valid.")
    s = get_session()
    r = reports.period_report(s, period)
    record("export", "period_report", f"{period.start}..{period.end}")
    s.commit()
    data = reports.workbook_bytes(reports.period_workbook(r))
    name = f"bao-cao-{period.start.isoformat()}-{period.end.isoformat()}.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
