"""China's official working-day calendar (工作日, with 调休 make-up days) and deadlines counted on it.

The calendar is the ``CalendarDay`` table: every day that departs from the plain week (a holiday on a
weekday, a make-up working day on a weekend). It is seeded from the chinese-calendar package, which
ends with the last notice it knew; the bureau enters the next year's notice in the back office. A year
with no row is *missing*: counting into it raises ``CalendarYearMissing`` instead of guessing, because a
guessed year has no make-up days and gives wrong deadlines.

Counting (``domain/working-days.md``): "within N working days of D" ends on the N-th working day
strictly after D, whether or not D itself is a working day. ``chinese_calendar.find_workday`` counts one
day more when D is not a working day, so it is not used.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from .errors import DomainError

ONE_DAY = dt.timedelta(days=1)
_CACHE: dict = {"calendar": None, "at": 0.0}
# How far a count may run before it is treated as a mistake (ten years of working days).
_LIMIT = 2500


class CalendarYearMissing(DomainError):
    """The calendar has no data for a year a count runs into: the bureau must enter that year's notice."""

    status = 409

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            "calendar.year_missing", _("%(year)s 年的节假日安排尚未录入，无法计算工作日期限；请局工作人员在后台录入国务院办公厅的放假通知"),
            field="date", value=year, year=year,
        )


class Calendar:
    """The working-day calendar as plain data: ``exceptions`` maps a date to whether it is a working
    day; ``years`` are the years the calendar covers. Pure: no database after construction."""

    def __init__(self, exceptions: dict[dt.date, bool], years: Iterable[int]):
        self.exceptions = dict(exceptions)
        self.years = frozenset(years)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[dt.date, bool]]) -> Calendar:
        exceptions = dict(rows)
        return cls(exceptions, {d.year for d in exceptions})

    @classmethod
    def load(cls) -> Calendar:
        """The calendar as stored now (a few hundred rows, one query)."""
        from .models import CalendarDay

        return cls.from_rows(CalendarDay.objects.values_list("date", "is_working_day"))

    @classmethod
    def cached(cls, max_age: float = 60.0) -> Calendar:
        """The stored calendar as read at most ``max_age`` seconds ago in this process: for displays
        (flags on a list), never for a deadline that is stored."""
        now = time.monotonic()
        if _CACHE["calendar"] is None or now - _CACHE["at"] > max_age:
            _CACHE["calendar"], _CACHE["at"] = cls.load(), now
        return _CACHE["calendar"]

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.years:
            raise CalendarYearMissing(day.year)
        found = self.exceptions.get(day)
        if found is not None:
            return found
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after ``start`` (``start`` itself when n is 0)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day, left = start, n
        for _ in range(_LIMIT * 2):
            if left == 0:
                return day
            day += ONE_DAY
            if self.is_working_day(day):
                left -= 1
        raise ValueError(f"{n} working days after {start} is beyond the calendar's reach")

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days lie in (start, end]: 0 when end is not after start."""
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def subtract_working_days(self, end: dt.date, n: int) -> dt.date:
        """The latest day ``d`` with ``add_working_days(d, n) <= end`` counted back: the n-th working day
        strictly before ``end`` (``end`` when n is 0)."""
        day, left = end, n
        for _ in range(_LIMIT * 2):
            if left == 0:
                return day
            day -= ONE_DAY
            if self.is_working_day(day):
                left -= 1
        raise ValueError(f"{n} working days before {end} is beyond the calendar's reach")


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day strictly after ``start``, on the stored calendar."""
    return Calendar.load().add_working_days(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], on the stored calendar."""
    return Calendar.load().working_days_between(start, end)


def is_working_day(day: dt.date) -> bool:
    return Calendar.load().is_working_day(day)


def package_rows() -> list[tuple[dt.date, bool, str]]:
    """(date, is working day, holiday name) of every day the chinese-calendar package lists."""
    from chinese_calendar import constants

    rows = [(d, False, str(name)) for d, name in constants.holidays.items()]
    rows += [(d, True, str(name)) for d, name in constants.workdays.items()]
    return sorted(rows)


def seed_from_package() -> int:
    """Add the package's days for every year the table does not hold yet; never touch a year the
    bureau has entered or edited. Returns how many rows were added."""
    from .models import CalendarDay

    known = {d.year for d in CalendarDay.objects.dates("date", "year")}
    new = [CalendarDay(date=d, is_working_day=w, name=name, note="chinese-calendar")
           for d, w, name in package_rows() if d.year not in known]
    CalendarDay.objects.bulk_create(new, batch_size=500)
    return len(new)
