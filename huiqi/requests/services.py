"""Enterprise-request writes: one function per action, transactional, permission- and state-checked,
each leaving a history step (``RequestEvent``), an audit record and the notifications it causes.

Decisions the issue leaves to the platform:

- **Numbers** read ``SZQ-<submission date>-<id, six digits>``: unique without a counter table and
  quotable on the phone; guessing one gives nothing (reads are scoped, another's number is a 404).
- **Deadlines** are working-day dates (``core.workdays``): to accept counts from the day of submission
  (or of a transfer or send-back), to answer from the day of acceptance (or of a reopening). Waiting for
  the enterprise stops the clock; the reply moves the answer deadline by the working days the wait
  covered, (pause day, reply day]. When the calendar for a year is missing the deadline stays empty and
  the bureau is told to enter the year.
- **Escalation** (``sweep``): once a running deadline has passed, the department's heads are told
  (level 1); when it is more than ``bureau_after_days`` working days past, the SME service bureau is
  told (level 2). One level per sweep; a new deadline (acceptance, transfer, reopening) starts again at 0.
- **Concurrency**: every transition locks the row (``select_for_update``) and writes with a conditional
  UPDATE on the status it read, so of two closes at once one wins and the other gets a clear conflict.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from huiqi.accounts.selectors import Role
from huiqi.core import audit
from huiqi.core import params as core_params
from huiqi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from huiqi.core.workdays import Calendar, CalendarYearMissing
from huiqi.accounts import selectors as accounts_selectors
from huiqi.registry import selectors as registry_selectors

from . import notifications, rules
from .apps import PARAMS_KEY
from .models import (
    RUNNING_STATUSES,
    TRANSITIONS,
    Attachment,
    Category,
    Channel,
    CommonProblem,
    DepartmentHead,
    EnterpriseRequest,
    Extension,
    RequestEvent,
    RoutingRule,
    Status,
)
from .permissions import DISPATCH_AGENCY, HOTLINE_AGENCY

# --------------------------------------------------------------------------------------------------
# Parameters, calendar, people


def current_params(on: dt.date | None = None) -> dict:
    """The channel's parameters in force on ``on``, over the defaults (a key the bureau never set
    keeps its default)."""
    stored = core_params.value(PARAMS_KEY, on=on, default={}) or {}
    return {**rules.DEFAULTS, **stored}


def _today(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _deadline(cal: Calendar, start: dt.date, n: int) -> dt.date | None:
    try:
        return cal.add_working_days(start, n)
    except CalendarYearMissing as exc:
        _calendar_missing(exc.year)
        return None


def _calendar_missing(year: int) -> None:
    bureau = accounts_selectors.users().filter(role=Role.BUREAU, is_active=True)
    notifications.notify(bureau, f"请录入 {year} 年节假日安排 / enter the {year} holiday calendar",
                         f"{year} 年的节假日与调休安排尚未录入，诉求期限无法计算。请在后台“节假日与调休”中录入国务院办公厅通知。\n"
                         f"The {year} holiday calendar is missing; request deadlines cannot be counted. "
                         "Enter the State Council's notice in the back office.",
                         dedupe=f"calendar-missing-{year}")


def agency_staff(agency_id) -> list:
    return list(accounts_selectors.users().filter(role=Role.DEPARTMENT, agency_id=agency_id, is_active=True))


def heads_of(agency_id) -> list:
    return list(accounts_selectors.users().filter(pk__in=DepartmentHead.objects.filter(agency_id=agency_id).values("user_id"),
                                    is_active=True))


def is_head(user, agency_id) -> bool:
    return DepartmentHead.objects.filter(agency_id=agency_id, user_id=user.pk).exists()


def enterprise_users(enterprise_id) -> list:
    return list(accounts_selectors.users().filter(role=Role.ENTERPRISE, is_active=True, enterprisemembership__enterprise_id=enterprise_id))


def _tell_enterprise(req: EnterpriseRequest, subject: str, body: str, *, request=None, sms: bool = False,
                     contact_sms: bool = False) -> None:
    """Tell the enterprise of a step of its request: its platform users; an enterprise with none (a call
    to the hotline, say) through the contact the request carries, so that it still hears of it."""
    users = enterprise_users(req.enterprise_id)
    if users:
        notifications.notify(users, subject, body, request=req, sms=sms)
    else:
        notifications.notify_contact(req, subject, body, sms=sms or contact_sms)


def bureau_recipients() -> list:
    """The SME service bureau: bureau staff and the department users of the dispatch agency."""
    return list(accounts_selectors.users().filter(Q(role=Role.BUREAU) | Q(role=Role.DEPARTMENT, agency__code=DISPATCH_AGENCY),
                                    is_active=True))


# --------------------------------------------------------------------------------------------------
# Permission checks


def _signed_in(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("requests.login_required", "此操作需要登录用户完成并留痕",
                               "this action must be done by a signed-in user, on the record")


def _is_admin(actor) -> bool:
    return getattr(actor, "role", None) == Role.ADMIN


def _require_handler(actor, req: EnterpriseRequest, *, bureau_too: bool = False) -> None:
    """Only a handler of the request's own department acts on it (the bureau too where said)."""
    _signed_in(actor)
    if actor.has_perm("requests.handle_request", req) or (bureau_too and actor.role == Role.BUREAU):
        return
    raise PermissionDenied("requests.not_your_department",
                           f"诉求 {req.number} 不属于您所在的部门，不能办理",
                           f"request {req.number} is not your department's; you may not act on it")


def _require_enterprise(actor, req: EnterpriseRequest) -> None:
    _signed_in(actor)
    if actor.has_perm("requests.act_as_requester", req):
        return
    raise PermissionDenied("requests.not_your_request", "只有提出诉求的企业可以执行此操作",
                           "only the enterprise that made the request may do this")


def _fail(problems: list[rules.Problem]):
    if problems:
        p = problems[0]
        raise ValidationFailed(p.code, p.zh, p.en, field=p.field)


# --------------------------------------------------------------------------------------------------
# Routing


def _rules() -> list[rules.Rule]:
    return [rules.Rule(id=r.id, category=r.category.code if r.category_id else None, district=r.district_id,
                       keywords=rules.split_keywords(r.keywords), size_class=r.size_class,
                       industry_section=r.industry_section, key_enterprise=r.key_enterprise,
                       agency=r.agency_id, handler=r.handler_id)
            for r in RoutingRule.objects.filter(active=True).select_related("category").order_by("order", "id")]


def route(category: Category, enterprise, title: str, description: str,
          rule_set: list[rules.Rule] | None = None) -> tuple[int, int | None, int | None]:
    """(department id, handler id or None, rule id or None): the first matching routing rule, else the
    category's default department."""
    subject = rules.Subject(category=category.code, district=enterprise.district_id, text=f"{title}\n{description}",
                            size_class=enterprise.size_class, industry_section=enterprise.industry.section,
                            key_enterprise=enterprise.is_key_enterprise)
    hit = rules.route(_rules() if rule_set is None else rule_set, subject)
    if hit is None:
        return category.default_agency_id, None, None
    return hit.agency, hit.handler, hit.id


# --------------------------------------------------------------------------------------------------
# Intake


def _event(req, actor, action, from_status="", to_status="", note="", internal=False, data=None, at=None):
    return RequestEvent.objects.create(
        request=req, at=at or timezone.now(), actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=audit.actor_label(actor), action=action, from_status=from_status, to_status=to_status,
        note=note, internal=internal, data=data)


def _store_attachments(actor, req, files, p) -> list[Attachment]:
    files = list(files or [])
    if len(files) > p["attachment_max_files"]:
        raise ValidationFailed("request.attachment_count", f"附件最多 {p['attachment_max_files']} 个",
                               f"at most {p['attachment_max_files']} attachments", field="attachments")
    checked = []
    for f in files:
        name = rules.safe_filename(getattr(f, "name", "file"))
        f.seek(0)
        head = f.read(16)
        f.seek(0)
        problem = rules.check_attachment(name, f.size, head, p)
        _fail([problem] if problem else [])
        checked.append((name, f))
    stored = []
    for name, f in checked:
        a = Attachment(request=req, name=name, size=f.size, kind=rules.file_kind(name),
                       uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
        a.file.save(name, f, save=False)
        a.save()
        stored.append(a)
    return stored


def check_attachments(files, p=None) -> None:
    """Refuse a set of files before anything is stored (the form checks before it submits)."""
    p = p or current_params()
    files = list(files or [])
    if len(files) > p["attachment_max_files"]:
        raise ValidationFailed("request.attachment_count", f"附件最多 {p['attachment_max_files']} 个",
                               f"at most {p['attachment_max_files']} attachments", field="attachments")
    for f in files:
        f.seek(0)
        head = f.read(16)
        f.seek(0)
        problem = rules.check_attachment(rules.safe_filename(f.name), f.size, head, p)
        _fail([problem] if problem else [])


@transaction.atomic
def submit_request(actor, *, enterprise, category: Category, title: str, description: str,
                   channel: str = Channel.WEB, contact_name: str = "", contact_phone: str = "",
                   contact_email: str = "", attachments=(), address: str = "", lat=None, long=None,
                   at: dt.datetime | None = None) -> EnterpriseRequest:
    """File a request for ``enterprise``: by one of its users (web, API, Open311), or by a hotline
    operator on its behalf (channel "hotline"). Routes it, sets the deadline to accept, tells the
    department."""
    _signed_in(actor)
    if channel not in Channel.values:
        raise ValidationFailed("request.channel", f"未知渠道 {channel}", f"unknown channel {channel}", field="channel")
    hotline = actor.has_perm("requests.file_for_enterprise") and actor.role == Role.DEPARTMENT
    if channel == Channel.HOTLINE and not (hotline or _is_admin(actor)):
        raise PermissionDenied("requests.hotline_only", "只有 12345 热线坐席可以代企业登记来电",
                               "only a 12345 hotline operator may file a call for an enterprise")
    if actor.role == Role.ENTERPRISE:
        if not actor.enterprises.filter(pk=enterprise.pk).exists():
            raise NotFound("requests.enterprise_not_found", "未找到该企业", "enterprise not found", field="enterprise")
    elif not (hotline or _is_admin(actor)):
        raise PermissionDenied("requests.submit_forbidden", "您不能提交企业诉求", "you may not file requests")
    if hotline and channel != Channel.HOTLINE:
        channel = Channel.HOTLINE
    if not category.active:
        raise ValidationFailed("request.category_inactive", "该类别已停用", "this category is no longer used",
                               field="category")
    at = at or timezone.now()
    p = current_params(_today(at))
    title, description = rules.clean_text(title).strip(), rules.clean_text(description).strip()
    contact_name, contact_phone = rules.clean_text(contact_name), rules.clean_text(contact_phone)
    contact_email, address = rules.clean_text(contact_email), rules.clean_text(address)
    _fail(rules.check_text(title, description, p))
    cal = Calendar.load()
    agency_id, handler_id, rule_id = route(category, enterprise, title, description)
    accept_by = _deadline(cal, _today(at), category.accept_days)
    req = EnterpriseRequest.objects.create(
        number=f"PENDING-{uuid.uuid4().hex}", enterprise=enterprise,
        district_id=enterprise.district_id, category=category, channel=channel, title=title,
        description=description, tokens=" ".join(rules.tokenize(f"{title} {description}")),
        contact_name=contact_name[:50], contact_phone=contact_phone[:30], contact_email=contact_email,
        address=address[:200], lat=lat, long=long, status=Status.SUBMITTED, agency_id=agency_id,
        handler_id=handler_id, routing_rule_id=rule_id, submitted_at=at, updated_at=at,
        accept_deadline=accept_by, due_date=accept_by, created_by=actor)
    req.number = f"SZQ-{_today(at):%Y%m%d}-{req.pk:06d}"
    req.save(update_fields=["number"])
    _store_attachments(actor, req, attachments, p)
    agency = registry_selectors.agencies().get(pk=agency_id)
    _event(req, actor, "submit", "", Status.SUBMITTED, at=at,
           note=f"经{Channel(channel).label.split(' ')[0]}提交，分派至{agency.name}",
           data={"channel": channel, "agency": agency.code, "rule": rule_id})
    audit.record(actor, "create", req, note=f"企业诉求 {req.number}")
    staff = [accounts_selectors.users().get(pk=handler_id)] if handler_id else agency_staff(agency_id)
    notifications.notify(staff, f"新诉求 {req.number}：{title}",
                         f"{enterprise.name} 提交了诉求“{title}”，请在 {accept_by} 前签收。", request=req)
    _tell_enterprise(req, f"诉求 {req.number} 已受理登记",
                     f"您的诉求“{title}”已登记，编号 {req.number}，由{agency.name}办理。", contact_sms=True)
    return req


# --------------------------------------------------------------------------------------------------
# Transitions


def _move(actor, req: EnterpriseRequest, action: str, *, note: str = "", internal: bool = False,
          data: dict | None = None, at: dt.datetime, check=None, **changes) -> EnterpriseRequest:
    """Lock the request, check the transition, apply ``changes`` with a conditional UPDATE on the status
    read, record history and audit. ``check(locked)`` runs on the locked row before anything changes."""
    froms, to = TRANSITIONS[action]
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    _check_same_department(req, locked)
    if locked.status not in froms:
        raise Conflict("requests.transition",
                       f"诉求 {locked.number} 当前为“{locked.get_status_display().split(' ')[0]}”，不能执行此操作"
                       f"（可能已被他人处理，请刷新页面）",
                       f"request {locked.number} is {locked.status}: this action is not possible now "
                       "(someone may have acted on it already; reload the page)", field="status")
    if check:
        check(locked)
    before = audit.snapshot(locked)
    changes = {**changes, "status": to, "updated_at": at}
    done = EnterpriseRequest.objects.filter(pk=locked.pk, status=locked.status).update(**changes)
    if done != 1:
        raise Conflict("requests.concurrent", f"诉求 {locked.number} 刚被他人处理，请刷新页面",
                       f"request {locked.number} was just changed by someone else; reload the page")
    for k, v in changes.items():
        setattr(locked, k, v)
    _event(locked, actor, action, before["status"], to, note=note, internal=internal, data=data, at=at)
    audit.record(actor, action, locked, before=before, note=note[:500])
    req.__dict__.update(locked.__dict__)
    return locked


def _check_same_department(req: EnterpriseRequest, locked: EnterpriseRequest) -> None:
    """The permission was checked on the request as read; if it has since gone to another department
    (transferred, sent back, recategorised), the reader's department may no longer act on it."""
    if locked.agency_id != req.agency_id:
        raise Conflict("requests.moved", f"诉求 {locked.number} 已转至其他部门办理，请刷新页面",
                       f"request {locked.number} has just moved to another department; reload the page",
                       field="agency")


def _reset_clock(**kw) -> dict:
    return {"escalation_level": 0, "escalated_at": None, **kw}


@transaction.atomic
def accept(actor, req, *, at=None) -> EnterpriseRequest:
    """签收: the department takes the request; the deadline to answer starts."""
    _require_handler(actor, req)
    at = at or timezone.now()
    today = _today(at)
    answer_by = _deadline(Calendar.load(), today, req.category.answer_days)
    r = _move(actor, req, "accept", at=at, note="已签收", accepted_at=at,
              accepted_on_time=req.accept_deadline is None or today <= req.accept_deadline,
              answer_deadline=answer_by, **_reset_clock(due_date=answer_by),
              handler=req.handler if req.handler_id else (actor if actor.role == Role.DEPARTMENT else None))
    _tell_enterprise(r, f"诉求 {r.number} 已签收",
                         f"{r.agency.name} 已签收您的诉求，答复期限 {answer_by}。", request=r)
    return r


@transaction.atomic
def start(actor, req, *, note: str = "", at=None) -> EnterpriseRequest:
    _require_handler(actor, req)
    return _move(actor, req, "start", at=at or timezone.now(), note=note or "开始办理")


@transaction.atomic
def ask_enterprise(actor, req, question: str, *, at=None) -> EnterpriseRequest:
    """Ask the enterprise for more information: the deadline clock pauses until it replies."""
    _require_handler(actor, req)
    question = (question or "").strip()
    if not question:
        raise ValidationFailed("request.question_empty", "请写明需要企业补充的内容",
                               "say what the enterprise must add", field="note")
    at = at or timezone.now()
    r = _move(actor, req, "ask_enterprise", at=at, note=question, paused_at=at, due_date=None)
    _tell_enterprise(r, f"诉求 {r.number} 需要补充材料",
                         f"{r.agency.name}：{question}", request=r, sms=True)
    return r


@transaction.atomic
def reply(actor, req, text: str, *, attachments=(), at=None) -> EnterpriseRequest:
    """The enterprise answers the department's question: the clock runs again and the answer deadline
    moves by the working days the wait covered."""
    _require_enterprise(actor, req)
    text = (text or "").strip()
    p = current_params()
    if not text:
        raise ValidationFailed("request.reply_empty", "请填写补充内容", "the reply is empty", field="note")
    if len(text) > p["description_max_chars"]:
        raise ValidationFailed("request.reply_long", f"补充内容不能超过 {p['description_max_chars']} 个字",
                               f"the reply must not exceed {p['description_max_chars']} characters", field="note")
    check_attachments(attachments, p)
    at = at or timezone.now()
    cal = Calendar.load()
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    paused = 0
    answer_by = locked.answer_deadline
    if locked.status == Status.WAITING and locked.paused_at:
        try:
            paused = cal.working_days_between(_today(locked.paused_at), _today(at))
            answer_by = cal.add_working_days(locked.answer_deadline, paused) if answer_by else None
        except CalendarYearMissing as exc:
            _calendar_missing(exc.year)
            answer_by = None
    r = _move(actor, req, "reply", at=at, note=text, data={"paused_working_days": paused},
              paused_at=None, paused_days=locked.paused_days + paused, answer_deadline=answer_by,
              due_date=answer_by)
    _store_attachments(actor, r, attachments, p)
    staff = [r.handler] if r.handler_id else agency_staff(r.agency_id)
    notifications.notify(staff, f"诉求 {r.number} 企业已补充",
                         f"企业已补充材料；计时恢复，暂停 {paused} 个工作日，答复期限顺延至 {answer_by}。", request=r)
    return r


@transaction.atomic
def answer(actor, req, text: str, *, at=None, bureau_too: bool = False) -> EnterpriseRequest:
    """Answer the enterprise. It may then confirm and rate, reopen, or let the waiting period close it."""
    _require_handler(actor, req, bureau_too=bureau_too)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("request.answer_empty", "请填写答复内容", "the answer is empty", field="note")
    if len(text) > current_params()["description_max_chars"] * 2:
        raise ValidationFailed("request.answer_long", "答复内容过长", "the answer is too long", field="note")
    at = at or timezone.now()
    today = _today(at)
    r = _move(actor, req, "answer", at=at, note=text, answer=text, answered_at=at, due_date=None,
              answered_on_time=req.answer_deadline is None or today <= req.answer_deadline)
    _tell_enterprise(r, f"诉求 {r.number} 已答复",
                         f"{r.agency.name} 已答复您的诉求“{r.title}”。请确认并评价，或说明理由申请重办。\n{text[:500]}",
                         request=r, sms=True)
    return r


def _check_rating(rating) -> int:
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed("request.rating", "请选择 1 到 5 的满意度", "choose a rating from 1 to 5", field="rating")
    return value


@transaction.atomic
def close(actor, req, rating, comment: str = "", *, at=None) -> EnterpriseRequest:
    """The enterprise confirms the answer and rates it (1–5): the request is closed (办结)."""
    _require_enterprise(actor, req)
    value = _check_rating(rating)
    at = at or timezone.now()
    return _move(actor, req, "close", at=at, note=(comment or "")[:500], data={"rating": value}, closed_at=at,
                 rating=value, rating_comment=(comment or "")[:500])


@transaction.atomic
def reopen(actor, req, reason: str, *, at=None) -> EnterpriseRequest:
    """The enterprise is not satisfied with the answer: the department must answer again."""
    _require_enterprise(actor, req)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("request.reason_empty", "请说明重办理由", "give the reason to reopen", field="note")
    at = at or timezone.now()
    answer_by = _deadline(Calendar.load(), _today(at), req.category.answer_days)
    r = _move(actor, req, "reopen", at=at, note=reason, answer_deadline=answer_by,
              reopen_count=req.reopen_count + 1, **_reset_clock(due_date=answer_by))
    staff = [r.handler] if r.handler_id else agency_staff(r.agency_id)
    notifications.notify(staff, f"诉求 {r.number} 企业申请重办", f"理由：{reason}", request=r)
    return r


def _reassign(actor, req, action: str, target: Agency, reason: str, at) -> EnterpriseRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("request.reason_empty", "请说明理由", "give the reason", field="note")
    accept_by = _deadline(Calendar.load(), _today(at), req.category.accept_days)
    r = _move(actor, req, action, at=at, note=reason, data={"from": req.agency.code, "to": target.code},
              agency=target, handler=None, accepted_at=None, answer_deadline=None,
              accept_deadline=accept_by, **_reset_clock(due_date=accept_by))
    notifications.notify(agency_staff(target.pk), f"诉求 {r.number} 转至贵部门",
                         f"{req.agency.name}：{reason}。请在 {accept_by} 前签收。", request=r)
    _tell_enterprise(r, f"诉求 {r.number} 已转至{target.name}",
                         f"您的诉求已转至{target.name}办理。", request=r)
    return r


@transaction.atomic
def send_back(actor, req, reason: str, *, at=None) -> EnterpriseRequest:
    """退回: not this department's matter; back to the SME service bureau, which routes it again."""
    _require_handler(actor, req)
    dispatch = registry_selectors.agencies().get(code=DISPATCH_AGENCY)
    if req.agency_id == dispatch.pk:
        raise Conflict("requests.send_back_dispatch", "市中小企业服务局不能退回诉求，请转办至责任部门",
                       "the SME service bureau cannot send a request back; transfer it instead")
    return _reassign(actor, req, "send_back", dispatch, reason, at or timezone.now())


@transaction.atomic
def transfer(actor, req, agency: Agency, reason: str, *, at=None) -> EnterpriseRequest:
    """转办: to the department responsible, with the reason."""
    _require_handler(actor, req, bureau_too=True)
    if agency.pk == req.agency_id:
        raise ValidationFailed("request.transfer_same", "不能转办给本部门", "choose another department", field="agency")
    if agency.code == HOTLINE_AGENCY:
        raise ValidationFailed("request.transfer_hotline", "热线不办理诉求", "the hotline does not handle requests",
                               field="agency")
    return _reassign(actor, req, "transfer", agency, reason, at or timezone.now())


@transaction.atomic
def change_category(actor, req, category: Category, note: str = "", *, at=None) -> EnterpriseRequest:
    """Correct the category; routing runs again and the request goes where the new category sends it."""
    _require_handler(actor, req, bureau_too=True)
    if req.status not in RUNNING_STATUSES:
        raise Conflict("requests.category_locked", "已答复或办结的诉求不能改类别",
                       "an answered or closed request keeps its category")
    at = at or timezone.now()
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
        accept_by = _deadline(Calendar.load(), _today(at), category.accept_days)
        locked.agency_id, locked.handler_id = agency_id, handler_id
        locked.status, locked.accepted_at, locked.answer_deadline = Status.SUBMITTED, None, None
        locked.accept_deadline = locked.due_date = accept_by
        locked.escalation_level, locked.escalated_at = 0, None
        fields += ["agency", "handler", "status", "accepted_at", "answer_deadline", "accept_deadline", "due_date",
                   "escalation_level", "escalated_at"]
    locked.save(update_fields=fields)
    _event(locked, actor, "recategorise", before["status"], locked.status, at=at,
           note=f"类别由“{old.name}”改为“{category.name}”，重新分派至{locked.agency.name}。{note}".strip(),
           data={"from": old.code, "to": category.code, "agency": locked.agency.code, "rule": rule_id})
    audit.record(actor, "recategorise", locked, before=before, note=note[:500])
    if agency_id != before["agency_id"]:
        notifications.notify(agency_staff(agency_id), f"诉求 {locked.number} 分派至贵部门",
                             f"类别改为“{category.name}”后重新分派。", request=locked)
    req.__dict__.update(locked.__dict__)
    return locked


@transaction.atomic
def add_note(actor, req, text: str, *, internal: bool = True, at=None) -> RequestEvent:
    """A note on the history: internal ones (the default) are for staff only."""
    _require_handler(actor, req, bureau_too=True)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("request.note_empty", "请填写备注", "the note is empty", field="note")
    ev = _event(req, actor, "note", req.status, req.status, note=text[:5000], internal=internal, at=at)
    audit.record(actor, "note", req, after={"internal": internal, "note": text[:500]})
    return ev


@transaction.atomic
def supervise(actor, req, note: str, *, at=None) -> EnterpriseRequest:
    """督办: the bureau opens supervision on any request; the department and its heads are told."""
    _signed_in(actor)
    if not actor.has_perm("requests.supervise"):
        raise PermissionDenied("requests.supervise_forbidden", "只有局工作人员可以督办", "only the bureau may supervise")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("request.note_empty", "请填写督办意见", "write the supervision note", field="note")
    at = at or timezone.now()
    locked = EnterpriseRequest.objects.select_for_update().get(pk=req.pk)
    if locked.status == Status.CLOSED:
        raise Conflict("requests.closed", "已办结的诉求不能督办", "a closed request cannot be supervised")
    before = audit.snapshot(locked)
    EnterpriseRequest.objects.filter(pk=locked.pk).update(supervised=True, updated_at=at)
    locked.supervised = True
    _event(locked, actor, "supervise", locked.status, locked.status, note=note, at=at)
    audit.record(actor, "supervise", locked, before=before, note=note[:500])
    notifications.notify(agency_staff(locked.agency_id) + heads_of(locked.agency_id),
                         f"督办：诉求 {locked.number}", note, request=locked, sms=True)
    req.supervised = True
    return locked


# --------------------------------------------------------------------------------------------------
# Extensions


@transaction.atomic
def request_extension(actor, req, days: int, reason: str, *, at=None) -> Extension:
    """Ask for more working days to answer, with a reason; someone else must approve."""
    _require_handler(actor, req)
    p = current_params()
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= p["extension_max_days"]:
        raise ValidationFailed("request.extension_days", f"延期天数须为 1 至 {p['extension_max_days']} 个工作日",
                               f"an extension is 1 to {p['extension_max_days']} working days", field="days")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("request.reason_empty", "请说明延期理由", "give the reason", field="note")
    if req.status not in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING):
        raise Conflict("requests.extension_state", "只有已签收、未答复的诉求可以申请延期",
                       "only an accepted request not yet answered can be extended")
    if req.extensions.filter(status=Extension.Decision.PENDING).exists():
        raise Conflict("requests.extension_pending", "已有一项延期申请待审批", "an extension is already pending")
    ext = Extension.objects.create(request=req, days=days, reason=reason[:500], requested_by=actor,
                                   requested_at=at or timezone.now())
    _event(req, actor, "extension_requested", req.status, req.status, note=f"申请延期 {days} 个工作日：{reason}",
           internal=True, data={"days": days}, at=at)
    audit.record(actor, "create", ext, note=f"延期申请 {req.number}")
    notifications.notify(heads_of(req.agency_id) or bureau_recipients(), f"诉求 {req.number} 申请延期 {days} 个工作日",
                         reason, request=req)
    return ext


def may_decide_extension(actor, ext: Extension) -> bool:
    if not getattr(actor, "is_authenticated", False) or actor.pk == ext.requested_by_id:
        return False
    if actor.role in (Role.BUREAU, Role.ADMIN):
        return True
    return actor.role == Role.DEPARTMENT and is_head(actor, ext.request.agency_id)


@transaction.atomic
def decide_extension(actor, ext: Extension, approve: bool, note: str = "", *, at=None) -> Extension:
    """The department's head or the bureau grants or refuses an extension; never the one who asked."""
    _signed_in(actor)
    if actor.pk == ext.requested_by_id:
        raise PermissionDenied("requests.self_approval", "不能审批自己的延期申请", "you may not decide your own extension")
    if not may_decide_extension(actor, ext):
        raise PermissionDenied("requests.extension_forbidden", "只有部门负责人或局工作人员可以审批延期",
                               "only the department's head or the bureau may decide an extension")
    at = at or timezone.now()
    locked = Extension.objects.select_for_update().get(pk=ext.pk)
    if locked.status != Extension.Decision.PENDING:
        raise Conflict("requests.extension_decided", "该延期申请已审批", "this extension has been decided already")
    req = EnterpriseRequest.objects.select_for_update().get(pk=locked.request_id)
    locked.status = Extension.Decision.APPROVED if approve else Extension.Decision.REFUSED
    locked.decided_by, locked.decided_at, locked.decision_note = actor, at, (note or "")[:500]
    locked.save()
    text = f"延期 {locked.days} 个工作日{'已批准' if approve else '未批准'}。{note}".strip()
    if approve and req.answer_deadline:
        before = audit.snapshot(req)
        try:
            new = Calendar.load().add_working_days(req.answer_deadline, locked.days)
        except CalendarYearMissing as exc:
            _calendar_missing(exc.year)
            new = None
        req.answer_deadline = new
        if req.status in (Status.ACCEPTED, Status.IN_PROGRESS):
            req.due_date = new
            req.escalation_level, req.escalated_at = 0, None
        req.save(update_fields=["answer_deadline", "due_date", "escalation_level", "escalated_at"])
        audit.record(actor, "extend", req, before=before, note=text)
        text += f" 答复期限顺延至 {new}。"
    # The request for an extension is internal; so is a refusal of it (the enterprise's deadline is as it
    # was). A granted one moves the enterprise's deadline: it sees that step, as it is told of it.
    _event(req, actor, "extension_decided", req.status, req.status, note=text, data={"approved": approve}, at=at,
           internal=not approve)
    audit.record(actor, "decide", locked, note=text)
    if locked.requested_by:
        notifications.notify([locked.requested_by], f"诉求 {req.number} 延期申请{'已批准' if approve else '未批准'}",
                             text, request=req)
    if approve:
        _tell_enterprise(req, f"诉求 {req.number} 答复期限延长",
                             f"理由：{locked.reason}。{text}", request=req)
    return locked


# --------------------------------------------------------------------------------------------------
# Common problems


@transaction.atomic
def create_common_problem(actor, title: str, category: Category, requests=()) -> CommonProblem:
    """Open a common problem (共性问题) and link requests of it."""
    _signed_in(actor)
    if actor.role not in (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN):
        raise PermissionDenied("requests.problem_forbidden", "只有部门和局工作人员可以归并共性问题",
                               "only departments and the bureau may group common problems")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("request.title_empty", "请填写共性问题标题", "the title is required", field="title")
    problem = CommonProblem.objects.create(title=title[:200], category=category, created_by=actor,
                                           agency=actor.agency if actor.role == Role.DEPARTMENT else None)
    audit.record(actor, "create", problem)
    for req in requests:
        link_request(actor, problem, req)
    return problem


@transaction.atomic
def link_request(actor, problem: CommonProblem, req: EnterpriseRequest) -> EnterpriseRequest:
    _require_handler(actor, req, bureau_too=True)
    if req.category_id != problem.category_id:
        raise ValidationFailed("request.problem_category", "只能归并同一类别的诉求",
                               "only requests of the problem's category can be linked", field="category")
    if req.status == Status.CLOSED:
        raise Conflict("requests.closed", "已办结的诉求不能归并", "a closed request cannot be linked")
    EnterpriseRequest.objects.filter(pk=req.pk).update(common_problem=problem)
    req.common_problem = problem
    _event(req, actor, "link", req.status, req.status, note=f"归并至共性问题“{problem.title}”",
           data={"problem": problem.pk})
    audit.record(actor, "link", req, after={"common_problem": problem.pk})
    return req


@transaction.atomic
def answer_common_problem(actor, problem: CommonProblem, text: str, *, at=None) -> dict:
    """Answer every open request of the problem that the actor may handle at once (accepting those not yet
    accepted) and tell the enterprises of those requests. Requests the actor may not act on, or that wait
    for their enterprise, are left and counted; when none is left to answer, nothing is recorded or sent
    (a district officer, or a department none of whose requests is open, cannot "answer" a problem)."""
    _signed_in(actor)
    if not (_is_admin(actor) or actor.role in (Role.BUREAU, Role.DEPARTMENT)):
        raise PermissionDenied("requests.problem_answer_forbidden", "只有办理部门或局工作人员可以统一答复",
                               "only a handling department or the bureau may answer a common problem")
    text = rules.clean_text(text).strip()
    if not text:
        raise ValidationFailed("request.answer_empty", "请填写统一答复", "the answer is empty", field="note")
    if len(text) > current_params()["description_max_chars"] * 2:
        raise ValidationFailed("request.answer_long", "答复内容过长", "the answer is too long", field="note")
    at = at or timezone.now()
    # One answer at a time: a second one submitted meanwhile waits here and finds the requests answered.
    CommonProblem.objects.select_for_update().filter(pk=problem.pk).first()
    answered, skipped, reached = 0, 0, set()
    for req in problem.requests.select_related("category", "agency").order_by("id"):
        if req.status in (Status.ANSWERED, Status.CLOSED):
            continue
        try:
            _require_handler(actor, req, bureau_too=True)
        except PermissionDenied:
            skipped += 1
            continue
        if req.status == Status.SUBMITTED:
            accept(actor, req, at=at)
        if req.status == Status.WAITING:
            skipped += 1
            continue
        if req.status in (Status.ACCEPTED, Status.IN_PROGRESS):
            answer(actor, req, text, at=at, bureau_too=True)
            answered += 1
            reached.add(req.enterprise_id)
    if not answered:
        raise Conflict("requests.problem_nothing_to_answer",
                       f"共性问题“{problem.title}”下没有您可以答复的未答复诉求（{skipped} 件由其他部门办理或正等待企业补充）",
                       f"the common problem has no request left that you may answer ({skipped} belong to other "
                       "departments or wait for their enterprise)")
    before = audit.snapshot(problem)
    problem.answer, problem.answered_at = text, at
    problem.save(update_fields=["answer", "answered_at"])
    audit.record(actor, "answer", problem, before=before)
    users = [u for e in reached for u in enterprise_users(e)]
    notifications.notify(users, f"共性问题已统一答复：{problem.title}", text[:1000],
                         dedupe=f"problem-{problem.pk}-{at.timestamp()}")
    return {"answered": answered, "skipped": skipped, "enterprises": len(reached)}


# --------------------------------------------------------------------------------------------------
# Overdue sweep and automatic closing


def _last_day_more_than(cal: Calendar, today: dt.date, n: int) -> dt.date:
    """The latest day d with more than n working days in (d, today]."""
    d = today
    while cal.working_days_between(d, today) <= n:
        d -= dt.timedelta(days=1)
    return d


def _start_of_day_after(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


_CHUNK = 5000


def _move_all(qs, changes: dict, action: str, note: str, now, *, guard: dict,
              from_status: str | None = None) -> list[tuple[int, str]]:
    """Apply ``changes`` (field → value) to every request of ``qs`` with one history step each (from
    ``from_status``, or the request's status, to its status after the change); returns (department id,
    number) of each request changed. ``guard`` (field → value) is checked again as each row is written, so
    a request someone changed meanwhile (an enterprise closing it) is left alone. On PostgreSQL one
    statement does it all (UPDATE … RETURNING feeding an INSERT); elsewhere in chunks of ids."""
    from django.db import connection

    if connection.vendor != "postgresql":
        rows = list(qs.values_list("id", "status", "agency_id", "number"))
        for i in range(0, len(rows), _CHUNK):
            EnterpriseRequest.objects.filter(pk__in=[r[0] for r in rows[i:i + _CHUNK]], **guard).update(**changes)
        to = changes.get("status")
        RequestEvent.objects.bulk_create(
            [RequestEvent(request_id=r[0], at=now, actor_label="系统 system", action=action,
                          from_status=from_status or r[1], to_status=to or r[1], note=note) for r in rows],
            batch_size=_CHUNK)
        return [(r[2], r[3]) for r in rows]
    meta = EnterpriseRequest._meta
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(meta.get_field(k).column)} = %s" for k in changes)
    checks = "".join(f" AND {qn(meta.get_field(k).column)} = %s" for k in guard)
    select, params = qs.values("id").query.get_compiler(connection.alias).as_sql()
    sql = f"""
        WITH up AS (
          UPDATE {qn(meta.db_table)} SET {sets} WHERE id IN ({select}){checks}
          RETURNING id, status, agency_id, number),
        ev AS (
          INSERT INTO {qn(RequestEvent._meta.db_table)} (request_id, at, actor_label, action, from_status, to_status,
                                                        note, internal)
          SELECT id, %s, '系统 system', %s, {'%s' if from_status else 'status'}, status, %s, false FROM up)
        SELECT agency_id, number FROM up"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*changes.values(), *params, *guard.values(), now, action,
                             *([from_status] if from_status else []), note])
        return cursor.fetchall()


@transaction.atomic
def sweep(today: dt.date | None = None, now: dt.datetime | None = None) -> dict:
    """Escalate overdue requests one level (at most one level a day), close answered ones whose waiting
    period has passed. Idempotent: a second run on the same day finds nothing to do. Set-based: an
    UPDATE and an INSERT … SELECT per step, whatever the number of requests."""
    if now is None:
        # A sweep "as of" a given day runs at this time of that day.
        now = timezone.now() if today is None else timezone.make_aware(
            dt.datetime.combine(today, timezone.localtime().time()))
    today = today or _today(now)
    p = current_params(today)
    cal = Calendar.load()
    running = EnterpriseRequest.objects.filter(status__in=RUNNING_STATUSES)

    # Level 1: the deadline has passed → the department's heads.
    raised = _move_all(running.filter(due_date__lt=today, escalation_level=0),
                       {"escalation_level": 1, "escalated_at": now}, "escalate",
                       "已超期，升级至部门负责人 overdue: escalated to the department head", now,
                       guard={"escalation_level": 0})
    n1 = len(raised)
    if n1:
        by_agency = defaultdict(list)
        for agency_id, number in raised:
            by_agency[agency_id].append(number)
        heads = defaultdict(list)
        for agency_id, user_id in DepartmentHead.objects.filter(agency_id__in=by_agency).values_list("agency_id",
                                                                                                     "user_id"):
            heads[agency_id].append(user_id)
        users = accounts_selectors.users().in_bulk({u for us in heads.values() for u in us})
        for agency_id, numbers in by_agency.items():
            recipients = [users[u] for u in heads.get(agency_id, []) if u in users] or agency_staff(agency_id)
            notifications.notify(recipients, f"{len(numbers)} 件诉求已超期，请督促办理",
                                 f"以下诉求已超过期限：{'、'.join(numbers[:50])}{' 等' if len(numbers) > 50 else ''}",
                                 dedupe=f"escalate1-{agency_id}-{today}")

    # Level 2: more than ``bureau_after_days`` working days past → the SME service bureau.
    n2 = 0
    try:
        limit = _last_day_more_than(cal, today, p["bureau_after_days"])
    except CalendarYearMissing as exc:
        _calendar_missing(exc.year)
        limit = None
    if limit is not None:
        # Escalated on an earlier day: one level per day, however often the sweep runs.
        raised = _move_all(running.filter(due_date__lte=limit, escalation_level=1,
                                          escalated_at__lt=_start_of_day_after(today - dt.timedelta(days=1))),
                           {"escalation_level": 2, "escalated_at": now}, "escalate",
                           "超期未办，升级至市中小企业服务局 long overdue: escalated to the SME service bureau", now,
                           guard={"escalation_level": 1})
        n2 = len(raised)
    if n2:
        numbers = sorted(number for _a, number in raised)[:50]
        notifications.notify(bureau_recipients(), f"{n2} 件诉求严重超期，已升级至市中小企业服务局",
                             f"{'、'.join(numbers)}{' 等' if n2 > 50 else ''}", dedupe=f"escalate2-{today}")

    # Automatic closing of answered requests after the waiting period.
    closed = 0
    try:
        last_answer_day = _last_day_more_than(cal, today, p["auto_close_days"])
    except CalendarYearMissing as exc:
        _calendar_missing(exc.year)
        last_answer_day = None
    if last_answer_day is not None:
        closed = len(_move_all(
            EnterpriseRequest.objects.filter(status=Status.ANSWERED,
                                             answered_at__lt=_start_of_day_after(last_answer_day)),
            {"status": Status.CLOSED, "closed_at": now, "closed_automatically": True, "updated_at": now},
            "auto_close", f"答复后 {p['auto_close_days']} 个工作日内未确认或申请重办，自动办结", now,
            guard={"status": Status.ANSWERED}, from_status=Status.ANSWERED))
    counts = {"escalated_to_heads": n1, "escalated_to_bureau": n2, "closed_automatically": closed}
    if any(counts.values()):
        audit.record(None, "sweep", None, model="requests.EnterpriseRequest", object_id="",
                     object_repr=f"overdue sweep {today}", after={"today": today.isoformat(), **counts},
                     note="超期升级与自动办结 overdue escalation and automatic closing")
    return counts
