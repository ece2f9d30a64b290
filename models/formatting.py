"""One formatting layer for people: dates, numbers, money and times, Vietnamese or English.

Every page, workbook and message formats through here (Babel underneath), so a date is
``20/03/2027`` and a number ``1.234,5`` in Vietnamese, ``Mar 20, 2027`` and ``1,234.5`` in
English. Times are stored in UTC (naive datetimes are taken as UTC) and shown in
Asia/Ho_Chi_Minh. Money in đồng always carries one symbol: ``12.500.000 đ``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal as _babel_decimal

LOCAL_TZ = "Asia/Ho_Chi_Minh"
VND_SYMBOL = "đ"
_DATE_PATTERN = {"vi": "dd/MM/yyyy", "en": "medium"}
_DATETIME_PATTERN = {"vi": "dd/MM/yyyy HH:mm", "en": "MMM d, yyyy HH:mm"}
_MONTH_PATTERN = {"vi": "MM/yyyy", "en": "MMM yyyy"}


def _locale(lang: str) -> str:
    return "en" if lang == "en" else "vi"


def format_date(value: dt.date | dt.datetime | None, lang: str = "vi") -> str:
    """A date as people read it; a datetime also gets its local (Vietnam) time of day."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_datetime(value, lang)
    return _babel_date(value, _DATE_PATTERN[_locale(lang)], locale=_locale(lang))


def format_month(value: dt.date | None, lang: str = "vi") -> str:
    """A month (a date known to its month only): ``07/2023``; in English ``Jul 2023``."""
    if value is None:
        return ""
    return _babel_date(value, _MONTH_PATTERN[_locale(lang)], locale=_locale(lang))


def format_datetime(value: dt.datetime | None, lang: str = "vi") -> str:
    """A stored UTC timestamp shown in Asia/Ho_Chi_Minh."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return _babel_datetime(
        value, _DATETIME_PATTERN[_locale(lang)], tzinfo=LOCAL_TZ, locale=_locale(lang)
    )


def local_date(value: dt.datetime) -> dt.date:
    """The day in Cao Bằng (Asia/Ho_Chi_Minh) of a stored UTC timestamp (naive = UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(ZoneInfo(LOCAL_TZ)).date()


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Cao Bằng, whatever the server's own time zone (at 17:00 UTC on 02/12 it is
    already 03/12); ``now`` (UTC) defaults to the clock."""
    return local_date(now or dt.datetime.now(dt.timezone.utc))


def utc_at_local(day: dt.date, time: dt.time = dt.time()) -> dt.datetime:
    """The stored (naive UTC) timestamp of ``time`` on ``day`` in Cao Bằng: what to store for a
    local moment, and the bound to compare stored times with for a local day (midnight of
    20/03/2027 in Cao Bằng is 19/03/2027 17:00 UTC)."""
    local = dt.datetime.combine(day, time, tzinfo=ZoneInfo(LOCAL_TZ))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def format_number(value: float | int | None, decimals: int = 0, lang: str = "vi") -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _format_number(value, decimals, _locale(lang))
    return _format_number_cached(value, decimals, _locale(lang))


def _format_number(value, decimals: int, locale: str) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return _babel_decimal(value, format=pattern, locale=locale)


# Babel's formatting costs about 60 µs a number; a ranking's explanations write the same wages
# and fees again and again (a fifth of a matches request went here)
_format_number_cached = functools.lru_cache(maxsize=65_536)(_format_number)


def format_money(value: float | int | None, currency: str | None = "VND", lang: str = "vi") -> str:
    if value is None:
        return ""
    code = (currency or "VND").upper()
    return f"{format_number(value, lang=lang)} {VND_SYMBOL if code == 'VND' else code}"


def format_percent(value: float | None, decimals: int = 0, lang: str = "vi") -> str:
    if value is None:
        return "—"
    return f"{format_number(value * 100, decimals, lang)}%"


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str | dt.date | None) -> dt.date | None:
    """A date typed by a person: ``dd/mm/yyyy`` (also with ``-`` or ``.``) or ISO ``yyyy-mm-dd``.

    Returns None for empty input; raises ValueError for anything else that is not a date.
    """
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    s = str(text).strip()
    if not s:
        return None
    if _ISO_DAY.fullmatch(s):  # the common case (every export), without strptime's cost
        try:
            return dt.date(int(s[:4]), int(s[5:7]), int(s[8:10]))
        except ValueError:
            pass
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(s, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date (dd/mm/yyyy or yyyy-mm-dd): {s!r}")


# Dates a person may ask for: wide enough for any birth date or report period, narrow enough that
# adding a day or a year never overflows (``9999-12-31`` + 1 day would).
MIN_DAY = dt.date(1900, 1, 1)
MAX_DAY = dt.date(2100, 12, 31)


def parse_day(raw: str) -> dt.date:
    """A typed date (:func:`models.formatting.parse_date`: dd/mm/yyyy or ISO) within
    MIN_DAY..MAX_DAY; ValueError otherwise."""
    day = parse_date(raw)
    if day is None:
        raise ValueError("empty date")
    if not MIN_DAY <= day <= MAX_DAY:
        raise ValueError(f"{raw!r} is outside {MIN_DAY}..{MAX_DAY}")
    return day
