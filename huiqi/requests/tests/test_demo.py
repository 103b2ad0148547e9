"""The demo requests: every state, channel and category, realistic text, refused over existing data."""

from __future__ import annotations

import pytest

from huiqi.requests import demo, services
from huiqi.requests.models import EnterpriseRequest, RequestEvent

pytestmark = pytest.mark.django_db


def test_demo_requests(users, city):
    counts = demo.build_requests_demo("small", 2020)
    assert counts["requests"] == EnterpriseRequest.objects.count() == 1_200
    assert counts["closed"] == EnterpriseRequest.objects.filter(status="closed").count() == 1_120
    assert set(EnterpriseRequest.objects.values_list("status", flat=True)) == {
        "submitted", "accepted", "in_progress", "waiting", "answered", "closed"}
    assert set(EnterpriseRequest.objects.values_list("channel", flat=True)) == {"web", "hotline", "api", "open311"}
    assert EnterpriseRequest.objects.values("category").distinct().count() == 10
    assert RequestEvent.objects.filter(action="submit").count() == 1_200
    r = EnterpriseRequest.objects.order_by("id").first()
    assert r.number.startswith("SZQ-2020") and r.tokens and any("\u4e00" <= ch <= "\u9fff" for ch in r.description)
    # The demo log-in's enterprise has a request in every state.
    mine = EnterpriseRequest.objects.filter(enterprise=city["ns1"]).values_list("status", flat=True)
    assert {"submitted", "waiting", "answered", "closed"} <= set(mine)
    with pytest.raises(demo.RequestDataExists):
        demo.build_requests_demo("small", 2020)
    services.sweep()  # the services run over demo rows
    new = services.submit_request(users["enterprise"], enterprise=city["ns1"], category=r.category, title="t",
                                  description="d")
    assert new.pk > r.pk


def test_city_scale_is_the_seeds_line(db):
    from huiqi.core.workdays import Calendar

    cats = {c: (i, 1, 1, 5) for i, c in enumerate(demo.CATEGORY_WEIGHTS)}
    n, served, closed = demo.SCALES["city"]
    rows, _ = demo.generate(n, 2020, enterprises=[(i, "440305") for i in range(5000)], categories=cats,
                            calendar=Calendar.load(), served=served, closed_target=closed, tokenize=False,
                            events=False)
    assert (len(rows), len({r[2] for r in rows}), sum(r[13] == "closed" for r in rows)) == (3_674, 2_747, 3_452)


def test_same_seed_same_rows(db):
    from huiqi.core.workdays import Calendar

    cats = {c: (i, 1, 1, 5) for i, c in enumerate(demo.CATEGORY_WEIGHTS)}
    a = demo.generate(50, 7, enterprises=[(i, "440305") for i in range(30)], categories=cats,
                      calendar=Calendar.load(), tokenize=False)
    b = demo.generate(50, 7, enterprises=[(i, "440305") for i in range(30)], categories=cats,
                      calendar=Calendar.load(), tokenize=False)
    assert a == b


def _day(at):
    from django.utils import timezone

    return timezone.localtime(at).date()


def test_demo_histories_follow_the_services_own_deadline_rules(users, city):
    """Issue 16.19: a pause moves the answer deadline by the working days it covered, a reopening restarts
    it, every on-time flag is read against the deadline in force, a waiting request's clock is paused, and
    the daily sweep run on the demo's last day finds nothing left to escalate or close."""
    from huiqi.core.workdays import Calendar

    demo.build_requests_demo("small", 2020)
    cal = Calendar.load()
    events = {}
    for e in RequestEvent.objects.order_by("at", "id"):
        events.setdefault(e.request_id, []).append(e)
    paused = reopened = 0
    for r in EnterpriseRequest.objects.select_related("category"):
        ev = events[r.pk]
        if r.status in ("submitted", "accepted", "in_progress", "waiting"):
            continue
        if r.accepted_at is None:
            continue
        expected = cal.add_working_days(_day(r.accepted_at), r.category.answer_days)
        asked = [e for e in ev if e.action == "ask_enterprise"]
        replied = [e for e in ev if e.action == "reply"]
        days = 0
        if replied:
            paused += 1
            days = cal.working_days_between(_day(asked[0].at), _day(replied[0].at))
            expected = cal.add_working_days(expected, days)
        assert r.paused_days == days, r.number
        reopens = [e for e in ev if e.action == "reopen"]
        if reopens:
            reopened += 1
            expected = cal.add_working_days(_day(reopens[-1].at), r.category.answer_days)
        assert r.answer_deadline == expected, r.number
        last_answer = [e for e in ev if e.action == "answer"][-1]
        assert r.answered_on_time == (_day(last_answer.at) <= r.answer_deadline), r.number
    assert paused > 20 and reopened > 0
    for r in EnterpriseRequest.objects.filter(status="waiting"):
        asked = [e for e in events[r.pk] if e.action == "ask_enterprise"][-1]
        assert r.paused_at == asked.at and r.due_date is None
    # The sweep of the last day: every escalation and automatic closing up to then is already there.
    counts = services.sweep(today=demo.DEMO_LAST.date(), now=demo._aware(demo.DEMO_LAST))
    assert counts == {"escalated_to_heads": 0, "escalated_to_bureau": 0, "closed_automatically": 0}
    assert EnterpriseRequest.objects.filter(escalation_level=2).exists()
    assert EnterpriseRequest.objects.filter(closed_automatically=True).exists()


def test_the_clock_rules_are_the_sweeps_own(db):
    """``rules.escalation_days`` and ``rules.auto_close_day`` (what the demo builds histories with) say the
    same day as the sweep's own test (``last_day_more_than``) for every deadline of a spring of holidays."""
    import datetime as dt

    from huiqi.core.workdays import Calendar
    from huiqi.requests import rules
    from huiqi.requests.services.sweep import last_day_more_than

    cal = Calendar.load()
    start = dt.date(2020, 1, 15)
    for n in (0, 2, 5):
        for i in range(60):
            due = start + dt.timedelta(days=i)
            first, second = rules.escalation_days(cal, due, n)
            closes = rules.auto_close_day(cal, due, n)
            for j in range(1, 25):
                today = due + dt.timedelta(days=j)
                limit = last_day_more_than(cal, today, n)
                assert (today >= first) == (due < today)
                assert (today >= closes) == (due <= limit), (due, today, n)
                if today >= second:
                    assert due <= limit and second > first
