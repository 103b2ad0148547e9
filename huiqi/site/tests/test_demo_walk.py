"""The demo can be walked end to end on its day (2 April 2020): every role's home page has work waiting,
the subsidy batch goes run → review → approve → release through three bureau log-ins on the pages, and a
daily check sent by a demo enterprise joins that day's figures."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from conftest import rows_kept_for_scope

from huiqi.accounts.models import User
from huiqi.core import clock
from huiqi.site.todos import todos_for

DAY = clock.DEMO_CITY_TODAY


@pytest.fixture(scope="module")
def _demo_city(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """``huiqi demo`` once for the module; each test works on it and its changes are rolled back."""
    with rows_kept_for_scope(request, django_db_blocker):
        with django_db_blocker.unblock(), override_settings(DATA_DIR=tmp_path_factory.mktemp("demo")):
            out = io.StringIO()
            call_command("demo", stdout=out, stderr=io.StringIO())
        yield out.getvalue()


@pytest.fixture
def demo(_demo_city, db, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # a released batch's payment file
    settings.HUIQI_DEMO_TODAY = DAY.isoformat()
    return _demo_city


def as_user(username) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def waiting(username) -> dict[str, int]:
    return {t["name"]: t["count"] for t in todos_for(User.objects.get(username=username))}


def test_every_role_has_work_waiting_on_the_demos_day(demo):
    assert "bureau → bureau2 → bureau3" in demo and "待复核 waiting for bureau2's review" in demo
    people = {u.username: waiting(u.username) for u in User.objects.filter(is_demo=True)}
    assert people["enterprise"]["resumption.daily_check_today"] == 2  # its two enterprises
    assert {"resumption.filings_returned", "requests.waiting_for_me", "requests.to_rate",
            "requests.unread"} <= set(people["enterprise"])
    assert {"resumption.daily_check_today", "requests.unread"} <= set(people["enterprise2"])
    for officer in ("district_ns", "district_ft"):
        assert {"resumption.filings_to_verify", "resumption.follow_ups", "resumption.missing_reports"} \
            <= set(people[officer]), officer
    assert {"requests.to_accept"} <= set(people["handler"])
    assert {"requests.extensions", "requests.unread"} <= set(people["finance_head"])
    assert people["hotline"] == {"requests.unread": 2}
    assert people["bureau2"]["subsidy.to_review"] == 1 and "subsidy.to_review" not in people["bureau"]
    assert {"registry.size_unknown", "requests.overdue"} <= set(people["bureau"])
    assert people["bank"] == {"lending.uploads_refused": 1, "accounts.tokens_expiring": 1}
    assert people["auditor"] == {"subsidy.released_lately": 1}
    # The pool's claims: one to review, one reviewed by bureau2 for a second person (the administrator may act too).
    assert {"pool.claims_to_review": 1, "pool.claims_to_decide": 1}.items() <= people["bureau"].items()
    # March's online applications wait with the department (and the administrator, who may act too).
    handling = {"policies.applications_to_accept", "policies.applications_to_decide", "policies.applications_to_pay",
                "policies.applications_overdue"}
    assert handling <= set(people["handler"])
    assert {k: v for k, v in people["admin"].items() if k not in handling} == {
        "accounts.tokens_expiring_all": 1, "pool.claims_to_review": 1, "pool.claims_to_decide": 1}
    assert handling <= set(people["admin"])
    assert "policies.my_open_applications" in people["enterprise"]
    # The fund: the institution's log-in is its channel's checker, and proposals wait for it.
    assert set(people["institution"]) == {"fund.to_confirm"} and people["institution"]["fund.to_confirm"] > 0
    roles = {u.role for u in User.objects.filter(is_demo=True) if people[u.username]}
    assert roles == {"enterprise", "district", "department", "bureau", "bank", "institution", "auditor", "admin"}


def test_a_subsidy_batch_walks_through_three_people(demo):
    batch_url = as_user("bureau2").get("/").content.decode()
    batch = int(re.search(r'data-todo="subsidy.to_review"><a href="/subsidy/b/(\d+)/"', batch_url).group(1))

    def act(who, action):
        resp = as_user(who).post(reverse("subsidy:batch_action", args=[batch, action]), {"note": "演示"})
        assert resp.status_code == 302, (who, action, resp.content.decode()[:500])

    refused = as_user("bureau").post(reverse("subsidy:batch_action", args=[batch, "review"]), {"note": "x"})
    assert refused.status_code == 403  # the one who ran it does not review it
    act("bureau2", "review")
    assert waiting("bureau3")["subsidy.to_approve"] == 1 and "subsidy.to_approve" not in waiting("bureau2")
    act("bureau3", "approve")
    assert waiting("bureau")["subsidy.to_release"] == 1
    act("bureau", "release")
    assert not {"subsidy.to_review", "subsidy.to_approve", "subsidy.to_release"} & set(waiting("bureau"))
    assert waiting("auditor")["subsidy.released_lately"] == 2


def test_a_daily_check_sent_on_the_demos_day_joins_its_figures(demo):
    from huiqi.resumption import selectors

    ent = as_user("enterprise")
    home = ent.get("/").content.decode()
    link = re.search(r'data-todo="resumption.daily_check_today"><a href="([^"]+)"', home)
    form = ent.get(link.group(1).replace("&amp;", "&")).content.decode()
    uscc = re.search(r"enterprise=(\w+)", link.group(1)).group(1)
    assert re.search(r'name="day"[^>]*value="2020-04-02"', form)
    before = selectors.figures_for(selectors.Scope(), DAY)["reports"]
    resp = ent.post(reverse("resumption:check_form"), {
        "enterprise": uscc, "day": "2020-04-02", "is_open": "1", "staff_total": 80, "staff_returned": 70,
        "staff_on_site": 65, "capacity_pct": 85, "suspected_cases": 0, "confirmed_cases": 0})
    assert resp.status_code == 302
    assert waiting("enterprise")["resumption.daily_check_today"] == 1  # its other enterprise
    assert selectors.figures_for(selectors.Scope(), DAY)["reports"] == before + 1
    assert selectors.latest_day(selectors.Scope()) == DAY == dt.date(2020, 4, 2)
    dashboard = as_user("bureau").get(reverse("resumption:dashboard")).content.decode()
    assert 'name="end" value="2020-04-02"' in dashboard


def test_the_log_in_page_explains_every_demo_role(demo):
    page = Client().get("/accounts/login/").content.decode()
    assert set(re.findall(r'data-role-line="([^"]+)"', page)) == {
        "enterprise", "district", "department", "bureau", "bank", "institution", "auditor", "admin"}
    assert re.findall(r"<code>(bureau\d?)</code>", page) == ["bureau", "bureau2", "bureau3"]


def test_the_policy_hub_has_march_s_use_on_the_demos_day(demo):
    from huiqi.policies import demo_activity, selectors_applications, selectors_funnel
    from huiqi.policies.models import Application, PushMessage

    assert "demo policy activity made" in demo
    rows, total = selectors_funnel.funnel(User.objects.get(username="bureau"), dt.date(2020, 3, 1), DAY)
    full = [r for r in rows if all(count > 0 for count in r.counts().values())]
    assert full and all(r.paid_fen > 0 for r in full)  # views, pushes, opens, applications, approvals, money
    assert total.anonymous_views > 0
    handler = User.objects.get(username="handler")
    queue = selectors_applications.applications_for(handler)
    assert {a.state for a in queue} == {"submitted", "accepted", "approved", "rejected", "paid"}
    assert {a.department_id for a in queue} == {handler.agency_id}
    assert selectors_applications.overdue_count(handler, DAY) > 0
    page = as_user("handler").get(reverse("policies:applications")).content.decode()
    assert queue.order_by("-pk").first().number in page or queue.first().number in page
    assert any(selectors_funnel.funnel(handler, dt.date(2020, 3, 1), DAY)[1].counts().values())
    for username in ("enterprise", "enterprise2"):
        user = User.objects.get(username=username)
        assert PushMessage.objects.filter(enterprise__in=user.enterprises.all(), channel="inbox").exists(), username
        assert Application.objects.filter(enterprise__in=user.enterprises.all()).exists(), username
    with pytest.raises(demo_activity.ActivityExists):
        demo_activity.build_activity_demo()
    mine = as_user("enterprise").get(reverse("policies:applications")).content.decode()
    assert any(a.number in mine for a in Application.objects.filter(enterprise__in=User.objects.get(
        username="enterprise").enterprises.all()))
