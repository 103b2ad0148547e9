"""The working-day calendar over 调休 days, and the calendar table the bureau maintains."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.core import workdays
from huiqi.core.models import CalendarDay
from huiqi.core.workdays import Calendar, CalendarYearMissing

D = dt.date


@pytest.fixture
def cal(db):
    return Calendar.load()


def test_table_is_seeded_from_the_package(db):
    assert CalendarDay.objects.filter(date=D(2020, 1, 19), is_working_day=True).exists()
    assert CalendarDay.objects.filter(date=D(2020, 1, 31), is_working_day=False).exists()
    assert workdays.seed_from_package() == 0  # every year already there: nothing added


@pytest.mark.parametrize("start, n, due", [
    (D(2020, 2, 1), 1, D(2020, 2, 3)),     # received on the last day of the extended holiday (Saturday)
    (D(2020, 2, 28), 1, D(2020, 3, 2)),    # Friday → Monday
    (D(2020, 1, 17), 1, D(2020, 1, 19)),   # Friday → the make-up Sunday 2020-01-19
    (D(2020, 1, 19), 1, D(2020, 1, 20)),
    (D(2020, 1, 23), 1, D(2020, 2, 3)),    # Spring Festival holiday extended to 2020-02-02
    (D(2020, 1, 23), 5, D(2020, 2, 7)),
    (D(2020, 4, 30), 1, D(2020, 5, 6)),    # Labour Day 2020: 05-01..05-05 off
    (D(2020, 4, 25), 1, D(2020, 4, 26)),   # Sunday 2020-04-26 is a make-up working day
    (D(2020, 9, 30), 1, D(2020, 10, 9)),   # National Day and Mid-Autumn 2020-10-01..08
    (D(2020, 2, 10), 0, D(2020, 2, 10)),
])
def test_add_working_days(cal, start, n, due):
    assert cal.add_working_days(start, n) == due
    assert workdays.add_working_days(start, n) == due


def test_find_workday_of_the_package_differs_on_a_holiday(cal):
    """The library counts one day more when the start is not a working day; ours does not."""
    import chinese_calendar

    assert chinese_calendar.find_workday(1, D(2020, 2, 1)) == D(2020, 2, 4)
    assert cal.add_working_days(D(2020, 2, 1), 1) == D(2020, 2, 3)


@pytest.mark.parametrize("start, end, n", [
    (D(2020, 1, 17), D(2020, 1, 20), 2),    # the make-up Sunday counts
    (D(2020, 1, 23), D(2020, 2, 3), 1),     # the whole extended holiday: only 02-03
    (D(2020, 2, 3), D(2020, 2, 3), 0),
    (D(2020, 2, 5), D(2020, 2, 3), 0),
    (D(2020, 2, 3), D(2020, 2, 10), 5),
])
def test_working_days_between(cal, start, end, n):
    assert cal.working_days_between(start, end) == n
    assert workdays.working_days_between(start, end) == n


def test_add_and_between_agree(cal):
    day = D(2020, 1, 1)
    for n in range(40):
        due = cal.add_working_days(day, n)
        assert cal.working_days_between(day, due) == n


def test_subtract_working_days(cal):
    assert cal.subtract_working_days(D(2020, 2, 3), 1) == D(2020, 1, 23)
    assert cal.subtract_working_days(D(2020, 1, 20), 1) == D(2020, 1, 19)


def test_a_missing_year_is_not_guessed(cal):
    last = max(cal.years)
    with pytest.raises(CalendarYearMissing) as err:
        cal.add_working_days(D(last, 12, 20), 30)
    assert err.value.year == last + 1
    assert err.value.status == 409 and str(last + 1) in err.value.zh


def test_the_bureau_enters_next_year(db):
    last = max(Calendar.load().years)
    nxt = last + 1
    CalendarDay.objects.create(date=D(nxt, 1, 1), is_working_day=False, name="元旦")
    CalendarDay.objects.create(date=D(nxt, 1, 4), is_working_day=True, name="元旦")
    cal = Calendar.load()
    assert nxt in cal.years
    assert not cal.is_working_day(D(nxt, 1, 1))
    # The seed never overwrites an entered year.
    assert workdays.seed_from_package() == 0
    assert CalendarDay.objects.filter(date__year=nxt).count() == 2


def test_an_edited_day_counts(db):
    CalendarDay.objects.update_or_create(date=D(2020, 2, 3), defaults={"is_working_day": False, "name": "测试"})
    assert workdays.add_working_days(D(2020, 2, 1), 1) == D(2020, 2, 4)


def test_the_bureau_edits_the_calendar_in_the_back_office(users):
    from django.test import Client

    from huiqi.core.models import AuditEvent

    c = Client()
    c.force_login(users["bureau"])
    assert c.get("/admin/core/calendarday/").status_code == 200
    resp = c.post("/admin/core/calendarday/add/", {"date": "2099-01-01", "is_working_day": "", "name": "元旦",
                                                    "note": "国办发明电"})
    assert resp.status_code == 302, resp.content[:500]
    day = CalendarDay.objects.get(date=D(2099, 1, 1))
    assert AuditEvent.objects.filter(model="core.CalendarDay", object_id=str(day.pk), action="create").exists()
    other = Client()
    other.force_login(users["department"])
    assert other.get("/admin/core/calendarday/").status_code == 302  # not staff: to the admin log-in
