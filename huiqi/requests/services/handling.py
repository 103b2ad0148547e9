"""A request's way through its department: accept, start, ask the enterprise and its reply, answer,
close and reopen, send back and transfer, a new category, notes and supervision. Every transition locks
the row and writes with a conditional UPDATE on the status it read (``_move``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, PermissionDenied, ValidationFailed
from huiqi.core.i18n import both_names, stored
from huiqi.core.workdays import Calendar, CalendarYearMissing
from huiqi.registry import selectors as registry_selectors

from .. import notifications, rules, selectors
from ..models import RUNNING_STATUSES, TRANSITIONS, Category, EnterpriseRequest, RequestEvent, Status
from ..permissions import DISPATCH_AGENCY, HOTLINE_AGENCY
from .common import (
    calendar_missing,
    deadline,
    record_event,
    require_enterprise,
    require_handler,
    signed_in,
    tell_enterprise,
    today_of,
)
from .intake import check_attachments, route, store_attachments


def _move(actor, req: EnterpriseRequest, action: str, *, note: str = "", internal: bool = False,
          data: dict | None = None, at: dt.datetime, check=None, **changes) -> EnterpriseRequest:
    """Lock the request, check the transition, apply ``changes`` with a conditional UPDATE on the status
    read, record history and audit. ``check(locked)`` runs on the locked row before anything changes."""
    froms, to = TRANSITIONS[action]
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    _check_same_department(req, locked)
    if locked.status not in froms:
        raise Conflict("requests.transition", _("诉求 %(number)s 当前为“%(status)s”，不能执行此操作（可能已被他人处理，请刷新页面）"),
                       field="status", number=locked.number,
                       status=locked.get_status_display())
    if check:
        check(locked)
    before = audit.snapshot(locked)
    changes = {**changes, "status": to, "updated_at": at}
    done = EnterpriseRequest.objects.filter(pk=locked.pk, status=locked.status).update(**changes)
    if done != 1:
        raise Conflict("requests.concurrent", _("诉求 %(number)s 刚被他人处理，请刷新页面"), number=locked.number)
    for k, v in changes.items():
        setattr(locked, k, v)
    record_event(locked, actor, action, before["status"], to, note=note, internal=internal, data=data, at=at)
    audit.record(actor, action, locked, before=before, note=note[:500])
    req.__dict__.update(locked.__dict__)
    return locked


def _check_same_department(req: EnterpriseRequest, locked: EnterpriseRequest) -> None:
    """The permission was checked on the request as read; if it has since gone to another department
    (transferred, sent back, recategorised), the reader's department may no longer act on it."""
    if locked.agency_id != req.agency_id:
        raise Conflict("requests.moved", _("诉求 %(number)s 已转至其他部门办理，请刷新页面"), field="agency",
                       number=locked.number)


def _reset_clock(**kw) -> dict:
    return {"escalation_level": 0, "escalated_at": None, **kw}


@transaction.atomic
def accept(actor, req, *, at=None) -> EnterpriseRequest:
    """签收: the department takes the request; the deadline to answer starts."""
    require_handler(actor, req)
    at = at or clock.now()
    today = today_of(at)
    answer_by = deadline(Calendar.load(), today, req.category.answer_days)
    r = _move(actor, req, "accept", at=at, note=stored(_("已签收")), accepted_at=at,
              accepted_on_time=req.accept_deadline is None or today <= req.accept_deadline,
              answer_deadline=answer_by, **_reset_clock(due_date=answer_by),
              handler=req.handler if req.handler_id else (actor if actor.role == Role.DEPARTMENT else None))
    tell_enterprise(r, stored(_("诉求 %(number)s 已签收"), number=r.number),
                    stored(_("%(agency)s 已签收您的诉求，答复期限 %(date)s。"), agency=both_names(r.agency), date=answer_by),
                    request=r)
    return r


@transaction.atomic
def start(actor, req, *, note: str = "", at=None) -> EnterpriseRequest:
    require_handler(actor, req)
    return _move(actor, req, "start", at=at or clock.now(), note=note or stored(_("开始办理")))


@transaction.atomic
def ask_enterprise(actor, req, question: str, *, at=None) -> EnterpriseRequest:
    """Ask the enterprise for more information: the deadline clock pauses until it replies."""
    require_handler(actor, req)
    question = (question or "").strip()
    if not question:
        raise ValidationFailed("request.question_empty", _("请写明需要企业补充的内容"), field="note")
    at = at or clock.now()
    r = _move(actor, req, "ask_enterprise", at=at, note=question, paused_at=at, due_date=None)
    tell_enterprise(r, stored(_("诉求 %(number)s 需要补充材料"), number=r.number),
                    stored(_("%(agency)s：%(question)s"), agency=both_names(r.agency), question=question), request=r, sms=True)
    return r


@transaction.atomic
def reply(actor, req, text: str, *, attachments=(), at=None) -> EnterpriseRequest:
    """The enterprise answers the department's question: the clock runs again and the answer deadline
    moves by the working days the wait covered."""
    require_enterprise(actor, req)
    text = (text or "").strip()
    p = selectors.current_params()
    if not text:
        raise ValidationFailed("request.reply_empty", _("请填写补充内容"), field="note")
    if len(text) > p["description_max_chars"]:
        raise ValidationFailed("request.reply_long", _("补充内容不能超过 %(description_max_chars)s 个字"),
                               field="note", description_max_chars=p["description_max_chars"])
    check_attachments(attachments, p)
    at = at or clock.now()
    cal = Calendar.load()
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    paused = 0
    answer_by = locked.answer_deadline
    if locked.status == Status.WAITING and locked.paused_at:
        try:
            paused, answer_by = rules.resumed_deadline(cal, answer_by, today_of(locked.paused_at), today_of(at))
        except CalendarYearMissing as exc:
            calendar_missing(exc.year)
            answer_by = None
    r = _move(actor, req, "reply", at=at, note=text, data={"paused_working_days": paused},
              paused_at=None, paused_days=locked.paused_days + paused, answer_deadline=answer_by,
              due_date=answer_by)
    store_attachments(actor, r, attachments, p)
    notifications.notify(selectors.handlers_of(r), stored(_("诉求 %(number)s 企业已补充"), number=r.number),
                         stored(_("企业已补充材料；计时恢复，暂停 %(paused)s 个工作日，答复期限顺延至 %(date)s。"),
                                paused=paused, date=answer_by), request=r)
    return r


@transaction.atomic
def answer(actor, req, text: str, *, at=None, bureau_too: bool = False) -> EnterpriseRequest:
    """Answer the enterprise. It may then confirm and rate, reopen, or let the waiting period close it."""
    require_handler(actor, req, bureau_too=bureau_too)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("request.answer_empty", _("请填写答复内容"), field="note")
    if len(text) > selectors.current_params()["description_max_chars"] * 2:
        raise ValidationFailed("request.answer_long", _("答复内容过长"), field="note")
    at = at or clock.now()
    today = today_of(at)
    r = _move(actor, req, "answer", at=at, note=text, answer=text, answered_at=at, due_date=None,
              answered_on_time=req.answer_deadline is None or today <= req.answer_deadline)
    tell_enterprise(r, stored(_("诉求 %(number)s 已答复"), number=r.number),
                    stored(_("%(agency)s 已答复您的诉求“%(title)s”。请确认并评价，或说明理由申请重办。\n%(answer)s"),
                           agency=both_names(r.agency), title=r.title, answer=text[:500]),
                    request=r, sms=True)
    return r


def _check_rating(rating) -> int:
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed("request.rating", _("请选择 1 到 5 的满意度"), field="rating")
    return value


@transaction.atomic
def close(actor, req, rating, comment: str = "", *, at=None) -> EnterpriseRequest:
    """The enterprise confirms the answer and rates it (1–5): the request is closed (办结)."""
    require_enterprise(actor, req)
    value = _check_rating(rating)
    at = at or clock.now()
    return _move(actor, req, "close", at=at, note=(comment or "")[:500], data={"rating": value}, closed_at=at,
                 rating=value, rating_comment=(comment or "")[:500])


@transaction.atomic
def reopen(actor, req, reason: str, *, at=None) -> EnterpriseRequest:
    """The enterprise is not satisfied with the answer: the department must answer again."""
    require_enterprise(actor, req)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("request.reason_empty", _("请说明重办理由"), field="note")
    at = at or clock.now()
    answer_by = deadline(Calendar.load(), today_of(at), req.category.answer_days)
    r = _move(actor, req, "reopen", at=at, note=reason, answer_deadline=answer_by,
              reopen_count=req.reopen_count + 1, **_reset_clock(due_date=answer_by))
    notifications.notify(selectors.handlers_of(r), stored(_("诉求 %(number)s 企业申请重办"), number=r.number),
                         stored(_("理由：%(reason)s"), reason=reason), request=r)
    return r


def _reassign(actor, req, action: str, target, reason: str, at) -> EnterpriseRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("request.reason_empty", _("请说明理由"), field="note")
    accept_by = deadline(Calendar.load(), today_of(at), req.category.accept_days)
    r = _move(actor, req, action, at=at, note=reason, data={"from": req.agency.code, "to": target.code},
              agency=target, handler=None, accepted_at=None, answer_deadline=None,
              accept_deadline=accept_by, **_reset_clock(due_date=accept_by))
    notifications.notify(selectors.agency_staff(target.pk), stored(_("诉求 %(number)s 转至贵部门"), number=r.number),
                         stored(_("%(agency)s：%(reason)s。请在 %(date)s 前签收。"), agency=both_names(req.agency),
                                reason=reason, date=accept_by), request=r)
    tell_enterprise(r, stored(_("诉求 %(number)s 已转至%(agency)s"), number=r.number, agency=both_names(target)),
                    stored(_("您的诉求已转至%(agency)s办理。"), agency=both_names(target)), request=r)
    return r


@transaction.atomic
def send_back(actor, req, reason: str, *, at=None) -> EnterpriseRequest:
    """退回: not this department's matter; back to the SME service bureau, which routes it again."""
    require_handler(actor, req)
    dispatch = registry_selectors.agencies().get(code=DISPATCH_AGENCY)
    if req.agency_id == dispatch.pk:
        raise Conflict("requests.send_back_dispatch", _("市中小企业服务局不能退回诉求，请转办至责任部门"))
    return _reassign(actor, req, "send_back", dispatch, reason, at or clock.now())


@transaction.atomic
def transfer(actor, req, agency, reason: str, *, at=None) -> EnterpriseRequest:
    """转办: to the department responsible (``agency``, a department of the registry), with the reason."""
    require_handler(actor, req, bureau_too=True)
    if agency.pk == req.agency_id:
        raise ValidationFailed("request.transfer_same", _("不能转办给本部门"), field="agency")
    if agency.code == HOTLINE_AGENCY:
        raise ValidationFailed("request.transfer_hotline", _("热线不办理诉求"), field="agency")
    return _reassign(actor, req, "transfer", agency, reason, at or clock.now())


@transaction.atomic
def change_category(actor, req, category: Category, note: str = "", *, at=None) -> EnterpriseRequest:
    """Correct the category; routing runs again and the request goes where the new category sends it."""
    require_handler(actor, req, bureau_too=True)
    if req.status not in RUNNING_STATUSES:
        raise Conflict("requests.category_locked", _("已答复或办结的诉求不能改类别"))
    at = at or clock.now()
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    _check_same_department(req, locked)
    before = audit.snapshot(locked)
    agency_id, handler_id, rule_id = route(category, locked.enterprise, locked.title, locked.description)
    old = locked.category
    locked.category = category
    locked.routing_rule_id = rule_id
    locked.updated_at = at
    fields = ["category", "routing_rule", "updated_at"]
    if agency_id != locked.agency_id:
        accept_by = deadline(Calendar.load(), today_of(at), category.accept_days)
        locked.agency_id, locked.handler_id = agency_id, handler_id
        locked.status, locked.accepted_at, locked.answer_deadline = Status.SUBMITTED, None, None
        locked.accept_deadline = locked.due_date = accept_by
        locked.escalation_level, locked.escalated_at = 0, None
        fields += ["agency", "handler", "status", "accepted_at", "answer_deadline", "accept_deadline", "due_date",
                   "escalation_level", "escalated_at"]
    locked.save(update_fields=fields)
    record_event(locked, actor, "recategorise", before["status"], locked.status, at=at,
           note=stored(_("类别由“%(old)s”改为“%(new)s”，重新分派至%(agency)s。%(note)s"), old=both_names(old),
                       new=both_names(category), agency=both_names(locked.agency), note=note.strip()),
           data={"from": old.code, "to": category.code, "agency": locked.agency.code, "rule": rule_id})
    audit.record(actor, "recategorise", locked, before=before, note=note[:500])
    if agency_id != before["agency_id"]:
        notifications.notify(selectors.agency_staff(agency_id), stored(_("诉求 %(number)s 分派至贵部门"), number=locked.number),
                             stored(_("类别改为“%(category)s”后重新分派。"), category=both_names(category)),
                             request=locked)
    req.__dict__.update(locked.__dict__)
    return locked


@transaction.atomic
def add_note(actor, req, text: str, *, internal: bool = True, at=None) -> RequestEvent:
    """A note on the history: internal ones (the default) are for staff only."""
    require_handler(actor, req, bureau_too=True)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("request.note_empty", _("请填写备注"), field="note")
    ev = record_event(req, actor, "note", req.status, req.status, note=text[:5000], internal=internal, at=at)
    audit.record(actor, "note", req, after={"internal": internal, "note": text[:500]})
    return ev


@transaction.atomic
def supervise(actor, req, note: str, *, at=None) -> EnterpriseRequest:
    """督办: the bureau opens supervision on any request; the department and its heads are told."""
    signed_in(actor)
    if not actor.has_perm("requests.supervise"):
        raise PermissionDenied("requests.supervise_forbidden", _("只有局工作人员可以督办"))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("request.note_empty", _("请填写督办意见"), field="note")
    at = at or clock.now()
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    if locked.status == Status.CLOSED:
        raise Conflict("requests.closed", _("已办结的诉求不能督办"))
    before = audit.snapshot(locked)
    EnterpriseRequest.objects.filter(pk=locked.pk).update(supervised=True, updated_at=at)
    locked.supervised = True
    record_event(locked, actor, "supervise", locked.status, locked.status, note=note, at=at)
    audit.record(actor, "supervise", locked, before=before, note=note[:500])
    notifications.notify(selectors.agency_staff(locked.agency_id) + selectors.heads_of(locked.agency_id),
                         stored(_("督办：诉求 %(number)s"), number=locked.number), note, request=locked, sms=True)
    req.supervised = True
    return locked
