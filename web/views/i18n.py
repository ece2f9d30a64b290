"""Vietnamese first, English as a switch; dates and money the Vietnamese way.

The language comes from ``?lang=vi|en`` (remembered in the session), default Vietnamese.
Templates call ``t("tiếng Việt", "English")``; ``bi(vi, en)`` renders Vietnamese with the
English in a smaller second line, used for reasons and labels where both help.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, g, request, session
from markupsafe import Markup

from models import formatting, labels, languages, reference
from web.services.names import LABELS

LANGS = ("vi", "en")


def current_lang() -> str:
    return getattr(g, "lang", "vi")


def t(vi: str, en: str) -> str:
    return en if current_lang() == "en" else vi


def bi(vi: str | None, en: str | None) -> Markup:
    """Primary text in the chosen language, the other language in a small second line."""
    vi = vi or ""
    en = en or ""
    first, second = (en, vi) if current_lang() == "en" else (vi, en)
    if not second or second == first:
        return Markup("{}").format(first)
    return Markup('{}<br><small class="second" lang="{}">{}</small>').format(
        first, "vi" if current_lang() == "en" else "en", second
    )


def fmt_date(value: dt.date | dt.datetime | None) -> str:
    """A date in the UI language; datetimes (stored UTC) in Vietnam time. See models.formatting."""
    return formatting.format_date(value, current_lang())


def fmt_month(value: dt.date | None) -> str:
    """A month: 07/2027, in English Jul 2027 (models.formatting)."""
    return formatting.format_month(value, current_lang())


def fmt_datetime(value: dt.datetime | None) -> str:
    """A stored UTC timestamp with its time, in Vietnam time (models.formatting)."""
    return formatting.format_datetime(value, current_lang())


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    return formatting.format_number(value, decimals, current_lang())


def fmt_money(value: float | int | None, currency: str | None = "VND") -> str:
    return formatting.format_money(value, currency, current_lang())


def fmt_percent(value: float | None, decimals: int = 0) -> str:
    return formatting.format_percent(value, decimals, current_lang())


def mask(value: str | None, keep: int = 3) -> str:
    """Mask a phone number or national ID, keeping only the last ``keep`` characters."""
    if not value:
        return ""
    text = str(value).strip()
    if len(text) <= keep:
        return "*" * len(text)
    return "*" * (len(text) - keep) + text[-keep:]


def label(value: Any, vocabulary: str | None = None) -> str:
    """The name of a code in the UI language; ``vocabulary`` (a key of
    ``models.labels.VOCABULARIES``: "audit_action", "note_kind"...) picks the table."""
    if value is None or value == "":
        return ""
    if vocabulary is not None:
        return labels.VOCABULARIES[vocabulary].label(str(value), current_lang())
    pair = LABELS.get(str(value))
    return t(*pair) if pair else str(value)


def country(code: str | None) -> str:
    if not code:
        return ""
    return labels.COUNTRIES.label(code.strip().upper(), current_lang())


def certificate(text: str | None) -> str:
    """A certificate with its test date in the UI's format: "JLPT N4 (02/07/2023)"."""
    return languages.shown_certificate(text or "", current_lang())


def cite(source: str | None) -> str:
    """A legal source ("L69 Art 7(12)") as a person reads it: "Luật 69/2020/QH14, Điều 7(12)"."""
    return reference.cite(source or "")[1 if current_lang() == "en" else 0]


def init_app(app: Flask) -> None:
    @app.before_request
    def _pick_language():
        asked = request.args.get("lang")
        if asked in LANGS:
            session["lang"] = asked
        g.lang = session.get("lang", "vi") if asked not in LANGS else asked

    app.jinja_env.globals.update(t=t, bi=bi, label=label, country=country, cite=cite, mask=mask,
                                  current_lang=current_lang)
    app.jinja_env.filters.update(
        date=fmt_date, month=fmt_month, datetime=fmt_datetime, number=fmt_number, money=fmt_money, percent=fmt_percent, mask=mask,
        certificate=certificate,
    )
