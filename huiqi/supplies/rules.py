"""The producers directory's pure rules (``specs/supplies-and-casework.md``, 生产企业目录): a producer's status
on a day from its listing period and suspensions, and the checks of a listing, a suspension and a product
line. Plain values in, plain values or refusals out; no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

# The directory's statuses on a day (``status_on``).
STATUSES = {
    "not_yet": _("尚未列入"),
    "active": _("在册生产"),
    "suspended": _("暂停"),
    "removed": _("已移出"),
}

FIELD_LABELS = {
    "uscc": _("统一社会信用代码"), "active_from": _("列入目录日期"), "active_to": _("有效期至"),
    "start": _("暂停日期"), "resume_on": _("恢复日期"), "reason": _("原因"), "product": _("产品"),
    "capacity_per_day": _("日产能"), "reported_from": _("报告起始日"), "reported_to": _("报告截止日"),
    "contact_phone": _("联系电话"),
}


def bad(field_name: str, code: str, message, raw=None, **params) -> ValidationFailed:
    """A refusal of ``field_name``'s input ``raw``; ``params`` fill the message."""
    return ValidationFailed(f"supplies.{code}", message, field=field_name, value=raw, **params)


def status_on(active_from: dt.date, active_to: dt.date | None, suspensions: Iterable[tuple], day: dt.date) -> str:
    """The producer's status on ``day``: ``not_yet`` before it is listed, ``removed`` after its last listed
    day, ``suspended`` inside a suspension (``(start, end)``, end inclusive or None while it lasts), else
    ``active``."""
    if day < active_from:
        return "not_yet"
    if active_to is not None and day > active_to:
        return "removed"
    for start, end in suspensions:
        if start <= day and (end is None or day <= end):
            return "suspended"
    return "active"


def check_day(field_name: str, day, required: bool = True) -> list[ValidationFailed]:
    """A business date inside 2000–2100 (or none, when not ``required``)."""
    if day is None and not required:
        return []
    if not isinstance(day, dt.date) or not EARLIEST <= day <= LATEST:
        return [bad(field_name, "date_out_of_range", _("%(label)s %(given)s 必须是 2000 年至 2100 年之间的日期"),
                    day, label=FIELD_LABELS[field_name], given=day if day is not None else "")]
    return []


def check_period(first_field: str, first, last_field: str, last, required_first: bool = True) -> list[ValidationFailed]:
    """Two dates of a period, each inside 2000–2100, the last (inclusive, optional) not before the first."""
    errors = check_day(first_field, first, required_first) + check_day(last_field, last, required=False)
    if not errors and first is not None and last is not None and last < first:
        errors.append(bad(last_field, "period_reversed", _("%(last_label)s %(last)s 早于%(first_label)s %(first)s"),
                          last, last_label=FIELD_LABELS[last_field], last=last,
                          first_label=FIELD_LABELS[first_field], first=first))
    return errors


def check_capacity(capacity) -> list[ValidationFailed]:
    """A daily capacity: a whole number ≥ 0 in the product's unit."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        return [bad("capacity_per_day", "capacity_invalid", _("日产能 %(given)s 须为不小于 0 的整数"), capacity,
                    given=capacity)]
    return []


def check_suspension(active_from: dt.date, active_to: dt.date | None, existing: Iterable[tuple],
                     start: dt.date) -> list[ValidationFailed]:
    """A suspension from ``start`` of a producer listed ``active_from``..``active_to``: inside the listing, and
    not while another suspension is open or covers that day."""
    errors = check_day("start", start)
    if errors:
        return errors
    if start < active_from or (active_to is not None and start > active_to):
        return [bad("start", "suspension_outside_listing",
                    _("暂停日期 %(given)s 不在列入目录期间（%(first)s 至 %(last)s）内"), start, given=start,
                    first=active_from, last=active_to or "—")]
    for s, e in existing:
        if e is None or start <= e:
            return [bad("start", "suspension_overlaps", _("暂停日期 %(given)s 与 %(other)s 起的暂停重叠"), start,
                        given=start, other=s)]
    return []
