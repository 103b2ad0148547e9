"""What the request services share: today's date and deadlines on the working-day calendar, telling the
enterprise, the permission checks, and the history step every action leaves."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock
from huiqi.core.errors import PermissionDenied
from huiqi.core.i18n import stored
from huiqi.core.workdays import Calendar, CalendarYearMissing

from .. import notifications, rules, selectors
from ..models import EnterpriseRequest, RequestEvent


def today_of(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def deadline(cal: Calendar, start: dt.date, n: int) -> dt.date | None:
    try:
        return cal.add_working_days(start, n)
    except CalendarYearMissing as exc:
        calendar_missing(exc.year)
        return None


def calendar_missing(year: int) -> None:
    notifications.notify(selectors.bureau_staff(), stored(_("请录入 %(year)s 年节假日安排"), year=year),
                         stored(_("%(year)s 年的节假日与调休安排尚未录入，诉求期限无法计算。请在后台“节假日与调休”中录入国务院办公厅通知。"),
                                year=year),
                         dedupe=f"calendar-missing-{year}")


def tell_enterprise(req: EnterpriseRequest, subject: str, body: str, *, request=None, sms: bool = False,
                     contact_sms: bool = False) -> None:
    """Tell the enterprise of a step of its request: its platform users; an enterprise with none (a call
    to the hotline, say) through the contact the request carries, so that it still hears of it."""
    users = selectors.enterprise_users(req.enterprise_id)
    if users:
        notifications.notify(users, subject, body, request=req, sms=sms)
    else:
        notifications.notify_contact(req, subject, body, sms=sms or contact_sms)


# --------------------------------------------------------------------------------------------------
# Permission checks


def signed_in(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("requests.login_required", _("此操作需要登录用户完成并留痕"))


def is_admin(actor) -> bool:
    return getattr(actor, "role", None) == Role.ADMIN


def require_handler(actor, req: EnterpriseRequest, *, bureau_too: bool = False) -> None:
    """Only a handler of the request's own department acts on it (the bureau too where said)."""
    signed_in(actor)
    if actor.has_perm("requests.handle_request", req) or (bureau_too and actor.role == Role.BUREAU):
        return
    raise PermissionDenied("requests.not_your_department", _("诉求 %(number)s 不属于您所在的部门，不能办理"),
                           number=req.number)


def require_enterprise(actor, req: EnterpriseRequest) -> None:
    signed_in(actor)
    if actor.has_perm("requests.act_as_requester", req):
        return
    raise PermissionDenied("requests.not_your_request", _("只有提出诉求的企业可以执行此操作"))


def fail(problems: list[rules.Problem]):
    if problems:
        raise problems[0].error()


def record_event(req, actor, action, from_status="", to_status="", note="", internal=False, data=None,
                 at=None):
    return RequestEvent.objects.create(
        request=req, at=at or clock.now(), actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=audit.actor_label(actor), action=action, from_status=from_status, to_status=to_status,
        note=note, internal=internal, data=data)
