"""The home page per role (我的待办): what waits for each person, counted within its own scope, each a link
to the list that shows exactly those records; an empty state when nothing waits; menus that hold what the
role uses; the API's description behind a log-in."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from .work import DAY, a_days_work

pytestmark = pytest.mark.django_db

TODO = re.compile(r'<li data-todo="([^"]+)"><a href="([^"]*)"><span class="todo-label">([^<]*)</span>'
                  r'<span class="todo-count" data-count="(\d+)">')


def todos(client) -> dict[str, tuple[int, str]]:
    """The home page's to-dos as shown: name → (count, link)."""
    page = client.get("/")
    assert page.status_code == 200
    found = TODO.findall(page.content.decode())
    return {name: (int(count), html.unescape(url)) for name, url, _label, count in found}


def counts(client) -> dict[str, int]:
    return {name: n for name, (n, _url) in todos(client).items()}


@pytest.fixture
def work(settings, users, city, make_enterprise):
    """A day's work in the little city, on the demo's day (``work.a_days_work``)."""
    settings.HUIQI_DEMO_TODAY = DAY.isoformat()
    return a_days_work(users, city, make_enterprise)


def unread(user) -> int:
    from huiqi.requests.models import Notification

    return Notification.objects.filter(recipient=user, channel="inbox", read_at__isnull=True).count()


def test_each_role_sees_what_waits_for_it_in_its_own_scope(work, client_for, users):
    assert counts(client_for("enterprise")) == {
        "resumption.daily_check_today": 1, "resumption.filings_returned": 1, "requests.waiting_for_me": 1,
        "requests.to_rate": 1, "requests.unread": unread(users["enterprise"])}
    # ft1 reported today and its requests wait for no one but the department; its messages were read.
    client_for("enterprise2").get("/requests/messages/")
    assert counts(client_for("enterprise2")) == {}
    assert counts(client_for("district")) == {"resumption.filings_to_verify": 1,
                                              "resumption.missing_reports": 2}
    assert counts(client_for("district2")) == {"resumption.filings_to_verify": 1, "resumption.follow_ups": 1}
    # The head of SME-SZ: five requests arrived (each a message), two to accept, an extension to decide.
    assert counts(client_for("department")) == {"requests.to_accept": 2, "requests.extensions": 1,
                                                "requests.unread": unread(users["department"])}
    second = Client()
    second.force_login(work["second"])
    assert counts(second) == {"requests.to_accept": 2, "requests.unread": unread(work["second"])}
    assert unread(users["enterprise"]) > 0 and unread(users["department"]) > unread(work["second"]) > 0
    assert counts(client_for("bureau")) == {"registry.size_unknown": 1, "core.jobs_failed": 1}
    reviewer = Client()
    reviewer.force_login(work["bureau2"])
    assert counts(reviewer) == {"subsidy.to_review": 1, "registry.size_unknown": 1}
    assert counts(client_for("bank")) == {"lending.uploads_refused": 1, "accounts.tokens_expiring": 1}
    assert counts(client_for("auditor")) == {"subsidy.released_lately": 1}
    assert counts(client_for("admin")) == {"core.jobs_failed": 1, "accounts.tokens_expiring_all": 1}
    assert counts(client_for("institution")) == {}


def test_each_to_do_links_to_exactly_what_waits(work, client_for, users, city):
    ent = todos(client_for("enterprise"))
    assert ent["resumption.daily_check_today"][1] == f"/resumption/checks/new/?enterprise={city['ns1'].uscc}"
    assert ent["resumption.filings_returned"][1] == "/resumption/filings/?status=returned"
    assert ent["requests.waiting_for_me"][1] == "/requests/?status=waiting"
    page = client_for("enterprise").get(ent["requests.waiting_for_me"][1]).content.decode()
    assert work["waiting"].number in page and work["answered"].number not in page

    dist = todos(client_for("district"))
    assert dist["resumption.filings_to_verify"][1] == "/resumption/filings/?status=pending"
    assert dist["resumption.missing_reports"][1] == "/resumption/checks/?missing=1&day=2020-04-02"
    page = client_for("district").get(dist["resumption.missing_reports"][1]).content.decode()
    assert city["ns1"].name in page and city["ns2"].name in page and city["ft1"].name not in page
    follow_ups = todos(client_for("district2"))["resumption.follow_ups"][1]
    page = client_for("district2").get(follow_ups).content.decode()
    assert "资金紧张" in page

    head = todos(client_for("department"))
    assert head["requests.extensions"][1] == "/requests/?flag=extension"
    page = client_for("department").get("/requests/?flag=extension").content.decode()
    assert work["extended"].number in page and work["waiting"].number not in page

    reviewer = Client()
    reviewer.force_login(work["bureau2"])
    # The one batch that waits is opened directly.
    assert todos(reviewer)["subsidy.to_review"][1] == reverse("subsidy:batch_detail", args=[work["run"].pk])
    bank = todos(client_for("bank"))
    refused = bank["lending.uploads_refused"][1]
    assert client_for("bank").get(refused).status_code == 200 and "loans.csv" in \
        client_for("bank").get(refused).content.decode()
    assert bank["accounts.tokens_expiring"][1] == "/accounts/"
    failed = todos(client_for("bureau"))["core.jobs_failed"][1]
    assert failed == f"/core/jobs/?status=failed&from={timezone.localdate() - dt.timedelta(days=6)}"
    assert "名录导入" in client_for("bureau").get(failed).content.decode()
    for role in ("enterprise", "district", "district2", "department", "bureau", "bank", "auditor", "admin"):
        for name, (_n, url) in todos(client_for(role)).items():
            assert client_for(role).get(url).status_code == 200, f"{role}: {name} → {url}"


def test_an_enterprise_sees_its_own_services_first_and_nothing_waiting_says_so(users, client_for):
    page = client_for("enterprise").get("/").content.decode()
    assert page.index("data-todos") < page.index("data-services") < page.index('class="tiles"')
    services = re.findall(r'data-service="([^"]+)"', page)
    assert services == ["registry:enterprise_list", "lending:loan_list", "subsidy:index", "fund:index",
                        "supplies:index", "requests:index", "resumption:index", "policies:mine",
                        "policies:applications", "policies:own_lists", "policies:inbox", "registry:bank_list"]
    assert "快速入口" not in page

    page = client_for("institution").get("/").content.decode()
    assert "data-todos-empty" in page and "目前没有等您处理的事项" in page and "我的服务" not in page


def test_jobs_and_api_docs_leave_the_menus_of_enterprises_banks_and_districts(users, client_for):
    def menu(role):
        return re.findall(r'data-nav="([^"]+)"', client_for(role).get("/").content.decode())

    for role in ("enterprise", "bank", "district"):
        shown = menu(role)
        assert "core:job_list" not in shown and "api-docs" not in shown, role
        account = client_for(role).get("/accounts/").content.decode()
        assert 'data-link="jobs"' in account and 'data-link="api-docs"' in account
        assert client_for(role).get("/core/jobs/").status_code == 200
        assert client_for(role).get("/api/docs/").status_code == 200
    for role in ("department", "bureau", "auditor", "admin"):
        assert {"core:job_list", "api-docs"} <= set(menu(role)), role


def test_the_api_description_needs_a_log_in(users):
    from huiqi.accounts.services import issue_token

    anonymous = Client()
    for path in ("/api/docs/", "/api/redoc/"):
        resp = anonymous.get(path)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/?next="), path
    assert anonymous.get("/api/schema/").status_code == 401
    _token, key = issue_token(None, users["bank"], name="client")
    schema = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200 and "/api/v1/loans/" in schema.json()["paths"]


def test_no_report_is_asked_for_outside_the_daily_checks_weeks(settings, users, client_for):
    """When no enterprise sent a daily check that day or the day before, the program is not running: nobody
    is told that today's report is missing."""
    settings.HUIQI_DEMO_TODAY = DAY.isoformat()
    assert "resumption.daily_check_today" not in counts(client_for("enterprise"))
    assert "resumption.missing_reports" not in counts(client_for("district"))
