"""Online applications (在线申报): prefilled from the registry with the enterprise's declared facts kept apart,
refused with the spec's reasons (criteria not met or unknown, the item closed, the stacking rule at submission
and again at approval), the department's transitions with their audit trail, and each reader's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huiqi.accounts.services import create_user
from huiqi.core import clock
from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied
from huiqi.core.models import AuditEvent
from huiqi.core.workdays import Calendar
from huiqi.policies import selectors, services
from huiqi.policies.models import Application, EnterpriseFacts
from huiqi.registry.models import Agency, Enterprise

DAY = dt.date(2020, 4, 2)
SMALL = {"id": "L1", "field": "size_class", "op": "in", "value": ["small", "micro"]}
FOUNDED = {"id": "L2", "field": "established_on", "op": "le", "value": "2019-12-31"}
COMPANY = {"id": "L1", "field": "kind", "op": "eq", "value": "enterprise"}
HONEST = {"not": {"id": "L3", "field": "credit_blacklisted", "op": "eq", "value": True}}


def _publish(users, reviewer, code, *, department="SME-SZ", criteria=None, **content):
    data = {"title": f"事项{code}", "mode": "application", "opens": "2020-03-01", "closes": "2020-06-30",
            "criteria": criteria or COMPANY, **content}
    v = services.save_draft(users["bureau"], code, data, department=Agency.objects.get(code=department))
    services.submit(users["bureau"], v)
    services.publish(reviewer, v, dt.date(2020, 3, 1))
    return v


@pytest.fixture
def hub(users, city):
    reviewer = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)
    other_dept = create_user(None, username="miit", password="x-Long-enough-9", role="department",
                             check_password=False, agency=Agency.objects.get(code="MIIT-SZ"))
    with clock.fixed(DAY):
        _publish(users, reviewer, "GRANT", criteria={"all": [SMALL, FOUNDED, HONEST]})
        _publish(users, reviewer, "RENT-A", exclusion_group="rent")
        _publish(users, reviewer, "RENT-B", exclusion_group="rent")
        _publish(users, reviewer, "LARGE", criteria={"id": "L9", "field": "size_class", "op": "eq", "value": "large"})
        _publish(users, reviewer, "AGAIN", repeatable=True)
        _publish(users, reviewer, "OVER", opens="2020-03-01", closes="2020-03-31")
        _publish(users, reviewer, "AUTO", mode="auto")
        _publish(users, reviewer, "MIIT", department="MIIT-SZ")
    return {**users, "reviewer": reviewer, "miit": other_dept, "ns1": city["ns1"], "ft1": city["ft1"]}


def _apply(hub, code, who="enterprise", ent="ns1", **kw):
    with clock.fixed(DAY):
        return services.submit_application(hub[who], enterprise=hub[ent], code=code, **kw)


def _move(hub, app, action, who="department", **kw):
    with clock.fixed(DAY):
        return services.move_application(hub[who], app, action, **kw)


def test_declared_facts_fill_unknowns_and_never_overwrite_the_registry(hub):
    ns1 = hub["ns1"]
    before = Enterprise.objects.filter(pk=ns1.pk).values().get()
    with pytest.raises(services.Refused) as caught:
        _apply(hub, "GRANT")
    assert caught.value.code == "criteria_unknown"
    assert [leaf["id"] for leaf in caught.value.as_dict()["leaves"]] == ["L2", "L3"]
    assert "成立日期" in caught.value.zh and "established" not in caught.value.zh

    pdf = SimpleUploadedFile("营业执照.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    app = _apply(hub, "GRANT", declared={"established_on": "2015-06-01", "credit_blacklisted": "false"},
                 statement="受疫情影响", attachments=[pdf])
    assert app.state == "submitted" and app.number.startswith("ZCSB-20200402-")
    assert app.declared == {"established_on": "2015-06-01", "credit_blacklisted": False}
    assert app.registry["size_class"] == "small" and app.registry["established_on"] is None
    assert app.outcome["outcome"] == "met"
    assert [a.name for a in app.attachments.all()] == ["营业执照.pdf"]
    # The registry and the hub's own facts are as they were: a declaration is kept with the application only.
    assert Enterprise.objects.filter(pk=ns1.pk).values().get() == before
    assert not EnterpriseFacts.objects.filter(enterprise=ns1).exists()
    assert selectors.enterprise_facts(ns1.uscc, DAY)["established_on"] is None
    # Routed to the item's department with its SLA in working days.
    assert app.department.code == "SME-SZ" and app.sla_days == 15
    assert app.due == Calendar.load().add_working_days(DAY, 15)
    assert AuditEvent.objects.filter(action="policies.apply", object_id=str(app.pk)).exists()


def test_bad_declarations_are_named_all_at_once_and_nothing_is_saved(hub):
    big = SimpleUploadedFile("a.exe", b"MZ...", content_type="application/octet-stream")
    with pytest.raises(InvalidFields) as caught:
        _apply(hub, "GRANT", declared={"size_class": "micro", "established_on": "去年", "employees": "3"},
               statement="长" * 2001, attachments=[big])
    fields = [e.field for e in caught.value.errors]
    assert fields == ["declared_size_class", "declared_established_on", "declared_employees", "statement",
                      "attachments"]
    assert "登记库已有" in caught.value.errors[0].zh
    assert not Application.objects.exists()


def test_not_met_and_closed_items_are_refused_with_their_reason(hub):
    with pytest.raises(services.Refused) as caught:
        _apply(hub, "LARGE")
    body = caught.value.as_dict()
    assert body["reason"] == "criteria_not_met" and [leaf["id"] for leaf in body["leaves"]] == ["L9"]
    assert "需要：企业规模 等于 大型" in caught.value.zh
    services.save_draft(hub["bureau"], "NODEPT", {"title": "无主管部门", "mode": "application", "criteria": COMPANY})
    services.submit(hub["bureau"], selectors.latest_version("NODEPT"))
    services.publish(hub["reviewer"], selectors.latest_version("NODEPT"), dt.date(2020, 3, 1))
    for code, rule in (("OVER", "policies.item_closed"), ("AUTO", "policies.no_application"),
                       ("NODEPT", "policies.no_department")):
        with pytest.raises(Conflict) as closed:
            _apply(hub, code)
        assert closed.value.code == rule
    with clock.fixed(DAY):
        services.withdraw(hub["reviewer"], selectors.published_version("RENT-A", DAY), "调整")
    with pytest.raises(Conflict, match="未发布或已失效"):
        _apply(hub, "RENT-A")
    with pytest.raises(PermissionDenied):
        _apply(hub, "RENT-B", who="enterprise2")  # not its enterprise
    assert not Application.objects.exists()


def test_stacking_at_submission_and_again_at_approval(hub):
    a = _apply(hub, "RENT-A")
    b = _apply(hub, "RENT-B")  # nothing held yet: both may be submitted
    with pytest.raises(Conflict, match="正在办理"):
        _apply(hub, "RENT-A")  # one of an item at a time with the department
    for app in (a, b):
        _move(hub, app, "accept")
    _move(hub, a, "approve", amount_fen=500_000)
    with pytest.raises(services.Refused) as caught:
        _move(hub, b, "approve", amount_fen=500_000)
    assert caught.value.code == "excluded_by_stacking_rule" and caught.value.other == "RENT-A"
    assert "RENT-A" in caught.value.zh and "rent" in caught.value.zh
    b.refresh_from_db()
    assert b.state == "accepted"
    _move(hub, b, "reject", note="已享受同类政策")
    with pytest.raises(services.Refused, match="RENT-A"):
        _apply(hub, "RENT-B")  # at submission too
    with pytest.raises(services.Refused, match="同一申报期内不得重复享受"):
        _apply(hub, "RENT-A")  # once per window
    # A repeatable item may be held again; another enterprise is not concerned.
    first = _apply(hub, "AGAIN")
    _move(hub, first, "accept")
    _move(hub, first, "approve", amount_fen=100)
    assert _apply(hub, "AGAIN").state == "submitted"
    assert _apply(hub, "RENT-A", who="enterprise2", ent="ft1").state == "submitted"


def test_transitions_are_the_departments_audited_and_illegal_ones_refused(hub):
    app = _apply(hub, "RENT-A")
    with pytest.raises(Conflict) as caught:
        _move(hub, app, "approve", amount_fen=1)
    assert caught.value.code == "policies.illegal_transition" and "已提交" in caught.value.zh
    with pytest.raises(PermissionDenied):
        _move(hub, app, "accept", who="miit")  # another department's
    with pytest.raises(PermissionDenied):
        _move(hub, app, "accept", who="bureau")
    _move(hub, app, "accept")
    with pytest.raises(InvalidFields) as missing:
        _move(hub, app, "reject", note=" ")
    assert missing.value.errors[0].field == "note"
    _move(hub, app, "approve", amount_fen=1_234_500)
    with pytest.raises(Exception, match="不能超过批准金额"):
        _move(hub, app, "pay", amount_fen=1_234_501)
    _move(hub, app, "pay", amount_fen=1_234_500)
    app.refresh_from_db()
    assert (app.state, app.approved_fen, app.paid_fen, app.paid_on) == ("paid", 1_234_500, 1_234_500, DAY)
    events = AuditEvent.objects.filter(model="policies.Application", object_id=str(app.pk)).order_by("id")
    assert [e.action for e in events] == ["policies.apply", "policies.application_accept",
                                          "policies.application_approve", "policies.application_pay"]
    approve = events[2]
    assert approve.before["state"] == "accepted" and approve.after["state"] == "approved"
    assert approve.actor_id == hub["department"].pk
    with pytest.raises(Conflict):
        _move(hub, app, "accept")


def test_each_reader_sees_its_own(hub):
    mine = _apply(hub, "RENT-A")
    theirs = _apply(hub, "MIIT", who="enterprise2", ent="ft1")
    seen = {role: set(selectors.applications_for(hub[role]).values_list("number", flat=True))
            for role in ("enterprise", "enterprise2", "department", "miit", "bureau", "auditor", "district", "bank")}
    assert seen["enterprise"] == {mine.number} and seen["enterprise2"] == {theirs.number}
    assert seen["department"] == {mine.number} and seen["miit"] == {theirs.number}
    assert seen["bureau"] == seen["auditor"] == {mine.number, theirs.number}
    assert seen["district"] == seen["bank"] == set()


def test_funnel_counts_distinct_enterprises_and_sums_paid(hub):
    a = _apply(hub, "AGAIN")
    _move(hub, a, "accept")
    _move(hub, a, "approve", amount_fen=300)
    _move(hub, a, "pay", amount_fen=250)
    _apply(hub, "AGAIN")  # the same enterprise again: still one enterprise
    _apply(hub, "AGAIN", who="enterprise2", ent="ft1")
    rows = {r.code: r for r in selectors.application_funnel(DAY, DAY)}
    assert (rows["AGAIN"].submitted, rows["AGAIN"].approved, rows["AGAIN"].paid, rows["AGAIN"].paid_fen) == (2, 1, 1, 250)
    assert selectors.application_funnel(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=30)) == []
