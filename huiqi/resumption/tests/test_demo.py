"""The demo's return to work: filings in every state, 60 days of checks on a rising curve, a rollup that
agrees with the raw rows, and a refusal to build twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count, Sum

from huiqi.registry import demo as registry_demo
from huiqi.resumption import demo, selectors
from huiqi.resumption.models import DailyCheck, DailyRollup, FilingStatus, ReturnToWorkFiling

pytestmark = pytest.mark.django_db


def test_demo_return_to_work():
    registry_demo.build_demo("small", 2020)
    counts = demo.build_resumption_demo("small", 2020)
    assert counts["daily_checks"] == DailyCheck.objects.count() > 50_000
    assert set(ReturnToWorkFiling.objects.values_list("status", flat=True)) == set(FilingStatus.values)
    days = DailyCheck.objects.aggregate(first=Count("day", distinct=True))
    assert days["first"] == 60
    assert DailyCheck.objects.filter(day=dt.date(2020, 2, 3)).exists()
    assert DailyCheck.objects.filter(day=dt.date(2020, 4, 2)).exists()

    city = selectors.Scope()
    start = selectors.figures_for(city, dt.date(2020, 2, 3))
    middle = selectors.figures_for(city, dt.date(2020, 2, 24))
    end = selectors.figures_for(city, dt.date(2020, 4, 2))
    assert start["resumption_rate"] < 10 < middle["resumption_rate"] < 60 < end["resumption_rate"]
    assert start["workers_rate"] < end["workers_rate"] and start["avg_capacity"] < end["avg_capacity"]

    # The rollup is the raw table grouped.
    raw = DailyCheck.objects.filter(day=dt.date(2020, 3, 2)).aggregate(n=Count("id"), r=Sum("staff_returned"))
    kept = DailyRollup.objects.filter(day=dt.date(2020, 3, 2)).aggregate(n=Sum("reports"), r=Sum("staff_returned"))
    assert raw == kept

    with pytest.raises(demo.ResumptionDataExists):
        demo.build_resumption_demo("small", 2020)
    assert DailyCheck.objects.count() == counts["daily_checks"]


def test_demo_is_deterministic():
    registry_demo.build_demo("small", 2020)
    enterprises = demo._enterprises()[:300]
    stream, _ = demo.generate_checks(enterprises, 2020, 1)
    first = [r[:16] for r in stream()]
    stream, _ = demo.generate_checks(enterprises, 2020, 1)
    assert first == [r[:16] for r in stream()]
