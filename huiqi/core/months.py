"""Calendar months: a day plus some months, as the programs count periods and maturities."""

from __future__ import annotations

import datetime as dt

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(d: dt.date, n: int) -> dt.date:
    """``d`` plus ``n`` calendar months, the day clamped to the month's end (03-31 + 6 = 09-30). In integers
    only: a city's ledger calls it for every payment of 300,000 loans."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    last = _DAYS_IN_MONTH[month0]
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    day = d.day
    return dt.date(year, month0 + 1, day if day <= last else last)
