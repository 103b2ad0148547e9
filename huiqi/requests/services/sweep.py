"""The overdue sweep: escalation of requests past their deadline and the automatic closing of answered
ones, set-based, once a day (``huiqi requests_sweep`` or its job)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock
from huiqi.core.i18n import Joined, stored
from huiqi.core.workdays import Calendar, CalendarYearMissing

from .. import notifications, selectors
from ..models import RUNNING_STATUSES, EnterpriseRequest, RequestEvent, Status
from .common import calendar_missing, today_of


def last_day_more_than(cal: Calendar, today: dt.date, n: int) -> dt.date:
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
        now = clock.now() if today is None else timezone.make_aware(
            dt.datetime.combine(today, timezone.localtime().time()))
    today = today or today_of(now)
    p = selectors.current_params(today)
    cal = Calendar.load()
    running = EnterpriseRequest.objects.filter(status__in=RUNNING_STATUSES)

    # Level 1: the deadline has passed → the department's heads.
    raised = _move_all(running.filter(due_date__lt=today, escalation_level=0),
                       {"escalation_level": 1, "escalated_at": now}, "escalate",
                       stored(_("已超期，升级至部门负责人")), now,
                       guard={"escalation_level": 0})
    n1 = len(raised)
    if n1:
        by_agency = defaultdict(list)
        for agency_id, number in raised:
            by_agency[agency_id].append(number)
        heads = selectors.heads_by_agency(by_agency)
        for agency_id, numbers in by_agency.items():
            recipients = heads.get(agency_id) or selectors.agency_staff(agency_id)
            notifications.notify(recipients, stored(_("%(n)s 件诉求已超期，请督促办理"), n=len(numbers)),
                                 stored(_("以下诉求已超过期限：%(numbers)s") if len(numbers) <= 50
                                        else _("以下诉求已超过期限：%(numbers)s 等"),
                                        numbers=Joined(numbers[:50], "、", ", ")),
                                 dedupe=f"escalate1-{agency_id}-{today}")

    # Level 2: more than ``bureau_after_days`` working days past → the SME service bureau.
    n2 = 0
    try:
        limit = last_day_more_than(cal, today, p["bureau_after_days"])
    except CalendarYearMissing as exc:
        calendar_missing(exc.year)
        limit = None
    if limit is not None:
        # Escalated on an earlier day: one level per day, however often the sweep runs.
        raised = _move_all(running.filter(due_date__lte=limit, escalation_level=1,
                                          escalated_at__lt=_start_of_day_after(today - dt.timedelta(days=1))),
                           {"escalation_level": 2, "escalated_at": now}, "escalate",
                           stored(_("超期未办，升级至市中小企业服务局")), now,
                           guard={"escalation_level": 1})
        n2 = len(raised)
    if n2:
        numbers = sorted(number for _a, number in raised)[:50]
        notifications.notify(selectors.bureau_recipients(),
                             stored(_("%(n)s 件诉求严重超期，已升级至市中小企业服务局"), n=n2),
                             stored(_("%(numbers)s 等") if n2 > 50 else _("%(numbers)s"),
                                    numbers=Joined(numbers, "、", ", ")),
                             dedupe=f"escalate2-{today}")

    # Automatic closing of answered requests after the waiting period.
    closed = 0
    try:
        last_answer_day = last_day_more_than(cal, today, p["auto_close_days"])
    except CalendarYearMissing as exc:
        calendar_missing(exc.year)
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
                     note=stored(_("超期升级与自动办结")))
    return counts
