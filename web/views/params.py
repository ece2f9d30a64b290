"""Query-string arguments read by the pages, in one place: a page number, a date, a country. A value a
person can type wrong answers with a message beside the field or falls back to the default; none
reaches the database or the date arithmetic out of range (issue 14: no HTTP 500 on bad input)."""

from __future__ import annotations

import datetime as dt
from flask import request

from models.formatting import parse_date, parse_day
from models.labels import COUNTRIES

MAX_PAGE = 1_000_000
DATE_HINT = ("Cần một ngày dạng NN/TT/NNNN (hoặc NNNN-TT-NN), từ 1900 đến 2100.",
             "A date is needed, dd/mm/yyyy (or YYYY-MM-DD), between 1900 and 2100.")


def page_arg(name: str = "page") -> int:
    """The page number, 1 when missing or unreadable, at most MAX_PAGE (an offset past the
    database's integer range would otherwise fail)."""
    try:
        return min(MAX_PAGE, max(1, int((request.args.get(name) or "1")[:12])))
    except ValueError:
        return 1


def country_code(text: str | None) -> str | None:
    """A country a person typed in a filter, as its code: "JP", "jp", "Nhật Bản", "nhat"
    (``models.labels.COUNTRIES``); text that names no country is kept upper-cased, so the
    filter finds nothing rather than another country; empty gives None."""
    typed = (text or "").strip()[:100]
    if not typed:
        return None
    return COUNTRIES.read(typed) or typed.upper()


def page_of(total: int, size: int, name: str = "page") -> tuple[int, int]:
    """``(page, pages)`` for a list of ``total`` rows shown ``size`` a page: the page asked
    (:func:`page_arg`), but at most the last one, so a page past the end shows the last page
    instead of an empty table under a non-zero count."""
    pages = max(1, -(-total // size))
    return min(page_arg(name), pages), pages


def date_arg(name: str, errors: dict, default: dt.date | None = None) -> dt.date | None:
    """The date in query argument ``name``, ``default`` when empty; on a bad value ``errors[name]``
    gets the (Vietnamese, English) message and ``default`` is returned."""
    raw = (request.args.get(name) or "").strip()[:40]
    if not raw:
        return default
    try:
        return parse_day(raw)
    except ValueError:
        errors[name] = DATE_HINT
        return default


FORM_DATE_ERROR = ("Cần một ngày dạng NN/TT/NNNN.", "A date as dd/mm/yyyy is expected.")


def form_dates(form, names, values: dict, errors: dict) -> None:
    """Read the optional date fields ``names`` of a posted form (dd/mm/yyyy or ISO) into
    ``values`` (``None`` when empty or unreadable), with :data:`FORM_DATE_ERROR` in ``errors``."""
    for name in names:
        raw = (form.get(name) or "").strip()
        try:
            values[name] = parse_date(raw) if raw else None
        except ValueError:
            values[name] = None
            errors[name] = FORM_DATE_ERROR


def refuse_nul_bytes() -> None:
    """Refuse (400) a query string or form carrying a NUL character: no person types one, and
    PostgreSQL cannot store or compare it (the query would fail with a 500)."""
    from web.services.errors import BadRequest

    sources = [request.args] + ([request.form] if request.mimetype in _FORM_TYPES else [])
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise BadRequest("Yêu cầu chứa ký tự không hợp lệ (NUL).", f"The request carries a NUL character in {key!r}.")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
