"""Program parameters as data: read the value in force on a day, write a new dated value with audit.

Every parameter has a schema its program declares (``PARAMETERS`` in the app's ``site.py``: a function
that returns the value cleaned or raises ``ValidationFailed``/``InvalidFields`` naming each bad field).
A value is checked when it is written, and again when it is read: a row that does not pass (written
before its schema, or by hand in the database) is passed over for the latest earlier row that does,
and logged, so that one bad row never takes a program down. A row in force before today is history:
it is corrected by a new dated row, never edited; today's and future rows may be corrected, audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction

from . import audit, clock
from .errors import DomainError, InvalidFields, NotFound, ValidationFailed
from .models import Parameter

log = logging.getLogger("huiqi.params")

SCHEMAS: dict[str, Callable[[object], object]] = {}


def register(key: str, validate: Callable[[object], object]) -> None:
    """Declare ``key``'s schema: ``validate(value)`` returns the value as stored or raises."""
    SCHEMAS[key] = validate


def validate(key: str, new_value):
    """``new_value`` checked against ``key``'s schema; an undeclared key is refused."""
    schema = SCHEMAS.get(key)
    if schema is None:
        raise ValidationFailed("parameter.unknown", f"没有名为 {key} 的项目参数", f"there is no parameter {key}",
                               field="key", value=key)
    return schema(new_value)


# --- building a schema ------------------------------------------------------------------------------


def _bad(name, zh, en, value=None) -> ValidationFailed:
    return ValidationFailed(f"parameter.{name}", zh, en, field=name, value=value)


def fields(checks: dict[str, Callable[[str, object], object]], *, partial: bool = False):
    """A schema for a value that is a set of named fields, each with its check; every bad, missing (unless
    ``partial``: then the program's defaults fill it) or unknown field is named at once."""
    def check_all(value):
        if not isinstance(value, dict):
            raise _bad("value", "取值必须是一组具名字段", "the value must be a set of named fields")
        errors: list[DomainError] = [_bad(name, f"未知字段 {name}", f"unknown field {name}")
                                     for name in sorted(set(value) - set(checks))]
        for name, check in checks.items():
            if name not in value:
                if not partial:
                    errors.append(_bad(name, f"缺少字段 {name}", f"{name} is missing"))
                continue
            try:
                check(name, value[name])
            except DomainError as exc:
                errors.append(exc)
        if errors:
            raise InvalidFields(errors)
        return value
    return check_all


def require_fields(value) -> dict:
    """A schema's first step for a value that must be a non-empty set of named fields."""
    if not isinstance(value, dict) or not value:
        raise _bad("value", "取值必须是一组具名字段", "the value must be a set of named fields")
    return value


def scalar(check: Callable[[str, object], object], name: str = "value"):
    """A schema for a value that is one number, flag or text."""
    def check_one(value):
        check(name, value)
        return value
    return check_one


def integer(minimum: int | None = None, maximum: int | None = None, unit: str = ""):
    def check(name, v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _bad(name, f"{name} 必须是整数", f"{name} must be a whole number", v)
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            raise _bad(name, f"{name} 必须在 {minimum} 到 {maximum}{unit} 之间",
                       f"{name} must be from {minimum} to {maximum}{unit}", v)
        return v
    return check


def decimal(minimum, maximum):
    """A number (given as text or a number, never a float's approximation of money) within bounds."""
    from decimal import Decimal, InvalidOperation

    def check(name, v):
        try:
            d = Decimal(str(v)) if not isinstance(v, bool) else None
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite():
            raise _bad(name, f"{name} 必须是数字", f"{name} must be a number", v)
        if not Decimal(str(minimum)) <= d <= Decimal(str(maximum)):
            raise _bad(name, f"{name} 必须在 {minimum} 到 {maximum} 之间", f"{name} must be from {minimum} to {maximum}", v)
        return v
    return check


def boolean():
    def check(name, v):
        if not isinstance(v, bool):
            raise _bad(name, f"{name} 必须是“是”或“否”", f"{name} must be true or false", v)
        return v
    return check


def time_of_day():
    def check(name, v):
        hours, minutes = (v[:2], v[3:]) if isinstance(v, str) and len(v) == 5 and v[2] == ":" else ("", "")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise _bad(name, f"{name} 必须是 00:00 到 23:59 之间的时刻（时:分）",
                       f"{name} must be a time of day from 00:00 to 23:59 (HH:MM)", v)
        return v
    return check


def choices_list(allowed):
    def check(name, v):
        if not isinstance(v, list) or not v or any(not isinstance(x, str) or x not in allowed for x in v):
            raise _bad(name, f"{name} 必须是以下取值中的一个或多个：{'、'.join(sorted(allowed))}",
                       f"{name} must be one or more of {', '.join(sorted(allowed))}", v)
        return v
    return check


def problem(key: str, stored) -> DomainError | None:
    """Why a stored value does not pass its schema, or None."""
    try:
        validate(key, stored)
    except DomainError as exc:
        return exc
    return None


def value(key: str, on: dt.date | None = None, default=NotFound):
    """The value of ``key`` in force on ``on`` (today when omitted): the row with the latest
    ``effective_from`` not after that day. Raises NotFound when none is in force and no default is given."""
    on = on or clock.today()
    row = None
    for candidate in Parameter.objects.filter(key=key, effective_from__lte=on).order_by("-effective_from"):
        bad = problem(key, candidate.value) if key in SCHEMAS else None
        if bad is None:
            row = candidate
            break
        log.error("parameter %s from %s does not pass its schema (%s); the row before it is used",
                  key, candidate.effective_from, bad.en)
    if row is None:
        if default is NotFound:
            raise NotFound(
                "parameter.missing",
                f"参数 {key} 在 {on} 没有生效的取值",
                f"parameter {key} has no value in force on {on}",
                field=key,
            )
        return default
    return row.value


def history(key: str):
    return Parameter.objects.filter(key=key).order_by("-effective_from")


@transaction.atomic
def set_value(actor, key: str, program: str, new_value, effective_from: dt.date, *,
              description: str = "", note: str = "", today: dt.date | None = None) -> Parameter:
    """Store a value of ``key`` taking effect on ``effective_from``, checked against its schema, with an
    audit record of before and after. A value set for the same day is replaced when that day is today
    or later; a day already past is refused (correct it with a new row from today)."""
    if effective_from is None:
        raise ValidationFailed("parameter.effective_from", "必须填写生效日期", "effective date is required",
                               field="effective_from")
    new_value = validate(key, new_value)
    today = today or clock.today()
    existing = Parameter.objects.select_for_update().filter(key=key, effective_from=effective_from).first()
    if existing is not None and existing.effective_from < today:
        raise ValidationFailed(
            "parameter.past", f"{effective_from} 起生效的取值已成历史，不能修改；请新增一条自今日起生效的取值",
            f"the value in force from {effective_from} is history and cannot be edited; add a value "
            "taking effect from today instead", field="effective_from", value=str(effective_from))
    if existing is not None:
        before = audit.snapshot(existing)
        existing.value = new_value
        existing.note = note
        if description:
            existing.description = description
        existing.save()
        audit.record(actor, "update", existing, before=before, note=note)
        return existing
    row = Parameter.objects.create(
        key=key, program=program, value=new_value, effective_from=effective_from,
        description=description, note=note,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(actor, "create", row, note=note)
    return row


def ensure_default(key: str, program: str, default_value, effective_from: dt.date, description: str = ""):
    """Seed a default the first time; never overwrite what the bureau has set."""
    if not Parameter.objects.filter(key=key).exists():
        Parameter.objects.create(key=key, program=program, value=default_value,
                                 effective_from=effective_from, description=description,
                                 note="默认值 default from the program documents")
