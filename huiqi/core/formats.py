"""How figures and times are written for people: the one place every page, PDF and message formats them.

Pure functions of Decimal, int and datetime, never float (a float is refused, not rounded). Display
rounding is ``ROUND_HALF_UP`` (named: ``ROUNDING``), as a person rounds by hand; calculation rounding
belongs to each program's rules, where its spec names the mode. Money arrives as whole fen. Separators
are the same in both languages ("1,234,567.89"), so nothing here depends on the page's language.

``{% load formats %}`` gives templates the same functions as filters (``core/templatetags/formats.py``).
Machine files (CSV, the API) keep raw values; these are for people only.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

ROUNDING = ROUND_HALF_UP
EMPTY = "—"  # what a missing figure shows

FEN_PER_YUAN = 100
FEN_PER_WAN = 1_000_000  # 万元: 10,000 yuan
FEN_PER_YI = 10_000_000_000  # 亿元: 100,000,000 yuan

# Beijing time: what every datetime a person reads is in, whatever the server or the request says.
BEIJING = ZoneInfo("Asia/Shanghai")

# The shapes of a time shown to people (Beijing time).
TIME_SHAPES = {
    "minute": "%Y-%m-%d %H:%M",
    "second": "%Y-%m-%d %H:%M:%S",
    "date": "%Y-%m-%d",
    "time": "%H:%M",
    "short": "%m-%d %H:%M",
}


def as_decimal(value) -> Decimal | None:
    """``value`` (int, Decimal or numeric text) as a Decimal; None for nothing. A float is refused:
    its binary approximation is not the amount."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("a yes/no is not a number")
    if isinstance(value, float):
        raise TypeError(f"a float is not shown as a figure ({value!r}): pass a Decimal or an int")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    try:
        found = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not found.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return found


def number(value, places: int = 0, *, signed: bool = False) -> str:
    """``value`` rounded half up to ``places`` decimal places, with thousands separators:
    ``number(Decimal("1234567.895"), 2)`` is "1,234,567.90"; ``signed`` writes "+" before a gain."""
    d = as_decimal(value)
    if d is None:
        return EMPTY
    rounded = d.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    text = f"{rounded:,.{places}f}"
    return f"+{text}" if signed and rounded > 0 else text


def xlsx_number_format(places: int) -> str:
    """The spreadsheet number format of a figure with ``places`` decimals and thousands separators:
    "#,##0.00" for an amount in yuan, "#,##0" for a count."""
    return "#,##0" + ("." + "0" * places if places > 0 else "")


XLSX_MONEY = xlsx_number_format(2)
XLSX_COUNT = xlsx_number_format(0)
XLSX_DATE = "yyyy-mm-dd"
XLSX_DATETIME = "yyyy-mm-dd hh:mm:ss"


def count(value, *, signed: bool = False) -> str:
    """A count with separators: 1234567 → "1,234,567"."""
    return number(value, 0, signed=signed)


def _money(fen, per: int, places: int, signed: bool) -> str:
    d = as_decimal(fen)
    if d is None:
        return EMPTY
    return number(d / per, places, signed=signed)


def in_wan(fen, places: int = 2) -> Decimal:
    """Fen as a number of 万元, rounded half up to ``places`` (a chart's value, no separators)."""
    return (as_decimal(fen or 0) / FEN_PER_WAN).quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)


def yuan(fen, places: int = 2, *, signed: bool = False) -> str:
    """Fen as yuan: 123456789 → "1,234,567.89"."""
    return _money(fen, FEN_PER_YUAN, places, signed)


def wan(fen, places: int = 2, *, signed: bool = False) -> str:
    """Fen as 万元 (the unit belongs in the heading): 123456789 → "123.46"."""
    return _money(fen, FEN_PER_WAN, places, signed)


def yi(fen, places: int = 2, *, signed: bool = False) -> str:
    """Fen as 亿元 (city-scale totals; the unit belongs in the heading): 1234567890123 → "123.46"."""
    return _money(fen, FEN_PER_YI, places, signed)


def pct(percent, places: int = 2, *, signed: bool = False) -> str:
    """A figure already in percent: Decimal("12.345") → "12.35%"."""
    d = as_decimal(percent)
    if d is None:
        return EMPTY
    return f"{number(d, places, signed=signed)}%"


def rate(fraction, places: int = 2, *, signed: bool = False) -> str:
    """A fraction as a percentage: Decimal("0.12345") → "12.35%"."""
    d = as_decimal(fraction)
    if d is None:
        return EMPTY
    return pct(d * 100, places, signed=signed)


def to_beijing(value):
    """An aware datetime (or its ISO text) in Beijing time; a naive one is taken as Beijing time already;
    a date stays a date; None for nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text) if ("T" in text or " " in text) else dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a date or time: {value!r}") from None
    if isinstance(value, dt.datetime):
        return value.astimezone(BEIJING) if value.tzinfo is not None else value.replace(tzinfo=BEIJING)
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"not a date or time: {value!r}")


def beijing(value, shape: str = "minute") -> str:
    """A moment in Beijing time: "2020-04-02 14:05" (``shape`` "second" adds seconds; "date", "time",
    "short" ("04-02 14:05") show part of it). A date is shown as a date."""
    when = to_beijing(value)
    if when is None:
        return EMPTY
    if not isinstance(when, dt.datetime):
        return when.strftime(TIME_SHAPES["date"])
    return when.strftime(TIME_SHAPES[shape])


def day(value) -> str:
    """A calendar day: "2020-04-02" (a datetime's day in Beijing time)."""
    return beijing(value, "date")


def long_date(value) -> str:
    """A day as a document's date is written: "2020年4月2日", in English "2 April 2020"."""
    from .i18n import pick

    when = to_beijing(value)
    if when is None:
        return EMPTY
    return pick(f"{when.year}年{when.month}月{when.day}日", f"{when.day} {_MONTHS[when.month - 1]} {when.year}")


# English month names, whatever the machine's locale (strftime's %B follows it).
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
