"""The request channel's services: intake, routing, the workflow with its paused clock, extensions,
escalation, automatic closing, common problems, notifications, and the bad input of the issue."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection

from huiqi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.registry.models import Agency, District, Enterprise
from huiqi.requests import notifications, selectors, services
from huiqi.requests.models import (
    Attachment,
    Channel,
    EnterpriseRequest,
    Extension,
    Notification,
    RoutingRule,
    Status,
)

from .conftest import PDF, PNG, at, upload

pytestmark = pytest.mark.django_db
D = dt.date


# --- intake ----------------------------------------------------------------------------------------
def test_submit_numbers_routes_and_sets_the_deadline(submit, users, category):
    req = submit()
    assert req.number == f"SZQ-20200210-{req.pk:06d}"
    assert req.status == Status.SUBMITTED and req.channel == Channel.WEB
    assert req.agency.code == "FINANCE-SZ"  # the category's default department
    assert req.accept_deadline == D(2020, 2, 11) == req.due_date
    assert req.district_id == "440305"
    assert "续贷" in req.tokens.split()
    ev = req.events.get()
    assert ev.action == "submit" and not ev.internal
    assert AuditEvent.objects.filter(model="requests.EnterpriseRequest", object_id=str(req.pk)).exists()


def test_submit_during_the_extended_spring_festival(submit):
    req = submit(at=at(2020, 1, 31, 15))
    assert req.accept_deadline == D(2020, 2, 3)


def test_an_enterprise_files_only_for_its_own(submit, city):
    with pytest.raises(NotFound):
        submit(enterprise=city["ft1"])


def test_hotline_operator_files_a_call(submit, staff, city):
    req = submit(actor=staff["hotline"], enterprise=city["ft1"], channel=Channel.WEB,
                 contact_name="李先生", contact_phone="0755-12345678")
    assert req.channel == Channel.HOTLINE and req.created_by == staff["hotline"]
    assert req.contact_name == "李先生"


def test_other_staff_may_not_file(submit, users, staff):
    for who in (users["department"], users["bureau"], staff["fin"], users["bank"]):
        with pytest.raises(PermissionDenied):
            submit(actor=who)
    with pytest.raises(PermissionDenied):
        submit(channel=Channel.HOTLINE)  # an enterprise user cannot claim to be the hotline


@pytest.mark.parametrize("description, code", [
    ("", "request.description_empty"),
    ("   \n ", "request.description_empty"),
    ("长" * 50_000, "request.description_long"),
])
def test_bad_descriptions_are_refused_and_nothing_is_stored(submit, description, code):
    with pytest.raises(ValidationFailed) as err:
        submit(description=description)
    assert err.value.code == code and err.value.field == "description" and err.value.status == 400
    assert EnterpriseRequest.objects.count() == 0


def test_html_is_stored_as_text(submit):
    req = submit(title="<b>标题</b>", description="<script>alert('x')</script> 请帮助")
    assert req.description.startswith("<script>")


def test_good_attachments_are_kept(submit):
    req = submit(attachments=[upload("证明.pdf", PDF), upload("照片.PNG", PNG)])
    assert sorted(a.kind for a in req.attachments.all()) == ["pdf", "png"]
    assert req.attachments.get(kind="pdf").file.read() == PDF


@pytest.mark.parametrize("name, data, code", [
    ("run.exe", b"MZ\x90\x00", "request.attachment_type"),
    ("page.html", b"<html><script>", "request.attachment_type"),
    ("fake.pdf", b"<html>not a pdf</html>", "request.attachment_content"),
    ("empty.pdf", b"", "request.attachment_empty"),
    ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "request.attachment_size"),
])
def test_wrong_attachments_are_refused_whole(submit, name, data, code):
    with pytest.raises(ValidationFailed) as err:
        submit(attachments=[upload("ok.pdf", PDF), upload(name, data)])
    assert err.value.code == code and err.value.field == "attachments"
    assert EnterpriseRequest.objects.count() == 0 and Attachment.objects.count() == 0


def test_too_many_attachments(submit):
    with pytest.raises(ValidationFailed) as err:
        submit(attachments=[upload(f"{i}.pdf", PDF) for i in range(6)])
    assert err.value.code == "request.attachment_count"


def test_attachment_limits_are_parameters(submit, users):
    from huiqi.core import params

    params.set_value(users["bureau"], "requests.params", "requests", {"attachment_max_bytes": 10},
                     D(2020, 1, 2))
    with pytest.raises(ValidationFailed) as err:
        submit(attachments=[upload("a.pdf", PDF)])
    assert err.value.code == "request.attachment_size"


# --- routing ---------------------------------------------------------------------------------------
def _rule(order, agency, **kw):
    return RoutingRule.objects.create(order=order, name=f"rule {order}", agency=Agency.objects.get(code=agency), **kw)


def test_first_matching_rule_wins(submit, category, staff):
    _rule(10, "HRSS-SZ", keywords="社保,工资")
    _rule(20, "COMMERCE-SZ", category=category["financing"], district=District.objects.get(code="440305"))
    _rule(5, "MIIT-SZ", category=category["financing"], district=District.objects.get(code="440304"))
    req = submit()
    assert req.agency.code == "COMMERCE-SZ" and req.routing_rule.order == 20
    req2 = submit(description="想咨询社保缓缴的贷款问题")
    assert req2.agency.code == "HRSS-SZ"


def test_rules_on_enterprise_attributes_and_handler(submit, city, staff):
    city["ns1"].is_key_enterprise = True
    city["ns1"].save()
    _rule(1, "FINANCE-SZ", key_enterprise=True, handler=staff["fin"])
    _rule(2, "MIIT-SZ", industry_section="C")
    req = submit()
    assert req.handler == staff["fin"]
    city["ns1"].is_key_enterprise = False
    city["ns1"].save()
    assert submit().agency.code == "MIIT-SZ"


def test_inactive_rules_are_skipped(submit):
    _rule(1, "MIIT-SZ", active=False)
    assert submit().agency.code == "FINANCE-SZ"


def test_category_change_routes_again(submit, staff, category):
    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    services.change_category(staff["fin"], req, category["employment"], "实为社保问题", at=at(2020, 2, 10, 12))
    req.refresh_from_db()
    assert req.agency.code == "HRSS-SZ" and req.status == Status.SUBMITTED and req.accepted_at is None
    assert req.accept_deadline == D(2020, 2, 11)
    assert req.events.filter(action="recategorise").exists()


def test_send_back_and_transfer(submit, staff, users):
    req = submit()
    with pytest.raises(ValidationFailed):
        services.send_back(staff["fin"], req, "")
    services.send_back(staff["fin"], req, "不属于本部门职责", at=at(2020, 2, 10, 11))
    req.refresh_from_db()
    assert req.agency.code == "SME-SZ" and req.status == Status.SUBMITTED
    with pytest.raises(Conflict):
        services.send_back(users["department"], req, "again")
    services.transfer(users["department"], req, Agency.objects.get(code="HRSS-SZ"), "请人社局办理",
                      at=at(2020, 2, 11, 9))
    req.refresh_from_db()
    assert req.agency.code == "HRSS-SZ" and req.accept_deadline == D(2020, 2, 12)
    assert [e.action for e in req.events.all()] == ["submit", "send_back", "transfer"]


# --- workflow --------------------------------------------------------------------------------------
def test_the_whole_journey_with_a_paused_clock(submit, staff, users):
    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    assert req.answer_deadline == D(2020, 2, 17) and req.accepted_on_time
    services.start(staff["fin"], req, at=at(2020, 2, 11, 9))
    services.ask_enterprise(staff["fin"], req, "请补充贷款合同扫描件", at=at(2020, 2, 12, 9))
    req.refresh_from_db()
    assert req.status == Status.WAITING and req.due_date is None and req.paused_at
    services.reply(users["enterprise"], req, "已上传合同", attachments=[upload("合同.pdf", PDF)],
                   at=at(2020, 2, 14, 16))
    req.refresh_from_db()
    assert req.status == Status.IN_PROGRESS
    assert req.paused_days == 2 and req.answer_deadline == D(2020, 2, 19) == req.due_date
    services.answer(staff["fin"], req, "已协调银行办理展期。", at=at(2020, 2, 18, 10))
    req.refresh_from_db()
    assert req.status == Status.ANSWERED and req.answered_on_time
    services.close(users["enterprise"], req, 5, "很满意", at=at(2020, 2, 18, 15))
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.rating == 5
    assert [e.action for e in req.events.all()] == ["submit", "accept", "start", "ask_enterprise", "reply",
                                                     "answer", "close"]


def test_pause_over_a_holiday_moves_the_deadline_by_working_days_only(submit, staff, users):
    req = submit(at=at(2020, 1, 20, 9))
    services.accept(staff["fin"], req, at=at(2020, 1, 20, 10))
    assert req.answer_deadline == D(2020, 2, 4)  # 01-21..01-23, then the extended holiday, 02-03, 02-04
    services.ask_enterprise(staff["fin"], req, "请补充", at=at(2020, 1, 22, 9))
    services.reply(users["enterprise"], req, "补充", at=at(2020, 2, 4, 9))
    req.refresh_from_db()
    assert req.paused_days == 3  # 01-23, 02-03, 02-04
    assert req.answer_deadline == D(2020, 2, 7)


def test_illegal_transitions_are_conflicts(submit, staff, users):
    req = submit()
    with pytest.raises(Conflict):
        services.answer(staff["fin"], req, "x")
    with pytest.raises(Conflict):
        services.close(users["enterprise"], req, 5)
    services.accept(staff["fin"], req)
    with pytest.raises(Conflict):
        services.accept(staff["fin"], req)


def test_reopen_and_rating_rules(submit, staff, users):
    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    services.answer(staff["fin"], req, "答复", at=at(2020, 2, 11, 11))
    with pytest.raises(ValidationFailed):
        services.reopen(users["enterprise"], req, " ")
    with pytest.raises(ValidationFailed):
        services.close(users["enterprise"], req, 6)
    services.reopen(users["enterprise"], req, "银行仍未受理", at=at(2020, 2, 12, 9))
    req.refresh_from_db()
    assert req.status == Status.IN_PROGRESS and req.reopen_count == 1 and req.answer_deadline == D(2020, 2, 19)


def test_department_a_may_not_act_on_b(submit, staff, users):
    req = submit()
    for who in (staff["hr"], users["department"], users["bureau"], users["enterprise"]):
        with pytest.raises(PermissionDenied):
            services.accept(who, req)
    assert EnterpriseRequest.objects.get(pk=req.pk).status == Status.SUBMITTED


def test_a_department_may_not_act_on_a_request_transferred_away_meanwhile(submit, staff, users, category):
    """The finance handler's page was read before the request went to HRSS: its accept is a conflict, not
    an acceptance of another department's request."""
    req = submit()
    stale = EnterpriseRequest.objects.get(pk=req.pk)
    services.transfer(staff["fin"], req, Agency.objects.get(code="HRSS-SZ"), "社保事项，转人社局")
    with pytest.raises(Conflict) as err:
        services.accept(staff["fin"], stale)
    assert err.value.code == "requests.moved"
    with pytest.raises(Conflict):
        services.change_category(staff["fin"], stale, category["rent"], "改类别")
    fresh = EnterpriseRequest.objects.get(pk=req.pk)
    assert fresh.status == Status.SUBMITTED and fresh.agency.code == "HRSS-SZ" and fresh.handler_id is None
    assert fresh.category == category["financing"]
    services.accept(staff["hr"], fresh)


def test_another_enterprise_may_not_rate(submit, staff, users):
    req = submit()
    services.accept(staff["fin"], req)
    services.answer(staff["fin"], req, "答复")
    with pytest.raises(PermissionDenied):
        services.close(users["enterprise2"], req, 1)
    with pytest.raises(PermissionDenied):
        services.close(staff["fin"], req, 5)


def test_closing_twice_gives_a_clear_conflict(submit, staff, users):
    req = submit()
    services.accept(staff["fin"], req)
    services.answer(staff["fin"], req, "答复")
    services.close(users["enterprise"], req, 4)
    with pytest.raises(Conflict) as err:
        services.close(users["enterprise"], EnterpriseRequest.objects.get(pk=req.pk), 1)
    assert err.value.status == 409 and "已办结" in err.value.zh
    assert EnterpriseRequest.objects.get(pk=req.pk).rating == 4


@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_one_wins(submit, staff, users):
    req = submit()
    services.accept(staff["fin"], req)
    services.answer(staff["fin"], req, "答复")
    barrier = threading.Barrier(2)
    outcomes = []

    def close(rating):
        from django.db import connections

        try:
            stale = EnterpriseRequest.objects.get(pk=req.pk)
            barrier.wait(timeout=10)
            services.close(users["enterprise"], stale, rating)
            outcomes.append(("ok", rating))
        except Conflict as exc:
            outcomes.append(("conflict", exc.code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close, args=(r,)) for r in (2, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o[0] for o in outcomes) == ["conflict", "ok"], outcomes
    final = EnterpriseRequest.objects.get(pk=req.pk)
    winner = next(o[1] for o in outcomes if o[0] == "ok")
    assert final.status == Status.CLOSED and final.rating == winner
    assert final.events.filter(action="close").count() == 1
    assert connection.vendor in ("sqlite", "postgresql")


# --- extensions and supervision ------------------------------------------------------------------
def test_a_refused_extension_stays_internal(submit, staff, users):
    """The enterprise never sees that an extension was asked for and refused (nor the head's reasons);
    a granted one moves its deadline, and that step it sees."""
    from huiqi.requests import selectors

    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    ext = services.request_extension(staff["fin"], req, 3, "需银行总行审批")
    services.decide_extension(staff["fin_head"], ext, False, "理由不充分，抓紧办理")
    seen = [e.action for e in selectors.events_for(users["enterprise"], req)]
    assert "extension_requested" not in seen and "extension_decided" not in seen
    assert "理由不充分" in " ".join(e.note for e in selectors.events_for(staff["fin"], req))
    ext = services.request_extension(staff["fin"], req, 2, "需银行总行审批")
    services.decide_extension(staff["fin_head"], ext, True, "同意")
    seen = [e for e in selectors.events_for(users["enterprise"], req) if e.action == "extension_decided"]
    assert len(seen) == 1 and "已批准" in seen[0].note


def test_extension_needs_a_reason_and_someone_else(submit, staff, users):
    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    with pytest.raises(ValidationFailed):
        services.request_extension(staff["fin"], req, 3, "")
    ext = services.request_extension(staff["fin"], req, 3, "需银行总行审批")
    with pytest.raises(PermissionDenied):
        services.decide_extension(staff["fin"], ext, True)
    with pytest.raises(PermissionDenied):
        services.decide_extension(staff["hr"], ext, True)
    services.decide_extension(staff["fin_head"], ext, True, "同意")
    req.refresh_from_db()
    assert req.answer_deadline == D(2020, 2, 20) == req.due_date
    assert Extension.objects.get(pk=ext.pk).status == "approved"
    assert req.events.filter(action="extension_requested", internal=True).exists()
    with pytest.raises(Conflict):
        services.decide_extension(users["bureau"], ext, False)


def test_supervision_by_the_bureau(submit, users, staff):
    req = submit()
    with pytest.raises(PermissionDenied):
        services.supervise(staff["fin"], req, "督办")
    services.supervise(users["bureau"], req, "请加快办理")
    req.refresh_from_db()
    assert req.supervised
    assert Notification.objects.filter(recipient=staff["fin_head"], subject__contains="督办").exists()


def test_internal_notes_are_hidden_from_the_enterprise(submit, staff, users):
    from huiqi.requests import selectors

    req = submit()
    services.add_note(staff["fin"], req, "内部：企业信用记录一般")
    assert not any("信用" in e.note for e in selectors.events_for(users["enterprise"], req))
    assert any("信用" in e.note for e in selectors.events_for(staff["fin"], req))


# --- sweep ----------------------------------------------------------------------------------------
def test_sweep_escalates_one_level_at_a_time_and_is_idempotent(submit, staff, users):
    req = submit()  # accept by 2020-02-11
    assert services.sweep(today=D(2020, 2, 11))["escalated_to_heads"] == 0
    counts = services.sweep(today=D(2020, 2, 12), now=at(2020, 2, 12, 1))
    assert counts == {"escalated_to_heads": 1, "escalated_to_bureau": 0, "closed_automatically": 0}
    assert services.sweep(today=D(2020, 2, 12), now=at(2020, 2, 12, 2))["escalated_to_heads"] == 0
    req.refresh_from_db()
    assert req.escalation_level == 1
    assert Notification.objects.filter(recipient=staff["fin_head"], subject__contains="超期").count() == 1
    # Two working days past (02-12, 02-13): not yet; three: the bureau.
    assert services.sweep(today=D(2020, 2, 13), now=at(2020, 2, 13, 1))["escalated_to_bureau"] == 0
    assert services.sweep(today=D(2020, 2, 14), now=at(2020, 2, 14, 1))["escalated_to_bureau"] == 1
    assert services.sweep(today=D(2020, 2, 14), now=at(2020, 2, 14, 2))["escalated_to_bureau"] == 0
    assert Notification.objects.filter(recipient=users["bureau"], subject__contains="升级").count() == 1
    assert req.events.filter(action="escalate").count() == 2
    assert set(req.events.filter(action="escalate").values_list("from_status", "to_status")) == {
        ("submitted", "submitted")}
    # Accepting late starts a new deadline at level 0.
    services.accept(staff["fin"], req, at=at(2020, 2, 14, 9))
    req.refresh_from_db()
    assert req.escalation_level == 0 and req.accepted_on_time is False


def test_waiting_requests_do_not_escalate(submit, staff):
    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    services.ask_enterprise(staff["fin"], req, "请补充", at=at(2020, 2, 10, 12))
    assert services.sweep(today=D(2020, 3, 30))["escalated_to_heads"] == 0


def test_sweep_closes_answered_requests_after_the_waiting_period(submit, staff):
    req = submit()
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    services.answer(staff["fin"], req, "答复", at=at(2020, 2, 10, 15))
    assert services.sweep(today=D(2020, 2, 17))["closed_automatically"] == 0  # 5 working days: 02-11..02-17
    assert services.sweep(today=D(2020, 2, 18))["closed_automatically"] == 1
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.closed_automatically and req.rating is None
    ev = req.events.get(action="auto_close")
    assert (ev.from_status, ev.to_status, ev.internal) == ("answered", "closed", False)


def test_sweep_command_and_job(submit, staff):
    from django.core.management import call_command

    from huiqi.core import jobs

    submit(at=at(2020, 2, 3, 9))
    call_command("requests_sweep", "--today", "2020-02-10", verbosity=0)
    assert EnterpriseRequest.objects.get().escalation_level == 1
    job = jobs.enqueue("requests.sweep", {"today": "2020-02-20"})
    jobs.run_pending()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert EnterpriseRequest.objects.get().escalation_level == 2


# --- common problems and similarity ---------------------------------------------------------------
def test_similar_requests_are_suggested(submit, users, staff, city):
    from huiqi.requests import selectors

    a = submit(title="口罩生产原料熔喷布短缺", description="我司复工生产口罩，熔喷布原料采购困难，希望协调供应。")
    b = submit(actor=staff["hotline"], enterprise=city["ft1"], title="熔喷布采购难",
               description="企业生产口罩急需熔喷布原料，请求协调熔喷布供应渠道。")
    submit(title="房租减免咨询", description="请问国有物业房租减免如何申请？")
    found = selectors.similar_open(users["bureau"], a, 0.3)
    assert [f["number"] for f in found] == [b.number]


def test_common_problem_answered_together(submit, staff, users, city, category):
    from huiqi.requests.models import CommonProblem

    a = submit()
    b = submit(actor=staff["hotline"], enterprise=city["ft1"])
    services.accept(staff["fin"], a)
    problem = services.create_common_problem(staff["fin"], "续贷难", category["financing"], [a, b])
    with pytest.raises(ValidationFailed):
        services.link_request(users["bureau"], problem, submit(category=category["rent"]))
    result = services.answer_common_problem(staff["fin"], problem, "已出台续贷支持政策。")
    assert result == {"answered": 2, "skipped": 0, "enterprises": 2}
    for r in (a, b):
        r.refresh_from_db()
        assert r.status == Status.ANSWERED and r.answer == "已出台续贷支持政策。"
    assert CommonProblem.objects.get().answered_at
    assert Notification.objects.filter(recipient=users["enterprise"], subject__contains="共性问题").exists()


def test_a_common_problem_is_answered_only_by_those_who_handle_its_requests(submit, staff, users, city, category):
    """A district officer may read the problem but not answer it; a department answers its own requests
    and tells only their enterprises; with nothing of its own left to answer nothing is recorded or sent."""
    from huiqi.requests.models import CommonProblem

    a = submit()
    b = submit(enterprise=city["ft1"], actor=staff["hotline"])
    problem = services.create_common_problem(staff["fin"], "续贷难", category["financing"], [a, b])
    services.transfer(staff["fin"], b, Agency.objects.get(code="HRSS-SZ"), "社保事项")
    sent = Notification.objects.count()
    with pytest.raises(PermissionDenied):
        services.answer_common_problem(users["district"], problem, "已统一答复")
    with pytest.raises(Conflict):
        services.answer_common_problem(users["department"], problem, "已统一答复")  # none of its requests
    assert Notification.objects.count() == sent and CommonProblem.objects.get().answered_at is None

    result = services.answer_common_problem(staff["fin"], problem, "已出台续贷支持政策。\x00")
    assert result == {"answered": 1, "skipped": 1, "enterprises": 1}
    told = set(Notification.objects.filter(subject__contains="共性问题").values_list("recipient__username", flat=True))
    assert told == {users["enterprise"].username}  # not ft1's users: HRSS has not answered them
    assert CommonProblem.objects.get().answer == "已出台续贷支持政策。"
    assert EnterpriseRequest.objects.get(pk=b.pk).status == Status.SUBMITTED
    with pytest.raises(Conflict):  # answered already: a second answer sends nothing more
        services.answer_common_problem(staff["fin"], problem, "再答复一次")
    assert set(Notification.objects.filter(subject__contains="共性问题")
               .values_list("recipient__username", flat=True)) == told


# --- notifications -------------------------------------------------------------------------------
def test_an_enterprise_without_platform_users_hears_through_the_request_contact(submit, staff, city):
    """A caller of the hotline whose enterprise has no account here gets the number by SMS and e-mail,
    and hears of the question and the answer; an enterprise with users is told through them only."""
    from huiqi.requests.models import EnterpriseRequest as R

    lone = next(e for e in Enterprise.objects.all() if not selectors.enterprise_users(e.pk))
    req = submit(actor=staff["hotline"], enterprise=lone, contact_phone="13900000000",
                 contact_email="caller@example.org")
    rows = Notification.objects.filter(request=req, recipient__isnull=True)
    assert {(n.channel, n.address) for n in rows} == {("sms", "13900000000"), ("email", "caller@example.org")}
    assert req.number in rows.get(channel="email").body
    services.accept(staff["fin"], req)
    services.ask_enterprise(staff["fin"], R.objects.get(pk=req.pk), "请补充营业执照")
    assert Notification.objects.filter(request=req, address="13900000000", subject__contains="补充").exists()
    own = submit(contact_phone="13900000001", contact_email="other@example.org")
    assert not Notification.objects.filter(request=own, recipient__isnull=True).exists()



def test_outbox_keeps_messages_while_a_channel_is_down(submit, staff, users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HUIQI_SMS_BACKEND = "huiqi.requests.notifications.FailingSmsGateway"
    req = submit()
    services.accept(staff["fin"], req)
    services.ask_enterprise(staff["fin"], req, "请补充材料")  # in-platform, e-mail and SMS to the enterprise
    sms = Notification.objects.get(channel="sms")
    assert sms.recipient == users["enterprise"] and sms.state == "pending"
    inbox = Notification.objects.filter(recipient=users["enterprise"], channel="inbox")
    assert inbox.filter(subject__contains="补充").exists() and set(inbox.values_list("state", flat=True)) == {"sent"}

    counts = notifications.deliver_pending()
    assert counts["failed"] == 1 and counts["sent"] >= 1
    sms.refresh_from_db()
    assert sms.state == "pending" and sms.attempts == 1 and "unreachable" in sms.last_error
    assert any("补充" in m.subject for m in mail.outbox)
    # Not retried before its pause is over, then delivered once the gateway is back.
    assert notifications.deliver_pending()["failed"] == 0
    settings.HUIQI_SMS_BACKEND = "huiqi.requests.notifications.ConsoleSmsGateway"
    later = sms.next_attempt_at + dt.timedelta(seconds=1)
    assert notifications.deliver_pending(now=later)["sent"] == 1
    sms.refresh_from_db()
    assert sms.state == "sent" and sms.attempts == 2


def test_failing_mail_is_retried_not_lost(submit, staff, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def down(*a, **k):
        raise OSError("SMTP down")

    monkeypatch.setattr(notifications, "send_mail", down)
    submit()
    counts = notifications.deliver_pending()
    assert counts["sent"] == 0 and counts["failed"] >= 1
    assert Notification.objects.filter(channel="email", state="pending").count() == counts["failed"]


def test_a_missing_calendar_year_leaves_the_deadline_empty_and_alerts_the_bureau(submit, staff, users):
    from huiqi.core.workdays import Calendar

    last = max(Calendar.load().years)
    req = submit(at=at(last, 12, 30, 10))
    assert req.accept_deadline == D(last, 12, 31)
    services.accept(staff["fin"], req, at=at(last, 12, 30, 11))
    req.refresh_from_db()
    assert req.status == Status.ACCEPTED and req.answer_deadline is None and req.due_date is None
    alert = Notification.objects.filter(recipient=users["bureau"], subject__contains=str(last + 1))
    assert alert.count() == 1
    services.sweep(today=D(last, 12, 31))  # counting into the missing year again: still one alert
    assert alert.count() == 1
