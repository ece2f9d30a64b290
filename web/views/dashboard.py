"""The centre's dashboard: targets, demand, applicants, blocked orders. Charts are SVG drawn on
the server, each followed by the table of its numbers."""

from __future__ import annotations


from flask import Blueprint, render_template

from web.services import stats
from web.views.auth import role_required
from web.services.charts import bar_chart
from web.views.db import get_session, today
from web.views.i18n import country, label, t
from web.views.params import date_arg

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def period_from_request(default: stats.Period) -> tuple[stats.Period, dict]:
    """The ``from``/``to`` dates of the query string, ``default`` where missing, with messages
    (Vietnamese, English) beside a field that is not a date or an end before the start."""
    errors: dict = {}
    values = {"from": date_arg("from", errors, default.start), "to": date_arg("to", errors, default.end)}
    if values["from"] > values["to"]:
        errors["to"] = ("Ngày kết thúc phải sau ngày bắt đầu.", "The end must not be before the start.")
        values = {"from": default.start, "to": default.end}
    return stats.Period(values["from"], values["to"]), errors


@bp.route("/")
@role_required("counsellor", "admin")
def index():
    s = get_session()
    period, errors = period_from_request(stats.Period.year_to_date(today()))
    place = stats.placements(s, period)
    lang = stats.language_training(s, period)
    demand = stats.open_places(s, period)
    people = stats.applicants(s, period)
    blocked = stats.blocked_orders(s, period)
    yes_no = {"yes": t("Có", "Yes"), "no": t("Không", "No"), "unknown": t("Chưa rõ", "Unknown")}
    charts = {
        "placements": bar_chart(
            [(t("Trúng tuyển", "Placed"), place["placed"]), (t("Đã xuất cảnh", "Departed"), place["departed"])],
            t("Người lao động trúng tuyển và xuất cảnh so với chỉ tiêu 150", "Placed and departed against the target of 150"),
            target=place["target"],
        ),
        "training": bar_chart(
            [
                (t("Đào tạo cơ bản trở lên", "Basic or more"), 100 * (lang["share_basic"] or 0)),
                (t("Đào tạo nâng cao", "Advanced"), 100 * (lang["share_advanced"] or 0)),
            ],
            t("Tỷ lệ được đào tạo ngoại ngữ (chỉ tiêu 100% và 15%)", "Language training shares (targets 100% and 15%)"),
            max_value=100,
            unit="%",
        ),
        "by_country": bar_chart(
            [(country(c), n) for c, n in demand["by_country"]],
            t("Chỗ còn trống theo nước", "Open places by country"),
        ),
        "by_occupation": bar_chart(demand["by_occupation"], t("Chỗ còn trống theo nghề", "Open places by occupation")),
        "by_commune": bar_chart(people["by_commune"], t("Người lao động theo xã/phường", "Applicants by commune")),
        "by_ethnicity": bar_chart(people["by_ethnicity"], t("Người lao động theo dân tộc", "Applicants by ethnic group")),
        "by_gender": bar_chart([(label(g) or g, n) for g, n in people["by_gender"]], t("Người lao động theo giới tính", "Applicants by gender")),
        "by_disadvantaged": bar_chart(
            [(yes_no.get(k, k), n) for k, n in people["by_disadvantaged"]],
            t("Người lao động ở xã đặc biệt khó khăn", "Applicants from especially disadvantaged communes"),
        ),
        "blocked_reason": bar_chart(
            [(t(vi, en), n) for _, vi, en, n in blocked["by_reason"]],
            t("Đơn hàng bị chặn theo lý do", "Blocked orders by reason"),
        ),
        "blocked_enterprise": bar_chart(blocked["by_enterprise"], t("Đơn hàng bị chặn theo doanh nghiệp", "Blocked orders by enterprise")),
    }
    return (
        render_template(
            "dashboard.html",
            period=period,
            errors=errors,
            place=place,
            lang=lang,
            demand=demand,
            people=people,
            blocked=blocked,
            charts=charts,
            yes_no=yes_no,
        ),
        422 if errors else 200,
    )
