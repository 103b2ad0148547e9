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
