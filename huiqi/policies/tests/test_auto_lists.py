"""The 免申即享 pipeline of an ``auto`` item (``policy-hub.md`` item 4): compiled → reviewed → publicised →
objections_closed → confirmed → payment_list → reconciled, each step by the permitted person in the
permitted state, audited; the spec's objection period on the working-day calendar; the payment results
file reconciling whole or refused whole."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from huiqi.accounts.services import create_user
from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.policies import rules, services, services_auto, selectors_auto
from huiqi.policies.models import AutoEntry, AutoList

pytestmark = pytest.mark.django_db

D = dt.date(2020, 4, 30)
ALL_DISTRICTS = {"field": "district", "op": "in", "value": ["440305", "440304", "440306"]}
FEN = {"enterprise": 150_000, "individual_business": 50_000}


def _rent_rule(facts, day):
    """A stand-in for a program's amount rule: by the kind of enterprise."""
    return {uscc: FEN[f["kind"]] for uscc, f in facts.items()}


@pytest.fixture
def hub(users, city, monkeypatch):
    """An ``auto`` item in force from 2020-02-01 whose criteria every enterprise of the city meets, its
    amount rule, and a second bureau person."""
    version = services.save_draft(users["bureau"], "AUTO-RENT", {
        "title": "减免国有物业租金", "mode": "auto", "opens": "2020-02-01", "closes": None, "criteria": ALL_DISTRICTS})
    services.submit(users["bureau"], version)
    services.publish(users["admin"], version, dt.date(2020, 2, 1))
    monkeypatch.setitem(services_auto.AMOUNT_RULES, "AUTO-RENT", _rent_rule)
    bureau2 = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)
    return {"maker": users["bureau"], "checker": bureau2, **users, **city}


def _publicised(hub, day=D) -> AutoList:
    lst = services_auto.compile_list(hub["maker"], "AUTO-RENT", dt.date(2020, 4, 28))
    services_auto.review_list(hub["checker"], lst)
    return services_auto.publish_list(hub["maker"], lst, day)


def _results(lines) -> io.BytesIO:
    f = io.BytesIO(("受益人证件号码,状态,金额（元）,备注\n" + "".join(f"{b},{s},{a},{n}\n" for b, s, a, n in lines))
                   .encode())
    f.name = "支付结果.csv"
    return f


def test_objection_period_of_the_spec_on_the_stored_calendar(hub):
    # Published 2020-04-30 with 5 days: until the end of 2020-05-11 (05-09, a Saturday, is a working day).
    assert _publicised(hub).objections_until == dt.date(2020, 5, 11)
    # Published on the holiday 2020-05-02: also 2020-05-11.
    assert services_auto.objection_deadline(dt.date(2020, 5, 2)) == dt.date(2020, 5, 11)


def test_compile_lists_the_met_enterprises_with_the_rules_amounts_and_explanations(hub):
    lst = services_auto.compile_list(hub["maker"], "AUTO-RENT", dt.date(2020, 4, 28))
    entries = {e.beneficiary_id: e for e in lst.entries.all()}
    assert set(entries) == {hub[k].uscc for k in ("ns1", "ns2", "ft1", "ba1")}
    assert entries[hub["ba1"].uscc].amount_fen == 50_000 and entries[hub["ns1"].uscc].amount_fen == 150_000
    assert entries[hub["ns1"].uscc].explanation["outcome"] == "met"
    assert entries[hub["ns1"].uscc].explanation["leaves"][0]["field"] == "district"
    assert AuditEvent.objects.filter(action="policies.list_compile", object_id=str(lst.pk)).exists()


def test_an_item_without_its_programs_amount_rule_or_not_auto_is_refused(hub, monkeypatch):
    monkeypatch.delitem(services_auto.AMOUNT_RULES, "AUTO-RENT")
    with pytest.raises(ValidationFailed, match="金额计算规则"):
        services_auto.compile_list(hub["maker"], "AUTO-RENT", dt.date(2020, 4, 28))
    with pytest.raises(PermissionDenied):
        services_auto.compile_list(hub["enterprise"], "AUTO-RENT", dt.date(2020, 4, 28))
    assert not AutoList.objects.exists()


def test_maker_checker_review_and_removal_with_a_reason(hub):
    lst = services_auto.compile_list(hub["maker"], "AUTO-RENT", dt.date(2020, 4, 28))
    with pytest.raises(Conflict, match="不能复核自己生成的名单"):
        services_auto.review_list(hub["maker"], lst)
    entry = lst.entries.get(beneficiary_id=hub["ns2"].uscc)
    with pytest.raises(ValidationFailed, match="须填写理由"):
        services_auto.remove_entry(hub["checker"], entry, "  ")
    services_auto.remove_entry(hub["checker"], entry, "已享受同类减免")
    entry.refresh_from_db()
    assert (entry.status, entry.status_reason) == ("removed", "已享受同类减免")
    event = AuditEvent.objects.get(action="policies.list_remove_entry", object_id=str(entry.pk))
    assert (event.before["status"], event.after["status"], event.actor) == ("listed", "removed", hub["checker"])
    services_auto.review_list(hub["checker"], lst)
    assert (lst.status, lst.reviewed_by) == ("reviewed", hub["checker"])
    with pytest.raises(Conflict, match="复核前"):
        services_auto.remove_entry(hub["checker"], lst.entries.first(), "太晚")
    with pytest.raises(Conflict, match="不能执行此操作"):  # an illegal step names the state
        services_auto.confirm_list(hub["maker"], lst)


def test_objections_within_the_period_only_decided_with_reasons_and_a_supplementary_list(hub):
    lst = _publicised(hub)
    ent, ent2 = hub["enterprise"], hub["enterprise2"]
    ns1, ft1 = hub["ns1"].uscc, hub["ft1"].uscc
    # ft1 is listed; ent2 asks for more on the last day of the period.
    more = services_auto.object_to(ent2, lst, ft1, "increase", "员工人数已增加", 30_000, day=dt.date(2020, 5, 11))
    with pytest.raises(Conflict, match="异议期已于 2020-05-11 结束"):
        services_auto.object_to(ent2, lst, ft1, "increase", "再议", day=dt.date(2020, 5, 12))
    with pytest.raises(PermissionDenied):  # only for its own enterprise
        services_auto.object_to(ent2, lst, ns1, "other", "不是本企业", day=D)
    with pytest.raises(InvalidFields) as bad:  # every bad field at once
        services_auto.object_to(ent, lst, ns1, "add", "", -5, day=D)
    assert {e.field for e in bad.value.errors} == {"kind", "text", "requested"}
    services_auto.decline_entry(ent, lst.entries.get(beneficiary_id=ns1), "不需要")
    # After declining, ns1 is no longer listed and may ask to be added again.
    back = services_auto.object_to(ent, lst, ns1, "add", "误操作，申请恢复", 150_000, day=D)

    with pytest.raises(Conflict, match="之后才能结束异议期"):
        services_auto.close_objections(hub["maker"], lst, dt.date(2020, 5, 11))
    services_auto.close_objections(hub["maker"], lst, dt.date(2020, 5, 12))
    with pytest.raises(Conflict, match="未处理"):
        services_auto.confirm_list(hub["maker"], lst)
    with pytest.raises(InvalidFields) as bad:
        services_auto.decide_objection(hub["checker"], more, True, "", None)
    assert {e.field for e in bad.value.errors} == {"reason", "granted"}
    services_auto.decide_objection(hub["checker"], more, True, "核实在岗人数增加", 30_000)
    services_auto.decide_objection(hub["checker"], back, False, "企业已书面放弃")
    with pytest.raises(Conflict, match="已处理"):
        services_auto.decide_objection(hub["checker"], back, True, "改判", 1)

    services_auto.confirm_list(hub["maker"], lst, dt.date(2020, 5, 13))
    assert lst.status == "confirmed"
    supplement = lst.supplement
    assert (supplement.kind, supplement.parent_id, supplement.status) == ("supplement", lst.pk, "compiled")
    assert list(supplement.entries.values_list("beneficiary_id", "amount_fen")) == [(ft1, 30_000)]
    # The supplementary list takes the same path with a fresh period.
    services_auto.review_list(hub["checker"], supplement)
    services_auto.publish_list(hub["maker"], supplement, dt.date(2020, 5, 14))
    assert supplement.objections_until == dt.date(2020, 5, 21)
    with pytest.raises(Conflict, match="名单已确认"):
        services_auto.decline_entry(ent2, lst.entries.get(beneficiary_id=ft1))
    actions = set(AuditEvent.objects.filter(action__startswith="policies.").values_list("action", flat=True))
    assert {"policies.objection", "policies.objection_decide", "policies.list_decline", "policies.list_close",
            "policies.list_confirm", "policies.list_supplement", "policies.list_publish"} <= actions


def _confirmed(hub) -> AutoList:
    lst = _publicised(hub)
    services_auto.close_objections(hub["maker"], lst, dt.date(2020, 5, 12))
    return services_auto.confirm_list(hub["maker"], lst, dt.date(2020, 5, 12))


def test_payment_list_control_totals_two_people_and_a_results_file_that_reconciles(hub):
    lst = _confirmed(hub)
    services_auto.prepare_payment(hub["maker"], lst)
    lines = sorted((hub[k].uscc, 50_000 if k == "ba1" else 150_000) for k in ("ns1", "ns2", "ft1", "ba1"))
    assert (lst.payment_count, lst.payment_total_fen) == (4, 500_000)
    assert lst.payment_digest == rules.control_totals(lines)[2]
    with pytest.raises(Conflict, match="尚未审批"):
        services_auto.upload_results(hub["maker"], lst, _results([]))
    with pytest.raises(Conflict, match="不能审批自己编制"):
        services_auto.approve_payment(hub["maker"], lst)
    services_auto.approve_payment(hub["checker"], lst)

    failed = lines[0][0]
    record = services_auto.upload_results(hub["maker"], lst, _results(
        [(b, "支付失败" if b == failed else "已支付", rules.fen_text(fen), "账户已销户" if b == failed else "")
         for b, fen in lines]))
    assert record.status == "stored"
    lst.refresh_from_db()
    assert (lst.status, lst.paid_count, lst.failed_count) == ("reconciled", 3, 1)
    assert lst.paid_fen + lst.failed_fen == lst.payment_total_fen
    assert dict(lst.entries.values_list("beneficiary_id", "payment"))[failed] == "failed"
    retry = AutoList.objects.get(parent=lst, kind="retry")
    assert (retry.status, list(retry.entries.values_list("beneficiary_id", "amount_fen"))) == (
        "confirmed", [lines[0]])
    assert AuditEvent.objects.filter(action="policies.list_payment_result").count() == 4


def test_a_results_file_that_does_not_reconcile_is_refused_whole(hub):
    lst = _confirmed(hub)
    services_auto.prepare_payment(hub["maker"], lst)
    services_auto.approve_payment(hub["checker"], lst)
    lines = list(selectors_auto.payment_lines(lst))
    # One line missing: the counts and sums disagree.
    with pytest.raises(ValidationFailed, match="支付结果与支付清单不符") as refused:
        services_auto.upload_results(hub["maker"], lst, _results(
            [(b, "已支付", rules.fen_text(fen), "") for b, _n, fen in lines[:-1]]))
    assert refused.value.field == "file"
    # A wrong amount and a stranger: each row named, nothing applied.
    rows = [(b, "已支付", rules.fen_text(fen), "") for b, _n, fen in lines]
    rows[0] = (rows[0][0], "已支付", "1.00", "")
    rows.append(("91440300MA5XXXXX0X", "已支付", "1.00", ""))
    with pytest.raises(services_auto.ResultsRefused, match="2 处错误"):
        services_auto.upload_results(hub["maker"], lst, _results(rows))
    lst.refresh_from_db()
    assert lst.status == "payment_list" and lst.paid_count == 0
    assert set(lst.entries.values_list("payment", flat=True)) == {"pending"}
    assert list(lst.result_uploads.values_list("status", flat=True)) == ["refused", "refused"]


def test_enterprises_see_only_their_own_entries(hub):
    lst = services_auto.compile_list(hub["maker"], "AUTO-RENT", dt.date(2020, 4, 28))
    assert not selectors_auto.own_entries(hub["enterprise"]).exists()  # not publicised yet
    services_auto.review_list(hub["checker"], lst)
    services_auto.publish_list(hub["maker"], lst, D)
    assert [e.beneficiary_id for e in selectors_auto.own_entries(hub["enterprise"])] == [hub["ns1"].uscc]
    assert [e.beneficiary_id for e in selectors_auto.own_entries(hub["enterprise2"])] == [hub["ft1"].uscc]
    for role in ("district", "bank", "department"):
        assert not selectors_auto.lists_for(hub[role]).exists()
        assert not selectors_auto.own_entries(hub[role]).exists()
    assert selectors_auto.lists_for(hub["auditor"]).count() == 1
    with pytest.raises(PermissionDenied):
        services_auto.decline_entry(hub["enterprise2"], lst.entries.get(beneficiary_id=hub["ns1"].uscc))


def test_the_public_list_shows_the_parameters_columns_and_masks_natural_persons(hub):
    lst = _publicised(hub)
    columns = [c for c, _label in selectors_auto.public_columns(lst)]
    assert columns == ["name", "uscc", "amount"]
    rows = {r[1]: r for r in selectors_auto.public_rows(lst, columns)}
    assert rows[hub["ns1"].uscc][0] == hub["ns1"].name
    shop = rows[hub["ba1"].uscc]  # an individual business: its operator's name masked
    assert shop[0] == hub["ba1"].name[0] + "*" * (len(hub["ba1"].name) - 1) and shop[2] == 50_000
    # A small-business owner's resident ID is masked as the platform masks it everywhere.
    owner = AutoEntry.objects.create(auto_list=lst, beneficiary_id="110101199003077777", name="王五",
                                     beneficiary_kind="business_owner", amount_fen=100)
    row = next(r for r in selectors_auto.public_rows(lst, columns) if r[0] == "王*")
    assert row[1] == "1101**********7777" and owner.pk


def test_an_upheld_objection_to_an_entry_takes_it_off_the_public_list(hub):
    lst = _publicised(hub)
    ft1 = hub["ft1"].uscc
    objection = services_auto.object_to(hub["enterprise2"], lst, ft1, "other", "不属于支持对象", day=D)
    services_auto.decide_objection(hub["checker"], objection, True, "核实不属于支持对象")
    entry = lst.entries.get(beneficiary_id=ft1)
    assert (entry.status, entry.status_reason) == ("removed", "核实不属于支持对象")
    assert ft1 not in {r[1] for r in selectors_auto.public_rows(lst, ["name", "uscc", "amount"])}
    assert objection.granted_fen is None and objection.decided_by == hub["checker"]
