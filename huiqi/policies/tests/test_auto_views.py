"""The 免申即享 lists from outside: the bureau's pages and actions, the public 公示 (no sign-in; natural
persons masked), an enterprise's own entries with objection and declining, the exports and the API — each
role reading only its own."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse

from huiqi.core import clock, jobs
from huiqi.policies import services_auto
from huiqi.policies.models import AutoList

from .test_auto_lists import _publicised, hub  # noqa: F401 - the item, its amount rule, two bureau people

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_the_bureaus_pages_and_the_maker_checker_on_them(hub):  # noqa: F811
    maker, checker = _client(hub["maker"]), _client(hub["checker"])
    page = maker.post(reverse("policies:lists"), {"item": "AUTO-RENT", "day": "2020-04-28"}, follow=True)
    assert page.status_code == 200 and "名单正在后台生成" in page.content.decode()  # a job: the whole registry
    assert not AutoList.objects.exists()
    jobs.run_pending()
    lst = AutoList.objects.get()
    assert lst.entries.count() == 4 and lst.compiled_by == hub["maker"]
    url = reverse("policies:list", args=[lst.pk])
    assert 'value="review"' not in maker.get(url).content.decode()  # the compiler is not offered the review
    refused = maker.post(url, {"action": "review"}, follow=True).content.decode()
    assert "不能复核自己生成的名单" in refused
    lst.refresh_from_db()
    assert lst.status == "compiled"
    entry = lst.entries.get(beneficiary_id=hub["ns2"].uscc)
    assert "移出原因：" in checker.post(url, {"action": "remove", "entry": entry.pk, "reason": ""},
                                     follow=True).content.decode()
    checker.post(url, {"action": "remove", "entry": entry.pk, "reason": "重复"})
    checker.post(url, {"action": "review"})
    lst.refresh_from_db()
    assert (lst.status, lst.entries.filter(status="removed").count()) == ("reviewed", 1)
    shown = checker.get(url).content.decode()
    assert "复核免申即享名单" in shown and 'value="publish"' in shown
    assert "第 1 版申报条件：符合" in shown  # the explanation kept with each entry

    rows = list(csv.reader(io.StringIO(checker.get(reverse("policies:list_export", args=[lst.pk, "csv"]))
                                       .getvalue().decode("utf-8-sig"))))
    assert rows[0][:4] == ["beneficiary_id", "name", "kind", "amount"] and len(rows) == 5
    assert checker.get(reverse("policies:payment_file", args=[lst.pk, "csv"])).status_code == 404  # none yet
    for role in ("district", "enterprise", "bank", "department"):
        assert _client(hub[role]).get(url).status_code == 403
    assert _client(hub["auditor"]).get(url).status_code == 200
    assert _client(hub["auditor"]).post(url, {"action": "publish"}).status_code == 403


def test_the_public_list_and_an_enterprises_own_entries(hub):  # noqa: F811
    lst = services_auto.compile_list(hub["maker"], "AUTO-RENT", dt.date(2020, 4, 28))
    assert _client().get(reverse("policies:public_list", args=[lst.pk])).status_code == 404  # not publicised
    services_auto.review_list(hub["checker"], lst)
    with clock.fixed(dt.date(2020, 4, 30)):
        services_auto.publish_list(hub["maker"], lst)
        public = _client().get(reverse("policies:public_list", args=[lst.pk])).content.decode()
        assert hub["ns1"].name in public and hub["ns1"].uscc in public and "1,500.00" in public
        assert hub["ba1"].name not in public and hub["ba1"].name[0] + "*" in public
        assert "2020-05-11" in public

        ent, ent2 = _client(hub["enterprise"]), _client(hub["enterprise2"])
        own = ent.get(reverse("policies:own_lists")).content.decode()
        assert hub["ns1"].name in own and hub["ft1"].name not in own
        mine = lst.entries.get(beneficiary_id=hub["ns1"].uscc)
        assert ent2.post(reverse("policies:own_lists"), {"action": "decline", "entry": mine.pk}).status_code == 404
        done = ent.post(reverse("policies:own_lists"), {"action": "object", "auto_list": lst.pk,
                                                        "uscc": hub["ns1"].uscc, "kind": "increase",
                                                        "text": "人数有误", "requested": "2,000.00"}, follow=True)
        assert "异议已提交" in done.content.decode()
        assert lst.objections.get().requested_fen == 200_000
    with clock.fixed(dt.date(2020, 5, 12)):
        late = ent.post(reverse("policies:own_lists"), {"action": "object", "auto_list": lst.pk,
                                                        "uscc": hub["ns1"].uscc, "kind": "other", "text": "迟到"},
                        follow=True).content.decode()
        assert "异议期已于 2020-05-11 结束" in late and lst.objections.count() == 1


def test_the_api_scoped_to_each_caller(hub):  # noqa: F811
    lst = _publicised(hub)
    bureau, ent, ent2 = _client(hub["maker"]), _client(hub["enterprise"]), _client(hub["enterprise2"])
    body = bureau.get("/api/v1/policy-lists/").json()
    assert [r["id"] for r in body["results"]] == [lst.pk] and body["results"][0]["listed"] == 4
    assert body["results"][0]["objections_until"] == "2020-05-11"
    assert ent.get("/api/v1/policy-lists/").json()["results"] == []
    assert ent.get(f"/api/v1/policy-lists/{lst.pk}/").status_code == 404
    mine = ent.get("/api/v1/policy-list-entries/").json()
    assert [e["beneficiary_id"] for e in mine] == [hub["ns1"].uscc]
    assert ent2.get(f"/api/v1/policy-list-entries/{mine[0]['id']}/").status_code == 404
    assert _client(hub["district"]).get("/api/v1/policy-list-entries/").json() == []
    with clock.fixed(dt.date(2020, 5, 6)):
        made = ent2.post("/api/v1/policy-list-entries/objection/", {"list": lst.pk, "uscc": hub["ft1"].uscc,
                                                                    "kind": "add", "text": "x"},
                         content_type="application/json")
    assert made.status_code == 400 and made.json()["error"]["field"] == "kind"  # ft1 is listed already
    declined = ent.post(f"/api/v1/policy-list-entries/{mine[0]['id']}/decline/", {"reason": "不需要"},
                        content_type="application/json")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    refused = bureau.post(f"/api/v1/policy-lists/{lst.pk}/confirm/")
    assert refused.status_code == 409 and "不能执行此操作" in refused.json()["error"]["message"]
    queued = bureau.post("/api/v1/policy-lists/compile/", {"item": "AUTO-RENT", "day": "2020-05-20"},
                         content_type="application/json")
    assert queued.status_code == 202 and queued["Location"] == queued.json()["url"]
    jobs.run_pending()
    assert AutoList.objects.count() == 2
    assert bureau.post("/api/v1/policy-lists/compile/", {"item": "NOPE"},
                       content_type="application/json").json()["error"]["field"] == "item"
