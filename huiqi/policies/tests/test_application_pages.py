"""Online applications from the outside: the item page leads to the form, the form shows the registry's facts
and asks only for the missing ones, a refusal comes back with its reason, the department's queue (filters in
the URL, overdue highlighted) and actions, the API (scoped, refusals with their reason codes) and the export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from huiqi.accounts.services import create_user
from huiqi.core import clock
from huiqi.policies import services
from huiqi.policies.models import Application
from huiqi.registry.models import Agency

DAY = dt.date(2020, 4, 2)
LATER = dt.date(2020, 6, 1)  # past the 15 working days of an application of DAY


@pytest.fixture
def items(users):
    reviewer = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)
    sme = Agency.objects.get(code="SME-SZ")
    with clock.fixed(DAY):
        for code, criteria, group in (
                ("RENT-A", {"id": "L1", "field": "kind", "op": "eq", "value": "enterprise"}, "rent"),
                ("RENT-B", {"id": "L1", "field": "kind", "op": "eq", "value": "enterprise"}, "rent"),
                ("FOUNDED", {"id": "L2", "field": "established_on", "op": "le", "value": "2019-12-31"}, "")):
            v = services.save_draft(users["bureau"], code, {
                "title": f"补贴{code}", "mode": "application", "opens": "2020-03-01", "closes": "2020-12-31",
                "guide": "携带营业执照", "criteria": criteria, "exclusion_group": group}, department=sme)
            services.submit(users["bureau"], v)
            services.publish(reviewer, v, dt.date(2020, 3, 1))
    return users


def test_item_page_leads_to_a_prefilled_form_and_a_refusal_names_what_is_missing(items, client_for, city):
    c = client_for("enterprise")
    with clock.fixed(DAY):
        page = c.get("/policies/items/FOUNDED/").content.decode()
        assert page.index("办事指南") < page.index('href="/policies/items/FOUNDED/apply/"')
        form = c.get("/policies/items/FOUNDED/apply/").content.decode()
        assert "data-missing" in form and 'name="declared_established_on"' in form
        assert 'name="declared_kind"' not in form  # the registry's facts are shown, never inputs
        refused = c.post("/policies/items/FOUNDED/apply/", {"uscc": city["ns1"].uscc})
        assert refused.status_code == 409
        assert 'data-error="criteria_unknown"' in refused.content.decode()
        done = c.post("/policies/items/FOUNDED/apply/", {"uscc": city["ns1"].uscc,
                                                         "declared_established_on": "2016-01-01"})
    app = Application.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/policies/applications/{app.number}/done/"
    assert app.declared == {"established_on": "2016-01-01"}
    with clock.fixed(DAY):
        detail = c.get(f"/policies/applications/{app.number}/").content.decode()
        assert "data-declared" in detail and app.due.isoformat() in detail
        assert "已提交" in detail


def test_the_department_works_its_queue_with_confirmation_and_sees_overdue(items, client_for, city):
    with clock.fixed(DAY):
        a = services.submit_application(items["enterprise"], enterprise=city["ns1"], code="RENT-A")
        services.submit_application(items["enterprise2"], enterprise=city["ft1"], code="RENT-A")
    dept = client_for("department")
    with clock.fixed(LATER):
        queue = dept.get("/policies/applications/", {"overdue": "true"}).content.decode()
        assert queue.count("data-overdue") == 2
        page = dept.get(f"/policies/applications/{a.number}/").content.decode()
        assert 'data-action-form="accept"' in page and "data-ask" in page
        assert 'data-action-form="approve"' not in page
        assert dept.post(f"/policies/applications/{a.number}/", {"action": "accept"}).status_code == 302
        bad = dept.post(f"/policies/applications/{a.number}/", {"action": "approve", "amount": "-1"})
        assert bad.status_code == 400
        dept.post(f"/policies/applications/{a.number}/", {"action": "approve", "amount": "12,000.50"})
        a.refresh_from_db()
        assert (a.state, a.approved_fen) == ("approved", 1_200_050)
        assert "data-overdue" not in dept.get(f"/policies/applications/{a.number}/").content.decode()
        listed = dept.get("/policies/applications/", {"state": "approved"}).content.decode()
        assert a.number in listed and listed.count("data-number=") == 1
        # The enterprise sees the state; another enterprise does not see it at all.
        assert "已批准" in client_for("enterprise").get(f"/policies/applications/{a.number}/").content.decode()
        assert client_for("enterprise2").get(f"/policies/applications/{a.number}/").status_code == 404
        # The department's to-dos count what waits; the enterprise's page (参与的惠企项目) and its to-dos too.
        assert "待受理的政策申报" in dept.get("/").content.decode()
        ent = client_for("enterprise")
        assert "办理中的政策申报" not in ent.get("/").content.decode()
        services.submit_application(items["enterprise"], enterprise=city["ns1"], code="FOUNDED",
                                    declared={"established_on": "2016-01-01"})
        assert "办理中的政策申报" in ent.get("/").content.decode()
        programs = ent.get(f"/registry/e/{city['ns1'].uscc}/").content.decode()
        assert "惠企政策申报" in programs and "政策申报件数" in programs


def test_api_applies_refuses_with_reason_codes_and_moves(items, client_for, city):
    ent = client_for("enterprise")
    with clock.fixed(DAY):
        r = ent.post("/api/v1/policy-applications/", {"uscc": city["ns1"].uscc, "item": "RENT-A"},
                     content_type="application/json")
        assert r.status_code == 201, r.content
        number = r.json()["number"]
        r = ent.post("/api/v1/policy-applications/", {"uscc": city["ns1"].uscc, "item": "FOUNDED"},
                     content_type="application/json")
        assert r.status_code == 409 and r.json()["error"]["reason"] == "criteria_unknown"
        assert [leaf["field"] for leaf in r.json()["error"]["leaves"]] == ["established_on"]
        r = ent.post("/api/v1/policy-applications/", {"uscc": city["ft1"].uscc, "item": "RENT-A"},
                     content_type="application/json")
        assert r.status_code == 400 and r.json()["error"]["field"] == "uscc"  # not its enterprise

        dept = client_for("department")
        act = f"/api/v1/policy-applications/{number}/do/"
        assert ent.post(act + "accept/", {}, content_type="application/json").status_code == 403
        assert dept.post(act + "approve/", {"amount": "10"}, content_type="application/json").status_code == 409
        assert dept.post(act + "accept/", {}, content_type="application/json").json()["state"] == "accepted"
        assert dept.post(act + "approve/", {"amount": "10.00"},
                         content_type="application/json").json()["approved"] == "10.00"
        r = ent.post("/api/v1/policy-applications/", {"uscc": city["ns1"].uscc, "item": "RENT-B"},
                     content_type="application/json")
        assert r.status_code == 409 and r.json()["error"]["reason"] == "excluded_by_stacking_rule"
        assert r.json()["error"]["other_item"] == "RENT-A"

        assert [a["number"] for a in ent.get("/api/v1/policy-applications/").json()["results"]] == [number]
        assert client_for("enterprise2").get("/api/v1/policy-applications/").json()["results"] == []
        assert client_for("enterprise2").get(f"/api/v1/policy-applications/{number}/").status_code == 404
        assert client_for("district").get("/api/v1/policy-applications/").json()["results"] == []
        assert len(client_for("bureau").get("/api/v1/policy-applications/", {"state": "approved"}).json()["results"]) == 1
        assert client_for("bureau").get("/api/v1/policy-applications/", {"state": "nope"}).status_code == 400


def test_export_holds_only_the_readers_applications(items, client_for, city):
    with clock.fixed(DAY):
        mine = services.submit_application(items["enterprise"], enterprise=city["ns1"], code="RENT-A")
        theirs = services.submit_application(items["enterprise2"], enterprise=city["ft1"], code="RENT-A")
        body = b"".join(client_for("enterprise").get("/policies/applications/export.csv").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [mine.number]
    assert theirs.number not in body.decode("utf-8-sig")
