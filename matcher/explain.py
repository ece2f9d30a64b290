"""The sentences that explain a match, in Vietnamese and English: what each feature found
(experience, language, country wish, wage, fee), with the numbers written the Vietnamese way.
The engine (``matcher.ranker``) computes the features; this module only writes them out."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.vocabulary import display_name as vocab_display_name
from models import formatting
from models.snapshots import OrderSnapshot, WorkerSnapshot
from models.labels import COUNTRIES
from models.languages import shown_certificate


@dataclass(frozen=True)
class Explanation:
    """A plain sentence about one feature of a match, in Vietnamese and English."""

    feature: str
    vi: str
    en: str




def _country_sentence(worker: WorkerSnapshot, order: OrderSnapshot) -> Explanation | None:
    """The country-preference sentence, naming the countries ("Nhật Bản là nước mong muốn thứ 1"),
    or None when the worker gave no preference."""
    prefs = [c.upper() for c in worker.preferred_countries or []]
    here = order.country.upper()
    here_vi, here_en = COUNTRIES.pair(here)
    if here in prefs:
        rank = prefs.index(here) + 1
        return Explanation("country_preference", f"{here_vi} là nước mong muốn thứ {rank} của người lao động.",
                           f"{here_en} is the worker's choice number {rank}.")
    if not prefs:
        return None
    wished_vi = ", ".join(COUNTRIES.label(c) for c in prefs)
    wished_en = ", ".join(COUNTRIES.label(c, "en") for c in prefs)
    return Explanation("country_preference", f"{here_vi} không nằm trong các nước mong muốn ({wished_vi}).",
                       f"{here_en} is not among the preferred countries ({wished_en}).")




def _money(x: float) -> str:
    """Vietnamese money: 30.600.000 đ (models.formatting, the one formatting layer)."""
    return formatting.format_money(x)


def _money_en(x: float) -> str:
    """The same in the English sentence: 30,600,000 đ."""
    return formatting.format_money(x, lang="en")


def _vi_num(x: float) -> str:
    """A number as Vietnamese writes it: decimal comma, at most one decimal (1,5; 3)."""
    return f"{x:.1f}".rstrip("0").rstrip(".").replace(".", ",")




def explanations(worker: WorkerSnapshot, order: OrderSnapshot, f: dict, ctx: dict) -> list[Explanation]:
    """The sentences behind a match's features, in Vietnamese and English (``ctx``: what the
    feature computation found: the best occupation, the wage in VND, the cost ...)."""
    """Plain sentences, one per feature, with the concrete values (built for shown results only)."""
    best_occ, la, wage_vnd, cost, late = (ctx[k] for k in ("best_occ", "la", "wage_vnd", "cost", "late"))
    expl: list[Explanation] = []
    sim_pct = round(100 * f["occupation_similarity"])
    expl.append(Explanation(
        "occupation_similarity",
        f"Kỹ năng và kinh nghiệm gần với công việc «{order.title}» ({sim_pct}/100).",
        f"Skills and experience are close to «{order.title}» ({sim_pct}/100).",
    ))
    need = order.min_experience_years
    relevant = ctx["relevant"]
    if best_occ and relevant >= 0.25:
        # The sentence gives exactly the years the experience feature counted (related
        # occupations only, in full) and the related occupation with the most years.
        occ_name = vocab_display_name(best_occ[0])
        expl.append(Explanation(
            "experience_fit",
            f"{_vi_num(relevant)} năm kinh nghiệm liên quan, chủ yếu «{occ_name}» "
            f"({_vi_num(best_occ[1])} năm)" + (f"; yêu cầu {_vi_num(need)} năm." if need else "."),
            f"{_vi_num(relevant).replace(',', '.')} years of related experience, mainly «{occ_name}» ({best_occ[1]:g} years)"
            + (f"; required: {need:g}." if need else "."),
        ))
    elif need:
        expl.append(Explanation(
            "experience_fit",
            f"Chưa có kinh nghiệm liên quan rõ ràng (yêu cầu {_vi_num(need)} năm).",
            f"No clearly related experience (required: {need:g} years).",
        ))
    if la.status == "ok" and la.best_cert is not None:
        expl.append(Explanation(
            "language_fit",
            f"Đạt yêu cầu ngoại ngữ {order.language_requirement} (có {shown_certificate(la.best_cert.raw)}).",
            f"Meets the language requirement {order.language_requirement} "
            f"(has {shown_certificate(la.best_cert.raw, 'en')}).",
        ))
    elif la.status == "none_required":
        expl.append(Explanation("language_fit", "Đơn hàng không yêu cầu chứng chỉ ngoại ngữ.",
                                "The order requires no language certificate."))
    country = _country_sentence(worker, order)
    if country is not None:
        expl.append(country)
    if wage_vnd is not None:
        if worker.min_wage_vnd:
            cmp_vi = "đạt" if wage_vnd >= worker.min_wage_vnd else "thấp hơn"
            cmp_en = "meets" if wage_vnd >= worker.min_wage_vnd else "is below"
            expl.append(Explanation(
                "wage_fit",
                f"Lương khoảng {_money(wage_vnd)}/tháng, {cmp_vi} mức mong muốn {_money(worker.min_wage_vnd)}.",
                f"Wage about {_money_en(wage_vnd)}/month {cmp_en} the wished minimum {_money_en(worker.min_wage_vnd)}.",
            ))
        else:
            expl.append(Explanation("wage_fit", f"Lương khoảng {_money(wage_vnd)}/tháng.",
                                    f"Wage about {_money_en(wage_vnd)}/month."))
    if cost > 0:
        if worker.max_fee_vnd is not None:
            ok = cost <= worker.max_fee_vnd
            expl.append(Explanation(
                "fee_fit",
                f"Tổng phí dịch vụ và ký quỹ {_money(cost)} "
                + ("trong khả năng chi trả" if ok else "vượt khả năng chi trả")
                + f" ({_money(worker.max_fee_vnd)}).",
                f"Service fee and deposit {_money_en(cost)} "
                + ("within" if ok else "above")
                + f" what the worker can pay ({_money_en(worker.max_fee_vnd)}).",
            ))
    else:
        expl.append(Explanation("fee_fit", "Người lao động không phải trả phí dịch vụ hay ký quỹ.",
                                "The worker pays no service fee or deposit."))
    if late > 0:
        expl.append(Explanation(
            "date_fit",
            f"Sẵn sàng từ {formatting.format_date(worker.available_from)}, sau ngày xuất cảnh {formatting.format_date(order.departure_date)}.",
            f"Available from {formatting.format_date(worker.available_from, 'en')}, after departure on {formatting.format_date(order.departure_date, 'en')}.",
        ))
    return expl
