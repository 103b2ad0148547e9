"""Extensions of the deadline to answer: a handler asks, with a reason; the department's head or the
bureau decides, never the one who asked."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, PermissionDenied, ValidationFailed
from huiqi.core.i18n import stored
from huiqi.core.workdays import Calendar, CalendarYearMissing

from .. import notifications, selectors
from ..models import EnterpriseRequest, Extension, Status
from .common import calendar_missing, record_event, require_handler, signed_in, tell_enterprise


@transaction.atomic
def request_extension(actor, req, days: int, reason: str, *, at=None) -> Extension:
    """Ask for more working days to answer, with a reason; someone else must approve."""
    require_handler(actor, req)
    p = selectors.current_params()
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= p["extension_max_days"]:
        raise ValidationFailed("request.extension_days", _("延期天数须为 1 至 %(extension_max_days)s 个工作日"),
                               field="days", extension_max_days=p["extension_max_days"])
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("request.reason_empty", _("请说明延期理由"), field="note")
    if req.status not in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING):
        raise Conflict("requests.extension_state", _("只有已签收、未答复的诉求可以申请延期"))
    if req.extensions.filter(status=Extension.Decision.PENDING).exists():
        raise Conflict("requests.extension_pending", _("已有一项延期申请待审批"))
    ext = Extension.objects.create(request=req, days=days, reason=reason[:500], requested_by=actor,
                                   requested_at=at or clock.now())
    record_event(req, actor, "extension_requested", req.status, req.status, note=stored(_("申请延期 %(days)s 个工作日：%(reason)s"), days=days, reason=reason),
           internal=True, data={"days": days}, at=at)
    audit.record(actor, "create", ext, note=stored(_("延期申请 %(number)s"), number=req.number))
    notifications.notify(selectors.heads_of(req.agency_id) or selectors.bureau_recipients(),
                         stored(_("诉求 %(number)s 申请延期 %(days)s 个工作日"), number=req.number, days=days),
                         reason, request=req)
    return ext


def may_decide_extension(actor, ext: Extension) -> bool:
    if not getattr(actor, "is_authenticated", False) or actor.pk == ext.requested_by_id:
        return False
    if actor.role in (Role.BUREAU, Role.ADMIN):
        return True
    return actor.role == Role.DEPARTMENT and selectors.is_head(actor, ext.request.agency_id)


@transaction.atomic
def decide_extension(actor, ext: Extension, approve: bool, note: str = "", *, at=None) -> Extension:
    """The department's head or the bureau grants or refuses an extension; never the one who asked."""
    signed_in(actor)
    if actor.pk == ext.requested_by_id:
        raise PermissionDenied("requests.self_approval", _("不能审批自己的延期申请"))
    if not may_decide_extension(actor, ext):
        raise PermissionDenied("requests.extension_forbidden", _("只有部门负责人或局工作人员可以审批延期"))
    at = at or clock.now()
    locked = Extension.objects.select_for_update().get(pk=ext.pk)
    if locked.status != Extension.Decision.PENDING:
        raise Conflict("requests.extension_decided", _("该延期申请已审批"))
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
            calendar_missing(exc.year)
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
    record_event(req, actor, "extension_decided", req.status, req.status, note=text, data={"approved": approve}, at=at,
           internal=not approve)
    audit.record(actor, "decide", locked, note=text)
    if locked.requested_by:
        notifications.notify([locked.requested_by],
                             stored(_("诉求 %(number)s 延期申请已批准") if approve else _("诉求 %(number)s 延期申请未批准"),
                                    number=req.number), text, request=req)
    if approve:
        tell_enterprise(req, stored(_("诉求 %(number)s 答复期限延长"), number=req.number),
                        stored(_("理由：%(reason)s。%(text)s"), reason=locked.reason, text=text), request=req)
    return locked
