"""Labour-market reports from the store: training needs, trends, forecast and the period report.

Loaders read the store and hand plain objects to :mod:`matcher.insights`. The period report's
totals come from :mod:`web.services.stats` (the dashboard's own queries), so the two always agree; this
module only adds the breakdowns by market, programme, commune, ethnic group, gender and
disadvantaged commune. Workbooks are written with openpyxl: one formatted sheet per table,
frozen headers, number formats, column widths, and print settings (landscape, fit to width).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher import insights
from matcher.orderbook import open_orders
from models import labels, reference
from data.repo import exchange_rates, snapshot
from models import Application, JobOrder, Recruiter, StageEvent, Worker, is_active_worker
from web.services import stats

DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("market", "Thị trường", "Market"),
    ("programme", "Chương trình", "Programme"),
    ("commune", "Xã/phường", "Commune"),
    ("ethnicity", "Dân tộc", "Ethnic group"),
    ("gender", "Giới tính", "Gender"),
    ("disadvantaged", "Xã đặc biệt khó khăn", "Especially disadvantaged commune"),
)


# ---------------------------------------------------------------------------------------------
# loaders


def load_orders(s: Session) -> tuple[list[Recruiter], list[JobOrder]]:
    recruiters = list(s.scalars(select(Recruiter).options(selectinload(Recruiter.status_history))
                                .order_by(Recruiter.recruiter_id)))
    orders = list(s.scalars(select(JobOrder).options(selectinload(JobOrder.recruiter)
                                                     .selectinload(Recruiter.status_history))
                            .order_by(JobOrder.order_id)))
    return recruiters, orders


def load_workers(s: Session, ids: Iterable[str] | None = None) -> list[Worker]:
    stmt = select(Worker).options(selectinload(Worker.certificates)).order_by(Worker.worker_id)
    if ids is not None:
        stmt = stmt.where(Worker.worker_id.in_(sorted(set(ids))))
    return list(s.scalars(stmt))


def training_needs(s: Session, day: dt.date) -> insights.TrainingNeeds:
    """Training needs of the active workers against the legal open orders on ``day``, computed
    on the engine's snapshots (``data.repo.snapshot``), as the training-needs page is."""
    recruiters, orders, workers = snapshot(s)
    open_ = open_orders(orders, recruiters, day, exchange_rates(s))
    return insights.training_needs([w for w in workers if is_active_worker(w)], open_, day)


def history(s: Session) -> list[insights.Trajectory]:
    """Every application's trajectory (creation day and stage events)."""
    apps = s.scalars(select(Application).options(selectinload(Application.events)).order_by(Application.id))
    return insights.trajectories(apps)


def forecast(s: Session, day: dt.date, level: float = 0.8, draws: int = 4000) -> insights.Forecast:
    return insights.forecast_departures(history(s), day, target=stats.TARGET_DEPARTURES, level=level, draws=draws)


def market_trends(s: Session, start: dt.date, end: dt.date) -> dict[str, Any]:
    recruiters, orders = load_orders(s)
    table = exchange_rates(s)
    return {
        "by_country": insights.order_trends(orders, table, "country", start, end),
        "by_programme": insights.order_trends(orders, table, "programme", start, end),
        "by_occupation": insights.order_trends(orders, table, "occupation", start, end),
        "blocked": insights.blocked_trends(orders, recruiters, table, start, end),
    }


# ---------------------------------------------------------------------------------------------
# the period report


@dataclass
class PeriodReport:
    period: stats.Period
    placements: dict
    language: dict
    demand: dict
    applicants: dict
    blocked: dict
    advised: int
    breakdowns: dict[str, list[tuple[str, int, int, int, int, int]]]  # key, advised, selected, departed, basic+, advanced
    returns: dict | None = None  # stats.returns_in: at term, early by reason and by enterprise


def _breakdowns(s: Session, period: stats.Period) -> tuple[int, dict[str, list]]:
    """Per dimension: workers advised (any stage event in the period), selected (entered
    "selected" or "departed", as the dashboard's "placed"), departed, and of the departed those
    with basic-or-more and advanced language training. A worker counts once per dimension, under
    the application that went furthest in the period."""
    rows = s.execute(
        select(StageEvent.to_stage, Application.worker_id, JobOrder.country, JobOrder.programme)
        .join(Application, StageEvent.application_id == Application.id)
        .join(JobOrder, Application.order_id == JobOrder.order_id)
        .where(StageEvent.at >= period.start_dt, StageEvent.at < period.end_dt)
    ).all()
    rank = {"selected": 1, "departed": 2}
    best: dict[str, tuple[int, str, str]] = {}  # worker -> (rank, country, programme)
    reached: dict[str, set[str]] = {}
    for stage, wid, country, programme in rows:
        reached.setdefault(wid, set()).add(stage)
        r = rank.get(stage, 0)
        if wid not in best or r > best[wid][0] or (r == best[wid][0] and (country, programme or "") < best[wid][1:]):
            best[wid] = (r, country or "", programme or "general")
    people = {w.worker_id: w for w in s.scalars(select(Worker).where(Worker.worker_id.in_(sorted(best))))} if best else {}
    gone = stats.reached_with_orders(s, "departed", period)
    standing = stats.training_standing(
        s, {wid: set().union(*(stats.market_languages(o) for o in orders)) for wid, orders in gone.items()})
    tables: dict[str, dict[str, list[int]]] = {d: {} for d, _, _ in DIMENSIONS}
    for wid, (_, country, programme) in sorted(best.items()):
        w = people.get(wid)
        d = None if w is None else w.disadvantaged_commune
        keys = {
            "market": country or "—",
            "programme": programme,
            "commune": (w.commune if w else None) or "—",
            "ethnicity": (w.ethnicity if w else None) or "—",
            "gender": (w.gender if w else None) or "—",
            "disadvantaged": "yes" if d else ("no" if d is False else "unknown"),
        }
        stages = reached[wid]
        departed = "departed" in stages
        trained = standing.get(wid)
        add = (1, int(bool(stages & {"selected", "departed"})), int(departed),
               int(departed and trained is not None and trained.basic),
               int(departed and trained is not None and trained.advanced))
        for dim, key in keys.items():
            acc = tables[dim].setdefault(key, [0, 0, 0, 0, 0])
            for i, v in enumerate(add):
                acc[i] += v
    out = {dim: sorted(((k, *v) for k, v in t.items()), key=lambda r: (-r[1], str(r[0]))) for dim, t in tables.items()}
    return len(best), out


def period_report(s: Session, period: stats.Period) -> PeriodReport:
    """The figures the centre reports upward for ``period`` (totals from :mod:`web.services.stats`)."""
    advised, breakdowns = _breakdowns(s, period)
    return PeriodReport(
        period=period,
        placements=stats.placements(s, period),
        language=stats.language_training(s, period),
        demand=stats.open_places(s, period),
        applicants=stats.applicants(s, period),
        blocked=stats.blocked_orders(s, period),
        advised=advised,
        breakdowns=breakdowns,
        returns=stats.early_returns(s, period.start, period.end),
    )


def target_rows(r: PeriodReport) -> list[tuple[str, str, Any, Any, str]]:
    """(Vietnamese, English, value, target, met) for the plan's three targets."""
    p, lang = r.placements, r.language
    days = (r.period.end - r.period.start).days + 1
    yearly = p["target"] * days / 365.25 if days < 365 else p["target"]

    def met(ok: bool | None) -> str:
        return "—" if ok is None else ("đạt / met" if ok else "chưa đạt / behind")

    return [
        ("Số người xuất cảnh (chỉ tiêu trên 150 người/năm, tính theo kỳ)", "Departures (target: more than 150 a year, pro rata)",
         p["departed"], round(yearly, 1), met(p["departed"] > yearly)),
        ("Tỷ lệ được đào tạo ngoại ngữ cơ bản (chỉ tiêu 100%)", "Share with basic language training (target 100%)",
         lang["share_basic"], lang["target_basic"], met(None if lang["share_basic"] is None else lang["share_basic"] >= lang["target_basic"])),
        ("Tỷ lệ được đào tạo nâng cao (chỉ tiêu 15%)", "Share with advanced training (target 15%)",
         lang["share_advanced"], lang["target_advanced"],
         met(None if lang["share_advanced"] is None else lang["share_advanced"] >= lang["target_advanced"])),
    ]


# ---------------------------------------------------------------------------------------------
# workbooks

_HEAD_FILL = "1F3864"
_TITLE_SIZE = 14


def _row_style(wb, number_format: str | None, side) -> str:
    """The name of the workbook's style for data cells (a thin bottom border, the format)."""
    from openpyxl.styles import Border, NamedStyle

    name = f"row {number_format or 'General'}"
    if name not in wb.named_styles:
        wb.add_named_style(NamedStyle(name=name, border=Border(bottom=side), number_format=number_format or "General"))
    return name


def _sheet(wb, title: str, heading: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]],
           formats: dict[int, str] | None = None, note: str | None = None):
    """A formatted sheet: a title line, an optional note, a bold coloured header (Vietnamese /
    English), the rows, frozen panes, auto filter, widths and print settings."""
    from openpyxl.styles import Alignment, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(re.sub(r"[\\/*?:\[\]]", "-", title)[:31])  # characters Excel forbids in titles
    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=_TITLE_SIZE)
    start = 2
    if note:
        ws.append([note])
        ws.cell(row=2, column=1).font = Font(italic=True, size=9)
        start = 3
    ws.append([f"{vi}\n{en}" for vi, en in columns])
    thin = Side(style="thin", color="BFBFBF")
    for i in range(1, len(columns) + 1):
        c = ws.cell(row=start, column=i)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor=_HEAD_FILL)
        c.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[start].height = 30
    # one named style per number format, registered once per workbook: assigning a style by name
    # costs a lookup, building a Border and a format for each of 10,000 cells cost seconds
    styles = {None: _row_style(wb, None, thin)}
    for fmt in set((formats or {}).values()):
        styles[fmt] = _row_style(wb, fmt, thin)
    n = 0
    for row in rows:
        ws.append(list(row))
        n += 1
        for i in range(1, len(columns) + 1):
            ws.cell(row=start + n, column=i).style = styles[(formats or {}).get(i)]
    widths = [max(12, min(60, max(len(vi), len(en)) + 2)) for vi, en in columns]
    for r in ws.iter_rows(min_row=start + 1, max_row=start + n):
        for i, cell in enumerate(r):
            if cell.value is not None:
                widths[i] = max(widths[i], min(60, len(str(cell.value)) + 2))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    if n:
        ws.auto_filter.ref = f"A{start}:{get_column_letter(len(columns))}{start + n}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{start}:{start}"
    return ws


_INT = "#,##0"
# the vocabulary that names a breakdown's codes in the workbooks (codes stay in the exports)
_NAMED = {"market": labels.COUNTRIES, "programme": labels.PROGRAMMES, "gender": labels.GENDERS}


def _name(dimension: str, code: str) -> str:
    """The Vietnamese name of a breakdown's code ("TW" -> "Đài Loan"); "—" and free text as they are."""
    vocab = _NAMED.get(dimension)
    return vocab.label(code) if vocab is not None and code in vocab else code
_PCT = "0.0%"
_VND = '#,##0" đ"'


def period_workbook(r: PeriodReport):
    """The period report as an openpyxl workbook (summary, targets, breakdowns, demand,
    applicants, blocked orders)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    p0, p1 = r.period.start.strftime("%d/%m/%Y"), r.period.end.strftime("%d/%m/%Y")
    head = f"Báo cáo kết quả đưa người lao động đi làm việc ở nước ngoài, {p0} – {p1} / Period report {r.period.start} – {r.period.end}"
    summary = [
        ("Người lao động được tư vấn (có thao tác hồ sơ trong kỳ)", "Workers advised (a stage event in the period)", r.advised),
        ("Trúng tuyển (kể cả đã xuất cảnh)", "Selected (incl. departed)", r.placements["placed"]),
        ("Đã xuất cảnh", "Departed", r.placements["departed"]),
        ("Trong số đã xuất cảnh/trúng tuyển: đào tạo ngoại ngữ cơ bản trở lên",
         f"Of the {r.language['basis']}: basic language training or more", r.language["basic_or_more"]),
        ("Trong số đó: đào tạo nâng cao", "Of them: advanced training", r.language["advanced"]),
        ("Người lao động đăng ký (đang hoạt động)", "Registered active workers", r.applicants["total"]),
        ("Chỗ còn trống hợp lệ cuối kỳ", "Open legal places at the period's end", r.demand["total"]),
        ("Đơn hàng bị chặn cuối kỳ", "Blocked orders at the period's end", r.blocked["total"]),
    ]
    ws = _sheet(wb, "Tổng hợp", head, [("Chỉ tiêu", "Item"), ("Item", "(English)"), ("Số", "Number")], summary, {3: _INT},
                note="Số liệu giống trang Tổng quan của Trung tâm cho cùng kỳ / The same figures as the dashboard for the period.")
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 50
    rows = [(vi, en, v, tgt, met) for vi, en, v, tgt, met in target_rows(r)]
    ws = _sheet(wb, "Chỉ tiêu", "So với chỉ tiêu Kế hoạch 1244/KH-UBND / Against Plan 1244/KH-UBND's targets",
                [("Chỉ tiêu", "Target"), ("Target", "(English)"), ("Thực hiện", "Actual"), ("Chỉ tiêu", "Target value"),
                 ("Đánh giá", "Assessment")], rows,
                note=f"{r.language['rule'][0]} / {r.language['rule'][1]}")
    for row in ws.iter_rows(min_row=5, max_row=6):  # title, rule note, header, departures, then the shares
        row[2].number_format = _PCT
        row[3].number_format = _PCT
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 50
    yes_no = {"yes": "Có / Yes", "no": "Không / No", "unknown": "Chưa rõ / Unknown"}
    for dim, vi, en in DIMENSIONS:
        rows = [((yes_no.get(k, k) if dim == "disadvantaged" else _name(dim, k)), *v) for k, *v in r.breakdowns[dim]]
        total = [sum(x[i] for x in r.breakdowns[dim]) for i in range(1, 6)]
        rows.append(("Tổng / Total", *total))
        _sheet(wb, f"Theo {vi.lower()}"[:31], f"Theo {vi.lower()} / By {en.lower()}",
               [(vi, en), ("Được tư vấn", "Advised"), ("Trúng tuyển", "Selected"), ("Xuất cảnh", "Departed"),
                ("XC: đào tạo cơ bản+", "Departed: basic+"), ("XC: nâng cao", "Departed: advanced")],
               rows, {i: _INT for i in range(2, 7)})
    if r.returns is not None:
        from web.services.names import LABELS

        ret = r.returns
        rows = [("Về đúng hạn / At term", ret["at_term"]), ("Về trước hạn / Early", ret["early"])]
        rows += [(f"  {' / '.join(LABELS.get(k, (k, k)))}", n) for k, n in ret["by_reason"]]
        rows += [(f"  Doanh nghiệp / Enterprise {rid}", n) for rid, n in ret["by_enterprise"]]
        _sheet(wb, "Về nước", "Người lao động về nước trong kỳ / Returns in the period",
               [("Mục", "Item"), ("Số người", "Workers")], rows, {2: _INT})
    _sheet(wb, "Nhu cầu theo nước", "Chỗ còn trống hợp lệ theo nước / Open legal places by country",
           [("Nước", "Country"), ("Chỗ trống", "Places")], [(_name("market", k), v) for k, v in r.demand["by_country"]],
           {2: _INT})
    _sheet(wb, "Nhu cầu theo nghề", "Chỗ còn trống hợp lệ theo nghề / Open legal places by occupation",
           [("Nghề", "Occupation"), ("Chỗ trống", "Places")], r.demand["by_occupation"], {2: _INT})
    for key, vi, en in (("by_commune", "Xã/phường", "Commune"), ("by_ethnicity", "Dân tộc", "Ethnic group"),
                        ("by_gender", "Giới tính", "Gender"), ("by_disadvantaged", "Xã ĐBKK", "Disadvantaged commune")):
        _sheet(wb, f"Đăng ký - {vi}"[:31], f"Người lao động đăng ký theo {vi.lower()} / Registered workers by {en.lower()}",
               [(vi, en), ("Số người", "Workers")],
               [(_name("gender", k) if key == "by_gender" else k, v) for k, v in r.applicants[key]], {2: _INT})
    _sheet(wb, "Bị chặn - lý do", "Đơn hàng bị chặn theo lý do / Blocked orders by reason",
           [("Mã", "Code"), ("Lý do", "Reason"), ("Reason", "(English)"), ("Số đơn", "Orders")], r.blocked["by_reason"], {4: _INT})
    _sheet(wb, "Bị chặn - doanh nghiệp", "Doanh nghiệp có đơn hàng bị chặn / Enterprises flagged",
           [("Doanh nghiệp", "Enterprise"), ("Số đơn", "Orders")], r.blocked["by_enterprise"], {2: _INT})
    return wb


def needs_workbook(needs: insights.TrainingNeeds, workers: dict[str, Worker] | None = None):
    """Training needs as a workbook: the ranked needs, their splits, and (when ``workers`` is
    given) one row per worker and need with the support the worker may claim."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    head = (f"Nhu cầu đào tạo ngày {needs.day.strftime('%d/%m/%Y')}: {needs.workers} người lao động, "
            f"{needs.orders} đơn hàng hợp lệ, {needs.places} chỗ trống / Training needs on {needs.day}")
    rows = [(n.step.vi, n.step.en, ", ".join(n.requirement_names), n.training_months, n.workers, len(n.orders), n.places,
             n.fillable, ", ".join(f"{_name('market', k)} {v}" for k, v in n.by_country.most_common()),
             ", ".join(f"{_name('programme', k)} {v}" for k, v in n.by_programme.most_common())) for n in needs.needs]
    _sheet(wb, "Nhu cầu đào tạo", head,
           [("Nhu cầu", "Need"), ("Need", "(English)"), ("Chứng chỉ", "Certificates"), ("Số tháng học", "Months"),
            ("Người thiếu 1 bước", "Workers one step short"), ("Đơn hàng", "Orders"), ("Chỗ trống", "Places"),
            ("Chỗ có thể lấp", "Fillable places"), ("Theo nước (chỗ)", "By country (places)"),
            ("Theo chương trình (chỗ)", "By programme (places)")], rows, {i: _INT for i in range(4, 9)},
           note="Một bước: yêu cầu duy nhất chưa đạt là một bậc ngoại ngữ, kết quả EPS-TOPIK, hoặc kinh nghiệm nghề. "
                "/ One step: the only unmet requirement is one language level, an EPS-TOPIK pass, or trade experience.")
    split = []
    for n in needs.needs:
        for dim, counter in (("commune", n.by_commune), ("ethnicity", n.by_ethnicity),
                             ("disadvantaged", n.by_disadvantaged), ("support", n.by_support)):
            for k, v in counter.most_common():
                split.append((n.key, n.step.vi, dim, k, v))
    _sheet(wb, "Phân theo nhóm", "Người lao động theo xã, dân tộc, xã ĐBKK, hỗ trợ / Workers by group",
           [("Mã", "Key"), ("Nhu cầu", "Need"), ("Nhóm", "Dimension"), ("Giá trị", "Value"), ("Số người", "Workers")],
           split, {5: _INT})
    supports = [(s.code, s.vi, s.en, reference.cite(s.source)[0]) for s in insights.SUPPORTS.values()]
    _sheet(wb, "Chính sách hỗ trợ", "Chính sách hỗ trợ và căn cứ / Support and its source",
           [("Mã", "Code"), ("Hỗ trợ", "Support"), ("Support", "(English)"), ("Căn cứ", "Source")], supports)
    if workers is not None:
        rows = []
        for n in needs.needs:
            for wid in n.worker_ids:
                w = workers.get(wid)
                if w is None:
                    continue
                rows.append((n.key, n.step.vi, wid, w.full_name, w.commune, w.ethnicity,
                             "Có" if w.disadvantaged_commune else "Không", len(n.pairs[wid]),
                             "; ".join(s.vi for s in insights.support_for(w))))
        _sheet(wb, "Danh sách", "Danh sách người lao động theo nhu cầu / Workers per need",
               [("Mã", "Key"), ("Nhu cầu", "Need"), ("Mã NLĐ", "Worker id"), ("Họ tên", "Name"), ("Xã/phường", "Commune"),
                ("Dân tộc", "Ethnic group"), ("Xã ĐBKK", "Disadvantaged"), ("Số đơn mở ra", "Orders opened"),
                ("Hỗ trợ có thể hưởng", "Support")], rows, {8: _INT})
    return wb


def workbook_bytes(wb) -> bytes:
    """The workbook's bytes through the one safe writer (formulas neutralised)."""
    from data.sheets import workbook_bytes as safe_bytes

    return safe_bytes(wb)
