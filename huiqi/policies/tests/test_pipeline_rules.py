"""The spec's worked example beyond the evaluators: the push on publication, the 公示's objection period on
the working-day calendar, the closing reminder and the external cap."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from huiqi.core.workdays import Calendar, package_rows
from huiqi.policies import rules

from .example import ENTERPRISES, ITEMS

CAL = Calendar.from_rows((day, working) for day, working, _name in package_rows())
SH = ZoneInfo("Asia/Shanghai")


def test_push_on_publication_of_p3_reaches_e1_only_and_e1_is_asked_for_p1():
    after = {e: rules.evaluate(ITEMS["P3"], f) for e, f in ENTERPRISES.items()}
    assert rules.new_matches({}, after) == ["E1"]
    p1 = {e: rules.evaluate(ITEMS["P1"], f) for e, f in ENTERPRISES.items()}
    assert rules.asked_for_facts(p1) == ["E1"]
    # A new version changing nothing for E1 pushes nothing again.
    assert rules.new_matches(after, after) == []


def test_objection_period_counts_working_days_with_make_up_days():
    assert rules.objection_deadline(CAL, dt.date(2020, 4, 30), 5) == dt.date(2020, 5, 11)
    assert rules.objection_deadline(CAL, dt.date(2020, 5, 2), 5) == dt.date(2020, 5, 11)


def test_closing_reminder_seven_days_before():
    assert rules.reminder_day(dt.date(2020, 6, 30), 7) == dt.date(2020, 6, 23)


def test_external_cap_over_a_rolling_week():
    sent = [dt.datetime(2020, 3, d, 9, tzinfo=SH) for d in (2, 3, 5)]
    assert not rules.external_allowed(sent, dt.datetime(2020, 3, 6, 9, tzinfo=SH), 3)
    assert not rules.external_allowed(sent, dt.datetime(2020, 3, 8, 9, tzinfo=SH), 3)
    assert rules.external_allowed(sent, dt.datetime(2020, 3, 9, 9, tzinfo=SH), 3)
